"""F3548 operations 1–10: operational intent references (which are Deconflict operations) and
constraint references: query, get, create, update, delete."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from uas_standards.astm.f3548.v21.constants import OiMaxPlanHorizonDays

from deconflict.errors import NotFoundError, PermissionDeniedError
from deconflict.service.dss import wire
from deconflict.service.dss.app import body_of, context
from deconflict.service.dss.auth import CM, CMSA, CP, SC, Caller
from deconflict.store import OperationRecord
from deconflict.strategic.states import OperationState
from deconflict.workflows.dss import IntentResult, SubscriptionRequest

router = APIRouter()

OIR_READ = frozenset({SC, CMSA})
OIR_WRITE = frozenset({SC, CMSA, CP})
CR_READ = frozenset({CM, CP})
CR_WRITE = frozenset({CM})
_STATES = {s.value: s for s in OperationState if s is not OperationState.ENDED}


def _intent(
    request: Request,
    record: OperationRecord,
    result_wire: Any,
    caller: Caller,
    state: str,
    availability: str | None = None,
) -> dict[str, Any]:
    ctx = context(request)
    manager = ctx.name(record.owner_id)
    if availability is None:
        availability = ctx.dss.availability(manager)[0]
    return wire.record_reference(
        record,
        manager,
        is_manager=record.owner_id == caller.party.id,
        state=state,
        wire=result_wire,
        availability=availability,
    )


@router.post("/operational_intent_references/query")
async def query_intents(request: Request) -> dict[str, Any]:
    """queryOperationalIntentReferences: every live intent meeting the area of interest."""
    ctx = context(request)
    caller = ctx.caller(request, OIR_READ)
    body = await body_of(request)
    area = wire.area_of_interest(body)
    found = [(r, w) for r, w in ctx.dss.intents_meeting(area) if w is not None]
    avail = ctx.dss.availabilities([ctx.name(r.owner_id) for r, _ in found])
    return {
        "operational_intent_references": [
            _intent(request, r, w, caller, r.state, avail.get(ctx.name(r.owner_id), "Unknown"))
            for r, w in found
        ]
    }


@router.get("/operational_intent_references/{entityid}")
def get_intent(entityid: str, request: Request) -> dict[str, Any]:
    """getOperationalIntentReference (the OVN only to its manager)."""
    ctx = context(request)
    caller = ctx.caller(request, OIR_READ)
    op_id = wire.entity_id(entityid).hex
    record, w = ctx.dss.intent(op_id)
    return {"operational_intent_reference": _intent(request, record, w, caller, record.state)}


def _intent_params(
    body: dict[str, Any], caller: Caller
) -> tuple[list[Any], OperationState, list[str], str, SubscriptionRequest]:
    extents = wire.parse_extents(body.get("extents"))
    now = time.time()
    if max(v.end_s for v in extents) <= now:
        raise wire.WireError(
            "extents all end in the past: an operational intent must end in the future; "
            "check the times (UTC) of time_end"
        )
    if min(v.start_s for v in extents) > now + OiMaxPlanHorizonDays * 86400.0:
        raise wire.WireError(
            f"extents start more than {OiMaxPlanHorizonDays} days ahead (F3548's planning "
            "horizon): plan it later"
        )
    raw_state = body.get("state")
    state = _STATES.get(raw_state) if isinstance(raw_state, str) else None
    if state is None:
        raise wire.WireError(
            f"state {raw_state!r} is not an operational intent state: give one of "
            + ", ".join(_STATES)
        )
    if state in (OperationState.NONCONFORMING, OperationState.CONTINGENT) and CMSA not in (
        caller.scopes
    ):
        raise PermissionDeniedError(
            f"state {state.value} needs the scope {CMSA} (conformance monitoring)"
        )
    key = body.get("key") or []
    if not isinstance(key, list) or not all(isinstance(k, str) for k in key):
        raise wire.WireError("key must be a list of OVNs (strings)")
    url = wire.base_url(body)
    sub_id = wire.text(body, "subscription_id", required=False)
    new = body.get("new_subscription")
    if sub_id is not None:
        request = SubscriptionRequest(
            subscription_id=str(wire.entity_id(sub_id, "subscription_id"))
        )
    elif new is not None:
        new_obj = new if isinstance(new, dict) else {}
        if not isinstance(new, dict):
            raise wire.WireError("new_subscription must be an object {uss_base_url, ...}")
        request = SubscriptionRequest(
            new_uss_base_url=wire.base_url(new_obj),
            new_notify_for_constraints=wire.flag(new_obj, "notify_for_constraints"),
        )
    else:
        request = SubscriptionRequest()
    return extents, state, key, url, request


def _changed(request: Request, result: IntentResult, caller: Caller, state: str) -> dict[str, Any]:
    return {
        "subscribers": wire.subscribers(result.subscribers),
        "operational_intent_reference": _intent(
            request, result.record, result.wire, caller, state, result.availability
        ),
    }


@router.put("/operational_intent_references/{entityid}", status_code=201)
async def create_intent(entityid: str, request: Request) -> JSONResponse:
    """createOperationalIntentReference: an operation, checked for proof of awareness."""
    ctx = context(request)
    caller = ctx.caller(request, OIR_WRITE)
    op_id = wire.entity_id(entityid).hex
    body = await body_of(request)
    extents, state, key, url, sub = _intent_params(body, caller)
    result = await ctx.write(
        lambda: ctx.dss.put_intent(
            caller.party, op_id, extents, state, key, url, body["extents"], sub
        )
    )
    return JSONResponse(_changed(request, result, caller, state.value), status_code=201)


def _own_live(request: Request, op_id: str, caller: Caller) -> OperationRecord:
    ctx = context(request)
    try:
        record: OperationRecord = ctx.main.store.get_operation(op_id)
    except NotFoundError:
        raise NotFoundError("no such operational intent reference") from None
    if record.state == OperationState.ENDED.value:
        raise NotFoundError("no such operational intent reference (it has ended)")
    if record.owner_id != caller.party.id:
        raise PermissionDeniedError(
            "this operational intent reference is managed by another USS: only its manager "
            "may change it"
        )
    return record


@router.put("/operational_intent_references/{entityid}/{ovn}")
async def update_intent(entityid: str, ovn: str, request: Request) -> dict[str, Any]:
    """updateOperationalIntentReference: a new version, given the current OVN."""
    ctx = context(request)
    caller = ctx.caller(request, OIR_WRITE)
    op_id = wire.entity_id(entityid).hex
    body = await body_of(request)
    _own_live(request, op_id, caller)
    extents, state, key, url, sub = _intent_params(body, caller)
    result = await ctx.write(
        lambda: ctx.dss.put_intent(
            caller.party, op_id, extents, state, key, url, body["extents"], sub, ovn=ovn
        )
    )
    return _changed(request, result, caller, state.value)


@router.delete("/operational_intent_references/{entityid}/{ovn}")
async def delete_intent(entityid: str, ovn: str, request: Request) -> dict[str, Any]:
    """deleteOperationalIntentReference: the operation ends (kept as a record)."""
    ctx = context(request)
    caller = ctx.caller(request, OIR_READ)
    op_id = wire.entity_id(entityid).hex
    record = _own_live(request, op_id, caller)
    result = await ctx.write(lambda: ctx.dss.delete_intent(caller.party, op_id, ovn))
    result.record = record  # answer with the reference as it was
    return _changed(request, result, caller, record.state)


# -- constraint references ---------------------------------------------------------------------


def _constraint(request: Request, ref: Any, caller: Caller) -> dict[str, Any]:
    ctx = context(request)
    manager = ctx.name(ref.owner_id)
    return wire.constraint_reference(
        ref, manager, ref.owner_id == caller.party.id, ctx.dss.availability(manager)[0]
    )


@router.post("/constraint_references/query")
async def query_constraints(request: Request) -> dict[str, Any]:
    """queryConstraintReferences."""
    ctx = context(request)
    caller = ctx.caller(request, CR_READ)
    body = await body_of(request)
    area = wire.area_of_interest(body)
    refs = ctx.dss.constraint_refs_meeting(area)
    return {"constraint_references": [_constraint(request, r, caller) for r in refs]}


@router.get("/constraint_references/{entityid}")
def get_constraint(entityid: str, request: Request) -> dict[str, Any]:
    """getConstraintReference."""
    ctx = context(request)
    caller = ctx.caller(request, CR_READ)
    ref = ctx.dss.constraint_ref(str(wire.entity_id(entityid)))
    return {"constraint_reference": _constraint(request, ref, caller)}


async def _put_constraint(
    request: Request, entityid: str, ovn: str | None
) -> tuple[dict[str, Any], int]:
    ctx = context(request)
    caller = ctx.caller(request, CR_WRITE)
    ref_id = str(wire.entity_id(entityid))
    body = await body_of(request)
    extents = wire.parse_extents(body.get("extents"))
    url = wire.base_url(body)
    ref, notified = await ctx.write(
        lambda: ctx.dss.put_constraint_ref(caller.party, ref_id, extents, url, ovn)
    )
    return {
        "subscribers": wire.subscribers(notified),
        "constraint_reference": _constraint(request, ref, caller),
    }, (201 if ovn is None else 200)


@router.put("/constraint_references/{entityid}", status_code=201)
async def create_constraint(entityid: str, request: Request) -> JSONResponse:
    """createConstraintReference."""
    body, status = await _put_constraint(request, entityid, None)
    return JSONResponse(body, status_code=status)


@router.put("/constraint_references/{entityid}/{ovn}")
async def update_constraint(entityid: str, ovn: str, request: Request) -> dict[str, Any]:
    """updateConstraintReference."""
    body, _ = await _put_constraint(request, entityid, ovn)
    return body


@router.delete("/constraint_references/{entityid}/{ovn}")
async def delete_constraint(entityid: str, ovn: str, request: Request) -> dict[str, Any]:
    """deleteConstraintReference."""
    ctx = context(request)
    caller = ctx.caller(request, CR_WRITE)
    ref_id = str(wire.entity_id(entityid))
    ref, notified = await ctx.write(
        lambda: ctx.dss.delete_constraint_ref(caller.party, ref_id, ovn)
    )
    return {
        "subscribers": wire.subscribers(notified),
        "constraint_reference": _constraint(request, ref, caller),
    }


@router.delete("/operational_intent_references/{entityid}/", include_in_schema=False)
@router.put("/operational_intent_references/{entityid}/", include_in_schema=False)
@router.delete("/constraint_references/{entityid}/", include_in_schema=False)
@router.put("/constraint_references/{entityid}/", include_in_schema=False)
def missing_ovn(entityid: str) -> None:
    """A path whose OVN segment is empty: 400 naming it."""
    raise wire.WireError(
        f"the OVN of {entityid} is missing from the path: use .../{{id}}/{{ovn}} with the "
        "current OVN"
    )
