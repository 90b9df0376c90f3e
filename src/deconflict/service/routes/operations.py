"""Operations: declare, read, revise, change state, search; need-to-know for others' ones."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from deconflict.errors import InputError, NotFoundError
from deconflict.service.auth import MemberDep, StoreDep
from deconflict.service.schemas import (
    OperationIn,
    OperationList,
    OperationOut,
    OperationUpdate,
    SharedOperation,
    StateChange,
)
from deconflict.store import BBox, OperationRecord, Party
from deconflict.strategic.model import Operation, parse_operation
from deconflict.strategic.states import OperationState
from deconflict.workflows.blind import require_open
from deconflict.workflows.declarations import Signed
from deconflict.workflows.deconfliction import Deconflictor
from deconflict.workflows.disclosure import Disclosure, shared_with
from deconflict.workflows.strategic_records import footprint_bbox

router = APIRouter(prefix="/v1/operations", tags=["operations"])

OperationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
_NOT_VISIBLE = "no operation {id!r} that you own or whose volumes meet yours"


async def _run_write(request: Request, write: Callable[[], OperationRecord]) -> OperationRecord:
    """Run a write: on SQLite in the event loop itself (writes are serialised by the single
    writer anyway, and this spares two thread hand-overs per request); on PostgreSQL, whose
    round trips would stall the loop, in a worker thread."""
    if request.app.state.store.backend == "sqlite":
        return write()
    return await run_in_threadpool(write)


def _deconflictor(request: Request) -> Deconflictor:
    d: Deconflictor = request.app.state.deconflictor
    return d


def _disclosure(request: Request) -> Disclosure:
    d: Disclosure = request.app.state.disclosure
    return d


def owner_view(record: OperationRecord, party: Party) -> OperationOut:
    """The owner's view of a stored record (the store's own, already typed: not validated
    again, which is a third of a thousand operations' listing)."""
    return OperationOut.model_construct(
        id=record.id,
        owner=party.name,
        contact=party.contact,
        version=record.version,
        token=record.token,
        state=OperationState(record.state),
        priority=record.priority,
        aircraft_ids=record.aircraft,
        volumes=record.volumes,
        flags=record.flags,
        shared=False,
    )


def _candidate(
    party: Party, volumes: Any, priority: int, aircraft: list[str], state: str
) -> Operation:
    return parse_operation(
        {
            "id": "new",
            "owner": party.id,
            "contact": party.contact,
            "volumes": volumes,
            "priority": priority,
            "aircraft_ids": aircraft,
            "state": state,
        }
    )


@router.post("", status_code=201)
async def declare(body: OperationIn, party: MemberDep, request: Request) -> OperationOut:
    """Declare an operation, signed by your party's key (``workflows.declarations``; unsigned:
    422 with ``to_sign``). 201 with its id, version, token and state; 409 with ``missing``
    (need-to-know views) when ``keys`` lacks the token of an operation it conflicts with, or
    when the procedures refuse the conflict; 413 when it would be shown others' operations
    but is beyond the disclosure bound."""
    require_open(request.app.state.settings)
    op = _candidate(party, body.volumes, body.priority, body.aircraft_ids, body.state)
    signed = Signed(body.time_s, body.signature, body.key_id)
    try:
        record = await _run_write(
            request, lambda: _deconflictor(request).write(party, op, body.keys, signed=signed)
        )
    finally:
        request.app.state.notifier.wake()
    return owner_view(record, party)


@router.get("", response_model=OperationList)
def search(
    party: MemberDep,
    store: StoreDep,
    request: Request,
    bbox: Annotated[
        str | None, Query(description="min_lon,min_lat,max_lon,max_lat (degrees)", max_length=200)
    ] = None,
    start: Annotated[datetime | None, Query(description="ISO 8601 with a time zone")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601 with a time zone")] = None,
) -> Response:
    """Live operations meeting the box and time window: one's own in full, others' only where
    they meet one's own (need-to-know). Runs in a worker thread, off the event loop; the
    answer is serialised once, straight from its models (a thousand operations are a
    megabyte)."""
    box = _parse_bbox(bbox)
    t0 = _seconds(start, "start") if start is not None else 0.0
    t1 = _seconds(end, "end") if end is not None else 1e11
    if t1 <= t0:
        raise InputError("end is not after start: swap them")
    out: list[OperationOut | SharedOperation] = [
        owner_view(r, party)
        for r in store.operations_of(party.id)
        if _meets(r.bbox, r.time_start_s, r.time_end_s, box, t0, t1)
    ]
    disclosure = _disclosure(request)
    for other, mine in shared_with(_deconflictor(request), party.id):
        where = footprint_bbox(other.volumes)
        if _meets(where, other.time_start.timestamp(), other.time_end.timestamp(), box, t0, t1):
            shared = disclosure.view(other, mine)
            if shared is not None:
                out.append(SharedOperation.model_construct(**shared))
    body = OperationList.model_construct(operations=out).model_dump_json()
    return Response(body, media_type="application/json")


@router.get("/{operation_id}")
def read(
    operation_id: OperationId, party: MemberDep, store: StoreDep, request: Request
) -> OperationOut | SharedOperation:
    """One's own operation in full; another's only where it meets one's own live operations
    (the intersecting parts of its volumes and how to reach its owner), else 404."""
    try:
        record = store.get_operation(operation_id)
    except NotFoundError:
        raise NotFoundError(_NOT_VISIBLE.format(id=operation_id)) from None
    if record.owner_id == party.id:
        return owner_view(record, party)
    if record.state != "Ended":
        for other, mine in shared_with(_deconflictor(request), party.id, operation_id):
            shared = _disclosure(request).view(other, mine)
            if shared is not None:
                return SharedOperation(**shared)
    raise NotFoundError(_NOT_VISIBLE.format(id=operation_id))


@router.put("/{operation_id}")
async def revise(
    operation_id: OperationId, body: OperationUpdate, party: MemberDep, request: Request
) -> OperationOut:
    """A new version of one's own operation, given its current token (409 if stale)."""
    require_open(request.app.state.settings)
    op = _candidate(party, body.volumes, body.priority, body.aircraft_ids, body.state)
    try:
        record = await _run_write(
            request,
            lambda: _deconflictor(request).write(
                party,
                op,
                body.keys,
                op_id=operation_id,
                expected_token=body.token,
                signed=Signed(body.time_s, body.signature, body.key_id),
            ),
        )
    finally:
        request.app.state.notifier.wake()
    return owner_view(record, party)


@router.post("/{operation_id}/state")
def change_state(
    operation_id: OperationId,
    body: StateChange,
    party: MemberDep,
    store: StoreDep,
    request: Request,
) -> OperationOut:
    """Move one's own operation to another ASTM F3548 state (``Ended`` keeps it as a record)."""
    try:
        record = store.get_operation(operation_id)
    except NotFoundError:
        raise NotFoundError(_NOT_VISIBLE.format(id=operation_id)) from None
    if record.owner_id != party.id:
        raise NotFoundError(_NOT_VISIBLE.format(id=operation_id))
    op = _candidate(party, record.volumes, record.priority, record.aircraft, body.state.value)
    try:
        record = _deconflictor(request).write(
            party,
            op,
            body.keys,
            op_id=operation_id,
            expected_token=body.token,
            signed=Signed(body.time_s, body.signature, body.key_id),
        )
    finally:
        request.app.state.notifier.wake()
    return owner_view(record, party)


def _parse_bbox(text: str | None) -> tuple[float, float, float, float]:
    if text is None:
        return (-180.0, -90.0, 180.0, 90.0)
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise InputError(
            f"bbox {text!r} is not four numbers: give min_lon,min_lat,max_lon,max_lat"
        ) from None
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise InputError(
            f"bbox {text!r} is not four finite numbers: give min_lon,min_lat,max_lon,max_lat"
        )
    lo_lon, lo_lat, hi_lon, hi_lat = parts
    if not (-90.0 <= lo_lat <= hi_lat <= 90.0) or not (-180.0 <= lo_lon <= hi_lon <= 180.0):
        raise InputError(
            f"bbox {text!r} is out of order or range: min_lon <= max_lon within ±180, "
            "min_lat <= max_lat within ±90"
        )
    return (lo_lon, lo_lat, hi_lon, hi_lat)


def _seconds(t: datetime, name: str) -> float:
    if t.tzinfo is None:
        raise InputError(f"{name} {t.isoformat()} has no time zone: add Z or +00:00")
    return t.timestamp()


def _meets(where: BBox, t0_s: float, t1_s: float, box: BBox, start_s: float, end_s: float) -> bool:
    """Whether a footprint box and time span meet the search's box and window (as the store's
    own search: boxes overlap, times overlap)."""
    return (
        where[0] <= box[2]
        and where[2] >= box[0]
        and where[1] <= box[3]
        and where[3] >= box[1]
        and t0_s < end_s
        and t1_s > start_s
    )
