"""Cross-instance fan-out: a write committed by one service instance wakes the WebSocket senders
of every other instance on the same PostgreSQL database.

The store's write transactions all move the one row of ``chain_head`` to the new log seq. A
trigger on that row (installed here, idempotently, at start) sends ``NOTIFY deconflict_events``
with the new seq; PostgreSQL delivers it only when the transaction commits, so a listener never
sees an event before it is readable. Each instance LISTENs on one psycopg 3 async connection and,
for every notification with a seq it has not seen, wakes its :class:`Notifier`: its sockets then
read their own party's new events from the store (``events_for``), so what reaches a party is
exactly what the poll endpoint would give it. Writers outside the service (``deconflict demo``'s
store sink, the CLI) fire the trigger too. If the listening connection drops it is reopened after
a pause; meanwhile the sockets' one-second poll keeps delivery going, only slower. The trigger
needs PostgreSQL 14 or newer (``CREATE OR REPLACE TRIGGER``) and a database user that owns the
tables; where it cannot be made, ``fanout = auto`` falls back to that poll with a warning.

Times are seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI

from deconflict.errors import ConfigError, StorageError
from deconflict.service.notify import Notifier
from deconflict.settings import Settings
from deconflict.store.driver import require_psycopg

CHANNEL = "deconflict_events"
RETRY_S = 1.0

log = logging.getLogger(__name__)

# One NOTIFY per write transaction (the head row moves once per transaction), carrying its seq.
_INSTALL = (
    "SELECT pg_advisory_xact_lock(7346120)",
    f"""CREATE OR REPLACE FUNCTION deconflict_notify_head() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', NEW.seq::text);
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER deconflict_notify_head AFTER UPDATE OF seq ON chain_head
FOR EACH ROW WHEN (NEW.seq IS DISTINCT FROM OLD.seq) EXECUTE FUNCTION deconflict_notify_head()""",
)


def fanout_kind(settings: Settings) -> str:
    """The fan-out a service with these settings runs: ``postgres`` or ``none``."""
    is_pg = sa.make_url(settings.database_url).get_backend_name() == "postgresql"
    if settings.fanout == "auto":
        return "postgres" if is_pg else "none"
    if settings.fanout == "postgres" and not is_pg:
        raise ConfigError(
            f"fanout 'postgres' needs a PostgreSQL database_url, not {settings.database_url!r}; "
            "set DECONFLICT_FANOUT=auto or none"
        )
    return settings.fanout


def libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL ``postgresql+psycopg://...`` as a libpq URL for psycopg (checked to be
    installed: the fan-out's LISTEN runs on psycopg directly)."""
    require_psycopg("the PostgreSQL fan-out (NOTIFY)")
    url = sa.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def install_trigger(conninfo: str) -> None:
    """Create (or replace) the NOTIFY trigger on ``chain_head``; safe to run concurrently."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo) as conn, conn.transaction():
        for statement in _INSTALL:
            await conn.execute(statement)


class Listener:
    """A task of the app's lifespan that LISTENs on a PostgreSQL connection of its own
    (``_run``, which sets ``listening``); ``start`` returns once it listens (or after 10 s)."""

    task_name = "deconflict-listen"

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.task_name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), 10.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        raise NotImplementedError


class PostgresFanout(Listener):
    """LISTENs for committed log heads and wakes ``notifier`` once per new seq."""

    task_name = "deconflict-fanout"

    def __init__(self, conninfo: str, notifier: Notifier) -> None:
        super().__init__(conninfo)
        self.notifier = notifier
        self.last_seq = -1

    async def start(self) -> None:
        await install_trigger(self.conninfo)
        await super().start()

    def on_notify(self, payload: str) -> None:
        try:
            seq = int(payload)
        except ValueError:
            return
        if seq > self.last_seq:
            self.last_seq = seq
            self.notifier.wake()

    async def _run(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    # anything committed while (re)connecting is picked up by the next read
                    self.notifier.wake()
                    async for note in conn.notifies():
                        self.on_notify(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the listener must outlive a database restart
                log.warning("fan-out listener lost its connection (%s); retrying", exc)
            self.listening.clear()
            await asyncio.sleep(RETRY_S)


def attach(app: FastAPI) -> None:
    """Run the fan-out the app's settings ask for inside the app's lifespan (after the store is
    open and the notifier bound; stopped before the store closes)."""
    inner: Callable[[Any], AbstractAsyncContextManager[Any]] = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            settings: Settings = app.state.settings
            fanout: PostgresFanout | None = None
            if fanout_kind(settings) == "postgres":
                fanout = PostgresFanout(libpq_url(settings.database_url), app.state.notifier)
                try:
                    await fanout.start()
                except Exception as exc:
                    if settings.fanout != "auto":
                        raise StorageError(
                            f"cannot set up the PostgreSQL fan-out ({exc}); the database user "
                            "needs to create a function and a trigger, or set "
                            "DECONFLICT_FANOUT=none"
                        ) from exc
                    log.warning("no cross-instance fan-out (%s): sockets poll each second", exc)
                    await fanout.stop()
                    fanout = None
            app.state.fanout = fanout
            try:
                yield state
            finally:
                if fanout is not None:
                    await fanout.stop()

    app.router.lifespan_context = lifespan
