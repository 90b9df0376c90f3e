"""Notifications to parties as events: a poll endpoint with a resume point, and a WebSocket.

Both read the party's entries of the signed log in order of ``seq``; ``after`` is the last seq
the client has seen (-1: from the start), so a client that reconnects misses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from deconflict.service.auth import (
    AdminDep,
    PartyDep,
    StoreDep,
    party_for_token,
    websocket_caller,
)
from deconflict.service.limits import send_or_drop
from deconflict.service.schemas import EventOut, EventPage
from deconflict.store import Event

router = APIRouter(prefix="/v1", tags=["events"])

After = Annotated[int, Query(ge=-1, le=2**62, description="Last seq seen; -1 from the start")]
Limit = Annotated[int, Query(ge=1, le=10_000)]


def event_out(e: Event) -> EventOut:
    return EventOut(**e.to_dict())


@router.get("/events")
def poll_events(
    party: PartyDep, store: StoreDep, request: Request, after: After = -1, limit: Limit = 500
) -> EventPage:
    """The calling party's events with seq > ``after``, oldest first; resume from ``next``.
    At most ``limit`` events, and never more than the host's ``poll_limit`` setting."""
    limit = min(limit, request.app.state.settings.poll_limit)
    events = store.events_for(party.id, after=after, limit=limit)
    return EventPage(
        events=[event_out(e) for e in events], next=events[-1].seq if events else after
    )


@router.get("/log")
def read_log(
    _admin: AdminDep, store: StoreDep, after: After = -1, limit: Limit = 1000
) -> EventPage:
    """The whole signed log (host only), for audit: verify it with `deconflict audit verify`."""
    events = store.log(after=after, limit=limit)
    return EventPage(
        events=[event_out(e) for e in events], next=events[-1].seq if events else after
    )


@router.websocket("/events/ws")
async def event_socket(websocket: WebSocket, after: int = -1) -> None:
    """Push the party's events as JSON messages, from seq > ``after``, as they are written.

    Authenticate with an ``Authorization: Bearer`` header or, where a browser cannot set one,
    a first message ``{"token": "..."}``; a token in the URL is refused (close code 1008). A
    client that does not read for ``ws_send_timeout_s`` is dropped (close code 1013, the reason
    naming the ``after`` to resume from).
    """
    state = websocket.app.state
    party = await websocket_caller(websocket, lambda token: party_for_token(state, token))
    if party is None:
        return
    store = state.store
    notifier = state.notifier
    limit = state.settings.poll_limit
    timeout_s = state.settings.ws_send_timeout_s
    gone = asyncio.Event()

    async def watch() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        gone.set()

    watcher = asyncio.create_task(watch())
    try:
        while not gone.is_set():
            events = await run_in_threadpool(store.events_for, party.id, after, limit)
            for e in events:
                text = event_out(e).model_dump_json()
                if not await send_or_drop(websocket, text, timeout_s, f"with ?after={after}"):
                    return
                after = e.seq
            if not events:
                await notifier.wait(1.0)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        watcher.cancel()
