"""Python's full garbage collections, moved to the quiet part of a real-time tick.

A live engine at 10,000 aircraft holds a few hundred thousand Python objects; CPython's full
(oldest-generation) collection walks them all with the GIL held, 0.1 to 0.3 s on the development
machine, every few seconds, at whatever moment the allocation counters say. When it lands just
after a tick it delays the picture the WebSocket clients are waiting for. ``PacedCollector``
turns the automatic full collections off while a real-time loop runs and makes them itself,
between ticks, once the picture has been out for a while and when the collection fits before
the next tick (or, if it never fits, at the latest every ``max_interval_s``). The young
generations are still collected automatically (they are cheap). The objects alive when the
loop starts (the scenario, the modules) are frozen out of every collection while it runs.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable

_lock = threading.Lock()
_users = 0
_saved: tuple[int, int, int] | None = None

NO_FULL_COLLECTION = 1 << 30  # gen-1 collections before a full one: never, in practice


def _acquire() -> None:
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(_saved[0], _saved[1], NO_FULL_COLLECTION)
        _users += 1


def _release() -> None:
    global _users
    with _lock:
        _users -= 1
        if _users == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            gc.unfreeze()


class PacedCollector:
    """Full collections between ticks (use as a context manager around the loop)."""

    def __init__(
        self, every_s: float = 5.0, max_interval_s: float = 30.0, after_tick_s: float = 0.3
    ) -> None:
        self.every_s = every_s
        self.max_interval_s = max_interval_s
        self.after_tick_s = after_tick_s  # leave the fan-out this long after a tick
        self.last = time.monotonic()
        self.cost_s = 0.3  # a first guess, replaced by the measured one
        self.collections = 0

    def __enter__(self) -> PacedCollector:
        _acquire()
        self.last = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        _release()

    def idle_until(
        self,
        deadline: float,
        stop: threading.Event,
        work: Callable[[], object] | None = None,
        work_every_s: float = 0.0,
    ) -> None:
        """Wait until ``deadline`` (monotonic s) or ``stop``; make a full collection on the way
        if one is due and fits after the fan-out's share of the wait. ``work`` (the engine's
        intake) is called every ``work_every_s`` of the wait, never started past the deadline."""
        now = time.monotonic()
        due = now - self.last >= self.every_s
        overdue = now - self.last >= self.max_interval_s
        start = now + self.after_tick_s
        collect_at = float("inf")
        if due and (start + self.cost_s <= deadline or overdue):
            collect_at = max(now, min(start, deadline - self.cost_s))
        every = work_every_s if work is not None and work_every_s > 0 else float("inf")
        work_at = now + every
        while True:
            now = time.monotonic()
            if now >= collect_at:
                t0 = now
                gc.collect()
                self.last = time.monotonic()
                self.cost_s = 0.5 * self.cost_s + 0.5 * (self.last - t0)
                self.collections += 1
                collect_at = float("inf")
                continue
            if now >= deadline:
                return
            if work is not None and now >= work_at:
                work()
                work_at = max(work_at + every, time.monotonic() + 0.25 * every)
                continue
            if stop.wait(max(0.0, min(deadline, collect_at, work_at) - now)):
                return
