"""Reports a party's own agent pushes (``deconflict feed ... --push``): ``POST /v1/reports`` with
an Arrow IPC body, batch ``seq`` of a ``stream``, applied once, in order, as the party's own
(``deconflict.surveillance.push``); ``GET /v1/reports/position`` says where to resume.

Attacks: a batch labelled with another party is refused (403); a batch sent again is answered,
not applied again; a gap is refused (409); a body over 8 MiB or 100,000 reports is refused
(413) before it is read whole; the host's admin token cannot push (403); reports go only into
the pushing party's picture.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from deconflict.errors import PermissionDeniedError
from deconflict.service.auth import MemberDep
from deconflict.surveillance.push import (
    MAX_BATCH_BYTES,
    MAX_BATCH_REPORTS,
    PushedReports,
    decode_reports,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Stream = Annotated[
    str, Query(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="the agent's stream id")
]


class PushAck(BaseModel):
    stream: str
    acked: int
    applied: bool
    reports: int


class Position(BaseModel):
    stream: str
    acked: int


def _pushed(request: Request) -> PushedReports:
    pushed = getattr(request.app.state, "pushed_reports", None)
    if pushed is None:
        raise HTTPException(
            503, "this service runs no live picture: start it with 'deconflict serve --feed ...'"
        )
    assert isinstance(pushed, PushedReports)
    return pushed


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise HTTPException(413, f"batch of {declared} bytes: send at most {MAX_BATCH_BYTES}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BATCH_BYTES:
            raise HTTPException(413, f"batch over {MAX_BATCH_BYTES} bytes: send smaller ones")
    return bytes(body)


@router.post("")
async def push_reports(
    request: Request, party: MemberDep, stream: Stream, seq: Annotated[int, Query(ge=1)]
) -> PushAck:
    """Apply batch ``seq`` of ``stream`` (the next one) as the calling party's reports."""
    pushed = _pushed(request)
    if party.name not in pushed.parties:
        raise PermissionDeniedError(
            f"party {party.name!r} has no live picture here: the host adds it with "
            "'deconflict serve --push-party NAME'"
        )
    body = await _body(request)
    reports = await run_in_threadpool(decode_reports, body)
    if len(reports) > MAX_BATCH_REPORTS:
        raise HTTPException(413, f"{len(reports)} reports: send at most {MAX_BATCH_REPORTS}")
    labels = set(reports["party"].dropna()) - {"", party.name}
    if labels:
        raise PermissionDeniedError(
            f"the reports are labelled {sorted(labels)} but the token is {party.name!r}'s: a "
            "party pushes only its own reports"
        )
    acked, applied = pushed.apply(party.name, stream, seq, reports)
    return PushAck(stream=stream, acked=acked, applied=applied, reports=len(reports))


@router.get("/position")
def position(request: Request, party: MemberDep, stream: Stream) -> Position:
    """The last batch of ``stream`` applied for the calling party (0: none)."""
    return Position(stream=stream, acked=_pushed(request).position(party.name, stream))
