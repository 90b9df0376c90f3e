"""The live picture over HTTP: the scene, the picture (now and in the last hour) and a per-party
WebSocket, all read-only.

``live_router(session, party_of, broadcaster)`` is a FastAPI router any app can include (the
demo app of ``live_app``). Every call is authenticated with a party's bearer token (the
WebSocket's in its Authorization header or its first message, never in the URL) and scoped to
that party: it sees its own picture (its own sensors' tracks, classified for it, others' shared
as the procedures say) and its own alerts. What a party writes — hotline messages,
acknowledgements, identification answers — goes through ``/v1`` like any client's, and so do the
hotline, the identification requests and the incidents it reads. The WebSocket pushes the
party's picture once per tick with a sequence number, as one compressed binary frame
(``picture_wire``; ``GET /v1/live/picture`` gives it as JSON); a client that reconnects gets the
newest picture at once (the picture is a state, not a stream of changes). Times are Unix
seconds; positions degrees, altitudes ft, speeds kt.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, WebSocket
from fastapi.responses import Response
from starlette.websockets import WebSocketDisconnect

from deconflict.engine.session import Session
from deconflict.errors import DeconflictError, NotFoundError
from deconflict.service.auth import websocket_caller
from deconflict.service.limits import send_or_drop
from deconflict.service.live_picture import TRACK_FIELDS, Broadcaster, columns_of, json_safe

Auth = Annotated[str | None, Header()]
At = Annotated[float | None, Query(description="Unix s: the picture as it was then")]


def live_router(
    session: Session, party_of: Callable[[str | None], str], broadcaster: Broadcaster
) -> APIRouter:
    """The map's picture calls and WebSocket; ``party_of(token)`` names the caller's party."""
    router = APIRouter(prefix="/v1/live", tags=["live picture"])
    caller = bearer_caller(party_of)

    @router.get("/session")
    def describe(authorization: Auth = None) -> dict[str, Any]:
        """Who the caller is, the parties, and the static scene (areas, bases)."""
        party = caller(authorization)
        return json_safe(scene_payload(session, party))  # type: ignore[no-any-return]

    @router.get("/picture")
    def picture(authorization: Auth = None, at: At = None) -> Response:
        """The caller's picture now, or as it was at ``at`` (Unix s; the last hour is kept)."""
        party = caller(authorization)
        if at is None:
            return Response(broadcaster.picture_json(party)[1], media_type="application/json")
        try:
            with session.lock:
                t, frame = session.engine.picture_at(party, at)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        body = {"type": "history", "party": party, "time_s": t,
                "tracks": columns_of(frame, TRACK_FIELDS)}  # fmt: skip
        return Response(json.dumps(json_safe(body)), media_type="application/json")

    @router.get("/history")
    def history(authorization: Auth = None) -> dict[str, Any]:
        """The times the slider can replay."""
        caller(authorization)
        with session.lock:
            times = session.engine.history.times()
        return {"first_s": times[0] if times else None, "last_s": times[-1] if times else None,
                "step_s": session.engine.config.history_step_s}  # fmt: skip

    @router.websocket("/ws")
    async def stream(websocket: WebSocket) -> None:
        """The caller's picture once per tick: one binary frame each (``picture_wire``: a JSON
        head ``{"type": "picture", "seq": N, "tick_wall_s": ...}`` and the tracks in columns).
        The token comes in the Authorization header or the first message ``{"token": ...}``
        (``service.auth.websocket_caller``); a client that does not read is dropped (1013)."""
        party = await websocket_caller(websocket, party_of)
        if party is None:
            return
        timeout_s = float(websocket.app.state.settings.ws_send_timeout_s)
        seen = -1
        broadcaster.watchers[party] = broadcaster.watchers.get(party, 0) + 1
        try:
            while True:
                with broadcaster._lock:
                    ready: bytes | None = broadcaster.wire.get(party)
                    seq = broadcaster.seq
                if ready is None:
                    seq, frame = await asyncio.to_thread(broadcaster.picture_frame, party)
                else:
                    frame = ready
                seen = seq
                # one encoding per party and tick, shared by every client of the party
                if not await send_or_drop(websocket, frame, timeout_s, "to get the picture"):
                    return
                await broadcaster.wait(seen, party)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            broadcaster.watchers[party] -= 1

    return router


def bearer_caller(party_of: Callable[[str | None], str]) -> Callable[[str | None], str]:
    """The caller's party from the Authorization header, by ``party_of(token)``: 401 saying
    what to do where it names none (a FastAPI dependency too)."""

    def caller(authorization: Auth = None) -> str:
        token = (authorization or "").removeprefix("Bearer ").strip() or None
        try:
            return party_of(token)
        except DeconflictError as exc:
            raise HTTPException(401, str(exc)) from None

    return caller


def scene_message(session: Session, party: str) -> bytes:
    """What ``/v1/live/session`` and ``/v1/live/history`` of a service instance beside the
    engine process answer from (``picture_relay``): the scene and the reach of the history, as
    the JSON the engine publishes on the picture bus."""
    cfg = session.engine.config
    body = scene_payload(session, party) | {
        "history_s": cfg.history_s, "history_step_s": cfg.history_step_s}  # fmt: skip
    return json.dumps(json_safe(body), separators=(",", ":")).encode()


def scene_payload(session: Session, party: str) -> dict[str, Any]:
    """The parties, restricted and shared areas and bases (the operations the caller may see
    come from the store: ``live_operations``)."""
    sc = session.scenario
    out: dict[str, Any] = {"party": party, "start_s": session.start.value / 1e9, "parties": [],
                           "areas": [], "bases": [], "center": None}  # fmt: skip
    if sc is None:
        out["parties"] = [{"id": p, "name": p, "colour": "#2b6cb0"} for p in session.engine.parties]
        return out
    out["center"] = list(sc.center)
    out["parties"] = [{"id": p.id, "name": p.name, "colour": p.colour} for p in sc.parties]
    out["areas"] = [
        {"id": a.id, "name": a.name, "kind": a.kind, "polygon": [list(x) for x in a.polygon],
         "floor_ft": a.floor_ft, "ceiling_ft": a.ceiling_ft}
        for a in sc.areas
    ]  # fmt: skip
    out["bases"] = [
        {"id": b.id, "name": b.name, "party": b.party, "lat": b.lat, "lon": b.lon} for b in sc.bases
    ]
    return out
