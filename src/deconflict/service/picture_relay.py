"""A service instance's side of the picture bus (``picture_bus``): it subscribes to the frames
the engine process publishes, keeps the newest of each party, and relays it to that party's
WebSockets on ``/v1/live/ws`` as the bytes it received (never decoded or re-encoded here).

A party's socket reads only its own party's entry (the token names the party; the bus keys the
frames by party name), so a frame never reaches another party's socket; the host's token is no
party's here. A socket that falls behind skips to the newest picture (a state, not a stream of
changes); one that does not read is dropped (``send_or_drop``). The map's other calls
(``/v1/live/session``, ``/picture``, ``/history``, ``/track``) are answered from the same
messages (``relay_map``): each party's scene, its newest frame and a bounded ring of the frames
relayed; the map page itself and ``/v1/live/operations`` are served as the in-process demo
serves them. Times are seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from deconflict.errors import AuthenticationError, ConfigError
from deconflict.service.auth import party_for_token, websocket_caller
from deconflict.service.fanout import Listener, libpq_url
from deconflict.service.limits import send_or_drop
from deconflict.service.picture_bus import (
    PG_CHANNEL,
    RETRY_S,
    SUBJECT_PREFIX,
    bus_kinds,
    connect_nats,
    party_of_token,
    store_namespace,
)

log = logging.getLogger(__name__)


class PictureRelay:
    """The newest frame of each party, and a wake-up per party when a newer one arrives (all on
    the instance's event loop)."""

    def __init__(self) -> None:
        from deconflict.service.relay_map import FrameHistory

        self.latest: dict[str, tuple[int, bytes]] = {}
        self.scenes: dict[str, dict[str, Any]] = {}
        self.history = FrameHistory()
        self._events: dict[str, asyncio.Event] = {}
        self.received = 0

    def put(self, party: str, frame: bytes) -> None:
        seq = self.latest.get(party, (0, b""))[0] + 1
        self.latest[party] = (seq, frame)
        self.received += 1
        event = self._events.pop(party, None)
        if event is not None:
            event.set()
        scene = self.scenes.get(party)
        if scene is not None:  # the slider's reach is the engine's (its scene message)
            step_s, keep_s = scene.get("history_step_s"), scene.get("history_s")
            if isinstance(step_s, int | float) and isinstance(keep_s, int | float):
                self.history.add(party, frame, float(step_s), float(keep_s))

    def put_scene(self, party: str, message: bytes) -> None:
        """The party's scene (what ``/v1/live/session`` answers), as the engine published it."""
        scene: Any = None
        with contextlib.suppress(ValueError):
            scene = json.loads(message)
        if isinstance(scene, dict) and scene.get("party") == party:
            self.scenes[party] = scene

    async def next(self, party: str, seen: int) -> tuple[int, bytes]:
        """The party's newest frame once it is newer than ``seen`` (its number, its bytes)."""
        while True:
            got = self.latest.get(party)
            if got is not None and got[0] > seen:
                return got
            await self._events.setdefault(party, asyncio.Event()).wait()


class NatsSubscriber:
    """Every party's subject through an ordered JetStream consumer that starts with the last
    message of each subject (a late instance gets the newest pictures at once)."""

    kind = "nats"

    def __init__(self, url: str, namespace: str, relay: PictureRelay) -> None:
        self.url = url
        self.namespace = namespace
        self.relay = relay
        self._nc: Any = None

    async def start(self) -> None:
        from nats.js.api import DeliverPolicy

        self._nc = await connect_nats(self.url)
        prefix = f"{SUBJECT_PREFIX}.{self.namespace}."

        async def on_msg(msg: Any) -> None:
            subject: str = msg.subject
            if not subject.startswith(prefix):
                return
            token, _, rest = subject[len(prefix) :].partition(".")
            if not rest:
                self.relay.put(party_of_token(token), msg.data)
            elif rest == "scene":
                self.relay.put_scene(party_of_token(token), msg.data)

        await self._nc.jetstream().subscribe(
            prefix + ">",
            cb=on_msg,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
        )

    async def stop(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = None


class PostgresSubscriber(Listener):
    """LISTENs on ``deconflict_picture`` and reads the frames newer than the last it read."""

    kind = "postgres"
    task_name = "deconflict-picture-listen"

    def __init__(self, database_url: str, relay: PictureRelay) -> None:
        super().__init__(libpq_url(database_url))
        self.relay = relay
        self.last_seq = -1

    async def _read(self, conn: Any) -> None:
        cur = await conn.execute(
            "SELECT party, seq, frame, false FROM picture_frame WHERE seq > %s UNION ALL "
            "SELECT party, seq, scene, true FROM picture_scene WHERE seq > %s ORDER BY 2",
            (self.last_seq, self.last_seq),
        )
        for party, seq, data, scene in await cur.fetchall():
            self.last_seq = max(self.last_seq, int(seq))  # a message that fails is not retried
            try:
                if scene:
                    self.relay.put_scene(str(party), bytes(data))
                else:
                    self.relay.put(str(party), bytes(data))
            except Exception:
                log.exception("picture bus: a message for %r could not be relayed", party)

    async def _run(self) -> None:
        import psycopg

        while True:
            try:
                async with (
                    await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as listen,
                    await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as read,
                ):
                    await listen.execute(f"LISTEN {PG_CHANNEL}")
                    self.listening.set()
                    with contextlib.suppress(psycopg.errors.UndefinedTable):
                        await self._read(read)  # the newest pictures, for a late instance
                    async for note in listen.notifies():
                        with contextlib.suppress(ValueError):
                            if int(note.payload) > self.last_seq:
                                await self._read(read)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the listener must outlive a database restart
                log.warning("picture listener lost its connection (%s); retrying", exc)
            self.listening.clear()
            await asyncio.sleep(RETRY_S)


Subscriber = NatsSubscriber | PostgresSubscriber


def relay_router(relay: PictureRelay, party_of: Callable[[str | None], str]) -> APIRouter:
    """``/v1/live/ws`` of a service instance beside an engine process."""
    router = APIRouter(prefix="/v1/live", tags=["live picture"])

    @router.websocket("/ws")
    async def stream(websocket: WebSocket) -> None:
        """The caller's picture once per tick, as the engine encoded it: one binary frame each
        (``picture_wire``). The token comes in the Authorization header or the first message
        ``{"token": ...}``; a client that does not read is dropped (1013)."""
        party = await websocket_caller(websocket, party_of)
        if party is None:
            return
        timeout_s = float(websocket.app.state.settings.ws_send_timeout_s)
        seen = -1
        # a client that leaves (or a server shutting down) ends the socket even while no picture
        # comes (an engine stopped): nothing else is read from the client
        closed = asyncio.create_task(_until_closed(websocket))
        try:
            while True:
                newer = asyncio.create_task(relay.next(party, seen))
                await asyncio.wait({newer, closed}, return_when=asyncio.FIRST_COMPLETED)
                if not newer.done():
                    newer.cancel()
                    return
                seen, frame = newer.result()
                if not await send_or_drop(websocket, frame, timeout_s, "to get the picture"):
                    return
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            closed.cancel()

    return router


async def _until_closed(websocket: WebSocket) -> None:
    """Return when the client disconnects (what it sends meanwhile is ignored)."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def start_subscribers(
    kinds: list[str], settings: Any, namespace: str, relay: PictureRelay, explicit: bool
) -> list[Subscriber]:
    """Start a subscriber for each transport (``auto``: NATS where it answers, and PostgreSQL)."""
    subs: list[Subscriber] = []
    for kind in kinds:
        sub: Subscriber = (
            NatsSubscriber(settings.nats_url, namespace, relay)
            if kind == "nats"
            else PostgresSubscriber(settings.database_url, relay)
        )
        try:
            await sub.start()
        except ConfigError as exc:
            if explicit:
                raise
            log.warning("picture bus: %s", exc)
            continue
        subs.append(sub)
    return subs


def attach(app: FastAPI) -> None:
    """Serve the engine process's pictures on ``/v1/live/ws`` where the settings have a picture
    bus (``picture_bus``; none on SQLite under ``auto``), subscribed for the app's lifespan."""
    settings = app.state.settings
    kinds = bus_kinds(settings)
    if not kinds:
        return
    relay = PictureRelay()
    app.state.picture_relay = relay

    def party_of(token: str | None) -> str:
        party = party_for_token(app.state, token)
        if party.role != "party":
            raise AuthenticationError("the host's token is no party's: use a party's token")
        return party.name

    app.include_router(relay_router(relay, party_of))
    # the map: its read calls from the bus's messages, its operations layer from the store
    from deconflict.service.live_app import mount_map
    from deconflict.service.live_operations import router as operations_router
    from deconflict.service.relay_map import map_router

    app.include_router(map_router(relay, party_of))
    app.include_router(operations_router)
    mount_map(app)
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            namespace = await run_in_threadpool(store_namespace, app.state.store)
            explicit = settings.picture_bus != "auto"
            subs = await start_subscribers(kinds, settings, namespace, relay, explicit)
            app.state.picture_subscribers = subs
            try:
                yield state
            finally:
                for sub in subs:
                    await sub.stop()

    app.router.lifespan_context = lifespan
