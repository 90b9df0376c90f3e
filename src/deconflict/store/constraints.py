"""Airspace constraints in the store, and the event log read back (by party, whole, its head)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deconflict.errors import NotFoundError
from deconflict.store.connection import (
    _ACTIVE_CONSTRAINTS,
    Database,
)
from deconflict.store.records import (
    ConstraintRecord,
    Event,
    EventDraft,
)
from deconflict.store.rows import _constraint, _event
from deconflict.store.schema import (
    chain_head,
    constraints,
    event_recipients,
    events,
)


class Constraints(Database):
    """Airspace constraints."""

    # -- constraints ----------------------------------------------------------------------

    def add_constraints(
        self, records: Sequence[ConstraintRecord], notify: Sequence[EventDraft] = ()
    ) -> None:
        """Store constraints and the entries announcing them, in one transaction."""
        with self.write_transaction() as (conn, head):
            for record in records:
                conn.execute(
                    sa.insert(constraints).values(
                        id=record.id,
                        owner_id=record.owner_id,
                        kind=record.kind,
                        name=record.name,
                        volume=record.volume,
                        alt_lower_m=record.alt_lower_m,
                        alt_upper_m=record.alt_upper_m,
                        time_start_s=record.time_start_s,
                        time_end_s=record.time_end_s,
                        created_s=record.created_s,
                    )
                )
            for ev in notify:
                self.append_entry(conn, head, ev)

    def get_constraint(self, constraint_id: str) -> ConstraintRecord:
        with self.read_transaction() as conn:
            row = conn.execute(
                sa.select(constraints).where(constraints.c.id == constraint_id)
            ).first()
        if row is None:
            raise NotFoundError(
                f"no constraint {constraint_id!r}; list them with GET /v1/constraints"
            )
        return _constraint(row)

    def delete_constraint(self, constraint_id: str, notify: Sequence[EventDraft] = ()) -> None:
        with self.write_transaction() as (conn, head):
            done = conn.execute(sa.delete(constraints).where(constraints.c.id == constraint_id))
            if done.rowcount == 0:
                raise NotFoundError(f"no constraint {constraint_id!r}")
            for ev in notify:
                self.append_entry(conn, head, ev)

    def list_constraints(
        self, time_start_s: float = -1e12, time_end_s: float = 1e12
    ) -> list[ConstraintRecord]:
        """Constraints active at some time in the window (default: all)."""
        with self.read_transaction() as conn:
            return self.constraints_in(conn, time_start_s, time_end_s)

    def constraints_in(
        self, conn: Connection, time_start_s: float, time_end_s: float
    ) -> list[ConstraintRecord]:
        rows = conn.execute(_ACTIVE_CONSTRAINTS, {"t0": time_start_s, "t1": time_end_s})
        return [_constraint(r) for r in rows]


class EventLog(Database):
    """The event log read back."""

    # -- events ---------------------------------------------------------------------------

    def append_events(self, drafts: Sequence[EventDraft]) -> list[Event]:
        """Append entries to the log in one transaction."""
        with self.write_transaction() as (conn, head):
            return self.append_entries(conn, head, drafts)

    def events_for(self, party_id: str, after: int = -1, limit: int = 500) -> list[Event]:
        """Entries addressed to ``party_id`` with seq > ``after``, oldest first."""
        query = (
            sa.select(events)
            .join(event_recipients, event_recipients.c.event_seq == events.c.seq)
            .where(event_recipients.c.party_id == party_id)
            .where(events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        with self.read_transaction() as conn:
            return [_event(r) for r in conn.execute(query)]

    def log(self, after: int = -1, limit: int = 1000) -> list[Event]:
        """The whole log from seq > ``after``, oldest first (for verification and audit)."""
        query = sa.select(events).where(events.c.seq > after).order_by(events.c.seq).limit(limit)
        with self.read_transaction() as conn:
            return [_event(r) for r in conn.execute(query)]

    def head(self) -> tuple[int, str]:
        with self.read_transaction() as conn:
            row = conn.execute(sa.select(chain_head).where(chain_head.c.id == 1)).one()
        return int(row.seq), str(row.hash)
