"""``GET /v1/sitrep.png``: the calling party's one-page situation report (the host's: everyone's),
drawn by :mod:`deconflict.sitrep` from what the store's log lets that party see. Where the app
also runs a live session (``deconflict demo``), the party's live picture and its bases are drawn
too (the scenario's operations are declared in the store, so they come with the store's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from deconflict.service.auth import PartyDep, StoreDep

router = APIRouter(prefix="/v1", tags=["sitrep"])

Day = Annotated[
    str | None,
    Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="UTC day, YYYY-MM-DD; default the newest"),
]


def _png(store: StoreDep, name: str | None, day: str | None, session: Any) -> bytes:
    from deconflict import sitrep

    extra: dict[str, Any] = {}
    if session is not None:  # the demo's live session: duck-typed, the service imports no engine
        engine, scenario = session.engine, session.scenario
        names = [name] if name is not None else list(engine.parties)
        now_s = float(engine.now_s)
        extra["tracks"] = [m for n in names for m in sitrep.picture_markers(engine.view(n), now_s)]
        if scenario is not None:  # its operations are declared in the store, drawn from there
            extra["scenario"] = scenario
    return sitrep.render(sitrep.collect(store, name, day=day, **extra), "png")


@router.get(
    "/sitrep.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The report as PNG"}},
)
async def sitrep_png(
    party: PartyDep, store: StoreDep, request: Request, day: Day = None
) -> Response:
    """One page: your operations, the tracks, alerts, identification requests and incidents the
    log shows you for one UTC day, with their counts (the host sees every party's)."""
    name = None if party.role == "admin" else party.name
    session = getattr(request.app.state, "live_session", None)
    body = await run_in_threadpool(_png, store, name, day, session)
    return Response(body, media_type="image/png", headers={"Cache-Control": "no-store"})
