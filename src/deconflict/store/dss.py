"""What the ASTM F3548-21 DSS API keeps beside operations: subscriptions, constraint references,
USS availability and the wire fields of operational intents (seconds, metres, degrees).

An operational intent reference *is* an operation (``operations``); this module keeps only what
F3548 adds to it (its USS base URL, its subscription, its extents as the USS gave them). Every
write goes through the store's one write transaction (``DssStore.write``, or the ``also`` hook
of ``Store.write_operation``), holding the log head, so a DSS change and its log entry commit
together or not at all.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deconflict.store.records import BBox, Event, EventDraft
from deconflict.store.schema import (
    dss_constraint_references,
    dss_operational_intents,
    dss_subscriptions,
    dss_uss_availability,
    operations,
)

if TYPE_CHECKING:
    from deconflict.store.connection import Database
    from deconflict.store.store import Store


@dataclass(frozen=True)
class SubscriptionRecord:
    id: str
    owner_id: str
    version: str
    notification_index: int
    volumes: list[dict[str, Any]]
    uss_base_url: str
    notify_for_operations: bool
    notify_for_constraints: bool
    implicit: bool
    time_start_s: float
    time_end_s: float
    bbox: BBox


@dataclass(frozen=True)
class ConstraintReferenceRecord:
    id: str
    owner_id: str
    version: int
    ovn: str
    uss_base_url: str
    volumes: list[dict[str, Any]]
    time_start_s: float
    time_end_s: float
    bbox: BBox


@dataclass(frozen=True)
class IntentWire:
    """The F3548 fields of an operation written through the DSS API."""

    operation_id: str
    uss_base_url: str
    subscription_id: str | None
    extents: list[dict[str, Any]]


def new_version() -> str:
    return secrets.token_hex(16)


def _box_values(bbox: BBox) -> dict[str, float]:
    return {"min_lon": bbox[0], "min_lat": bbox[1], "max_lon": bbox[2], "max_lat": bbox[3]}


def _bbox(row: Any) -> BBox:
    return (float(row.min_lon), float(row.min_lat), float(row.max_lon), float(row.max_lat))


def _subscription(row: Any) -> SubscriptionRecord:
    return SubscriptionRecord(
        id=row.id,
        owner_id=row.owner_id,
        version=row.version,
        notification_index=int(row.notification_index),
        volumes=list(row.volumes),
        uss_base_url=row.uss_base_url,
        notify_for_operations=bool(row.notify_for_operations),
        notify_for_constraints=bool(row.notify_for_constraints),
        implicit=bool(row.implicit),
        time_start_s=float(row.time_start_s),
        time_end_s=float(row.time_end_s),
        bbox=_bbox(row),
    )


def _constraint_ref(row: Any) -> ConstraintReferenceRecord:
    return ConstraintReferenceRecord(
        id=row.id,
        owner_id=row.owner_id,
        version=int(row.version),
        ovn=row.ovn,
        uss_base_url=row.uss_base_url,
        volumes=list(row.volumes),
        time_start_s=float(row.time_start_s),
        time_end_s=float(row.time_end_s),
        bbox=_bbox(row),
    )


def _meets(table: sa.Table) -> sa.ColumnElement[bool]:
    """Box and time window overlap, as bound parameters (statements built once)."""
    return sa.and_(
        table.c.min_lon <= sa.bindparam("x1"),
        table.c.max_lon >= sa.bindparam("x0"),
        table.c.min_lat <= sa.bindparam("y1"),
        table.c.max_lat >= sa.bindparam("y0"),
        table.c.time_start_s < sa.bindparam("t1"),
        table.c.time_end_s > sa.bindparam("t0"),
    )


def _window(bbox: BBox, t0: float, t1: float) -> dict[str, float]:
    return {"x0": bbox[0], "y0": bbox[1], "x1": bbox[2], "y1": bbox[3], "t0": t0, "t1": t1}


_SUBS = dss_subscriptions
# no ORDER BY: it would make SQLite walk the primary key instead of the time index
_SUBS_MEETING = sa.select(_SUBS).where(_meets(_SUBS))
_SUBS_MEETING_OF = (
    sa.select(_SUBS).where(_meets(_SUBS)).where(_SUBS.c.owner_id == sa.bindparam("owner"))
)
_SUB_BY_ID = sa.select(_SUBS).where(_SUBS.c.id == sa.bindparam("i"))
_SUB_INSERT = sa.insert(_SUBS)
_SUB_UPDATE = sa.update(_SUBS).where(_SUBS.c.id == sa.bindparam("i"))
_WIRES = dss_operational_intents
_WIRE_BY_ID = sa.select(_WIRES).where(_WIRES.c.operation_id == sa.bindparam("i"))
_WIRE_DELETE = sa.delete(_WIRES).where(_WIRES.c.operation_id == sa.bindparam("i"))
_WIRE_INSERT = sa.insert(_WIRES)
_BUMP = (
    sa.update(_SUBS)
    .where(_SUBS.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(notification_index=_SUBS.c.notification_index + 1)
)
_INDICES = sa.select(_SUBS.c.id, _SUBS.c.notification_index).where(
    _SUBS.c.id.in_(sa.bindparam("ids", expanding=True))
)
_REFS = dss_constraint_references
_REFS_MEETING = sa.select(_REFS).where(_meets(_REFS))


class DssTx:
    """The DSS tables through one connection: inside a write transaction (``head`` set: may
    write and append to the log) or a read."""

    def __init__(self, store: Database, conn: Connection, head: list[int | str] | None) -> None:
        self._store = store
        self.conn = conn
        self._head = head

    def append(self, draft: EventDraft) -> Event:
        assert self._head is not None, "a read cannot append to the log"
        return self._store.append_entry(self.conn, self._head, draft)

    # -- operational intents' wire fields ------------------------------------------------

    def intent_wire(self, operation_id: str) -> IntentWire | None:
        row = self.conn.execute(_WIRE_BY_ID, {"i": operation_id}).first()
        if row is None:
            return None
        return IntentWire(
            row.operation_id, row.uss_base_url, row.subscription_id, list(row.extents)
        )

    def intent_wires(self, operation_ids: Sequence[str]) -> dict[str, IntentWire]:
        if not operation_ids:
            return {}
        rows = self.conn.execute(
            sa.select(dss_operational_intents).where(
                dss_operational_intents.c.operation_id.in_(sorted(set(operation_ids)))
            )
        )
        return {
            r.operation_id: IntentWire(
                r.operation_id, r.uss_base_url, r.subscription_id, list(r.extents)
            )
            for r in rows
        }

    def put_intent_wire(self, wire: IntentWire) -> None:
        self.conn.execute(_WIRE_DELETE, {"i": wire.operation_id})
        self.conn.execute(
            _WIRE_INSERT,
            {
                "operation_id": wire.operation_id,
                "uss_base_url": wire.uss_base_url,
                "subscription_id": wire.subscription_id,
                "extents": wire.extents,
            },
        )

    def dependents(self, subscription_id: str) -> list[str]:
        """Live operations (not Ended) that rely on a subscription."""
        t = dss_operational_intents
        rows = self.conn.execute(
            sa.select(t.c.operation_id)
            .join(operations, operations.c.id == t.c.operation_id)
            .where(t.c.subscription_id == subscription_id)
            .where(operations.c.state != "Ended")
            .order_by(t.c.operation_id)
        ).scalars()
        return list(rows)

    # -- subscriptions --------------------------------------------------------------------

    def subscription(self, subscription_id: str) -> SubscriptionRecord | None:
        row = self.conn.execute(_SUB_BY_ID, {"i": subscription_id}).first()
        return None if row is None else _subscription(row)

    def subscriptions_meeting(
        self, bbox: BBox, t0: float, t1: float, owner_id: str | None = None
    ) -> list[SubscriptionRecord]:
        """Subscriptions whose box and time span meet the window (the exact test is the
        caller's), optionally only one owner's."""
        window = _window(bbox, t0, t1)
        if owner_id is None:
            rows = self.conn.execute(_SUBS_MEETING, window)
        else:
            rows = self.conn.execute(_SUBS_MEETING_OF, {**window, "owner": owner_id})
        return sorted((_subscription(r) for r in rows), key=lambda s: s.id)

    def put_subscription(self, sub: SubscriptionRecord, *, creating: bool) -> None:
        now = time.time()
        values: dict[str, Any] = {
            "owner_id": sub.owner_id,
            "version": sub.version,
            "notification_index": sub.notification_index,
            "volumes": sub.volumes,
            "uss_base_url": sub.uss_base_url,
            "notify_for_operations": sub.notify_for_operations,
            "notify_for_constraints": sub.notify_for_constraints,
            "implicit": sub.implicit,
            "time_start_s": sub.time_start_s,
            "time_end_s": sub.time_end_s,
            "updated_s": now,
            **_box_values(sub.bbox),
        }
        if creating:
            self.conn.execute(_SUB_INSERT, {"id": sub.id, "created_s": now, **values})
        else:
            self.conn.execute(_SUB_UPDATE, {"i": sub.id, **values})

    def delete_subscription(self, subscription_id: str) -> None:
        t = dss_subscriptions
        self.conn.execute(sa.delete(t).where(t.c.id == subscription_id))

    def bump(self, subscription_ids: Sequence[str]) -> dict[str, int]:
        """Add one to each subscription's notification index; the new indices."""
        if not subscription_ids:
            return {}
        ids = sorted(set(subscription_ids))
        self.conn.execute(_BUMP, {"ids": ids})
        rows = self.conn.execute(_INDICES, {"ids": ids})
        return {r.id: int(r.notification_index) for r in rows}

    # -- constraint references -------------------------------------------------------------

    def constraint_ref(self, ref_id: str) -> ConstraintReferenceRecord | None:
        t = dss_constraint_references
        row = self.conn.execute(sa.select(t).where(t.c.id == ref_id)).first()
        return None if row is None else _constraint_ref(row)

    def constraint_refs_meeting(
        self, bbox: BBox, t0: float, t1: float
    ) -> list[ConstraintReferenceRecord]:
        rows = self.conn.execute(_REFS_MEETING, _window(bbox, t0, t1))
        return sorted((_constraint_ref(r) for r in rows), key=lambda c: c.id)

    def put_constraint_ref(self, ref: ConstraintReferenceRecord, *, creating: bool) -> None:
        now = time.time()
        t = dss_constraint_references
        values: dict[str, Any] = {
            "owner_id": ref.owner_id,
            "version": ref.version,
            "ovn": ref.ovn,
            "uss_base_url": ref.uss_base_url,
            "volumes": ref.volumes,
            "time_start_s": ref.time_start_s,
            "time_end_s": ref.time_end_s,
            "updated_s": now,
            **_box_values(ref.bbox),
        }
        if creating:
            self.conn.execute(sa.insert(t).values(id=ref.id, created_s=now, **values))
        else:
            self.conn.execute(sa.update(t).where(t.c.id == ref.id).values(**values))

    def delete_constraint_ref(self, ref_id: str) -> None:
        t = dss_constraint_references
        self.conn.execute(sa.delete(t).where(t.c.id == ref_id))

    # -- USS availability -------------------------------------------------------------------

    def availability(self, uss: str) -> tuple[str, str]:
        """(availability, version); ``("Unknown", "")`` for a USS never set."""
        t = dss_uss_availability
        row = self.conn.execute(sa.select(t).where(t.c.uss == uss)).first()
        return ("Unknown", "") if row is None else (row.availability, row.version)

    def availabilities(self, names: Sequence[str]) -> dict[str, str]:
        if not names:
            return {}
        t = dss_uss_availability
        rows = self.conn.execute(sa.select(t).where(t.c.uss.in_(sorted(set(names)))))
        return {r.uss: r.availability for r in rows}

    def put_availability(self, uss: str, availability: str, version: str) -> None:
        t = dss_uss_availability
        self.conn.execute(sa.delete(t).where(t.c.uss == uss))
        self.conn.execute(
            sa.insert(t).values(
                uss=uss, availability=availability, version=version, updated_s=time.time()
            )
        )


class DssStore:
    """The DSS tables of a store: ``write()`` holds the log head (one transaction with the
    log entries appended through it), ``read()`` a snapshot."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def write(self) -> Iterator[DssTx]:
        with self.store.write_transaction() as (conn, head):
            yield DssTx(self.store, conn, head)

    @contextmanager
    def read(self) -> Iterator[DssTx]:
        with self.store.read_transaction() as conn:
            yield DssTx(self.store, conn, None)
