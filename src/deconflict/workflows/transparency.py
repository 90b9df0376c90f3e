"""The transparency log in the shared service: signed checkpoints of the Merkle tree, parties'
cosignatures, and the host's stable, rotatable identity (times Unix s UTC).

The host signs a checkpoint (C2SP tlog-checkpoint, ``hotline.checkpoint``) of the log's Merkle
tree (``store.tree``) when asked and the tree grew, at most once every
``checkpoint_interval_s``; parties witness it (``deconflict witness``) and post cosignatures
(C2SP tlog-cosignature), which the host checks against the party's registered key and serves
with the checkpoint. A checkpoint *counts* once ``checkpoint_quorum`` parties cosigned it.

The host's key is one identity for the life of the log: kept in the store (or the
``host_key_file``), logged once as ``host.key``; a rotation is a ``host.key.rotated`` entry
sealed by the old key whose payload the new key signs as well (``rotation_content``), so a
witness that trusts the old key learns the new one from the log itself.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Final

from deconflict.errors import InputError, NotFoundError, PermissionDeniedError
from deconflict.hotline.checkpoint import (
    Checkpoint,
    cosignature_time,
    parse_note,
    parse_signature_line,
    sign_checkpoint,
    vkey,
    witness_name,
)
from deconflict.hotline.hostkey import HOST_KEY, HOST_KEY_ROTATED, rotation_payload
from deconflict.hotline.keys import Signer, public_key_from_b64
from deconflict.store import EventDraft, Party, Store, tree
from deconflict.store import transparency as records

#: How far in the future (s) a cosignature's time may be.
MAX_COSIGNATURE_SKEW_S: Final = 300.0


def log_origin(store: Store, configured: str = "") -> str:
    """The checkpoints' origin line: the ``log_origin`` setting, or one derived from the log's
    first entry (unique to this log, stable for its life)."""
    if configured:
        return configured
    first = store.log(limit=1)
    if not first:
        raise InputError("the log is empty: there is nothing to checkpoint yet")
    return f"deconflict.log/{first[0].hash[:16]}"


@dataclass(frozen=True)
class Served:
    """A checkpoint as served: the signed note with every cosignature line, who cosigned it."""

    record: records.CheckpointRecord
    origin: str
    note: str
    cosigned_by: tuple[str, ...]
    host_key: str  # the host's verifier key (C2SP vkey)

    def to_dict(self, quorum: int) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "size": self.record.size,
            "root": base64.b64encode(bytes.fromhex(self.record.root)).decode(),
            "note": self.note,
            "host_key": self.host_key,
            "cosigned_by": list(self.cosigned_by),
            "quorum": quorum,
            "counts": len(self.cosigned_by) >= quorum,
            "time_s": self.record.time_s,
        }


def publish(
    store: Store, signer: Signer, origin: str, *, now_s: float, min_interval_s: float = 0.0
) -> records.CheckpointRecord:
    """The latest checkpoint, after signing a new one if the tree grew since it and it is at
    least ``min_interval_s`` old (0: whenever the tree grew)."""
    latest = records.latest_checkpoint(store)
    size = tree.tree_size(store)
    if latest is not None and (latest.size >= size or now_s - latest.time_s < min_interval_s):
        return latest
    root = tree.root(store, size)
    note = sign_checkpoint(Checkpoint(origin, size, root), origin, signer.private_key)
    record = records.CheckpointRecord(size, root.hex(), signer.key_id, note.text(), now_s)
    return records.put_checkpoint(store, record)


def cosigned_note(store: Store, record: records.CheckpointRecord) -> tuple[str, tuple[str, ...]]:
    """``record``'s signed note with every cosignature line parties posted for it, and their
    names."""
    names = {p.id: p.name for p in store.list_parties()}
    lines = records.cosignatures(store, record.size)
    note = record.note + "".join(line if line.endswith("\n") else line + "\n" for _, line in lines)
    return note, tuple(names.get(pid, pid) for pid, _ in lines)


def served(store: Store, record: records.CheckpointRecord, origin: str, signer: Signer) -> Served:
    """``record`` with the cosignatures parties posted for it."""
    note, cosigners = cosigned_note(store, record)
    return Served(record, origin, note, cosigners, vkey(origin, signer.public_key))


def checkpoint(store: Store, size: int | None) -> records.CheckpointRecord:
    """The checkpoint of ``size`` (None: the latest); NotFoundError when none was published."""
    found = records.latest_checkpoint(store) if size is None else records.checkpoint_at(store, size)
    if found is None:
        raise NotFoundError(
            "no checkpoint has been published"
            + ("" if size is None else f" for tree size {size}")
            + ": GET /v1/log/checkpoint publishes the latest"
        )
    return found


def add_cosignature(
    store: Store, party: Party, size: int, line: str, *, now_s: float
) -> tuple[bool, list[str]]:
    """Check ``line`` is ``party``'s cosignature/v1 of checkpoint ``size`` and keep it; returns
    (new, who has cosigned that checkpoint)."""
    record = checkpoint(store, size)
    if not party.public_key:
        raise PermissionDeniedError(
            f"party {party.name!r} has no registered Ed25519 key to cosign with: ask the host "
            "to register your public key"
        )
    key = public_key_from_b64(party.public_key)
    name = witness_name(party.public_key)
    sig = parse_signature_line(line)
    if sig.name != name:
        raise PermissionDeniedError(
            f"the cosignature is named {sig.name!r}; {party.name!r} cosigns as {name!r} "
            "(deconflict.witness/ and your registered public key, base64url)"
        )
    body = parse_note(record.note).body
    when = cosignature_time(body, sig, name, key)
    if when is None:
        raise PermissionDeniedError(
            f"the cosignature does not verify with {party.name!r}'s registered key over "
            f"checkpoint {size}: cosign the body of GET /v1/log/checkpoint?size={size} "
            "(C2SP cosignature/v1)"
        )
    if when > now_s + MAX_COSIGNATURE_SKEW_S:
        raise InputError(
            f"the cosignature's time {when} is in the future (now {now_s:.0f}): sign with "
            "your clock's current POSIX time"
        )
    new = records.put_cosignature(store, size, party.id, sig.line(), now_s)
    names = {p.id: p.name for p in store.list_parties()}
    return new, [names.get(pid, pid) for pid, _ in records.cosignatures(store, size)]


# -- the host's identity ---------------------------------------------------------------------


def rotate(store: Store, old: Signer, new: Signer, *, keep_in_store: bool) -> int:
    """Hand the host's identity from ``old`` to ``new``: the rotation entry (sealed by the old
    key) and, for keys kept in the store, the switch of key, in one transaction; the store
    seals with the new key afterwards. Returns the entry's seq."""
    from deconflict.hotline.keys import private_key_to_pem

    pem = private_key_to_pem(new.private_key).decode() if keep_in_store else None
    entry = records.rotate_host_key(
        store,
        old.key_id,
        new.key_id,
        pem,
        EventDraft("host", HOST_KEY_ROTATED, rotation_payload(old, new)),
    )
    return entry.seq


def host_key_history(store: Store) -> list[Any]:
    """The ``host.key`` and ``host.key.rotated`` entries, in order."""
    return records.entries_of_kinds(store, (HOST_KEY, HOST_KEY_ROTATED))
