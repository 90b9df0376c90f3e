"""DO-365 (DAIDALUS) alerting and bands: CPU time of one ``alert`` call, and the well-clear kernel.

``alert`` is timed (CPU time of the calling process, best of ``--repeats`` per encounter; the
machine is shared) on the 44 reference encounters of ``daidalus_dev.json`` and on generated
encounters of one to three intruders converging on the ownship within 90 s (about half of them
need recovery bands), beside the anchor, measured in the same run on the same encounters: the
same ``alert`` with the band search done by the numpy reference (``compute_bands(compiled=False)``:
``detection`` line intervals, ``greens`` green functions) instead of the compiled kernels
(``_kernels``). A fresh process is timed for its first ``alert`` (numpy: no numba) and its first
compiled one (call ``COMPILE_AFTER_CALLS`` + 1: numba's import, and its compilation with an empty
cache, a fresh install, or its cache load with a warm one). A last table times the closed-form
well-clear kernel against a scalar loop of it.

    .venv/bin/python bench/daidalus_alert.py [--repeats 3] [--generated 200]
        [--reference ../shared/reference]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from deconflict.predict.daidalus import bands
from deconflict.predict.daidalus.api import alert
from deconflict.predict.wcv import wcv_interval

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "predict_daidalus"))
from predict_daidalus_helpers import case_encounter, load_cases  # noqa: E402

NM, FT = 1852.0, 0.3048


def cpu_best_of(fn: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def generated(seed: int) -> dict[str, Any]:
    """Ownship and one to three intruders whose straight flights come within 1.5 nmi and 800 ft
    of it at a random time within 90 s (edge units, local plane)."""
    rng = np.random.default_rng(seed)
    alt = rng.uniform(3000, 30000)
    gs, trk = rng.uniform(80, 400), rng.uniform(0, 360)
    vs = float(rng.choice([0.0, 0.0, rng.uniform(-2000, 2000)]))
    own = {"id": "own", "x_nmi": 0.0, "y_nmi": 0.0, "altitude": alt, "track": trk}
    own |= {"groundspeed": gs, "vertical_rate": vs}
    own_v = np.array([np.sin(np.radians(trk)), np.cos(np.radians(trk))]) * gs / 3600.0  # nmi/s
    intruders = []
    for i in range(int(rng.integers(1, 4))):
        t_cpa, miss, brg = rng.uniform(0, 90), rng.uniform(0, 1.5), rng.uniform(0, 2 * np.pi)
        i_gs, i_trk = rng.uniform(80, 450), rng.uniform(0, 360)
        i_vs = float(rng.choice([0.0, rng.uniform(-2500, 2500)]))
        v = np.array([np.sin(np.radians(i_trk)), np.cos(np.radians(i_trk))]) * i_gs / 3600.0
        p = own_v * t_cpa + miss * np.array([np.sin(brg), np.cos(brg)]) - v * t_cpa
        i_alt = alt + (vs - i_vs) * t_cpa / 60.0 + rng.uniform(-800, 800)
        intruders.append(
            {"id": f"i{i}", "x_nmi": p[0], "y_nmi": p[1], "altitude": i_alt, "track": i_trk}
            | {"groundspeed": i_gs, "vertical_rate": i_vs}
        )
    return {"ownship": own, "intruders": intruders}


def spread(n_intruders: int, seed: int) -> dict[str, Any]:
    """Intruders scattered 2-12 nmi around the ownship, roughly towards it (scaling in n)."""
    rng = np.random.default_rng(seed)
    own = {"id": "own", "x_nmi": 0.0, "y_nmi": 0.0, "altitude": 10000.0, "track": 0.0}
    own |= {"groundspeed": 180.0, "vertical_rate": 0.0}
    intruders = []
    for i in range(n_intruders):
        brg, dist = rng.uniform(0, 2 * np.pi), rng.uniform(2, 12)
        intruders.append(
            {"id": f"i{i}", "x_nmi": dist * np.sin(brg), "y_nmi": dist * np.cos(brg)}
            | {"altitude": 10000.0 + rng.uniform(-1500, 1500)}
            | {"track": float(np.degrees(brg) + 180 + rng.uniform(-30, 30)) % 360}
            | {"groundspeed": rng.uniform(100, 300), "vertical_rate": rng.uniform(-1500, 1500)}
        )
    return {"ownship": own, "intruders": intruders}


@contextmanager
def numpy_search() -> Iterator[None]:
    """The anchor: the band search by the numpy reference (``detection`` line intervals,
    ``greens`` green functions), as ``compute_bands(compiled=False)``."""
    original = bands._compile_now
    bands._compile_now = lambda: False
    try:
        yield
    finally:
        bands._compile_now = original


def latency(console: Console, sets: dict[str, list[dict[str, Any]]], repeats: int) -> None:
    table = Table(title=f"alert(): CPU time per encounter (best of {repeats})")
    for col in ("encounters", "n", "mean", "median", "p95", "max", "anchor mean", "anchor/ours"):
        table.add_column(col)
    for name, encounters in sets.items():
        ours = [cpu_best_of(partial(alert, e), repeats) for e in encounters]
        with numpy_search():
            anchor = [cpu_best_of(partial(alert, e), repeats) for e in encounters]
        table.add_row(
            name,
            str(len(ours)),
            f"{statistics.mean(ours) * 1e3:.2f} ms",
            f"{statistics.median(ours) * 1e3:.2f} ms",
            f"{np.percentile(ours, 95) * 1e3:.2f} ms",
            f"{max(ours) * 1e3:.1f} ms",
            f"{statistics.mean(anchor) * 1e3:.2f} ms",
            f"{statistics.mean(anchor) / statistics.mean(ours):.1f}x",
        )
    console.print(table)


def first_call(console: Console, encounter_file: Path) -> None:
    """Wall and CPU time of the first alert() of a fresh process (imports included), and of its
    first compiled one (numba's import and compilation or cache load)."""
    code = (
        "import time; t0 = time.perf_counter(); c0 = time.process_time()\n"
        "from deconflict.predict.daidalus import bands\n"
        "from deconflict.predict.daidalus.api import alert\n"
        f"alert({str(encounter_file)!r})\n"
        "t1 = time.perf_counter(); c1 = time.process_time()\n"
        "for _ in range(bands.COMPILE_AFTER_CALLS - 1):\n"
        f"    alert({str(encounter_file)!r})\n"
        "t2 = time.perf_counter(); c2 = time.process_time()\n"
        f"alert({str(encounter_file)!r})\n"
        "print(t1 - t0, c1 - c0, time.perf_counter() - t2, time.process_time() - c2)"
    )
    table = Table(title="a fresh process: first alert(), and first compiled alert()")
    for col in ("numba cache", "first: wall", "first: CPU", "compiled: wall", "compiled: CPU"):
        table.add_column(col)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("empty (fresh install)", "warm"):
            out = subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            )
            times = [f"{float(x):.2f} s" for x in out.stdout.split()]
            table.add_row(label, *times)
    console.print(table)


def kernel(console: Console, repeats: int) -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    s = rng.uniform(-20 * NM, 20 * NM, (n, 3))
    s[:, 2] = rng.uniform(-3000 * FT, 3000 * FT, n)
    v = rng.uniform(-250, 250, (n, 3))
    v[:, 2] = rng.uniform(-20, 20, n)
    args = (*s.T, *v.T, 0.66 * NM, 450 * FT, 35.0, 0.0, 180.0)
    vec = cpu_best_of(lambda: wcv_interval(*args), repeats) / n
    m = 2000

    def loop() -> None:
        for i in range(m):
            wcv_interval(*s[i], *v[i], 0.66 * NM, 450 * FT, 35.0, 0.0, 180.0)

    scalar = cpu_best_of(loop, repeats) / m
    table = Table(title="well-clear interval kernel (CPU time per pair)")
    for col in ("call", "time per pair", "ratio to anchor"):
        table.add_column(col)
    table.add_row("anchor: scalar loop", f"{scalar * 1e6:.1f} µs", "1.00")
    table.add_row(f"vectorised, {n:,} pairs", f"{vec * 1e9:.0f} ns", f"{scalar / vec:.0f}x faster")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--generated", type=int, default=200)
    parser.add_argument("--reference", type=Path, default=REPO.parent / "shared" / "reference")
    args = parser.parse_args()
    console = Console(width=130)
    if not (args.reference / "daidalus_dev.json").is_file():
        raise SystemExit(f"no daidalus_dev.json under {args.reference}: pass --reference")
    console.print(f"load average: {os.getloadavg()}")
    dev = [case_encounter(case) for case in load_cases(args.reference)]
    for _ in range(bands.COMPILE_AFTER_CALLS + 1):  # past the numpy calls: numba compiles/loads
        alert(dev[0])
    sets = {
        "daidalus_dev.json": dev,
        "generated, 1-3 intruders": [generated(seed) for seed in range(args.generated)],
        "spread, 10 intruders": [spread(10, seed) for seed in range(5)],
        "spread, 50 intruders": [spread(50, seed) for seed in range(3)],
    }
    latency(console, sets, args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "encounter.json"
        path.write_text(json.dumps(dev[0]))
        first_call(console, path)
    kernel(console, args.repeats)
    console.print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
