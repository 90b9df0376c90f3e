"""A live session: a scenario (or a recording) wired to the engine, ticked in fast or real time.

``Session.from_scenario`` builds the simulator, its source, the scripted crews and the engine;
``Session.from_recording`` replays a ``traffic`` recording as one party's feed. ``run_fast``
ticks as fast as the machine goes (``deconflict demo --headless``, the Monte Carlo);
``run_realtime`` ticks at ``speed`` times the wall clock until stopped (the served demo), and
between two ticks takes the reports as they arrive and alerts the new conflicts at once
(``engine.intake``, every ``EngineConfig.intake_every_s``).
Scenario times are seconds after the scenario's start; the wall clock is read only by
``run_realtime``. At the scenario's end the served demo starts its traffic again (``new_cycle``)
so that the map keeps a live picture.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from deconflict.engine.areas import RestrictedArea
from deconflict.engine.desk import Desk
from deconflict.engine.engine import Engine, EngineConfig
from deconflict.engine.pacing import PacedCollector
from deconflict.engine.recovery import remember_answers
from deconflict.engine.sources import ReplaySource
from deconflict.errors import InputError
from deconflict.sim.crews import Crews
from deconflict.sim.scenario import Scenario, load_scenario
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource
from deconflict.store import hotline as log


class _Offline:
    """The engine as the crews see it while the traffic is flown to where a restarted engine
    carries on: they fly, and write nothing (what they wrote is in the log)."""

    now_s = float("nan")

    def answer_identification(self, *_: Any, **__: Any) -> None:
        return None

    def acknowledge(self, *_: Any) -> None:
        return None

    def fetch_messages(self, *_: Any) -> list[dict[str, Any]]:
        return []


@dataclass
class Session:
    """An engine with its sources, and what the map needs to draw around it."""

    engine: Engine
    start: pd.Timestamp
    duration_s: float
    scenario: Scenario | None = None
    simulator: Simulator | None = None
    crews: Crews | None = None
    t_s: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock)
    stop: threading.Event = field(default_factory=threading.Event)
    on_tick: list[Callable[[Session], None]] = field(default_factory=list)
    seed: int | None = None
    cycle: int = 0  # how many times the scenario's traffic started again (``new_cycle``)
    cycle_start_s: float = 0.0  # t_s at which the current cycle started
    _primed: bool = False  # whether the hooks were given what the log left them to do

    @classmethod
    def resumed(
        cls,
        scenario: Scenario,
        last_time_s: float | None,
        *,
        desk: Desk,
        config: EngineConfig | None = None,
        seed: int | None = None,
    ) -> Session:
        """The scenario carried on where an engine before this one stopped deciding (the
        store's newest engine time ``last_time_s``; None or before the scenario: from its
        start): its traffic flown on to that time in the cycle it was in (the scenario loops,
        ``new_cycle``), as the feeds of a real site carry on while their engine is down, and
        the engine taking back what the log left open (``engine.recovery``)."""
        start = scenario.start.value / 1e9
        if last_time_s is None or last_time_s < start:
            return cls.from_scenario(scenario, desk=desk, config=config, seed=seed)
        cycles = int((last_time_s - start) // scenario.duration_s)
        offset = last_time_s - start - cycles * scenario.duration_s
        sc = dataclasses.replace(
            scenario, start=scenario.start + pd.Timedelta(seconds=cycles * scenario.duration_s)
        )
        session = cls.from_scenario(sc, desk=desk, config=config, seed=seed)
        remember_answers(session.engine)
        session._fly_to(float(offset))
        session.t_s = float(offset)
        session.cycle = cycles
        return session

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario | str | Path | None = None,
        *,
        desk: Desk | None = None,
        seed: int | None = None,
        crews_answer: bool = True,
        config: EngineConfig | None = None,
    ) -> Session:
        """The scenario (the built-in one by default) on ``desk``'s store (a fresh in-memory
        one by default, with new keys for the crews the engine plays)."""
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        sim = Simulator(sc, seed=seed)
        source = SimSource(sim)
        crews = Crews(sim, answers=crews_answer)
        areas = [
            RestrictedArea(a.id, a.name, a.polygon, a.floor_ft, a.ceiling_ft)
            for a in sc.areas
            if a.kind == "restricted"
        ]
        engine = Engine(
            [p.id for p in sc.parties],
            [source],
            fleets=source.fleets(),
            areas=areas,
            desk=desk,
            config=config or EngineConfig(standard=sc.standard),
            hooks=[crews],
        )
        return cls(engine, sc.start, sc.duration_s, sc, sim, crews, seed=seed)

    @classmethod
    def from_recording(
        cls,
        path: str | Path,
        *,
        party: str = "replay",
        desk: Desk | None = None,
        start: pd.Timestamp | None = None,
    ) -> Session:
        source = ReplaySource(path, party=party, start=start)
        engine = Engine([party], [source], desk=desk)
        return cls(engine, source.start, source.duration_s)

    def _fly_to(self, t_s: float) -> None:
        """Fly the traffic to ``t_s`` as it flew under the engine before this one: the crews
        fly the resolutions of the conflict alerts the log holds in this cycle, at the times
        they did (the reports made on the way are not seen)."""
        assert self.simulator is not None and self.crews is not None
        t0 = self.start.value / 1e9
        store = self.engine.desk.store
        alerts = sorted(
            (e for kind in ("alert.raised", "alert.cleared") for e in log.entries(store, kind)
             if e.payload.get("kind") == "conflict"
             and t0 <= float(e.payload["time_s"]) <= t0 + t_s),
            key=lambda e: e.seq,
        )  # fmt: skip
        offline = _Offline()
        for t, at_t in itertools.groupby(alerts, key=lambda e: float(e.payload["time_s"])):
            self.simulator.advance(t - t0, observe=False)
            offline.now_s = t
            self.crews(offline, self.time(t - t0), list(at_t))
        self.simulator.advance(t_s, observe=False)
        offline.now_s = t0 + t_s
        self.crews(offline, self.time(t_s), [])

    def time(self, t_s: float) -> pd.Timestamp:
        return self.start + pd.Timedelta(seconds=t_s)

    def step(self, dt_s: float = 1.0) -> None:
        """One tick, ``dt_s`` after the last."""
        with self.lock:
            self.t_s += dt_s
            now = self.time(self.t_s)
            self.engine.tick(now)
            if not self._primed:  # the crews act on what the log left open (a restart)
                self._primed = True
                for crew in self.engine.hooks:
                    crew(self.engine, now, self.engine.recovered.pending)  # type: ignore[arg-type]
        for hook in self.on_tick:
            hook(self)

    def run_fast(
        self, duration_s: float | None = None, progress: Callable[[float], None] | None = None
    ) -> dict[str, Any]:
        """Tick every second of scenario time up to ``duration_s``; the engine's summary."""
        end = self.duration_s if duration_s is None else duration_s
        while self.t_s < end - 1e-9 and not self.stop.is_set():
            self.step(min(1.0, end - self.t_s))
            if progress is not None:
                progress(self.t_s)
        with self.lock:
            self.engine.finish()
        return self.engine.summary()

    def new_cycle(self) -> None:
        """Start the scenario's traffic again at ``t_s``: a fresh simulator (its scenario
        shifted to start now) and fresh crews; the engine carries on with its tracks, alerts,
        messages and log (the last cycle's tracks coast and drop, the new ones are born)."""
        if self.scenario is None or self.simulator is None:
            raise InputError("only a scenario's session can start its traffic again, not a replay")
        with self.lock:
            sc = dataclasses.replace(self.scenario, start=self.time(self.t_s))
            sim = Simulator(sc, seed=self.seed)
            old_sim, old_crews = self.simulator, self.crews
            self.engine.sources = [
                SimSource(sim) if isinstance(s, SimSource) and s.sim is old_sim else s
                for s in self.engine.sources
            ]
            crews = Crews(sim, answers=old_crews.answers if old_crews is not None else True)
            self.engine.hooks = [crews if h is old_crews else h for h in self.engine.hooks]
            self.simulator, self.crews = sim, crews
            self.cycle += 1
            self.cycle_start_s = self.t_s

    def run_realtime(
        self, speed: float = 1.0, loop: bool = True, go_on: Callable[[], bool] | None = None
    ) -> None:
        """Tick once per ``1/speed`` wall-clock seconds (one scenario second each) until
        ``stop`` is set (or ``go_on``, asked before each tick, says False). At the end of the
        scenario, if ``loop``, its traffic starts again (``new_cycle``; a replay's picture
        stays as it was at its end), else stop."""
        next_wall = time.monotonic()
        with PacedCollector() as collector:
            while not self.stop.is_set() and (go_on is None or go_on()):
                if self.t_s >= self.cycle_start_s + self.duration_s - 1e-9:
                    if not loop:
                        break
                    if self.scenario is None:
                        self.stop.wait(1.0)
                        continue
                    self.new_cycle()
                self.step(1.0)
                next_wall += 1.0 / speed
                # full garbage collections wait for the quiet part of the second (pacing); the
                # reports arriving meanwhile are taken, and new conflicts alerted (intakes)
                every = self.engine.config.intake_every_s
                collector.idle_until(
                    next_wall, self.stop, functools.partial(self._intake, next_wall, speed),
                    every / speed,
                )  # fmt: skip

    def _intake(self, next_wall: float, speed: float) -> None:
        """An intake at the engine time the wall clock has reached since the last tick (short
        of the next tick's)."""
        into_s = 1.0 - (next_wall - time.monotonic()) * speed
        if into_s <= 0.0 or into_s >= 1.0:
            return
        with self.lock:
            self.engine.intake(self.time(self.t_s + into_s))

    def start_thread(self, speed: float = 1.0, loop: bool = True) -> threading.Thread:
        """``run_realtime`` in a daemon thread (the served demo: the traffic starts again at
        the scenario's end unless ``loop`` is False)."""
        thread = threading.Thread(
            target=self.run_realtime, kwargs={"speed": speed, "loop": loop}, daemon=True
        )
        thread.start()
        return thread
