"""F3548 operations 11–18: subscriptions (query, get, create, update, delete), DSS reports and
USS availability (get, set)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from uas_standards.astm.f3548.v21 import api

from deconflict.service.dss import wire
from deconflict.service.dss.app import body_of, context
from deconflict.service.dss.auth import AA, ALL, CMSA, CP, SC, Caller
from deconflict.store.dss import SubscriptionRecord
from deconflict.strategic.model import Volume4D

router = APIRouter()

SUBS = frozenset({SC, CP})
AVAILABILITY_READ = frozenset({AA, SC, CMSA})
AVAILABILITY_WRITE = frozenset({AA})


def _sub(request: Request, sub: SubscriptionRecord) -> dict[str, Any]:
    return wire.subscription(sub, context(request).dss.dependents(sub.id))


@router.post("/subscriptions/query")
async def query_subscriptions(request: Request) -> dict[str, Any]:
    """querySubscriptions: the caller's own subscriptions meeting the area."""
    ctx = context(request)
    caller = ctx.caller(request, SUBS)
    body = await body_of(request)
    area = wire.area_of_interest(body)
    subs = ctx.dss.subscriptions_meeting(caller.party, area)
    return {"subscriptions": [_sub(request, s) for s in subs]}


@router.get("/subscriptions/{subscriptionid}")
def get_subscription(subscriptionid: str, request: Request) -> dict[str, Any]:
    """getSubscription (one's own only)."""
    ctx = context(request)
    caller = ctx.caller(request, SUBS)
    sub_id = str(wire.entity_id(subscriptionid, "subscriptionid"))
    return {"subscription": _sub(request, ctx.dss.subscription(caller.party, sub_id))}


def _extents(body: dict[str, Any]) -> Volume4D:
    raw = body.get("extents")
    if raw is None:
        raise wire.WireError("extents is missing: give the Volume4D to subscribe to")
    if not isinstance(raw, dict):
        raise wire.WireError("extents must be one Volume4D object")
    now = time.time()
    filled = dict(raw)
    if filled.get("time_start") is None:
        filled["time_start"] = wire.time_of(now)
    volume = wire.parse_volume4d(
        filled, "extents", need_altitudes=False, need_times=False, max_area_km2=wire.MAX_AREA_KM2
    )
    if raw.get("time_end") is None:
        filled["time_end"] = wire.time_of(volume.start_s + wire.MAX_SUBSCRIPTION_S)
        volume = wire.parse_volume4d(
            filled, "extents", need_altitudes=False, max_area_km2=wire.MAX_AREA_KM2
        )
    if volume.end_s < now:
        raise wire.WireError("extents.time_end is in the past: a subscription must end later")
    if volume.end_s - volume.start_s > wire.MAX_SUBSCRIPTION_S + 1.0:
        raise wire.WireError(
            f"extents last {(volume.end_s - volume.start_s) / 3600:.1f} h; a subscription lasts "
            "at most 24 h: shorten it"
        )
    return volume


async def _put(
    request: Request, subscriptionid: str, version: str | None
) -> tuple[Caller, dict[str, Any]]:
    ctx = context(request)
    caller = ctx.caller(request, SUBS)
    sub_id = str(wire.entity_id(subscriptionid, "subscriptionid"))
    body = await body_of(request)
    volume = _extents(body)
    url = wire.base_url(body)
    for_ops = wire.flag(body, "notify_for_operational_intents")
    for_constraints = wire.flag(body, "notify_for_constraints")
    if not (for_ops or for_constraints):
        raise wire.WireError(
            "notify_for_operational_intents and notify_for_constraints are both false: set "
            "at least one to true"
        )
    sub = await ctx.write(
        lambda: ctx.dss.put_subscription(
            caller.party, sub_id, volume, url, for_ops, for_constraints, version
        )
    )
    out: dict[str, Any] = {"subscription": _sub(request, sub)}
    if for_ops:
        found = ctx.dss.intents_meeting(volume)
        names = [ctx.name(r.owner_id) for r, _ in found]
        avail = ctx.dss.availabilities(names)
        out["operational_intent_references"] = [
            wire.record_reference(
                r,
                ctx.name(r.owner_id),
                is_manager=r.owner_id == caller.party.id,
                state=r.state,
                wire=w,
                availability=avail.get(ctx.name(r.owner_id), "Unknown"),
            )
            for r, w in found
            if w is not None
        ]
    if for_constraints:
        out["constraint_references"] = [
            wire.constraint_reference(
                c, ctx.name(c.owner_id), c.owner_id == caller.party.id, "Unknown"
            )
            for c in ctx.dss.constraint_refs_meeting(volume)
        ]
    return caller, out


@router.put("/subscriptions/{subscriptionid}")
async def create_subscription(subscriptionid: str, request: Request) -> dict[str, Any]:
    """createSubscription."""
    _, out = await _put(request, subscriptionid, None)
    return out


@router.put("/subscriptions/{subscriptionid}/{version}")
async def update_subscription(
    subscriptionid: str, version: str, request: Request
) -> dict[str, Any]:
    """updateSubscription, given its current version."""
    _, out = await _put(request, subscriptionid, version)
    return out


@router.delete("/subscriptions/{subscriptionid}/{version}")
async def delete_subscription(
    subscriptionid: str, version: str, request: Request
) -> dict[str, Any]:
    """deleteSubscription, given its current version."""
    ctx = context(request)
    caller = ctx.caller(request, SUBS)
    sub_id = str(wire.entity_id(subscriptionid, "subscriptionid"))
    sub = await ctx.write(lambda: ctx.dss.delete_subscription(caller.party, sub_id, version))
    return {"subscription": wire.subscription(sub, [])}


@router.post("/reports", status_code=201)
async def make_report(request: Request) -> JSONResponse:
    """makeDssReport: kept in the signed log, addressed to the host."""
    ctx = context(request)
    caller = ctx.caller(request, ALL)
    body = await body_of(request)
    if not isinstance(body.get("exchange"), dict):
        raise wire.WireError("exchange is missing: give the ExchangeRecord being reported")
    report_id = await ctx.write(lambda: ctx.dss.report(caller.party, body))
    return JSONResponse({**body, "report_id": report_id}, status_code=201)


def _status(uss: str, availability: str, version: str) -> dict[str, Any]:
    return {"status": {"uss": uss, "availability": availability}, "version": version}


@router.get("/uss_availability/{uss_id}")
def get_availability(uss_id: str, request: Request) -> dict[str, Any]:
    """getUssAvailability (``Unknown`` for a USS never set)."""
    ctx = context(request)
    ctx.caller(request, AVAILABILITY_READ)
    availability, version = ctx.dss.availability(uss_id)
    return _status(uss_id, availability, version)


@router.put("/uss_availability/{uss_id}")
async def set_availability(uss_id: str, request: Request) -> dict[str, Any]:
    """setUssAvailability, given the current version (``""`` for a USS never set)."""
    ctx = context(request)
    caller = ctx.caller(request, AVAILABILITY_WRITE)
    body = await body_of(request)
    states = [s.value for s in api.UssAvailabilityState]
    availability = body.get("availability")
    if availability not in states:
        raise wire.WireError(f"availability {availability!r} is not one of {', '.join(states)}")
    old = body.get("old_version", "")
    if not isinstance(old, str):
        raise wire.WireError("old_version must be a string (the current version, or empty)")
    state, version = await ctx.write(
        lambda: ctx.dss.set_availability(caller.party, uss_id, str(availability), old)
    )
    return _status(uss_id, state, version)


@router.delete("/subscriptions/{subscriptionid}/", include_in_schema=False)
@router.put("/subscriptions/{subscriptionid}/", include_in_schema=False)
def missing_version(subscriptionid: str) -> None:
    """A path whose version segment is empty: 400 naming it."""
    raise wire.WireError(
        f"the version of subscription {subscriptionid} is missing from the path: "
        "use .../subscriptions/{id}/{version}"
    )
