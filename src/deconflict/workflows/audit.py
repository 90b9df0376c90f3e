"""The audit export: the whole signed log as JSON lines, with the key ring of every author who
signed it, for ``hotline.log.verify_log`` and off-the-shelf tools."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from deconflict.errors import (
    InputError,
)
from deconflict.hotline import identity
from deconflict.hotline.hostkey import HOST_KEY_ROTATED, rotation_verifies
from deconflict.hotline.jsonl import write_log_jsonl
from deconflict.hotline.keys import KeyRing, public_key_from_b64, public_key_to_b64
from deconflict.hotline.log import GENESIS_HASH
from deconflict.store import Store


def authors_key_ring(store: Store) -> KeyRing:
    """The public keys of the log's authors as the log records them: the host's keys
    (``host.key`` entries, and the new key of each ``host.key.rotated`` entry whose signatures
    by an earlier host key and the new one verify) and each party's registered key (never under
    a name that reads as the host's: ``hotline.identity``)."""
    keys: dict[str, list[Ed25519PublicKey]] = {}
    after = -1
    while page := store.log(after=after, limit=5000):
        for e in page:
            if e.kind == "host.key":
                keys.setdefault("host", []).append(public_key_from_b64(e.payload["public_key"]))
            elif e.kind == HOST_KEY_ROTATED:  # a new host key both the old and the new signed
                for old in keys.get("host", []):
                    new = rotation_verifies(e.payload, public_key_to_b64(old))
                    if new is not None:
                        keys["host"].append(public_key_from_b64(new))
                        break
            elif e.kind == "party.registered" and e.payload.get("public_key"):
                if identity.reserved_as(str(e.payload["name"])) is not None:
                    continue  # registered before names were checked: never the host's key
                with contextlib.suppress(InputError):  # a party registered without a real key
                    key = public_key_from_b64(str(e.payload["public_key"]))
                    keys.setdefault(str(e.payload["name"]), []).append(key)
        after = page[-1].seq
    return KeyRing.from_public_keys(dict(keys.items()))


def export_log(store: Store, out: str | Path, keys_out: str | Path) -> tuple[int, str]:
    """Write the whole log to ``out`` as JSON lines and the authors' public keys to
    ``keys_out`` (``KEYS.json`` format), both atomically; returns (entries, head hash)."""

    head = [GENESIS_HASH]

    def entries() -> Iterator[dict[str, Any]]:
        after = -1
        while page := store.log(after=after, limit=5000):
            yield from (e.to_dict() for e in page)
            after, head[0] = page[-1].seq, page[-1].hash

    count = write_log_jsonl(entries(), out)
    ring = authors_key_ring(store)
    target = Path(keys_out)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(ring.to_json() + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count, head[0]
