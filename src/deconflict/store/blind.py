"""The blind check's records (times Unix s UTC): blind operations, checks, the relay's mailbox.

Nothing here holds geometry. A blind operation is its owner's commitment (a hash), contact,
priority, state, version, token and an expiry; a check is the two parties, the last round the
host relayed and, once both signed it, the outcome; the mailbox holds each relayed envelope
(PSI points and sealed bytes, unreadable to the host) until its recipient has fetched it. Every
relayed message, outcome and declaration is also an entry of the one signed log (kinds
``blind.message`` with the message's hash only, ``blind.answered``, ``blind.outcome``,
``blind.declared``, ``blind.conflict``), written in the same transaction as the rows.

``blind_write(store)`` is that transaction: it holds the log head (so a declaration's check of
the outcomes and its write are one atomic step, as for open operations) and offers the reads
and writes the engine's workflows need (``workflows.blind``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deconflict.store.records import Event, EventDraft, Party
from deconflict.store.rows import _party
from deconflict.store.schema import blind_checks, blind_messages, blind_operations, parties
from deconflict.store.store import Store

LIVE_STATES = ("Accepted", "Activated", "Nonconforming", "Contingent")


@dataclass(frozen=True)
class BlindRecord:
    """A blind operation as the host holds it: no geometry."""

    id: str
    owner_id: str
    commitment: str
    contact: str
    priority: int
    state: str
    version: int
    token: str
    expires_s: float
    seq: int
    created_s: float
    updated_s: float


@dataclass(frozen=True)
class CheckRecord:
    id: str
    a_id: str
    b_id: str
    rounds: int
    outcome: dict[str, Any] | None
    created_s: float


def _record(row: Any) -> BlindRecord:
    return BlindRecord(
        id=row.id,
        owner_id=row.owner_id,
        commitment=row.commitment,
        contact=row.contact,
        priority=int(row.priority),
        state=row.state,
        version=int(row.version),
        token=row.token,
        expires_s=float(row.expires_s),
        seq=int(row.seq),
        created_s=float(row.created_s),
        updated_s=float(row.updated_s),
    )


def _check(row: Any) -> CheckRecord:
    return CheckRecord(
        row.id,
        row.a_id,
        row.b_id,
        int(row.rounds),
        None if row.outcome is None else dict(row.outcome),
        float(row.created_s),
    )


class BlindTxn:
    """Reads and writes inside one write transaction (holding the log head)."""

    def __init__(self, store: Store, conn: Connection, head: list[int | str]) -> None:
        self._store = store
        self._conn = conn
        self._head = head

    def append(self, draft: EventDraft) -> Event:
        return self._store.append_entry(self._conn, self._head, draft)

    def parties(self) -> dict[str, Party]:
        """Every registered party by id (read inside the transaction)."""
        return {str(r.id): _party(r) for r in self._conn.execute(sa.select(parties))}

    # -- operations ---------------------------------------------------------------------------
    def operation(self, op_id: str) -> BlindRecord | None:
        row = self._conn.execute(
            sa.select(blind_operations).where(blind_operations.c.id == op_id)
        ).first()
        return None if row is None else _record(row)

    def live(self, now_s: float) -> list[BlindRecord]:
        """Every live, unexpired blind operation, by owner then id."""
        rows = self._conn.execute(
            sa.select(blind_operations)
            .where(blind_operations.c.state.in_(LIVE_STATES))
            .where(blind_operations.c.expires_s > now_s)
            .order_by(blind_operations.c.owner_id, blind_operations.c.id)
        )
        return [_record(r) for r in rows]

    def put_operation(
        self,
        op_id: str,
        owner_id: str,
        commitment: str,
        contact: str,
        priority: int,
        state: str,
        expires_s: float,
        current: BlindRecord | None,
    ) -> BlindRecord:
        now = time.time()
        values: dict[str, Any] = {
            "owner_id": owner_id,
            "commitment": commitment,
            "contact": contact,
            "priority": priority,
            "state": state,
            "version": 1 if current is None else current.version + 1,
            "token": secrets.token_hex(16),
            "expires_s": expires_s,
            "seq": int(self._head[0]),
            "updated_s": now,
        }
        if current is None:
            values |= {"id": op_id, "created_s": now}
            self._conn.execute(sa.insert(blind_operations).values(**values))
        else:
            values["created_s"] = current.created_s
            self._conn.execute(
                sa.update(blind_operations)
                .where(blind_operations.c.id == op_id)
                .values(**{k: v for k, v in values.items() if k != "created_s"})
            )
            values["id"] = op_id
        return BlindRecord(**values)

    # -- checks and the mailbox ---------------------------------------------------------------
    def check(self, check_id: str) -> CheckRecord | None:
        row = self._conn.execute(
            sa.select(blind_checks).where(blind_checks.c.id == check_id)
        ).first()
        return None if row is None else _check(row)

    def checks(self, ids: list[str]) -> list[CheckRecord]:
        if not ids:
            return []
        rows = self._conn.execute(sa.select(blind_checks).where(blind_checks.c.id.in_(ids)))
        return [_check(r) for r in rows]

    def relayed(
        self,
        check_id: str,
        a_id: str,
        b_id: str,
        round_no: int,
        recipient_id: str,
        envelope: dict[str, Any],
        entry: EventDraft,
    ) -> Event:
        """Round ``round_no`` of a check relayed: the check moved on, the log entry written,
        the envelope put in the recipient's mailbox."""
        if round_no == 1:
            self._conn.execute(
                sa.insert(blind_checks).values(
                    id=check_id,
                    a_id=a_id,
                    b_id=b_id,
                    rounds=1,
                    outcome=None,
                    created_s=time.time(),
                )
            )
        else:
            self._conn.execute(
                sa.update(blind_checks).where(blind_checks.c.id == check_id).values(rounds=round_no)
            )
        event = self.append(entry)
        self._conn.execute(
            sa.insert(blind_messages).values(
                seq=event.seq, recipient_id=recipient_id, envelope=envelope
            )
        )
        return event

    def set_outcome(self, check_id: str, outcome: dict[str, Any]) -> None:
        self._conn.execute(
            sa.update(blind_checks).where(blind_checks.c.id == check_id).values(outcome=outcome)
        )


@contextmanager
def blind_write(store: Store) -> Iterator[BlindTxn]:
    """One write transaction for the blind workflows (all or nothing)."""
    with store.write_transaction() as (conn, head):
        yield BlindTxn(store, conn, head)


def mailbox(store: Store, recipient_id: str, after: int, limit: int) -> list[dict[str, Any]]:
    """Envelopes for ``recipient_id`` after ``after`` (oldest first, each with its ``seq``);
    those up to ``after`` were fetched before and are dropped now (the cursor acknowledges)."""
    if after >= 0:
        with store.write_transaction() as (conn, _head):
            conn.execute(
                sa.delete(blind_messages)
                .where(blind_messages.c.recipient_id == recipient_id)
                .where(blind_messages.c.seq <= after)
            )
    query = (
        sa.select(blind_messages)
        .where(blind_messages.c.recipient_id == recipient_id)
        .where(blind_messages.c.seq > after)
        .order_by(blind_messages.c.seq)
        .limit(limit)
    )
    with store.read_transaction() as conn:
        return [{**dict(r.envelope), "seq": int(r.seq)} for r in conn.execute(query)]


def operations_of(store: Store, owner_id: str) -> list[BlindRecord]:
    """A party's blind operations (every state), oldest first."""
    query = (
        sa.select(blind_operations)
        .where(blind_operations.c.owner_id == owner_id)
        .order_by(blind_operations.c.created_s, blind_operations.c.id)
    )
    with store.read_transaction() as conn:
        return [_record(r) for r in conn.execute(query)]


def live_owners(store: Store, now_s: float) -> list[str]:
    """Ids of the parties with live, unexpired blind operations."""
    query = (
        sa.select(blind_operations.c.owner_id)
        .where(blind_operations.c.state.in_(LIVE_STATES))
        .where(blind_operations.c.expires_s > now_s)
        .distinct()
    )
    with store.read_transaction() as conn:
        return sorted(str(r) for r in conn.execute(query).scalars())
