"""What one Monte Carlo run is made of, on the built-in scenario: the time of ``prepare`` (once
per worker) and of each ``detect_states`` call inside ``simulate_run`` (timed by wrapping the
model's reference to it), against the time of a whole step.

    .venv/bin/python bench/montecarlo_profile.py [--runs 40]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from deconflict.montecarlo import model
from deconflict.montecarlo.procedures import BUILTIN_PROCEDURES, load_procedures
from deconflict.montecarlo.study import Study, prepare
from deconflict.sim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="runs per procedure set")
    runs = parser.parse_args().runs
    scenario = load_scenario()
    prepare_s = []
    for _ in range(5):
        t0 = time.perf_counter()
        prepared = prepare(scenario)
        prepare_s.append(time.perf_counter() - t0)

    calls: list[float] = []
    detect = model.detect_states

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return detect(*args, **kwargs)
        finally:
            calls.append(time.perf_counter() - t0)

    steps = 0
    kinematics = model.step

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal steps
        steps += 1
        return kinematics(*args, **kwargs)

    model.detect_states = timed  # type: ignore[assignment]
    model.step = counted  # type: ignore[assignment]
    study = Study()
    t0 = time.perf_counter()
    for name in BUILTIN_PROCEDURES:
        procedures = load_procedures(name)
        for r in range(runs):
            model.simulate_run(prepared, procedures, study, r)
    wall = time.perf_counter() - t0
    q = statistics.quantiles(calls, n=10)
    print(
        f"prepare: first call {prepare_s[0] * 1e3:.0f} ms, median of 5 "
        f"{statistics.median(prepare_s) * 1e3:.0f} ms"
    )
    print(
        f"detect_states: {len(calls)} calls in {len(BUILTIN_PROCEDURES) * runs} runs, "
        f"median {statistics.median(calls) * 1e3:.1f} ms, p10-p90 {q[0] * 1e3:.1f}-"
        f"{q[-1] * 1e3:.1f} ms; a step without them costs "
        f"{(wall - sum(calls)) / steps * 1e3:.2f} ms on average ({steps} steps)"
    )


if __name__ == "__main__":
    main()
