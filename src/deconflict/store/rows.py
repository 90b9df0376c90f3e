"""Rows of the store's tables as its records (``Party``, ``OperationRecord``,
``ConstraintRecord``, ``Event``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from deconflict.store.connection import (
    _OPERATIONS_SINCE,
    _PARTY_BY_ID,
)

if TYPE_CHECKING:
    from deconflict.store.store import Store
from deconflict.store.records import (
    BBox,
    ConstraintRecord,
    Event,
    OperationRecord,
    Party,
)


class _Row:
    """Attribute access over a dict, shaped like a result row for the converters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _party(row: Any) -> Party:
    return Party(row.id, row.name, row.role, row.public_key, row.contact, row.created_s)


def _operation(row: Any) -> OperationRecord:
    return OperationRecord(
        id=row.id,
        owner_id=row.owner_id,
        state=row.state,
        priority=int(row.priority),
        version=int(row.version),
        token=row.token,
        volumes=list(row.volumes),
        aircraft=list(row.aircraft),
        flags=list(row.flags),
        time_start_s=float(row.time_start_s),
        time_end_s=float(row.time_end_s),
        alt_lower_m=float(row.alt_lower_m),
        alt_upper_m=float(row.alt_upper_m),
        bbox=(float(row.min_lon), float(row.min_lat), float(row.max_lon), float(row.max_lat)),
        created_s=float(row.created_s),
        updated_s=float(row.updated_s),
        seq=int(row.seq),
    )


def _constraint(row: Any) -> ConstraintRecord:
    return ConstraintRecord(
        id=row.id,
        owner_id=row.owner_id,
        kind=row.kind,
        name=row.name,
        volume=dict(row.volume),
        alt_lower_m=float(row.alt_lower_m),
        alt_upper_m=float(row.alt_upper_m),
        time_start_s=float(row.time_start_s),
        time_end_s=float(row.time_end_s),
        created_s=float(row.created_s),
    )


def _event(row: Any) -> Event:
    return Event(
        seq=int(row.seq),
        time_s=float(row.time_s),
        author=row.author,
        key_id=row.key_id,
        kind=row.kind,
        payload=dict(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
        signature=row.signature,
        format=int(row.format),
    )


class _View:
    """The store as a write's check sees it, inside the write's transaction."""

    def __init__(self, store: Store, conn: Connection, seq: int) -> None:
        self._store = store
        self._conn = conn
        self._seq = seq

    @property
    def seq(self) -> int:
        return self._seq

    def operations_since(self, seq: int) -> list[OperationRecord]:
        rows = self._conn.execute(_OPERATIONS_SINCE, {"s": seq})
        return [_operation(r) for r in rows]

    def candidates(
        self, bbox: BBox, time_start_s: float, time_end_s: float, exclude: str | None = None
    ) -> list[OperationRecord]:
        return self._store.candidates_in(
            self._conn, bbox, time_start_s, time_end_s, exclude=exclude
        )

    def party(self, party_id: str) -> Party | None:
        row = self._conn.execute(_PARTY_BY_ID, {"i": party_id}).first()
        return _party(row) if row is not None else None

    def constraints(self, time_start_s: float, time_end_s: float) -> list[ConstraintRecord]:
        return self._store.constraints_in(self._conn, time_start_s, time_end_s)
