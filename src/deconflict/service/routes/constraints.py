"""Airspace constraints (restricted and no-fly areas, GeoJSON) and the area proximity check of
live tracks against them (ft, kt, ft/min and UTC at the edge).

Constraints are the host's: only the admin token declares or withdraws one (a party asking gets
403), since a constraint refuses or flags every party's declarations inside it. Every
constraint shows who made it (``owner``: ``host``, or the name of the admin party). The
procedures (``data/procedures``) say nothing of party-proposed constraints; there is no
approval workflow for them.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Request

from deconflict.engine.deconfliction import Deconflictor
from deconflict.errors import PermissionDeniedError
from deconflict.service.auth import PartyDep, StoreDep
from deconflict.service.schemas import (
    ConstraintIn,
    ConstraintList,
    ConstraintOut,
    ProximityAlert,
    ProximityAlerts,
    TracksIn,
)
from deconflict.store import ConstraintRecord, EventDraft, Party, Store
from deconflict.strategic.constraints import area_proximity, constraints_from_geojson
from deconflict.units import FPM, FT, KT

router = APIRouter(prefix="/v1", tags=["constraints"])

ConstraintId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]


_HOSTS_ONLY = (
    "constraints are the host's: a restricted or no-fly area binds every party, so only the "
    "host (the admin token) {what} one; ask the host, or declare your own airspace needs as "
    "operations"
)


def _owners(store: Store) -> dict[str, str]:
    """Party id -> the name a constraint's maker is shown by (``host`` for the host)."""
    return {"host": "host", **{p.id: p.name for p in store.list_parties()}}


def constraint_out(record: ConstraintRecord, owners: dict[str, str]) -> ConstraintOut:
    return ConstraintOut(
        id=record.id,
        kind=record.kind,
        name=record.name,
        owner=owners.get(record.owner_id, record.owner_id),
        volume=record.volume,
    )


def _require_host(party: Party, what: str) -> None:
    if party.role != "admin":
        raise PermissionDeniedError(_HOSTS_ONLY.format(what=what))


@router.post("/constraints", status_code=201)
def add_constraints(
    body: ConstraintIn, party: PartyDep, store: StoreDep, request: Request
) -> ConstraintList:
    """Declare restricted or no-fly areas (the host only; 403 for a party); every party is
    told, with who made them. Operations entering them are then rejected or flagged, as the
    procedures say."""
    _require_host(party, "declares")
    parsed = constraints_from_geojson(body.model_dump())
    now = time.time()
    records = [
        ConstraintRecord(
            id=uuid.uuid4().hex,
            owner_id=party.id,
            kind=c.kind.value,
            name=c.name,
            volume=c.volume.model_dump(mode="json"),
            alt_lower_m=c.volume.altitude_lower.m,
            alt_upper_m=c.volume.altitude_upper.m,
            time_start_s=c.volume.start_s,
            time_end_s=c.volume.end_s,
            created_s=now,
        )
        for c in parsed
    ]
    owners = _owners(store)
    everyone = tuple(p.id for p in store.list_parties())
    notes = [
        EventDraft(
            party.id,
            "constraint.added",
            {
                "constraint": r.id,
                "name": r.name,
                "kind": r.kind,
                "owner": owners.get(party.id, party.name),
                "volume": r.volume,
            },
            everyone,
        )
        for r in records
    ]
    store.add_constraints(records, notes)
    request.app.state.notifier.wake()
    return ConstraintList(constraints=[constraint_out(r, owners) for r in records])


@router.get("/constraints")
def list_constraints(_party: PartyDep, store: StoreDep) -> ConstraintList:
    """Every airspace constraint, with who made it (they are public to all parties)."""
    owners = _owners(store)
    return ConstraintList(constraints=[constraint_out(r, owners) for r in store.list_constraints()])


@router.get("/constraints/{constraint_id}")
def get_constraint(constraint_id: ConstraintId, _party: PartyDep, store: StoreDep) -> ConstraintOut:
    return constraint_out(store.get_constraint(constraint_id), _owners(store))


@router.delete("/constraints/{constraint_id}", status_code=204)
def delete_constraint(
    constraint_id: ConstraintId, party: PartyDep, store: StoreDep, request: Request
) -> None:
    """Withdraw a constraint (the host only)."""
    _require_host(party, "withdraws")
    store.get_constraint(constraint_id)  # 404 when there is none
    everyone = tuple(p.id for p in store.list_parties())
    store.delete_constraint(
        constraint_id,
        [EventDraft(party.id, "constraint.removed", {"constraint": constraint_id}, everyone)],
    )
    request.app.state.notifier.wake()


@router.post("/proximity")
def area_proximity_check(
    body: TracksIn, party: PartyDep, store: StoreDep, request: Request
) -> ProximityAlerts:
    """Area proximity warning: which of these tracks, flying straight on, enter a constraint
    within the horizon (2 minutes by default). Each alert is also sent to the caller as an
    ``area.proximity`` event."""
    settings = request.app.state.settings
    deconflictor: Deconflictor = request.app.state.deconflictor
    tracks = body.tracks
    t = np.array([s.timestamp.timestamp() for s in tracks])
    records = store.list_constraints(float(t.min()), float(t.max()) + settings.proximity_horizon_s)
    cset = deconflictor.constraint_set(records)
    found = area_proximity(
        [s.latitude for s in tracks],
        [s.longitude for s in tracks],
        np.array([s.altitude for s in tracks]) * FT,
        np.array([s.groundspeed for s in tracks]) * KT,
        [s.track for s in tracks],
        np.array([s.vertical_rate for s in tracks]) * FPM,
        t,
        cset,
        horizon_s=settings.proximity_horizon_s,
    )
    alerts = [
        ProximityAlert(
            track=tracks[int(i)].id,
            constraint=cset.constraints[int(k)].id,
            name=cset.constraints[int(k)].name,
            kind=cset.constraints[int(k)].kind.value,
            time_to_entry_s=float(dt),
        )
        for i, k, dt in zip(found.track, found.constraint, found.time_to_entry_s, strict=True)
    ]
    if alerts and party.role == "party":
        store.append_events(
            [EventDraft(party.id, "area.proximity", a.model_dump(), (party.id,)) for a in alerts]
        )
        request.app.state.notifier.wake()
    return ProximityAlerts(alerts=alerts, horizon_s=settings.proximity_horizon_s)
