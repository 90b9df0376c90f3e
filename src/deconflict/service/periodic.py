"""Work a router runs in a worker thread every few seconds while the app runs.

On shutdown the wait is cancelled but a run already in its thread is awaited to its end: a thread
cannot be cancelled, and the lifespan closes the store right after (closing a SQLite connection
under a thread still reading it crashes the process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from starlette.concurrency import run_in_threadpool


@contextlib.asynccontextmanager
async def every(
    interval_s: Callable[[], float],
    work: Callable[[], object],
    log: logging.Logger,
    what: str,
    after: Callable[[], None] | None = None,
) -> AsyncIterator[None]:
    """Run ``work()`` in a thread every ``interval_s()`` seconds (then ``after()``, on the loop)
    while the context is open; an error is logged as ``what`` and the next run comes as usual."""
    running: list[asyncio.Future[object]] = []

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s())
            run = asyncio.ensure_future(run_in_threadpool(work))
            running[:] = [run]
            try:
                await asyncio.shield(run)
                if after is not None:
                    after()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep running; the error is logged
                log.exception("%s failed", what)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for run in running:  # a run in its thread finishes before the store closes
            with contextlib.suppress(Exception):
                await run
