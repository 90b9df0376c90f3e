"""What the intakes between two ticks cost (``engine.intake``): CPU per engine second with N
aircraft, ticks alone against ticks with ``--intakes`` intakes between two ticks.

The scenario and the engine are ``bench/engine_tick.py``'s (``deconflict.sim.synthetic``: three
parties, each with a link for its own aircraft, an ADS-B network and a radar that sees
everything); the simulator's reports are made first (not timed) and handed to the engine
through a feed's buffer (``ReportBuffer``, what ``serve --feed`` polls) as they would arrive:
before each tick or intake, the reports stamped up to its time. Two engines on the same
reports, in the same run: the anchor ticks once a second only; the other also runs
``--intakes`` intakes evenly between two ticks (3: every 0.25 s, ``EngineConfig.intake_every_s``).
Printed: CPU per engine second (tick + intakes) of each, their ratio, the intakes' CPU and the
alerts they raised, and whether both engines raised the same conflict alerts over the run.

    .venv/bin/python bench/engine_intake.py --aircraft 10000 --intakes 3
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

import numpy as np
import pandas as pd

from deconflict.engine.engine import Engine
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource
from deconflict.sim.synthetic import synthetic_scenario
from deconflict.surveillance.source import ReportBuffer


def run(reports: pd.DataFrame, sc: object, fleets: dict[str, set[str]], parties: list[str],
        warmup: int, ticks: int, intakes: int) -> tuple[float, Engine]:  # fmt: skip
    """CPU per engine second over the measured seconds, and the engine."""
    buffer = ReportBuffer(max_reports=10**9)
    start = sc.start  # type: ignore[attr-defined]
    t_rel = (reports["timestamp"] - start).dt.total_seconds().to_numpy()
    given = [0.0]

    def arrive(t_s: float) -> pd.Timestamp:
        sel = (t_rel > given[0]) & (t_rel <= t_s)
        if sel.any():
            buffer.put(reports[sel].reset_index(drop=True))
        given[0] = t_s
        return start + pd.Timedelta(seconds=t_s)

    engine = Engine(parties, [buffer], fleets=fleets)
    cpu = 0.0
    for t in range(1, warmup + ticks + 1):
        c0 = time.process_time()
        engine.tick(arrive(float(t)))
        for k in range(1, intakes + 1):
            engine.intake(arrive(t + k / (intakes + 1)))
        if t > warmup:
            cpu += time.process_time() - c0
        elif t == warmup:  # the intakes' figures of the measured seconds only
            engine.intakes.cpu_s.clear()
            engine.intakes.raised = engine.intakes.count = 0
    return cpu / ticks, engine


def raised(engine: Engine) -> Counter[tuple[str, str]]:
    """(party, own aircraft) of each conflict alert raised."""
    return Counter(
        (str(e.payload["party"]), str(e.payload["own_key"]))
        for e in engine.desk.entries_since_start("alert.raised")
        if e.payload["kind"] == "conflict"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=10_000)
    ap.add_argument("--intakes", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--ticks", type=int, default=20)
    args = ap.parse_args()
    load = os.getloadavg()
    sc = synthetic_scenario(args.aircraft, seed=1, half_width_deg=15.0)
    sim = Simulator(sc)
    source = SimSource(sim)
    end = args.warmup + args.ticks + 1
    reports = pd.concat([sim.advance(t) for t in range(1, end + 1)], ignore_index=True)
    parties = [p.id for p in sc.parties]
    common = (reports, sc, source.fleets(), parties, args.warmup, args.ticks)
    anchor, ticks_only = run(*common, intakes=0)
    with_intakes, engine = run(*common, intakes=args.intakes)
    intake_ms = np.array(engine.intakes.cpu_s) * 1e3
    print(f"{args.aircraft} aircraft, {len(reports) / end:,.0f} reports/s, "
          f"{args.intakes} intakes between two ticks; load {load} -> {os.getloadavg()}")  # fmt: skip
    print(f"CPU per engine second: ticks alone {anchor:.3f} s (anchor); ticks + intakes "
          f"{with_intakes:.3f} s ({with_intakes / anchor:.2f}x)")  # fmt: skip
    a, b = raised(ticks_only), raised(engine)
    print(f"conflict alerts raised over the run (party, own aircraft): ticks alone "
          f"{a.total()}, with intakes {b.total()}; only with intakes {(b - a).total()}, only "
          f"with the ticks alone {(a - b).total()}")  # fmt: skip
    print(f"intake CPU: p50 {np.percentile(intake_ms, 50):.1f} ms, p99 "
          f"{np.percentile(intake_ms, 99):.1f} ms; {engine.intakes.raised} alerts raised by "
          f"intakes in {engine.intakes.count}")  # fmt: skip


if __name__ == "__main__":
    main()
