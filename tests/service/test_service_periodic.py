"""Periodic work in a thread: a run still in its thread when the app shuts down is awaited, so
the store is never closed under it (closing SQLite under a reading thread crashes the process)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from deconflict.service import periodic


async def test_a_run_in_its_thread_finishes_before_shutdown_returns() -> None:
    started, finished = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    async with periodic.every(lambda: 0.01, work, logging.getLogger("test"), "work"):
        while not started.is_set():
            await asyncio.sleep(0.005)
    assert finished.is_set()


async def test_an_error_is_logged_and_the_next_run_comes(caplog: object) -> None:
    runs: list[int] = []

    def work() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("boom")

    async with periodic.every(lambda: 0.01, work, logging.getLogger("test"), "work"):
        while len(runs) < 3:
            await asyncio.sleep(0.005)
    assert len(runs) >= 3
