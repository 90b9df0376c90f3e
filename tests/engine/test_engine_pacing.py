"""Full garbage collections are made between ticks while a real-time loop runs."""

from __future__ import annotations

import gc
import threading
import time

from deconflict.engine.pacing import NO_FULL_COLLECTION, PacedCollector


def test_full_collections_wait_for_the_quiet_part_and_settings_come_back() -> None:
    before = gc.get_threshold()
    stop = threading.Event()
    with PacedCollector(every_s=0.0, after_tick_s=0.05) as outer:
        assert gc.get_threshold()[2] == NO_FULL_COLLECTION  # no automatic full collection
        with PacedCollector():  # a second loop in the process shares the settings
            pass
        assert gc.get_threshold()[2] == NO_FULL_COLLECTION
        full: list[float] = []

        def seen(phase: str, info: dict[str, int]) -> None:
            if phase == "start" and info["generation"] == 2:
                full.append(time.monotonic())

        gc.callbacks.append(seen)
        try:
            t0 = time.monotonic()
            outer.idle_until(t0 + 1.0, stop)  # a tick ended at t0; the next one is due at t0+1
            t1 = time.monotonic()
            # not enough room before the next tick: no collection, just the wait
            outer.cost_s = 10.0
            outer.idle_until(t1 + 0.2, stop)
        finally:
            gc.callbacks.remove(seen)
        assert len(full) == 1 and outer.collections == 1
        assert 0.04 <= full[0] - t0 < 0.9  # after the fan-out's share, before the next tick
        assert 0.95 <= t1 - t0 < 1.5  # and the wait still ends at the next tick
    assert gc.get_threshold() == before


def test_the_wait_runs_the_intakes_and_still_collects_and_ends_at_the_next_tick() -> None:
    stop = threading.Event()
    calls: list[float] = []
    with PacedCollector(every_s=0.0, after_tick_s=0.05) as collector:
        t0 = time.monotonic()
        collector.idle_until(t0 + 0.6, stop, lambda: calls.append(time.monotonic()), 0.1)
        t1 = time.monotonic()
    assert collector.collections == 1  # the full collection still made between the ticks
    assert 3 <= len(calls) <= 6  # every 0.1 s of the wait
    assert all(t0 + 0.09 <= c < t0 + 0.6 for c in calls)  # none after the next tick is due
    assert 0.6 <= t1 - t0 < 0.9
