"""The signed, hash-chained log every message, alert and decision is appended to (time in s).

An entry's *body* is ``{seq, time_s, author, key_id, kind, payload, prev_hash, format}``;
``time_s`` is Unix seconds UTC, passed in (nothing here reads a clock); ``format`` is the log
format (``hotline.canonical.LOG_FORMAT``, 2: RFC 8785 canonical JSON); an entry without it is of
format 1 (the earlier canonical form), and verifies by that rule. ``hash`` is the SHA-256 hex of
the body's canonical JSON in its format (``deconflict.hotline.canonical``); ``signature`` is the
author's Ed25519
signature over the 32 raw bytes of that hash, in base64. ``seq`` counts from 0 and ``prev_hash``
of entry 0 is 64 zeros (``GENESIS_HASH``), so the whole log is one chain: altering, dropping,
reordering or inserting any entry breaks it at that entry.

An entry a party authored (``hotline.authorship``: its hotline messages, acknowledgements and
identification answers) also carries that party's own signature in its payload; ``verify_log``
checks it against the party's keys in the key ring, so a host that alters or forges such an entry
(even re-sealing and re-chaining the log with its own key) is named at that entry.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from cryptography.exceptions import InvalidSignature

from deconflict.errors import InputError
from deconflict.hotline.authorship import (
    KEY_ID_FIELD,
    SIGNATURE_FIELD,
    party_author,
    signature_verifies,
    signed_content,
)
from deconflict.hotline.canonical import LOG_FORMAT, LOG_FORMATS, canonical_json_for, sha256_hex
from deconflict.hotline.keys import KeyRing, Signer

GENESIS_HASH: Final = "0" * 64
BODY_FIELDS: Final = ("seq", "time_s", "author", "key_id", "kind", "payload", "prev_hash")
ENTRY_FIELDS: Final = (*BODY_FIELDS, "hash", "signature")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One signed entry of the log."""

    seq: int
    time_s: float
    author: str
    key_id: str
    kind: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str
    signature: str
    format: int = 1

    def body(self) -> dict[str, Any]:
        """The hashed part, as a plain dict (with ``format`` from format 2 on)."""
        body = {
            "seq": self.seq,
            "time_s": self.time_s,
            "author": self.author,
            "key_id": self.key_id,
            "kind": self.kind,
            "payload": dict(self.payload),
            "prev_hash": self.prev_hash,
        }
        return body if self.format == 1 else {**body, "format": self.format}

    def to_dict(self) -> dict[str, Any]:
        """Body, hash, signature and the log format (also for format 1, where it is not hashed)."""
        return {
            **self.body(),
            "hash": self.hash,
            "signature": self.signature,
            "format": self.format,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> LogEntry:
        """Build an entry from its dict form, checking field presence and types (not validity)."""
        problem = _shape_problem(record)
        if problem:
            raise InputError(f"malformed log entry: {problem}")
        fields = {name: record[name] for name in ENTRY_FIELDS}
        return cls(**fields, format=int(record.get("format", 1)))


#: The last body of log format 2 hashed in this thread and its canonical bytes, taken (once) by
#: the next ``entry_bytes`` of the same entry: the store hashes an entry, then writes its leaf,
#: and the body (the payload above all) is then encoded once, not twice.
_last_body = threading.local()
_BODY_FIELDS_2: Final = (*BODY_FIELDS, "format")


def entry_hash(body: Mapping[str, Any], *, check_keys: bool = True) -> str:
    """SHA-256 hex of the canonical JSON of an entry body, in the entry's log format."""
    fmt = body.get("format", 1)
    fields = BODY_FIELDS if fmt == 1 else _BODY_FIELDS_2
    encode = canonical_json_for(fmt)
    data = encode({k: body[k] for k in fields}, check_keys=check_keys)
    if fmt == 2:
        _last_body.seen = (tuple(body[k] for k in fields), data)
    return sha256_hex(data)


def entry_bytes(record: Mapping[str, Any]) -> bytes:
    """An entry's bytes: the canonical JSON of its whole dict form (``format`` included, 1 when
    absent) in its log format — its line in an export and its leaf in the log's Merkle tree."""
    fmt = record.get("format", 1)
    if fmt == 2:
        made = _bytes_from_body(record)
        if made is not None:
            return made
    return canonical_json_for(fmt)({**record, "format": fmt}, check_keys=False)


def _bytes_from_body(record: Mapping[str, Any]) -> bytes | None:
    """``record``'s bytes made from its body's, when ``entry_hash`` has just encoded the body of
    this very record (the same objects in every body field) in this thread: the hash and the
    signature go in their places of the sorted members (``"hash"`` after ``"format"``,
    ``"signature"`` before ``"time_s"``, the last). None otherwise."""
    seen = getattr(_last_body, "seen", None)
    _last_body.seen = None
    if seen is None or len(record) != len(_BODY_FIELDS_2) + 2:
        return None
    values, data = seen
    if any(record.get(k) is not v for k, v in zip(_BODY_FIELDS_2, values, strict=True)):
        return None
    digest, signature = record.get("hash"), record.get("signature")
    if type(digest) is not str or type(signature) is not str:
        return None
    encode = canonical_json_for(2)
    head = b'{"author":' + encode(record["author"]) + b',"format":2,'
    tail = b'"time_s":' + encode(record["time_s"]) + b"}"
    if not (data.startswith(head) and data.endswith(tail)):
        return None
    return b"".join(
        (
            head, b'"hash":', encode(digest), b",", data[len(head) : -len(tail)],
            b'"signature":', encode(signature), b",", tail,
        )
    )  # fmt: skip


def append_entry(
    prev: LogEntry | None,
    signer: Signer,
    *,
    time_s: float,
    kind: str,
    payload: Mapping[str, Any],
) -> LogEntry:
    """The entry that follows ``prev`` (None for the first), signed by ``signer``."""
    if not kind:
        raise InputError("log entry kind is empty: name what the entry records (e.g. 'message')")
    if prev is not None and time_s < prev.time_s:
        raise InputError(
            f"log time goes backwards ({time_s} < {prev.time_s}): pass a non-decreasing time_s"
        )
    body: dict[str, Any] = {
        "seq": 0 if prev is None else prev.seq + 1,
        "time_s": float(time_s),
        "author": signer.party,
        "key_id": signer.key_id,
        "kind": kind,
        "payload": dict(payload),
        "prev_hash": GENESIS_HASH if prev is None else prev.hash,
        "format": LOG_FORMAT,
    }
    digest, signature = signer.seal(body)
    return LogEntry(**body, hash=digest, signature=signature)


class Problem(StrEnum):
    """Why an entry failed verification."""

    MALFORMED = "malformed"  # not an entry: missing field, wrong type, not JSON
    ALTERED = "altered"  # body does not hash to the recorded hash
    UNKNOWN_KEY = "unknown_key"  # author/key id (or a party's signing key) not in the key ring
    BAD_SIGNATURE = "bad_signature"  # a signature does not verify (host's or authoring party's)
    AUTHOR_UNSIGNED = "author_unsigned"  # a party-authored entry lacks its author's signature
    DROPPED = "dropped"  # entries before this one are missing
    REORDERED = "reordered"  # entry is out of sequence order
    DUPLICATED = "duplicated"  # the same entry appears twice
    CHAIN_BROKEN = "chain_broken"  # prev_hash does not match the previous entry's hash
    TRUNCATED = "truncated"  # the log ends before the expected head


@dataclass(frozen=True, slots=True)
class BadEntry:
    """The first entry that failed, where it is and why."""

    position: int  # 0-based index of the entry in the checked sequence (line number - 1)
    seq: int | None  # its seq field, when readable
    problem: Problem
    detail: str

    def describe(self) -> str:
        seq = "?" if self.seq is None else str(self.seq)
        return f"entry at line {self.position + 1} (seq {seq}): {self.problem.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """Result of ``verify_log``: ok, how many entries passed, and the first bad one."""

    entries: int  # entries that passed, in order, before the first bad one (all when ok)
    first_bad: BadEntry | None = None
    head_hash: str = GENESIS_HASH  # hash of the last good entry
    authors: Mapping[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    def to_dict(self) -> dict[str, Any]:
        bad = self.first_bad
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_hash": self.head_hash,
            "authors": dict(self.authors),
            "first_bad": None
            if bad is None
            else {
                "line": bad.position + 1,
                "seq": bad.seq,
                "problem": bad.problem.value,
                "detail": bad.detail,
            },
        }


_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "seq": (int,),
    "time_s": (int, float),
    "author": (str,),
    "key_id": (str,),
    "kind": (str,),
    "payload": (dict,),
    "prev_hash": (str,),
    "hash": (str,),
    "signature": (str,),
}


def _shape_problem(record: Any) -> str | None:
    if not isinstance(record, Mapping):
        return f"expected a JSON object, got {type(record).__name__}"
    missing = [f for f in ENTRY_FIELDS if f not in record]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    extra = sorted(set(record) - set(ENTRY_FIELDS) - {"format"})
    if extra:
        return f"unexpected field(s) {', '.join(extra)}"
    fmt = record.get("format", 1)
    if isinstance(fmt, bool) or fmt not in LOG_FORMATS:
        return f"log format {fmt!r} is unknown: this version reads formats 1 and 2"
    for name, types in _TYPES.items():
        value = record[name]
        if isinstance(value, bool) or not isinstance(value, types):
            return f"field {name} is {type(value).__name__}"
    return None


def _entry_problem(record: Mapping[str, Any], keys: KeyRing) -> tuple[Problem, str] | None:
    """Checks of one entry on its own: shape, hash, key, signature."""
    shape = _shape_problem(record)
    if shape:
        return Problem.MALFORMED, shape
    try:
        digest = entry_hash(record, check_keys=False)
    except InputError as exc:
        return Problem.MALFORMED, str(exc)
    if digest != record["hash"]:
        return Problem.ALTERED, "its content does not match its hash"
    key = keys.lookup(record["author"], record["key_id"])
    if key is None:
        return (
            Problem.UNKNOWN_KEY,
            f"signed by key {record['key_id']} of {record['author']!r}, which the key ring does "
            "not hold",
        )
    try:
        key.verify(base64.b64decode(record["signature"], validate=True), bytes.fromhex(digest))
    except (InvalidSignature, binascii.Error, ValueError):
        return Problem.BAD_SIGNATURE, f"signature does not verify with {record['author']!r}'s key"
    return _author_problem(record, keys)


def _author_problem(record: Mapping[str, Any], keys: KeyRing) -> tuple[Problem, str] | None:
    """The authoring party's own signature of a party-authored entry (``hotline.authorship``)."""
    payload = record["payload"]
    party = party_author(record["kind"], payload)
    if party is None or party == record["author"]:  # none, or the party sealed it itself
        return None
    signature, kid = payload.get(SIGNATURE_FIELD), payload.get(KEY_ID_FIELD)
    if not isinstance(signature, str) or not isinstance(kid, str):
        return (
            Problem.AUTHOR_UNSIGNED,
            f"{payload.get('kind')} from {party!r} carries no signature of {party!r}: an entry a "
            "party authored must be signed by that party's key",
        )
    key = keys.lookup(party, kid)
    if key is None:
        return (
            Problem.UNKNOWN_KEY,
            f"{payload.get('kind')} from {party!r} is signed by key {kid}, which the key ring "
            f"does not hold for {party!r}",
        )
    try:
        content = signed_content(payload)
    except (KeyError, TypeError, ValueError, InputError) as exc:
        return Problem.MALFORMED, f"{payload.get('kind')} from {party!r} is not a message ({exc})"
    if not signature_verifies(key, signature, content, fmt=int(record.get("format", 1))):
        return (
            Problem.BAD_SIGNATURE,
            f"{payload.get('kind')} from {party!r} does not match {party!r}'s own signature "
            "(its content was altered or forged after the party signed it)",
        )
    return None


def _chain_problem(
    record: Mapping[str, Any],
    prev: Mapping[str, Any] | None,
    position: int,
    last_at: Mapping[int, int],
    seen: Mapping[int, str],
) -> tuple[Problem, str] | None:
    expected_seq = 0 if prev is None else prev["seq"] + 1
    expected_prev = GENESIS_HASH if prev is None else prev["hash"]
    seq = record["seq"]
    if seq == expected_seq:
        if record["prev_hash"] != expected_prev:
            return (
                Problem.CHAIN_BROKEN,
                "its prev_hash does not match the entry before it (that entry was replaced)",
            )
        return None
    if seq in seen:
        if seen[seq] == record["hash"]:
            return Problem.DUPLICATED, f"seq {seq} already appeared earlier"
        return Problem.REORDERED, f"seq {seq} comes after seq {expected_seq - 1}"
    if seq < expected_seq:
        return Problem.REORDERED, f"seq {seq} comes after seq {expected_seq - 1}"
    if last_at.get(expected_seq, -1) > position:
        return Problem.REORDERED, f"expected seq {expected_seq}, which appears later in the log"
    missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
    return Problem.DROPPED, f"expected seq {expected_seq}: seq {missing} missing"


def verify_log(
    records: Iterable[LogEntry | Mapping[str, Any] | None],
    keys: KeyRing,
    *,
    expected_head: str | None = None,
) -> VerificationReport:
    """Check a whole log in order and name the first bad entry.

    ``records`` are entries or their dict forms; ``None`` stands for an unreadable line. Each
    entry is checked on its own (shape, hash, known key, signature), then against the one before
    (seq follows, prev_hash matches). A log whose tail was cut off is still a valid chain: pass
    ``expected_head`` (the last hash a party saw) to catch that.
    """
    items = [r.to_dict() if isinstance(r, LogEntry) else r for r in records]
    last_at: dict[int, int] = {}  # seq -> last position it occupies
    for position, item in enumerate(items):
        if isinstance(item, Mapping) and isinstance(item.get("seq"), int):
            last_at[item["seq"]] = position

    prev: Mapping[str, Any] | None = None
    seen: dict[int, str] = {}
    authors: dict[str, int] = {}
    for position, item in enumerate(items):
        seq = item.get("seq") if isinstance(item, Mapping) else None
        seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        if item is None:
            found: tuple[Problem, str] | None = (Problem.MALFORMED, "line is not valid JSON")
        else:
            found = _entry_problem(item, keys) or _chain_problem(
                item, prev, position, last_at, seen
            )
        if found is not None:
            bad = BadEntry(position, seq, found[0], found[1])
            head = GENESIS_HASH if prev is None else prev["hash"]
            return VerificationReport(position, bad, head, authors)
        assert item is not None
        prev = item
        seen[item["seq"]] = item["hash"]
        authors[item["author"]] = authors.get(item["author"], 0) + 1
    head = GENESIS_HASH if prev is None else prev["hash"]
    if expected_head is not None and head != expected_head:
        bad = BadEntry(
            len(items),
            None,
            Problem.TRUNCATED,
            f"log ends at hash {head[:16]}…, expected head {expected_head[:16]}…: entries after "
            "the last line were dropped",
        )
        return VerificationReport(len(items), bad, head, authors)
    return VerificationReport(len(items), None, head, authors)
