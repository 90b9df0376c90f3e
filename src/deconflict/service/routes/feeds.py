"""The host's view of its feeds (``serve --feed``): each feed's party, URL, format and counters
(connections, bytes, frames, reports, error records by kind), admin token only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from deconflict.service.auth import AdminDep

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])


class FeedStatus(BaseModel):
    party: str
    url: str
    format: str | None
    counts: dict[str, int]


@router.get("")
def list_feeds(request: Request, _admin: AdminDep) -> list[FeedStatus]:
    """Every host-side feed and its counters (``error:KIND`` per kind of error record)."""
    source = getattr(request.app.state, "feed_source", None)
    return [] if source is None else [FeedStatus(**row) for row in source.status()]
