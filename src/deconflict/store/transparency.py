"""The transparency log's records in the store: signed checkpoints, parties' cosignatures, the
host's signing keys, and the entries a party holds (times Unix s UTC).

* ``log_checkpoints`` — one row per published checkpoint (tree size, hex root, the host key
  that signed it, the signed note in C2SP tlog-checkpoint form);
* ``log_cosignatures`` — one C2SP tlog-cosignature line per (checkpoint, party);
* ``host_keys`` — the host's Ed25519 private keys (PKCS#8 PEM) when they are kept in the store
  (no ``host_key_file`` setting): the newest unretired one signs, so every restart and every
  instance on the store sign as one host. Whoever can read this table can sign as the host:
  the database is the host's, as its key file would be.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from deconflict.store.records import Event, EventDraft
from deconflict.store.rows import _event
from deconflict.store.schema import (
    event_recipients,
    events,
    host_keys,
    log_checkpoints,
    log_cosignatures,
)
from deconflict.store.store import Store


@dataclass(frozen=True)
class CheckpointRecord:
    """A published checkpoint: its tree size, root (hex), signing key id, note and time."""

    size: int
    root: str
    key_id: str
    note: str
    time_s: float


def _checkpoint(row: Any) -> CheckpointRecord:
    return CheckpointRecord(
        int(row.size), str(row.root), str(row.key_id), str(row.note), float(row.time_s)
    )


def latest_checkpoint(store: Store) -> CheckpointRecord | None:
    """The checkpoint of the largest tree published, or None."""
    with store.read_transaction() as conn:
        row = conn.execute(
            sa.select(log_checkpoints).order_by(log_checkpoints.c.size.desc()).limit(1)
        ).first()
    return None if row is None else _checkpoint(row)


def checkpoint_at(store: Store, size: int) -> CheckpointRecord | None:
    """The checkpoint published for tree size ``size``, or None."""
    with store.read_transaction() as conn:
        row = conn.execute(sa.select(log_checkpoints).where(log_checkpoints.c.size == size)).first()
    return None if row is None else _checkpoint(row)


def put_checkpoint(store: Store, record: CheckpointRecord) -> CheckpointRecord:
    """Keep ``record`` unless a checkpoint of that size exists already (another instance
    published it first): returns the one kept."""
    with store.write_transaction() as (conn, _head):
        row = conn.execute(
            sa.select(log_checkpoints).where(log_checkpoints.c.size == record.size)
        ).first()
        if row is not None:
            return _checkpoint(row)
        conn.execute(
            sa.insert(log_checkpoints).values(
                size=record.size,
                root=record.root,
                key_id=record.key_id,
                note=record.note,
                time_s=record.time_s,
            )
        )
    return record


def put_cosignature(store: Store, size: int, party_id: str, line: str, time_s: float) -> bool:
    """Keep ``party_id``'s cosignature of checkpoint ``size``; False when it had one already
    (the first one stays)."""
    with store.write_transaction() as (conn, _head):
        found = conn.execute(
            sa.select(log_cosignatures.c.line).where(
                log_cosignatures.c.size == size, log_cosignatures.c.party_id == party_id
            )
        ).first()
        if found is not None:
            return False
        conn.execute(
            sa.insert(log_cosignatures).values(
                size=size, party_id=party_id, line=line, time_s=time_s
            )
        )
    return True


def cosignatures(store: Store, size: int) -> list[tuple[str, str]]:
    """(party id, cosignature line) of checkpoint ``size``, in the order they came."""
    with store.read_transaction() as conn:
        rows = conn.execute(
            sa.select(log_cosignatures.c.party_id, log_cosignatures.c.line)
            .where(log_cosignatures.c.size == size)
            .order_by(log_cosignatures.c.time_s, log_cosignatures.c.party_id)
        ).all()
    return [(str(r.party_id), str(r.line)) for r in rows]


def party_entries(store: Store, party_id: str, after: int = -1, limit: int = 500) -> list[Event]:
    """The entries ``party_id`` holds, seq > ``after``, in order: those addressed to it and
    those it authored (the store records the author as ``payload.by``)."""
    addressed = sa.select(event_recipients.c.event_seq).where(
        event_recipients.c.party_id == party_id
    )
    query = (
        sa.select(events)
        .where(events.c.seq > after)
        .where(sa.or_(events.c.seq.in_(addressed), events.c.payload["by"].as_string() == party_id))
        .order_by(events.c.seq)
        .limit(limit)
    )
    with store.read_transaction() as conn:
        return [_event(r) for r in conn.execute(query)]


def entries_of_kinds(store: Store, kinds: Sequence[str]) -> list[Event]:
    """Every entry of one of ``kinds``, in order (the host's key history is a handful)."""
    query = sa.select(events).where(events.c.kind.in_(list(kinds))).order_by(events.c.seq)
    with store.read_transaction() as conn:
        return [_event(r) for r in conn.execute(query)]


# -- the host's keys, kept in the store -------------------------------------------------------


def current_host_key(store: Store) -> str | None:
    """The PEM of the host key that signs now (the newest unretired one), or None."""
    with store.read_transaction() as conn:
        row = conn.execute(
            sa.select(host_keys.c.private_pem)
            .where(host_keys.c.retired_s.is_(None))
            .order_by(host_keys.c.created_s.desc())
            .limit(1)
        ).first()
    return None if row is None else str(row.private_pem)


def add_host_key(store: Store, key_id: str, pem: str) -> str:
    """Keep a first host key unless another instance kept one first; returns the PEM that
    signs (this one or the other's)."""
    with store.write_transaction() as (conn, _head):
        row = conn.execute(
            sa.select(host_keys.c.private_pem).where(host_keys.c.retired_s.is_(None)).limit(1)
        ).first()
        if row is not None:
            return str(row.private_pem)
        conn.execute(
            sa.insert(host_keys).values(
                key_id=key_id, private_pem=pem, created_s=time.time(), retired_s=None
            )
        )
    return pem


def rotate_host_key(
    store: Store, old_key_id: str, new_key_id: str, new_pem: str | None, entry: EventDraft
) -> Event:
    """Append the rotation ``entry`` (sealed by the old key: the store's sealer now) and, when
    the keys are kept in the store (``new_pem`` given), retire the old key and keep the new one,
    all in one transaction."""
    with store.write_transaction() as (conn, head):
        written = store.append_entry(conn, head, entry)
        if new_pem is not None:
            now = time.time()
            conn.execute(
                sa.update(host_keys).where(host_keys.c.key_id == old_key_id).values(retired_s=now)
            )
            conn.execute(
                sa.insert(host_keys).values(
                    key_id=new_key_id, private_pem=new_pem, created_s=now, retired_s=None
                )
            )
    return written
