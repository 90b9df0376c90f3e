"""JSON-lines export and import of the log: one entry per line, in canonical JSON (no units).

Each line is the canonical JSON of one entry's dict form (``LogEntry.to_dict``) in the entry's log
format (``hotline.log.entry_bytes``: RFC 8785 for format 2, the earlier form for format 1, so a
line read back hashes as it did) — also the entry's leaf in the Merkle tree — in seq order,
UTF-8, ``\\n`` after every line. Writing is atomic: the
lines go to a temporary file in the target folder, flushed and fsync'd, then renamed over the
target, so a reader never sees half a log.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from deconflict.errors import InputError
from deconflict.hotline.log import LogEntry, entry_bytes


def write_log_jsonl(entries: Iterable[LogEntry | Mapping[str, Any]], path: str | Path) -> int:
    """Write entries as JSON lines to ``path`` atomically; return how many were written."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"folder {folder} does not exist: create it or choose another --out")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    count = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for entry in entries:
                record = entry.to_dict() if isinstance(entry, LogEntry) else dict(entry)
                out.write(entry_bytes(record) + b"\n")
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def read_log_records(path: str | Path) -> list[dict[str, Any] | None]:
    """Read a JSON-lines log as raw records, one per line; a line that is not a JSON object
    (blank lines included) becomes None, which ``verify_log`` reports as malformed, so report
    positions are line numbers."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read log file {path}: {exc}") from exc
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records: list[dict[str, Any] | None] = []
    for line in lines:
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            records.append(None)
            continue
        records.append(value if isinstance(value, dict) else None)
    return records


def read_log_jsonl(path: str | Path) -> list[LogEntry]:
    """Read a JSON-lines log into entries; raise InputError on the first malformed line."""
    entries = []
    for number, record in enumerate(read_log_records(path), start=1):
        if record is None:
            raise InputError(f"{path}: entry {number} is not a JSON object")
        entries.append(LogEntry.from_dict(record))
    return entries
