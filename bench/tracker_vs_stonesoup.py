"""Benchmark: the Deconflict tracker against Stone Soup's fastest GNN tracker, side by side.

Both trackers run on the same dumped scenarios of the shared harness ``stonesoup_bench.py``
(2-D constant-velocity targets, one radar, 4 s scans, 100 m noise, Pd 0.9, clutter 5 per scan)
for K targets and several seeds. Stone Soup runs with ``--associator kdtree-gnn2d`` (KD-tree
pre-gating, 2-D assignment) in its own virtualenv ``.venv-stonesoup`` (created here with
``stonesoup==1.9.1`` when missing). Ours runs with the same models (CV, q = 1 m²/s³, 100 m noise,
Mahalanobis gate 3, confirm after 3 plots, drop a tentative track after 2 missed scans and a
confirmed one after 3).

Reported per K: mean OSPA (c = 1,000 m, p = 1, computed by ``deconflict.tracking.ospa`` on both
trackers' per-scan output; checked against Stone Soup's own OSPAMetric where that runs) and the
median time per scan, wall clock and CPU, with the ratio Stone Soup / ours measured in this run.
A K = 1,000 scenario times our tracker alone.

    .venv/bin/python bench/tracker_vs_stonesoup.py                 # K = 10 50 200, seeds 1 2 3
    .venv/bin/python bench/tracker_vs_stonesoup.py --k 10 --seeds 1 --big 0   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from deconflict.tracking import Tracker, TrackerConfig, ospa, plots_batch

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DECONFLICT_SHARED", REPO.parent / "shared"))
SS_VENV = REPO / ".venv-stonesoup"
SS_VERSION = "stonesoup==1.9.1"
OSPA_C_M = 1000.0
OSPA_P = 1.0


def ensure_stonesoup_venv() -> Path:
    """The Stone Soup interpreter, creating the virtualenv and installing Stone Soup if needed."""
    python = SS_VENV / "bin" / "python"
    if python.exists():
        check = subprocess.run(
            [str(python), "-c", "import stonesoup"], capture_output=True, check=False
        )
        if check.returncode == 0:
            return python
    base = shutil.which("python3.11") or sys.executable
    print(f"creating {SS_VENV} with {base} and installing {SS_VERSION} ...", flush=True)
    subprocess.run([base, "-m", "venv", str(SS_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", SS_VERSION], check=True)
    return python


def bench_config() -> TrackerConfig:
    """Our tracker with the scenario's models and Stone Soup's life cycle (4 s scans)."""
    return TrackerConfig.for_scan_period(4.0, q_cv=1.0, position_sigma_m=100.0, gate_d2=9.0)


def run_ours(scn: dict[str, Any], config: TrackerConfig) -> dict[str, Any]:
    truth = np.array([tr["states"] for tr in scn["truths"]])  # (k, scans, 4): x vx y vy
    trk = Tracker(config)
    wall, cpu, values = [], [], []
    ids: set[int] = set()
    batches = []
    for sc in scn["scans"]:
        xy = np.array([[d["x"], d["y"]] for d in sc["detections"]], dtype=np.float64)
        batches.append((float(sc["t"]), plots_batch(np.full(len(xy), float(sc["t"])), xy)))
    for s, (t, batch) in enumerate(batches):
        c0, w0 = time.process_time(), time.perf_counter()
        trk.update_batch(batch, t)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        tid, pos = trk.positions_xy(t)
        ids.update(int(i) for i in tid)
        values.append(ospa(truth[:, s][:, [0, 2]], pos, OSPA_C_M, OSPA_P))
    return {
        "ospa_mean": float(np.mean(values)),
        "step_time_median_s": statistics.median(wall),
        "step_cpu_median_s": statistics.median(cpu),
        "step_time_p90_s": float(np.percentile(wall, 90)),
        "step_time_max_s": max(wall),
        "step_cpu_p90_s": float(np.percentile(cpu, 90)),
        "step_cpu_max_s": max(cpu),
        "tracks_confirmed_total": len(ids),
    }


def ospa_of_scans(scn: dict[str, Any], scans: list[Any]) -> float:
    truth = np.array([tr["states"] for tr in scn["truths"]])
    values = []
    for s, (_, tracks) in enumerate(scans):
        pos = np.array([[x, y] for _, x, y in tracks], dtype=np.float64).reshape(-1, 2)
        values.append(ospa(truth[:, s][:, [0, 2]], pos, OSPA_C_M, OSPA_P))
    return float(np.mean(values))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, nargs="+", default=[10, 50, 200])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--scans", type=int, default=100)
    ap.add_argument("--big", type=int, default=1000, help="targets of the ours-only timing run")
    ap.add_argument(
        "--metrics-up-to",
        type=int,
        default=50,
        help="also run Stone Soup's own OSPA (slow) for K up to this, to check ours",
    )
    ap.add_argument("--tool", type=Path, default=SHARED / "tools" / "stonesoup_bench.py")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = ap.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    ss_python = ensure_stonesoup_venv()
    config = bench_config()
    rows: list[dict[str, Any]] = []
    jobs = [(k, seed) for k in args.k for seed in args.seeds]
    with Progress() as bar:
        task = bar.add_task("scenarios", total=len(jobs) + (1 if args.big else 0))
        for k, seed in jobs:
            dump = args.out / f"scenario_k{k}_s{seed}.json"
            subprocess.run(
                [str(ss_python), str(args.tool), "--k", str(k), "--seed", str(seed),
                 "--scans", str(args.scans), "--no-run", "--dump", str(dump)],
                check=True, capture_output=True,
            )  # fmt: skip
            scn = json.loads(dump.read_text())
            ss_out = args.out / f"stonesoup_k{k}_s{seed}.json"
            cmd = [str(ss_python), str(REPO / "bench" / "_stonesoup_runner.py"), str(args.tool),
                   str(dump), str(ss_out), "--associator", "kdtree-gnn2d"]  # fmt: skip
            if k <= args.metrics_up_to:
                cmd.append("--metrics")
            subprocess.run(cmd, check=True)
            ss = json.loads(ss_out.read_text())
            ours = run_ours(scn, config)
            ss_res = ss["result"]
            ss_ospa = ospa_of_scans(scn, ss["scans"])
            rows.append(
                {
                    "k": k,
                    "seed": seed,
                    "ours": ours,
                    "stonesoup": {
                        "ospa_mean": ss_ospa,
                        "ospa_mean_stonesoup_metric": ss_res["ospa_mean"],
                        "step_time_median_s": ss_res["step_time_median_s"],
                        "step_cpu_median_s": ss_res["step_cpu_median_s"],
                        "tracks_confirmed_total": ss_res["tracks_confirmed_total"],
                        "versions": ss_res.get("versions"),
                    },
                }
            )
            bar.advance(task)
        big: dict[str, Any] | None = None
        if args.big:
            dump = args.out / f"scenario_k{args.big}_s1.json"
            subprocess.run(
                [str(ss_python), str(args.tool), "--k", str(args.big), "--seed", "1",
                 "--scans", str(args.scans), "--no-run", "--dump", str(dump)],
                check=True, capture_output=True,
            )  # fmt: skip
            big = {"k": args.big, **run_ours(json.loads(dump.read_text()), config)}
            bar.advance(task)

    print()
    print("| K | seeds | OSPA ours (m) | OSPA Stone Soup (m) | OSPA ratio | ms/scan ours (wall, cpu) "
          "| ms/scan Stone Soup (wall, cpu) | speed-up wall | speed-up cpu |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    summary = []
    for k in args.k:
        sel = [r for r in rows if r["k"] == k]

        def mean(who: str, key: str, sel: list[dict[str, Any]] = sel) -> float:
            return float(np.mean([r[who][key] for r in sel]))

        o_ospa, s_ospa = mean("ours", "ospa_mean"), mean("stonesoup", "ospa_mean")
        o_w, o_c = mean("ours", "step_time_median_s"), mean("ours", "step_cpu_median_s")
        s_w, s_c = mean("stonesoup", "step_time_median_s"), mean("stonesoup", "step_cpu_median_s")
        line = {
            "k": k,
            "ospa_ours": o_ospa,
            "ospa_stonesoup": s_ospa,
            "ospa_ratio": o_ospa / s_ospa,
            "speedup_wall": s_w / o_w,
            "speedup_cpu": s_c / o_c,
        }
        summary.append(line)
        print(
            f"| {k} | {len(sel)} | {o_ospa:.1f} | {s_ospa:.1f} | {o_ospa / s_ospa:.3f} | "
            f"{o_w * 1e3:.2f}, {o_c * 1e3:.2f} | {s_w * 1e3:.1f}, {s_c * 1e3:.1f} | "
            f"{s_w / o_w:.0f}x | {s_c / o_c:.0f}x |"
        )
    checks = [
        abs(r["stonesoup"]["ospa_mean"] - r["stonesoup"]["ospa_mean_stonesoup_metric"])
        for r in rows
        if r["stonesoup"]["ospa_mean_stonesoup_metric"]
        == r["stonesoup"]["ospa_mean_stonesoup_metric"]
    ]
    if checks:
        print(f"\nour OSPA on Stone Soup's tracks vs Stone Soup's OSPAMetric: max |diff| "
              f"{max(checks):.2e} m over {len(checks)} runs")  # fmt: skip
    if big:
        ms = {key: value * 1e3 for key, value in big.items() if key.startswith("step_")}
        print(
            f"K = {big['k']}: ours per scan, wall median {ms['step_time_median_s']:.1f} ms, "
            f"p90 {ms['step_time_p90_s']:.1f}, max {ms['step_time_max_s']:.1f}; CPU median "
            f"{ms['step_cpu_median_s']:.1f} ms, p90 {ms['step_cpu_p90_s']:.1f}, max "
            f"{ms['step_cpu_max_s']:.1f}; OSPA {big['ospa_mean']:.1f} m"
        )
    result = {"runs": rows, "summary": summary, "big": big, "load_avg_1m": os.getloadavg()[0]}
    (args.out / "tracker_vs_stonesoup.json").write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out / 'tracker_vs_stonesoup.json'} (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
