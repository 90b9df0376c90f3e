"""Throughput of the recorded-traffic analysis on a synthetic day over Europe.

    .venv/bin/python bench/analysis_throughput.py --flights 100000

1. writes the synthetic day (deconflict.analysis.synthetic) under bench/out/analysis/;
2. screening throughput on the busiest hour: grid state vectors per CPU-second (single-threaded) for
   ``deconflict.analysis.screen.screen`` (one k-d tree for all steps of the window), against the
   anchor measured in the same run: one cKDTree per time step (the textbook loop);
3. the whole day through ``analyse_files`` on a local Dask cluster (``--workers``), timed, and the
   extrapolation to a cluster (windows are independent: time scales with 1 / cores until there
   are as many cores as windows).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from scipy.spatial import cKDTree

from deconflict.analysis.encounters import encounters
from deconflict.analysis.inputs import open_source
from deconflict.analysis.run import analyse_files, make_params
from deconflict.analysis.screen import resample, screen
from deconflict.analysis.synthetic import write_synthetic_day
from deconflict.analysis.windows import read_canonical


def _per_step_anchor(grid, h_m: float, v_m: float) -> int:  # type: ignore[no-untyped-def]
    n = 0
    bounds = np.flatnonzero(np.diff(grid.k[np.argsort(grid.k, kind="stable")])) + 1
    order = np.argsort(grid.k, kind="stable")
    for rows in np.split(order, bounds):
        pairs = cKDTree(grid.xyz_m[rows]).query_pairs(h_m, output_type="ndarray")
        dz = np.abs(grid.alt_m[rows][pairs[:, 0]] - grid.alt_m[rows][pairs[:, 1]])
        n += int(np.count_nonzero(dz <= v_m))
    return n


def _best(fn, repeat: int = 3) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Least CPU time (s) of this process over ``repeat`` runs, and the result. CPU time, not
    wall time: the kernels are single-threaded, and the machine is shared."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flights", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--out", type=Path, default=Path("bench/out/analysis"))
    ap.add_argument("--skip-day", action="store_true", help="only the screening measurement")
    args = ap.parse_args()

    data_dir = args.out / f"day_{args.flights}"
    files = sorted(data_dir.glob("day_*.parquet"))
    if len(files) == 24:  # the same seed gives the same day: reuse it
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        print(f"synthetic day: {args.flights} flights, {rows:,} state vectors (10 s), reused")
    else:
        t0 = time.perf_counter()
        files, rows = write_synthetic_day(data_dir, args.flights)
        t_gen = time.perf_counter() - t0
        print(
            f"synthetic day: {args.flights} flights, {rows:,} state vectors (10 s), "
            f"written in {t_gen:.1f} s"
        )

    sources = [open_source(f) for f in files]
    noon = pd.Timestamp("2024-06-01 12:00", tz="UTC").timestamp()
    params = make_params(sources, noon, step_s=10.0)
    data = read_canonical(sources, noon - 60, noon + 3600 + 60)
    code = data["id"].cat.codes.to_numpy().astype(np.int64)
    k0 = int(noon // 10)
    t_res, grid = _best(
        lambda: resample(
            code,
            data.t_s.to_numpy(),
            data.lat_deg.to_numpy(),
            data.lon_deg.to_numpy(),
            data.alt_m.to_numpy(),
            data.airborne.to_numpy(bool),
            10.0,
            k0,
            k0 + 360,
            60.0,
        )
    )
    n_sv = len(grid)  # type: ignore[arg-type]
    t_scr, (i, j) = _best(lambda: screen(grid, params.screen_h_m, params.screen_v_m))  # type: ignore[misc, arg-type]
    t_anchor, n_anchor = _best(
        lambda: _per_step_anchor(grid, params.screen_h_m, params.screen_v_m), repeat=1
    )
    assert n_anchor == len(i), (n_anchor, len(i))
    t_enc, enc = _best(
        lambda: encounters(grid, i, j, 10.0, params.h_m, params.v_m, params.tol_m),
        repeat=1,  # type: ignore[arg-type]
    )
    airborne = n_sv / 360
    print(
        f"busiest hour (12-13 UTC): {airborne:,.0f} aircraft airborne on average, "
        f"{n_sv:,} grid state vectors, {len(i):,} pairs within 10 NM / 2000 ft"
    )
    print(
        f"  screening (one tree per window): {t_scr:.3f} s = {n_sv / t_scr / 1e6:.2f} M state "
        f"vectors per CPU-second (one core)"
    )
    print(
        f"  anchor (one cKDTree per step):   {t_anchor:.3f} s = {n_sv / t_anchor / 1e6:.2f} M/s"
        f"  -> ratio {t_anchor / t_scr:.2f}x"
    )
    print(
        f"  resampling: {n_sv / t_res / 1e6:.2f} M/s; encounters ({len(enc)}): "  # type: ignore[arg-type]
        f"{t_enc:.3f} s"
    )
    if args.skip_day:
        return

    out = args.out / f"result_{args.flights}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    events = analyse_files(files, out, engine="dask", workers=args.workers, step_s=10.0)
    t_day = time.perf_counter() - t0
    windows = len(list((out / "windows").glob("*.parquet")))
    print(
        f"whole day: {t_day:.1f} s on a local Dask cluster of {args.workers} workers "
        f"({windows} windows): {rows / t_day / 1e6:.2f} M input state vectors/s, "
        f"{rows / t_day / args.workers / 1e6:.2f} M/s per core; {len(events):,} encounters, "
        f"{int(events.loss.sum()):,} losses of separation (load average {_load()})"
    )
    core_s = t_day * args.workers
    for cores in (8, 24, 64):
        print(
            f"  extrapolated to {cores} cores: {core_s / min(cores, windows):.0f} s "
            f"(windows are independent; at most {windows} run at once)"
        )


if __name__ == "__main__":
    main()
