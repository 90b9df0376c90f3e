"""DO-365 (DAIDALUS) alerting and bands: latency of one ``alert`` call, and the well-clear kernel.

Anchor, measured in the same run: the closed-form well-clear kernel called once per pair in a
Python loop (how a scalar port of DAIDALUS's ``WCV_interval`` runs); the ratio is the speed-up of
the vectorised call over all pairs at once. ``alert`` latency is measured on the 44 reference
encounters of ``daidalus_dev.json`` (converted as the tests do) and on synthetic encounters with
more intruders; best of ``--repeats`` per encounter (the machine is shared).

    .venv/bin/python bench/daidalus_alert.py [--repeats 3] [--reference ../shared/reference]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from deconflict.predict.daidalus.api import alert
from deconflict.predict.wcv import wcv_interval

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "predict_daidalus"))
from predict_daidalus_helpers import case_encounter, load_cases  # noqa: E402

NM, FT = 1852.0, 0.3048


def best_of(fn: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def kernel(console: Console, repeats: int) -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    s = rng.uniform(-20 * NM, 20 * NM, (n, 3))
    s[:, 2] = rng.uniform(-3000 * FT, 3000 * FT, n)
    v = rng.uniform(-250, 250, (n, 3))
    v[:, 2] = rng.uniform(-20, 20, n)
    args = (*s.T, *v.T, 0.66 * NM, 450 * FT, 35.0, 0.0, 180.0)
    vec = best_of(lambda: wcv_interval(*args), repeats) / n
    m = 2000

    def loop() -> None:
        for i in range(m):
            wcv_interval(*s[i], *v[i], 0.66 * NM, 450 * FT, 35.0, 0.0, 180.0)

    scalar = best_of(loop, repeats) / m
    table = Table(title="well-clear interval kernel (per pair)")
    for col in ("call", "time per pair", "ratio to anchor"):
        table.add_column(col)
    table.add_row("anchor: scalar loop", f"{scalar * 1e6:.1f} µs", "1.00")
    table.add_row(f"vectorised, {n:,} pairs", f"{vec * 1e9:.0f} ns", f"{scalar / vec:.0f}x faster")
    console.print(table)


def synthetic(n_intruders: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    own = {
        "id": "own",
        "x_nmi": 0.0,
        "y_nmi": 0.0,
        "altitude": 10000.0,
        "track": 0.0,
        "groundspeed": 180.0,
        "vertical_rate": 0.0,
    }
    intruders = []
    for i in range(n_intruders):
        brg = rng.uniform(0, 2 * np.pi)
        rng_nmi = rng.uniform(2, 12)
        intruders.append(
            {
                "id": f"i{i}",
                "x_nmi": rng_nmi * np.sin(brg),
                "y_nmi": rng_nmi * np.cos(brg),
                "altitude": 10000.0 + rng.uniform(-1500, 1500),
                "track": float(np.degrees(brg) + 180 + rng.uniform(-30, 30)) % 360,
                "groundspeed": rng.uniform(100, 300),
                "vertical_rate": rng.uniform(-1500, 1500),
            }
        )
    return {"ownship": own, "intruders": intruders}


def latency(console: Console, reference: Path, repeats: int) -> None:
    cases = load_cases(reference)
    times: list[float] = []
    recovery: list[float] = []
    plain: list[float] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("alert() on reference encounters", total=len(cases))
        for case in cases:
            enc = case_encounter(case)
            dt = best_of(lambda enc=enc: alert(enc), repeats)
            times.append(dt)
            rec = any(r["computed"] for r in case["outputs"]["bands"]["recovery"].values())
            (recovery if rec else plain).append(dt)
            progress.advance(task)
    table = Table(title=f"alert() latency, {len(cases)} reference encounters (best of {repeats})")
    for col in ("set", "n", "median", "mean", "max"):
        table.add_column(col)
    for name, xs in (
        ("all", times),
        ("without recovery bands", plain),
        ("with recovery bands", recovery),
    ):
        if xs:
            table.add_row(
                name,
                str(len(xs)),
                f"{statistics.median(xs) * 1e3:.1f} ms",
                f"{statistics.mean(xs) * 1e3:.1f} ms",
                f"{max(xs) * 1e3:.1f} ms",
            )
    console.print(table)
    table = Table(title="alert() latency vs number of intruders (synthetic, 3 seeds, median)")
    for col in ("intruders", "median", "max"):
        table.add_column(col)
    for n in (1, 10, 50):
        xs = [best_of(lambda enc=synthetic(n, seed): alert(enc), repeats) for seed in range(3)]
        table.add_row(str(n), f"{statistics.median(xs) * 1e3:.1f} ms", f"{max(xs) * 1e3:.1f} ms")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference", type=Path, default=REPO.parent / "shared" / "reference")
    args = parser.parse_args()
    console = Console()
    if not (args.reference / "daidalus_dev.json").is_file():
        raise SystemExit(f"no daidalus_dev.json under {args.reference}: pass --reference")
    json.loads((args.reference / "daidalus_dev.json").read_text())
    kernel(console, args.repeats)
    latency(console, args.reference, args.repeats)


if __name__ == "__main__":
    main()
