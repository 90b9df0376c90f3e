"""Identification requests: the host (or the engine, with the admin token) asks every party
whose a track is; each answers 'ours' or 'not_ours' (ft, kt, ft/min, degrees and UTC at the
edge, as everywhere in the API)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from deconflict.identify.request import TrackSnapshot
from deconflict.service.auth import AdminDep, MemberDep, PartyDep, StoreDep
from deconflict.service.routes.clock import service_now
from deconflict.service.schemas import SignedIn, TrackState
from deconflict.units import FPM, FT, KT
from deconflict.workflows import identification, views

router = APIRouter(prefix="/v1/identification-requests", tags=["identification"])

RequestId = Annotated[str, Path(min_length=24, max_length=24, pattern=r"^[0-9a-f]+$")]


class IdentificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    track: TrackState = Field(description="The unknown track now (its id is the track id)")
    history: list[TrackState] = Field(default_factory=list, max_length=1000)
    timeout_s: float = Field(120.0, gt=0, le=86_400, description="Deadline for answers")


class AnswerIn(SignedIn):
    answer: Literal["ours", "not_ours"]
    aircraft: str = Field("", max_length=64, description="For 'ours': the aircraft")
    operation: str = Field("", max_length=64, description="For 'ours': its operation id")


class Outcome(BaseModel):
    request_id: str
    outcome: Literal["pending", "declared", "disputed", "unknown", "closed"] = Field(
        description="In full for a party that claimed the track; for the others asked "
        "'pending', 'declared' (where the procedures disclose it) or 'closed'"
    )
    escalate: bool


@router.post("", status_code=201)
def open_request(
    body: IdentificationIn, admin: AdminDep, store: StoreDep, request: Request
) -> dict[str, Any]:
    """Open a request about an unknown track: every party gets it as a message, with the
    track's position, velocity and recent history."""
    t = body.track
    history = [
        (h.timestamp.timestamp(), h.latitude, h.longitude, h.altitude * FT) for h in body.history
    ]
    snapshot = TrackSnapshot.from_ground_track(
        t.latitude,
        t.longitude,
        t.altitude * FT,
        t.groundspeed * KT,
        t.track,
        t.vertical_rate * FPM,
        sorted(history),
    )
    now = service_now(request.app)
    opened, _ = identification.open_identification(
        store, admin, t.id, snapshot, now_s=now, timeout_s=body.timeout_s
    )
    request.app.state.notifier.wake()
    return identification.identification_state(store, admin, opened.request_id, now_s=now)


@router.post("/{request_id}/answer")
def answer(
    request_id: RequestId, body: AnswerIn, party: MemberDep, store: StoreDep, request: Request
) -> Outcome:
    """Answer a request: 'ours' (naming the aircraft and operation) or 'not_ours'."""
    resolution = identification.answer_identification(
        store,
        party,
        request_id,
        body.answer,
        now_s=service_now(request.app),
        aircraft=body.aircraft,
        operation=body.operation,
        time_s=body.time_s,
        signature=body.signature,
        signed_key_id=body.key_id,
    )
    request.app.state.notifier.wake()
    disclosure = request.app.state.settings.identification_disclosure
    claimed = any(c.party == party.name for c in resolution.claimants)
    return Outcome(
        request_id=request_id,
        outcome=identification.outcome_shown(resolution, party.name, disclosure),
        escalate=resolution.escalate and claimed,
    )


@router.get("")
def list_requests(
    party: PartyDep,
    store: StoreDep,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=views.MAX_ITEMS)] = 50,
) -> list[dict[str, Any]]:
    """The newest requests you were asked or that were opened for you (the engine's, about an
    unknown track in your picture), oldest first: the track, the outcome now, whether you
    answered and may answer (the outcome as ``identification_disclosure`` lets you know it)."""
    disclosure = request.app.state.settings.identification_disclosure
    return views.identification_requests(
        store, party, now_s=service_now(request.app), limit=limit, disclosure=disclosure
    )


@router.get("/{request_id}")
def state(
    request_id: RequestId, party: PartyDep, store: StoreDep, request: Request
) -> dict[str, Any]:
    """The request and its outcome now: the host sees every answer, a party its own (and the
    outcome in full only when it claimed the track: the procedures'
    ``identification_disclosure``)."""
    disclosure = request.app.state.settings.identification_disclosure
    return identification.identification_state(
        store, party, request_id, now_s=service_now(request.app), disclosure=disclosure
    )
