"""Tick budget of the live engine with 10,000 simulated aircraft at 1 Hz.

Run: .venv/bin/python bench/engine_tick.py [--aircraft 10000] [--warmup 15] [--ticks 30]
     (the world's airborne traffic: ``--aircraft 25000``)

A synthetic scenario (deconflict.sim.synthetic) of N aircraft over a 30°x30° box (about 3,300 x
2,700 km at 36°N: 10,000 aircraft is the density of European airspace at its busiest, about one
aircraft per 1,000 km²), three parties,
each with a link for its own aircraft, one ADS-B network and one radar that sees everything.
After a warm-up (tracks confirmed, identification requests for the non-cooperative third sent),
each measured tick pulls the simulator's reports, updates the three parties' trackers, classifies,
predicts conflicts (icao-5nm) and writes its decisions to its store (an in-memory SQLite store,
through the same workflows as the service's). The garbage collector runs as in the engine's
real-time loop (``engine.pacing.PacedCollector``, from the first tick): the objects alive when the
loop starts frozen out, no automatic full collection, one full collection between ticks every 5 s
(every fifth tick), its CPU time reported and counted in the loop's share of a core (ticks +
collections). Wall and CPU time per tick are reported, with the CPU time of each stage
(``Engine.stats.cpu``); the anchor is
conflict detection alone (``deconflict.predict.detect.detect``) on the same scene, measured in the
same run: on each measured tick's scene, right after the tick, so that a machine whose speed
drifts during the run moves both alike (the mean is reported). The tick/anchor ratio is given in
CPU time (the figure that does not depend on the machine's load) and in wall time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time

import numpy as np
from rich.console import Console
from rich.progress import track

from deconflict.engine.engine import Engine
from deconflict.engine.pacing import PacedCollector
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
    ap.add_argument("--json", default="", help="also write the figures to this file")
    args = ap.parse_args()
    console = Console()
    load_before = os.getloadavg()
    sc = synthetic_scenario(args.aircraft, seed=1, half_width_deg=args.half_width_deg)
    sim = Simulator(sc)
    source = SimSource(sim)
    engine = Engine([p.id for p in sc.parties], [source], fleets=source.fleets())
    # the real-time loop's garbage collection (``engine.pacing``): the objects alive when it
    # starts frozen out, no automatic full collection, one full collection between ticks every
    # ``every_s`` (5 s: every fifth tick at 1 Hz), its CPU time counted with the ticks
    paced = PacedCollector()
    paced.__enter__()
    every = max(1, round(paced.every_s))

    def collect_between_ticks(t: int) -> float:
        if t % every:
            return 0.0
        c0 = time.process_time()
        gc.collect()
        return time.process_time() - c0

    for t in track(range(1, args.warmup + 1), description="warm-up", console=console):
        engine.tick(sc.time(t))
        collect_between_ticks(t)
    wall, cpu, sim_s, gc_cpu = [], [], [], []
    anchor_wall, anchor_cpu = [], []
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
        # the anchor on this tick's scene, right after it: a machine whose speed drifts during
        # the run moves both alike
        scene = engine.scene.assign(id=engine.scene["key"])
        a0, c0 = time.perf_counter(), time.process_time()
        detect(scene, "icao-5nm")
        anchor_wall.append(time.perf_counter() - a0)
        anchor_cpu.append(time.process_time() - c0)
        gc_cpu.append(collect_between_ticks(t))
    paced.__exit__(None, None, None)
    n_tracks = sum(len(engine.picture(p.id)) for p in sc.parties)
    w, c = np.array(wall), np.array(cpu)
    aw, ac = float(np.mean(anchor_wall)), float(np.mean(anchor_cpu))
    collections = [g for g in gc_cpu if g > 0.0]
    loop = float(c.mean()) + float(np.mean(gc_cpu))  # CPU per second of the 1-Hz loop
    stages = {
        k: float(np.mean(v[-args.ticks :])) for k, v in getattr(engine.stats, "cpu", {}).items()
    }
    load_after = os.getloadavg()
    out = {
        "aircraft": args.aircraft, "tracks": n_tracks, "scene": len(scene),
        "conflicts": len(engine.conflicts), "ticks": args.ticks,
        "cpu_mean_s": float(c.mean()), "cpu_p50_s": float(np.median(c)),
        "cpu_p99_s": float(np.percentile(c, 99)), "wall_mean_s": float(w.mean()),
        "wall_p50_s": float(np.median(w)), "wall_p99_s": float(np.percentile(w, 99)),
        "anchor_cpu_s": ac, "anchor_wall_s": aw, "ratio_cpu": float(c.mean()) / ac,
        "ratio_wall": float(w.mean()) / aw, "stages_cpu_s": stages,
        "load_before": load_before, "load_after": load_after,
        "simulator_step_s": float(np.mean(sim_s)),
        "gc_collections": len(collections), "gc_between_ticks_cpu_s": float(np.mean(gc_cpu)),
        "loop_cpu_s": loop,
    }  # fmt: skip
    console.print(f"aircraft {args.aircraft}, tracks in the three pictures {n_tracks}, "
                  f"scene {len(scene)}, conflicts {len(engine.conflicts)}")  # fmt: skip
    console.print(f"tick CPU: mean {c.mean():.3f} s, p50 {np.median(c):.3f} s, p99 "
                  f"{np.percentile(c, 99):.3f} s")  # fmt: skip
    console.print(f"full collections between ticks: {len(collections)}, CPU "
                  f"{np.mean(collections or [0.0]):.3f} s each, {np.mean(gc_cpu):.3f} s per tick")  # fmt: skip
    console.print(f"the 1-Hz loop (ticks + collections): {loop:.3f} s of CPU per second -> "
                  f"{loop:.2f} of one core")  # fmt: skip
    console.print(f"tick wall: mean {w.mean():.3f} s, p50 {np.median(w):.3f} s, "
                  f"p99 {np.percentile(w, 99):.3f} s  -> {w.mean():.2f} of the 1-s budget")  # fmt: skip
    console.print("CPU per stage (s per tick): " + ", ".join(
        f"{k} {v:.3f}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))  # fmt: skip
    console.print(f"anchor: detect() alone on each tick's scene, mean CPU {ac:.3f} s, wall "
                  f"{aw:.3f} s; tick / anchor: CPU {c.mean() / ac:.1f}, wall {w.mean() / aw:.1f}")  # fmt: skip
    console.print(f"load average (1, 5, 15 min): before {load_before}, after {load_after}; "
                  f"simulator step {np.mean(sim_s):.3f} s (not counted)")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
