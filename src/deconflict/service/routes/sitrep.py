"""``GET /v1/sitrep.png``: the calling party's one-page situation report (the host's: everyone's),
drawn by :mod:`deconflict.sitrep` from what the store's log lets that party see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from deconflict.service.auth import PartyDep, StoreDep

router = APIRouter(prefix="/v1", tags=["sitrep"])

Day = Annotated[
    str | None,
    Query(pattern=r"^\d{4}-\d{2}-\d{2}$", description="UTC day, YYYY-MM-DD; default the newest"),
]


def _png(store: StoreDep, name: str | None, day: str | None) -> bytes:
    from deconflict import sitrep

    return sitrep.render(sitrep.collect(store, name, day=day), "png")


@router.get(
    "/sitrep.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The report as PNG"}},
)
async def sitrep_png(party: PartyDep, store: StoreDep, day: Day = None) -> Response:
    """One page: your operations, the tracks, alerts, identification requests and incidents the
    log shows you for one UTC day, with their counts (the host sees every party's)."""
    name = None if party.role == "admin" else party.name
    body = await run_in_threadpool(_png, store, name, day)
    return Response(body, media_type="image/png", headers={"Cache-Control": "no-store"})
