"""The tracker's batched Kalman kernels, compiled (numba) against numpy, at each batch size.

Run: .venv/bin/python bench/kalman_kernels.py [--rows 100 1000 4000 11000 70000] [--repeat 7]

For each size: a position batch as ``tracking.filters.position_update`` makes it (4-state
constant-velocity predict, then a 4-component update with velocity on 60 % of the rows and a
late plot's time offset on 5 %), timed through the public ``cv_predict`` and ``kalman_update``
with ``JIT_MIN_ROWS`` set to send it to numpy (the anchor) and to the compiled kernels, median
CPU time of ``--repeat`` calls after one warm call (numba's compilation is not counted: a fresh
install pays it once, cached on disk). Prints both, their ratio and the largest relative
difference of the results. Once compiled, the compiled form wins at every size; what
``JIT_MIN_ROWS`` (1,000) spares is numba's import (about 0.3 s, once per process) to a run
whose batches are all small (the built-in scenario, the tests).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from deconflict.tracking import kalman


def batch(n: int, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * np.array([1e5, 1e5, 200.0, 200.0])
    a = rng.normal(size=(n, 4, 4)) * 30.0
    p = a @ a.transpose(0, 2, 1) + np.eye(4) * 100.0
    dt = rng.uniform(0.0, 2.0, size=n)
    q = np.full(n, 1.0)
    back = np.where(rng.uniform(size=n) < 0.05, -rng.uniform(0.0, 1.0, size=n), 0.0)
    has_v = rng.uniform(size=n) < 0.6
    h = np.zeros((n, 4, 4))
    h[:, 0, 0] = h[:, 1, 1] = 1.0
    h[:, 0, 2] = h[:, 1, 3] = back
    h[has_v, 2, 2] = h[has_v, 3, 3] = 1.0
    z = np.zeros((n, 4))
    z[:, :2] = x[:, :2] + rng.normal(size=(n, 2)) * 50.0
    z[has_v, 2:] = x[has_v, 2:] + rng.normal(size=(int(has_v.sum()), 2)) * 5.0
    r = np.empty((n, 4))
    r[:, 0] = r[:, 1] = 2500.0
    r[:, 2] = r[:, 3] = np.where(has_v, 25.0, 1.0)
    return {"x": x, "p": p, "dt": dt, "q": q, "z": z, "h": h, "r": r}


def run(b: dict[str, Any]) -> tuple[Any, ...]:
    x, p = kalman.cv_predict(b["x"], b["p"], b["dt"], b["q"])
    return kalman.kalman_update(x, p, b["z"], b["h"], b["r"])


def cpu(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        times.append(time.process_time() - c0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[100, 1_000, 4_000, 11_000, 70_000])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    threshold = kalman.JIT_MIN_ROWS
    table = Table("rows", "numpy (anchor) ms", "compiled ms", "numpy / compiled", "max rel diff")
    try:
        for n in args.rows:
            b = batch(n)
            kalman.JIT_MIN_ROWS = n + 1
            ref = run(b)
            t_np = cpu(lambda b=b: run(b), args.repeat)
            kalman.JIT_MIN_ROWS = 0
            out = run(b)
            t_nb = cpu(lambda b=b: run(b), args.repeat)
            diff = max(
                float(np.max(np.abs(o - r) / np.maximum(np.abs(r), 1e-300)))
                for o, r in zip(out, ref, strict=True)
            )
            table.add_row(
                f"{n:,}", f"{t_np * 1e3:.2f}", f"{t_nb * 1e3:.2f}", f"{t_np / t_nb:.1f}",
                f"{diff:.1e}",
            )  # fmt: skip
    finally:
        kalman.JIT_MIN_ROWS = threshold
    Console().print(table)
    Console().print(f"JIT_MIN_ROWS = {threshold:,} (numpy below, compiled from there on)")


if __name__ == "__main__":
    main()
