"""Tick budget of the live engine with 10,000 simulated aircraft at 1 Hz.

Run: .venv/bin/python bench/engine_tick.py [--aircraft 10000] [--warmup 15] [--ticks 30]

A synthetic scenario (deconflict.sim.synthetic) of N aircraft over a 30°x30° box (about 3,300 x
2,700 km at 36°N: 10,000 aircraft is the density of European airspace at its busiest, about one
aircraft per 1,000 km²), three parties,
each with a link for its own aircraft, one ADS-B network and one radar that sees everything.
After a warm-up (tracks confirmed, identification requests for the non-cooperative third sent),
each measured tick pulls the simulator's reports, updates the three parties' trackers, classifies,
predicts conflicts (icao-5nm) and writes its decisions to its store (an in-memory SQLite store,
through the same workflows as the service's). Wall and CPU time per tick are reported as
ratios of the 1-s budget; the anchor is conflict detection alone on the same scene, measured in
the same run.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from rich.console import Console
from rich.progress import track

from deconflict.engine.engine import Engine
from deconflict.predict.detect import detect
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource
from deconflict.sim.synthetic import synthetic_scenario


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=10_000)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--ticks", type=int, default=30)
    ap.add_argument("--half-width-deg", type=float, default=15.0)
    args = ap.parse_args()
    console = Console()
    sc = synthetic_scenario(args.aircraft, seed=1, half_width_deg=args.half_width_deg)
    sim = Simulator(sc)
    source = SimSource(sim)
    engine = Engine([p.id for p in sc.parties], [source], fleets=source.fleets())
    for t in track(range(1, args.warmup + 1), description="warm-up", console=console):
        engine.tick(sc.time(t))
    wall, cpu, sim_s = [], [], []
    for t in track(range(args.warmup + 1, args.warmup + args.ticks + 1), description="measure",
                   console=console):  # fmt: skip
        # the simulator's own cost is not the engine's: fly it first, then hand its reports on
        s0 = time.perf_counter()
        reports = sim.advance(t)
        sim_s.append(time.perf_counter() - s0)
        source_poll = source.poll
        source.poll = lambda now, r=reports: r  # type: ignore[method-assign]
        w0, c0 = time.perf_counter(), time.process_time()
        engine.tick(sc.time(t))
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        source.poll = source_poll  # type: ignore[method-assign]
    n_tracks = sum(len(engine.picture(p.id)) for p in sc.parties)
    scene = engine.scene
    a0 = time.perf_counter()
    detect(scene.assign(id=scene["key"]), "icao-5nm")
    anchor = time.perf_counter() - a0
    w, c = np.array(wall), np.array(cpu)
    console.print(f"aircraft {args.aircraft}, tracks in the three pictures {n_tracks}, "
                  f"scene {len(scene)}, conflicts {len(engine.conflicts)}")  # fmt: skip
    console.print(f"tick wall: mean {w.mean():.3f} s, p50 {np.median(w):.3f} s, "
                  f"p99 {np.percentile(w, 99):.3f} s  -> {w.mean():.2f} of the 1-s budget")  # fmt: skip
    console.print(f"tick CPU: mean {c.mean():.3f} s  -> {c.mean():.2f} of one core at 1 Hz")
    console.print(f"  tracking {np.mean(engine.stats.tracking[-args.ticks:]):.3f} s, "
                  f"classify+predict {np.mean(engine.stats.prediction[-args.ticks:]):.3f} s")  # fmt: skip
    console.print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    console.print(f"anchor: detect() alone on the scene {anchor:.3f} s; tick / anchor "
                  f"{w.mean() / anchor:.1f}; simulator step {np.mean(sim_s):.3f} s (not counted)")  # fmt: skip


if __name__ == "__main__":
    main()
