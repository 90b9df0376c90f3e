"""Operations in the store: versions, their cells, queries by box and time, and the write of a
new version under the awareness check (one transaction with the log entries recording it)."""

from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deconflict.errors import ConflictError, NotFoundError
from deconflict.store import grid
from deconflict.store.connection import (
    _OPERATION_BY_ID,
    _QUERY_CELL_LIMIT,
    Database,
)
from deconflict.store.dss import DssTx
from deconflict.store.records import (
    BBox,
    Decide,
    Decision,
    EventDraft,
    OperationDraft,
    OperationRecord,
)
from deconflict.store.rows import _operation, _Row, _View
from deconflict.store.schema import (
    operation_cells,
    operations,
)

if TYPE_CHECKING:
    from deconflict.store.store import Store

ENDED = "Ended"  # the state of an operation kept only as a record (ASTM F3548 spelling)

OPERATION_CACHE_SIZE = 200_000


class Operations(Database):
    """Operations: each version kept, the live one indexed by grid cells."""

    # -- operations -----------------------------------------------------------------------

    def get_operation(self, operation_id: str) -> OperationRecord:
        with self.read_transaction() as conn:
            row = conn.execute(_OPERATION_BY_ID, {"i": operation_id}).first()
        if row is None:
            raise NotFoundError(f"no operation {operation_id!r}")
        return _operation(row)

    def operations_of(self, owner_id: str, *, include_ended: bool = False) -> list[OperationRecord]:
        """The party's operations, oldest first. Only the versions not parsed before are read
        whole (a listing of a thousand operations reads their ids and versions, then the JSON of
        those that changed)."""
        where = [operations.c.owner_id == owner_id]
        if not include_ended:
            where.append(operations.c.state != ENDED)
        cache = self._operation_cache
        with self.read_transaction() as conn:
            keys = conn.execute(
                sa.select(operations.c.id, operations.c.seq)
                .where(*where)
                .order_by(operations.c.created_s)
            ).all()
            missing = [k.id for k in keys if (k.id, int(k.seq)) not in cache]
            fresh = {}
            for start in range(0, len(missing), 500):
                chunk = missing[start : start + 500]
                rows = conn.execute(sa.select(operations).where(operations.c.id.in_(chunk))).all()
                fresh.update({r.id: _operation(r) for r in rows})
        if len(cache) + len(fresh) > OPERATION_CACHE_SIZE:
            cache.clear()
        out = []
        for k in keys:
            record = fresh.get(k.id) or cache.get((k.id, int(k.seq)))
            if record is None or record.seq != int(k.seq):  # changed between the two reads
                return self._operations_of_whole(where)
            cache[(record.id, record.seq)] = record
            out.append(record)
        return out

    def _operations_of_whole(self, where: list[Any]) -> list[OperationRecord]:
        with self.read_transaction() as conn:
            rows = conn.execute(
                sa.select(operations).where(*where).order_by(operations.c.created_s)
            ).all()
        return [_operation(r) for r in rows]

    def query_operations(
        self,
        bbox: BBox,
        time_start_s: float,
        time_end_s: float,
        *,
        include_ended: bool = False,
    ) -> list[OperationRecord]:
        """Operations whose footprint box meets ``bbox`` and whose time span meets the window."""
        with self.read_transaction() as conn:
            return self.candidates_in(conn, bbox, time_start_s, time_end_s, include_ended)

    def candidates_in(
        self,
        conn: Connection,
        bbox: BBox,
        time_start_s: float,
        time_end_s: float,
        include_ended: bool = False,
        exclude: str | None = None,
    ) -> list[OperationRecord]:
        ids: set[str] = set()
        scan_levels: list[int] = []
        keys: list[int] = []
        for level in range(len(grid.LEVEL_DEG)):
            if grid.cell_count(bbox, level) <= _QUERY_CELL_LIMIT:
                keys.extend(grid.cells(bbox, level))
            else:
                scan_levels.append(level)
        if keys:
            found = conn.execute(
                sa.select(operation_cells.c.operation_id)
                .where(operation_cells.c.cell.in_(keys))
                .where(operation_cells.c.time_start_s < time_end_s)
                .where(operation_cells.c.time_end_s > time_start_s)
            ).scalars()
            ids.update(found)
        box_match = sa.and_(
            operations.c.min_lon <= bbox[2],
            operations.c.max_lon >= bbox[0],
            operations.c.min_lat <= bbox[3],
            operations.c.max_lat >= bbox[1],
            operations.c.time_start_s < time_end_s,
            operations.c.time_end_s > time_start_s,
        )
        if scan_levels:
            found = conn.execute(
                sa.select(operations.c.id)
                .where(operations.c.cell_level.in_(scan_levels))
                .where(box_match)
            ).scalars()
            ids.update(found)
        ids.discard(exclude or "")
        if not ids:
            return []
        query = sa.select(operations).where(operations.c.id.in_(sorted(ids))).where(box_match)
        if not include_ended:
            query = query.where(operations.c.state != ENDED)
        return [_operation(r) for r in conn.execute(query.order_by(operations.c.created_s))]

    def write_operation(
        self,
        draft: OperationDraft,
        decide: Decide,
        *,
        expected_token: str | None = None,
        on_written: Callable[[OperationRecord, int], None] | None = None,
        also: Callable[[DssTx, OperationRecord], None] | None = None,
        replace_ended: bool = False,
    ) -> tuple[OperationRecord | None, Decision]:
        """Check and write an operation in one transaction.

        ``decide(draft, current, view)`` runs inside the transaction. A draft without ``id``
        (or with one but no ``expected_token``) is a new operation: it gets its id (a fresh one
        when None) before ``decide`` sees it, and ``current`` is None. Otherwise ``current`` is
        the stored version, whose token must equal ``expected_token``. ``view`` is the
        store through which it reads what it checks against. When it commits, the new version
        and an ``operation.written`` entry (to the owner) are written with its events, all or
        nothing. ``on_written(record, seq)``, when given, is called last inside the transaction
        (still holding the write lock; ``seq`` is the log head it will commit). Returns the
        written record (None if not written) and the decision; raises the decision's ``error``
        after committing its events.

        ``also(tx, record)``, when given, runs in the same transaction after the record is
        written (before ``on_written``): the DSS API's wire fields and subscriptions
        (``deconflict.store.dss``); whatever it raises rolls the whole write back. With
        ``replace_ended``, creating an id whose stored operation is ``Ended`` replaces that
        record (F3548 frees the id of a deleted operational intent); its version goes on.
        """
        if draft.id is None:
            draft = dataclasses.replace(draft, id=uuid.uuid4().hex)
            creating = True
        else:
            creating = expected_token is None
        assert draft.id is not None
        with self.write_transaction() as (conn, head):
            current: OperationRecord | None = None
            ended: OperationRecord | None = None
            if creating and replace_ended:
                row = conn.execute(_OPERATION_BY_ID, {"i": draft.id}).first()
                if row is not None:
                    ended = _operation(row)
                    if ended.state != ENDED:
                        raise ConflictError(
                            f"operation {draft.id} already exists; choose another id or "
                            "update it with its current version token"
                        )
            if not creating:
                row = conn.execute(_OPERATION_BY_ID, {"i": draft.id}).first()
                if row is None:
                    raise NotFoundError(f"no operation {draft.id!r}")
                current = _operation(row)
                if current.owner_id != draft.owner_id:
                    raise NotFoundError(f"no operation {draft.id!r} of yours")
                if expected_token != current.token:
                    raise ConflictError(
                        f"operation {draft.id} is at version {current.version} and the token "
                        "given is not its current one; GET it and retry with its token"
                    )
            decision = decide(draft, current, _View(cast("Store", self), conn, int(head[0])))
            record = None
            if decision.commit:
                op_id = draft.id
                previous = current if current is not None else ended
                version = 1 if previous is None else previous.version + 1
                state = decision.state or draft.state
                written = EventDraft(
                    draft.owner_id,
                    "operation.written",
                    {
                        "operation": op_id,
                        "version": version,
                        "state": state,
                        "priority": draft.priority,
                        "volumes": draft.volumes,
                        "aircraft": draft.aircraft,
                        "flags": decision.flags,
                        **decision.entry,
                    },
                    (draft.owner_id,),
                )
                self.append_entry(conn, head, written)
                try:
                    record = self._put_operation(
                        conn, op_id, version, state, draft, decision, previous, int(head[0])
                    )
                except sa.exc.IntegrityError as exc:
                    raise ConflictError(
                        f"operation {op_id} already exists; choose another id or PUT it"
                    ) from exc
            for ev in decision.events:
                self.append_entry(conn, head, ev)
            if record is not None and also is not None:
                also(DssTx(self, conn, head), record)
            if record is not None and on_written is not None:
                on_written(record, int(head[0]))
        if decision.error is not None:
            raise decision.error
        return record, decision

    def _put_operation(
        self,
        conn: Connection,
        op_id: str,
        version: int,
        state: str,
        draft: OperationDraft,
        decision: Decision,
        current: OperationRecord | None,
        seq: int,
    ) -> OperationRecord:
        now = time.time()
        level = grid.filing_level(draft.bbox)
        values = {
            "owner_id": draft.owner_id,
            "state": state,
            "priority": draft.priority,
            "version": version,
            "token": secrets.token_hex(16),
            "volumes": draft.volumes,
            "aircraft": draft.aircraft,
            "flags": decision.flags,
            "time_start_s": draft.time_start_s,
            "time_end_s": draft.time_end_s,
            "alt_lower_m": draft.alt_lower_m,
            "alt_upper_m": draft.alt_upper_m,
            "min_lon": draft.bbox[0],
            "min_lat": draft.bbox[1],
            "max_lon": draft.bbox[2],
            "max_lat": draft.bbox[3],
            "cell_level": level,
            "seq": seq,
            "updated_s": now,
        }
        if current is None:
            self.insert_rows(conn, "operations", [{"id": op_id, "created_s": now, **values}])
        else:
            conn.execute(sa.update(operations).where(operations.c.id == op_id).values(**values))
            conn.execute(sa.delete(operation_cells).where(operation_cells.c.operation_id == op_id))
        self.insert_rows(
            conn,
            "operation_cells",
            [
                {
                    "cell": key,
                    "operation_id": op_id,
                    "time_start_s": draft.time_start_s,
                    "time_end_s": draft.time_end_s,
                }
                for key in grid.cells(draft.bbox, level)
            ],
        )
        created = now if current is None else current.created_s
        row = {"id": op_id, "created_s": created, **values}
        return _operation(_Row(row))
