"""A live session: a scenario (or a recording) wired to the engine, ticked in fast or real time.

``Session.from_scenario`` builds the simulator, its source, the scripted crews and the engine;
``Session.from_recording`` replays a ``traffic`` recording as one party's feed. ``run_fast``
ticks as fast as the machine goes (``deconflict demo --headless``, the Monte Carlo);
``run_realtime`` ticks at ``speed`` times the wall clock until stopped (the served demo).
Scenario times are seconds after the scenario's start; the wall clock is read only by
``run_realtime``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from deconflict.engine.areas import RestrictedArea
from deconflict.engine.engine import Engine, EngineConfig
from deconflict.engine.events import EventSink, MemorySink
from deconflict.engine.pacing import PacedCollector
from deconflict.engine.sources import ReplaySource
from deconflict.sim.crews import Crews
from deconflict.sim.scenario import Scenario, load_scenario
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource


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

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario | str | Path | None = None,
        *,
        sink: EventSink | None = None,
        seed: int | None = None,
        crews_answer: bool = True,
        config: EngineConfig | None = None,
    ) -> Session:
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
            sink=sink if sink is not None else MemorySink(),
            config=config or EngineConfig(standard=sc.standard),
            hooks=[crews],
        )
        return cls(engine, sc.start, sc.duration_s, sc, sim, crews)

    @classmethod
    def from_recording(
        cls,
        path: str | Path,
        *,
        party: str = "replay",
        sink: EventSink | None = None,
        start: pd.Timestamp | None = None,
    ) -> Session:
        from deconflict.engine.sources import read_recording

        frame = read_recording(path)
        ts = pd.to_datetime(frame["timestamp"], utc=True)
        begin = ts.min() if start is None else start
        source = ReplaySource(frame, party=party, start=begin)
        duration = float((ts.max() - ts.min()).total_seconds())
        engine = Engine([party], [source], sink=sink if sink is not None else MemorySink())
        return cls(engine, begin, duration)

    def time(self, t_s: float) -> pd.Timestamp:
        return self.start + pd.Timedelta(seconds=t_s)

    def step(self, dt_s: float = 1.0) -> None:
        """One tick, ``dt_s`` after the last."""
        with self.lock:
            self.t_s += dt_s
            self.engine.tick(self.time(self.t_s))
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

    def run_realtime(self, speed: float = 1.0, loop: bool = True) -> None:
        """Tick once per ``1/speed`` wall-clock seconds (one scenario second each) until
        ``stop`` is set; at the end of the scenario, start it again if ``loop``."""
        next_wall = time.monotonic()
        with PacedCollector() as collector:
            while not self.stop.is_set():
                if self.t_s >= self.duration_s:
                    if not loop:
                        break
                    self.stop.wait(1.0)
                    continue
                self.step(1.0)
                next_wall += 1.0 / speed
                # full garbage collections wait for the quiet part of the second (pacing)
                collector.idle_until(next_wall, self.stop)

    def start_thread(self, speed: float = 1.0) -> threading.Thread:
        """``run_realtime`` in a daemon thread."""
        thread = threading.Thread(
            target=self.run_realtime, kwargs={"speed": speed, "loop": False}, daemon=True
        )
        thread.start()
        return thread
