"""The engine process's side of the picture bus (``picture_bus``): the publishers and the tick
hook that feeds them.

``NatsPublisher`` publishes each party's frame on its subject from a daemon thread's event loop
and returns at once (the stream's acknowledgement is awaited there, at most ``MAX_IN_FLIGHT``
publishes unacknowledged; a failure is reported by the next call). ``PostgresPublisher`` makes
the ``picture_frame`` and ``picture_scene`` tables if need be, then upserts each party's row and
notifies ``PG_CHANNEL`` in one transaction. ``open_publisher`` opens the one the settings ask
for (``bus_kinds``); ``attach_publisher`` hangs ``PicturePublishing`` on a session's tick: every
party's picture encoded once per tick (``picture_wire``), and its scene when it changed or
``SCENE_EVERY_S`` after it was last published. Times are seconds.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol, TypeVar

from deconflict.errors import ConfigError, StorageError
from deconflict.service.fanout import libpq_url
from deconflict.service.picture_bus import (
    CONNECT_TIMEOUT_S,
    PG_CHANNEL,
    SCENE_EVERY_S,
    bus_kinds,
    connect_nats,
    store_namespace,
    subject_of,
)
from deconflict.settings import Settings

MAX_IN_FLIGHT = 16  # unacknowledged publishes (about five ticks of three parties)

log = logging.getLogger(__name__)
T = TypeVar("T")

_PG_INSTALL = (
    "SELECT pg_advisory_xact_lock(7346121)",
    """CREATE UNLOGGED TABLE IF NOT EXISTS picture_frame (
  party text PRIMARY KEY, seq bigint NOT NULL, frame bytea NOT NULL)""",
    # the frames are zlib already: no second compression attempt by TOAST
    "ALTER TABLE picture_frame ALTER COLUMN frame SET STORAGE EXTERNAL",
    "CREATE SEQUENCE IF NOT EXISTS picture_frame_seq",
    """CREATE UNLOGGED TABLE IF NOT EXISTS picture_scene (
  party text PRIMARY KEY, seq bigint NOT NULL, scene bytea NOT NULL)""",
)
_PG_UPSERT = """INSERT INTO picture_frame (party, seq, frame) VALUES (%s, %s, %s)
ON CONFLICT (party) DO UPDATE SET seq = EXCLUDED.seq, frame = EXCLUDED.frame"""
_PG_SCENE = """INSERT INTO picture_scene (party, seq, scene) VALUES (%s, %s, %s)
ON CONFLICT (party) DO UPDATE SET seq = EXCLUDED.seq, scene = EXCLUDED.scene"""


class Publisher(Protocol):
    kind: str
    namespace: str

    def publish(self, frames: Mapping[str, bytes], scene: bool = False) -> None: ...

    def flush(self, timeout_s: float = 5.0) -> None: ...

    def close(self) -> None: ...


class _LoopThread:
    """An asyncio loop in a daemon thread, for the engine's synchronous tick to call into."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5.0)
        if not self.thread.is_alive():
            self.loop.close()


class NatsPublisher:
    """Publishes each party's frame on its subject and waits for the stream's acknowledgement."""

    kind = "nats"

    def __init__(self, url: str, namespace: str = "") -> None:
        self.url = url
        self.namespace = namespace
        self._io = _LoopThread("deconflict-picture-nats")
        try:
            self._nc = self._io.run(connect_nats(url), CONNECT_TIMEOUT_S + 10.0)
        except BaseException:
            self._io.close()
            raise
        self._js = self._nc.jetstream()
        self.max_payload = int(self._nc.max_payload)
        self._pending: list[concurrent.futures.Future[None]] = []
        self._failed: BaseException | None = None

    async def _publish(self, frames: Mapping[str, bytes], scene: bool) -> None:
        await asyncio.gather(
            *(self._js.publish(subject_of(self.namespace, p, scene), f) for p, f in frames.items())
        )

    def publish(self, frames: Mapping[str, bytes], scene: bool = False) -> None:
        """Hand the frames (or, ``scene``, the parties' scenes) to the connection's thread and
        return at once (the tick does not wait for the stream's acknowledgement); a publish that
        failed is reported by the next call. While one is still unacknowledged, newer frames of
        its parties replace it."""
        big = [p for p, f in frames.items() if len(f) > self.max_payload]
        if big:
            raise StorageError(
                f"the picture of {big} is over the NATS server's max_payload "
                f"({self.max_payload} bytes): raise max_payload in the server's configuration"
            )
        failed, self._failed = self._failed, None
        pending = self._pending
        self._pending = [f for f in pending if not f.done()]
        if len(self._pending) >= MAX_IN_FLIGHT:
            raise StorageError(
                f"{len(self._pending)} publishes to NATS at {self.url} are unacknowledged: "
                "this picture is dropped (the next one replaces it)"
            )
        future = asyncio.run_coroutine_threadsafe(self._publish(frames, scene), self._io.loop)
        future.add_done_callback(self._done)
        self._pending.append(future)
        if failed is not None:
            raise StorageError(f"a picture publish to NATS at {self.url} failed: {failed}")

    def _done(self, future: concurrent.futures.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self._failed = future.exception()

    def flush(self, timeout_s: float = 5.0) -> None:
        """Wait until the stream acknowledged what was published."""
        for future in self._pending:
            with contextlib.suppress(Exception):
                future.result(timeout_s)
        self._pending = []

    def close(self) -> None:
        self.flush()
        with contextlib.suppress(Exception):
            self._io.run(self._nc.drain(), 5.0)
        self._io.close()


class PostgresPublisher:
    """Upserts each party's frame in ``picture_frame`` and notifies, in one transaction."""

    kind = "postgres"
    namespace = ""  # the table is the store's own

    def __init__(self, database_url: str) -> None:
        import psycopg

        self.conninfo = libpq_url(database_url)
        try:
            self._conn = psycopg.connect(self.conninfo)
            with self._conn.transaction():
                for statement in _PG_INSTALL:
                    self._conn.execute(statement)
        except psycopg.Error as exc:
            raise StorageError(
                f"cannot set up the PostgreSQL picture bus ({exc}); the database user needs to "
                "create a table, or set DECONFLICT_PICTURE_BUS=nats or none"
            ) from None

    def publish(self, frames: Mapping[str, bytes], scene: bool = False) -> None:
        import psycopg

        if self._conn.closed:
            self._conn = psycopg.connect(self.conninfo)
        with self._conn.transaction(), self._conn.cursor() as cur:
            row = cur.execute("SELECT nextval('picture_frame_seq')").fetchone()
            seq = int(row[0]) if row else 0
            upsert = _PG_SCENE if scene else _PG_UPSERT
            cur.executemany(upsert, [(p, seq, f) for p, f in frames.items()])
            cur.execute("SELECT pg_notify(%s, %s)", (PG_CHANNEL, str(seq)))

    def flush(self, timeout_s: float = 5.0) -> None:
        """Nothing to wait for: ``publish`` returns once committed."""

    def close(self) -> None:
        self._conn.close()


def open_publisher(settings: Settings) -> Publisher | None:
    """The publisher the settings ask for (None for ``none``): ``nats`` where it answers, and
    under ``auto`` ``postgres`` where it does not. A bus named explicitly that cannot be reached
    is an error saying what to do."""
    kinds = bus_kinds(settings)
    for kind in kinds:
        try:
            if kind == "nats":
                return NatsPublisher(settings.nats_url)
            return PostgresPublisher(settings.database_url)
        except ConfigError as exc:
            if settings.picture_bus != "auto":
                raise
            log.warning("picture bus: %s; trying the next", exc)
    return None


class PicturePublishing:
    """The engine's tick hook: encodes every party's picture once (``picture_wire``), right
    after the tick, and publishes the frames; and each party's scene (``scene_message``) when it
    changed or ``SCENE_EVERY_S`` after it was last published. A failed publish is logged and
    the next tick tries again (the picture is a state: the next one replaces it)."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.seq = 0
        self.published = 0
        self.failures = 0
        self.encode_s = 0.0  # wall-clock
        self.encode_cpu_s = 0.0  # CPU time of the ticking thread
        self.publish_s = 0.0
        # per tick (the newest): its end (Unix s) and the seconds from there to its last frame
        # handed to the bus, the part of a client's latency spent in this process
        self.done_after_s: collections.deque[tuple[float, float]] = collections.deque(maxlen=3600)
        self._scenes: dict[str, bytes] = {}
        self._scenes_at = float("-inf")  # monotonic s

    def __call__(self, session: Any) -> None:
        from deconflict.service.live_picture import encode_picture_frame

        self.seq += 1
        wall = time.time()
        self._publish_scenes(session)
        for party in session.engine.parties:  # each party's frame leaves as soon as it is made
            t0, c0 = time.perf_counter(), time.thread_time()
            frame = encode_picture_frame(session, party, self.seq, wall)
            t1 = time.perf_counter()
            self.encode_cpu_s += time.thread_time() - c0
            try:
                self.publisher.publish({party: frame})
                self.published += 1
            except Exception as exc:
                self.failures += 1
                if self.failures == 1 or self.failures % 60 == 0:
                    log.warning("picture bus (%s): publish failed (%s)", self.publisher.kind, exc)
            self.encode_s += t1 - t0
            self.publish_s += time.perf_counter() - t1
        self.done_after_s.append((wall, time.time() - wall))

    def _publish_scenes(self, session: Any) -> None:
        from deconflict.service.live_routes import scene_message

        now = time.monotonic()
        scenes = {p: scene_message(session, p) for p in session.engine.parties}
        if scenes == self._scenes and now - self._scenes_at < SCENE_EVERY_S:
            return
        try:
            self.publisher.publish(scenes, scene=True)
            self._scenes, self._scenes_at = scenes, now
        except Exception as exc:
            self.failures += 1
            log.warning("picture bus (%s): scene publish failed (%s)", self.publisher.kind, exc)


def attach_publisher(session: Any, publisher: Publisher | None) -> Callable[[], None]:
    """Publish ``session``'s pictures on ``publisher`` (``open_publisher``: opened before the
    engine leads, so a takeover does not wait for it) after each tick, under the name of the
    session's store; the function returned stops it and closes the publisher."""
    if publisher is None:
        return lambda: None
    if publisher.kind == "nats":
        publisher.namespace = store_namespace(session.engine.desk.store)
    hook = PicturePublishing(publisher)
    session.on_tick.append(hook)

    def stop() -> None:
        with contextlib.suppress(ValueError):
            session.on_tick.remove(hook)
        publisher.close()

    return stop
