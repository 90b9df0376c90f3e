"""The map's operations layer, from the store, as the calling party may see it.

``GET /v1/live/operations`` (bearer token of a party in the store) lists the live operations
declared in the store: the caller's own in full (every volume), and another party's only where
it meets one of the caller's own (the need-to-know parts of ``workflows.disclosure``: footprint,
altitude and time bounds of the intersection, the owner and how to reach it; never its full
volumes, aircraft, priority or the name its owner gave it: it is labelled by its id).
Shapes are ready for the map: rings of ``[lat, lon]``, circles as
centre and radius, altitudes in ft, times in Unix s.

``seed_scenario_operations(app, scenario)`` makes the demo declare its scenario's operations in
the store when the app starts, each as its party through the service's write rules (each one
presents the tokens of those declared before it, as a party aware of them would, and is planned
at a higher priority than those before it under the ``accept-by-priority`` procedure, since the
scenario's operations are meant to meet).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from deconflict.engine.demo_record import declare_operations
from deconflict.hotline.keys import Signer
from deconflict.service.auth import MemberDep, StoreDep
from deconflict.sim.scenario import Scenario
from deconflict.store import OperationRecord
from deconflict.strategic.model import Operation
from deconflict.units import epoch_s
from deconflict.workflows.deconfliction import Deconflictor
from deconflict.workflows.disclosure import Disclosure, shared_with

router = APIRouter(prefix="/v1/live", tags=["live picture"])


def _name(request: Request, op_id: str) -> str:
    names: dict[str, str] = getattr(request.app.state, "demo_operation_names", {})
    return names.get(op_id, op_id[:8])


def _own(record: OperationRecord, op: Operation, owner: str, name: str) -> dict[str, Any]:
    volumes = []
    for v in op.volumes:
        shape: dict[str, Any]
        if v.polygon is not None:
            shape = {"polygon": [[[p[1], p[0]] for p in ring] for ring in v.polygon]}
        else:
            assert v.circle is not None
            c = v.circle
            shape = {"circle": {"lat": c.latitude, "lon": c.longitude, "radius_m": c.radius_m}}
        volumes.append(
            {**shape, "floor_ft": v.altitude_lower.ft, "ceiling_ft": v.altitude_upper.ft,
             "start_s": v.time_start.timestamp(), "end_s": v.time_end.timestamp()}
        )  # fmt: skip
    return {"id": record.id, "name": name, "owner": owner, "shared": False,
            "state": record.state, "volumes": volumes}  # fmt: skip


def _shared(view: dict[str, Any], name: str) -> dict[str, Any]:
    volumes = [
        {"polygon": [[[p[1], p[0]] for p in ring] for ring in part["polygon"]],
         "floor_ft": part["altitude_lower_ft"], "ceiling_ft": part["altitude_upper_ft"],
         "start_s": _unix(part["time_start"]), "end_s": _unix(part["time_end"]),
         "meets": part["viewer_operation_id"]}
        for part in view["parts"]
        if part["polygon"]
    ]  # fmt: skip
    return {"id": view["id"], "name": name, "owner": view["owner"], "shared": True,
            "contact": view["contact"], "volumes": volumes}  # fmt: skip


def _unix(iso: str) -> float:
    return epoch_s(iso)


@router.get("/operations")
def operations_layer(party: MemberDep, store: StoreDep, request: Request) -> dict[str, Any]:
    """The caller's operations in full and others' need-to-know parts, for the map."""
    rules: Deconflictor = request.app.state.deconflictor
    model = rules.model  # the index's parsed operations where current
    out = [
        _own(r, model(r), party.name, _name(request, r.id)) for r in store.operations_of(party.id)
    ]
    disclosure: Disclosure = request.app.state.disclosure
    for other, mine in shared_with(rules, party.id):
        seen = disclosure.view(other, mine)
        if seen is not None:  # another's operation: its id, never the name its owner gave it
            out.append(_shared(seen, other.id[:8]))
    return {"party": party.name, "operations": out}


def declare_scenario_operations(app: FastAPI, scenario: Scenario, ids: dict[str, str]) -> None:
    """Declare ``scenario``'s operations in the app's store as their parties (``ids``: scenario
    party -> store party id; ``engine.demo_record.declare_operations``); their store ids get the
    scenario's names on the map."""
    # the demo plays the parties' crews: each declaration is signed with its party's key
    session = getattr(app.state, "live_session", None)
    signers: dict[str, Signer] = {} if session is None else session.engine.desk.signers
    names = declare_operations(app.state.deconflictor, scenario, ids, signers)
    app.state.demo_operation_names.update(names)


def seed_scenario_operations(app: FastAPI, scenario: Scenario, ids: dict[str, str]) -> None:
    """When ``app`` starts (its store open), declare ``scenario``'s operations in it."""
    app.state.demo_operation_names = {}
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            declare_scenario_operations(a, scenario, ids)
            yield state

    app.router.lifespan_context = lifespan
