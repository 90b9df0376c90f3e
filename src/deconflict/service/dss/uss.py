"""The USS side of F3548-21 (``/uss/v1``) for the operations Deconflict's own parties declared
through ``/v1``: Deconflict is their USS. ``getOperationalIntentDetails`` only, under
Deconflict's need-to-know: another USS gets the parts of the operation that meet its own live
intents (with the OVN, so it can prove awareness), never the whole; the manager gets all.
Intents written through ``/dss/v1`` are managed by their own USS, which serves their details.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from deconflict.errors import NotFoundError
from deconflict.service.dss import wire
from deconflict.service.dss.app import context
from deconflict.service.dss.auth import SC
from deconflict.strategic.heights import barometric_ft_to_w84_m

router = APIRouter()


def _volume(part: dict[str, Any]) -> dict[str, Any] | None:
    """An F3548 ``Volume4D`` (W84) of a need-to-know part (barometric feet); None if empty."""
    if not part["polygon"] or not part["polygon"][0]:
        return None
    ring = [tuple(p) for p in part["polygon"][0]][:-1]  # closed ring: drop the repeat
    lat0 = sum(p[1] for p in ring) / len(ring)
    lon0 = sum(p[0] for p in ring) / len(ring)

    def height(ft: float) -> dict[str, Any]:
        return {"value": barometric_ft_to_w84_m(ft, lat0, lon0), "reference": "W84", "units": "M"}

    return {
        "volume": {
            "outline_polygon": {"vertices": [{"lat": lat, "lng": lon} for lon, lat in ring]},
            "altitude_lower": height(part["altitude_lower_ft"]),
            "altitude_upper": height(part["altitude_upper_ft"]),
        },
        "time_start": {"value": part["time_start"], "format": "RFC3339"},
        "time_end": {"value": part["time_end"], "format": "RFC3339"},
    }


@router.get("/operational_intents/{entityid}")
def get_details(entityid: str, request: Request) -> dict[str, Any]:
    """getOperationalIntentDetails of an operation declared through /v1."""
    ctx = context(request)
    caller = ctx.caller(request, frozenset({SC}))
    op_id = wire.entity_id(entityid).hex
    store = ctx.main.store
    try:
        record = store.get_operation(op_id)
    except NotFoundError:
        raise NotFoundError("no such operational intent") from None
    if record.state == "Ended":
        raise NotFoundError("no such operational intent (it has ended)")
    with ctx.dss.tables.read() as tx:
        managed_elsewhere = tx.intent_wire(op_id)
    if managed_elsewhere is not None:
        raise NotFoundError(
            "this operational intent is managed by its own USS: ask it at "
            f"{managed_elsewhere.uss_base_url}/uss/v1/operational_intents/{entityid}"
        )
    model = ctx.main.deconflictor.model
    if record.owner_id == caller.party.id:
        parts = [
            {
                "polygon": v["polygon"] or [],
                "altitude_lower_ft": _ft(v["altitude_lower"]),
                "altitude_upper_ft": _ft(v["altitude_upper"]),
                "time_start": v["time_start"],
                "time_end": v["time_end"],
            }
            for v in (x.model_dump(mode="json") for x in model(record).volumes)
            if v["polygon"]
        ]
    else:
        mine = [model(r) for r in store.operations_of(caller.party.id)]
        shown = ctx.main.disclosure.view(model(record), mine)
        if shown is None:
            raise NotFoundError(
                "this operation meets none of your live operational intents: Deconflict shares "
                "another party's operation only where it meets yours"
            )
        parts = shown["parts"]
    manager = ctx.name(record.owner_id)
    reference = wire.record_reference(
        record,
        manager,
        is_manager=True,
        state=record.state,
        wire=None,
        availability=ctx.dss.availability(manager)[0],
    )
    reference["uss_base_url"] = f"{request.url.scheme}://{request.url.netloc}"
    volumes = [v for v in (_volume(p) for p in parts) if v is not None]
    return {
        "operational_intent": {
            "reference": reference,
            "details": {"volumes": volumes, "off_nominal_volumes": [], "priority": 0},
        }
    }


def _ft(altitude: dict[str, Any]) -> float:
    return float(altitude["value"]) * (100.0 if altitude["units"] == "FL" else 1.0)
