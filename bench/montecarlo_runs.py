"""Monte Carlo throughput: runs per second per core on the built-in scenario.

    .venv/bin/python bench/montecarlo_runs.py [--runs 5000] [--anchor-runs 200] [--json FILE]

Anchor: the runs in this process, one after the other (``engine="local"``), timed by the CPU
time of the process (runs per CPU-second = runs per second per core, robust to other load) and
by the wall clock. Then a short study on a Dask LocalCluster of 2 workers as processes and as
threads (wall clock, cluster start excluded and stated apart), and the full study
(``--runs`` per procedure set, the two built-in sets: 2 x runs in all) on the faster kind.
Every figure is printed with its ratio to the anchor measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5000, help="full study: runs per procedure set")
    ap.add_argument("--anchor-runs", type=int, default=200, help="runs of the in-process anchor")
    ap.add_argument("--cluster-runs", type=int, default=400, help="runs of each cluster trial")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()

    from distributed import Client, LocalCluster

    from deconflict.montecarlo.model import simulate_run
    from deconflict.montecarlo.procedures import BUILTIN_PROCEDURES, load_procedures
    from deconflict.montecarlo.runner import run_study
    from deconflict.montecarlo.study import Study, prepare
    from deconflict.sim.scenario import load_scenario

    scenario = load_scenario()
    procs = [load_procedures(n) for n in BUILTIN_PROCEDURES]
    study = Study(seed=2015)
    out: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()}",
        "scenario": scenario.name,
        "aircraft": len(scenario.aircraft),
        "duration_s": scenario.duration_s,
        "dt_s": study.dt_s,
    }

    # -- anchor: in this process --------------------------------------------------------------
    prepared = prepare(scenario)
    for r in range(4):  # warm caches (numba, imports)
        simulate_run(prepared, procs[0], study, r)
    n = args.anchor_runs
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(n):
        simulate_run(prepared, procs[i % 2], study, i // 2)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    anchor = n / cpu
    out["anchor"] = {"load": os.getloadavg(), "runs": n, "cpu_s": cpu, "wall_s": wall, "runs_per_cpu_s": anchor,
                     "runs_per_wall_s": n / wall}  # fmt: skip
    print(f"anchor (in process): {n} runs, {anchor:.1f} runs per CPU-second (per core), "
          f"{n / wall:.1f} runs/s wall")  # fmt: skip

    def cluster_trial(processes: bool, runs: int) -> dict[str, Any]:
        t0 = time.perf_counter()
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=processes,
            dashboard_address=None,
        )  # fmt: skip
        client = Client(cluster)
        client.wait_for_workers(args.workers)
        start_s = time.perf_counter() - t0
        tmp = tempfile.mkdtemp(prefix="mc-bench-")

        def cpu_now() -> float:  # CPU seconds of the workers (threads: of this process)
            if not processes:
                return time.process_time()
            return float(sum(client.run(time.process_time).values()))

        try:
            cpu0 = cpu_now()
            t1 = time.perf_counter()
            frame = run_study(
                scenario, procs, runs, tmp, study, batch_size=args.batch_size, engine="dask",
                scheduler=cluster.scheduler_address, progress=True,
            )  # fmt: skip
            wall = time.perf_counter() - t1
            cpu = cpu_now() - cpu0
        finally:
            client.close()
            cluster.close()
            shutil.rmtree(tmp, ignore_errors=True)
        total = len(frame)
        rate = total / wall
        return {"processes": processes, "workers": args.workers, "runs": total,
                "cluster_start_s": start_s, "wall_s": wall, "runs_per_s": rate,
                "runs_per_s_per_worker": rate / args.workers, "cpu_s": cpu,
                "runs_per_cpu_s": total / cpu, "load": os.getloadavg()}  # fmt: skip

    trials = {}
    for processes in (True, False):
        kind = "processes" if processes else "threads"
        res = cluster_trial(processes, args.cluster_runs // 2)
        trials[kind] = res
        print(f"LocalCluster {args.workers} {kind}: {res['runs']} runs in {res['wall_s']:.1f} s "
              f"(+{res['cluster_start_s']:.1f} s start): {res['runs_per_s']:.1f} runs/s, "
              f"{res['runs_per_s_per_worker']:.1f} per worker; {res['runs_per_cpu_s']:.1f} runs "
              f"per CPU-second = {res['runs_per_cpu_s'] / anchor:.2f} x anchor")  # fmt: skip
    out["cluster"] = trials
    best = max(trials.values(), key=lambda r: float(r["runs_per_s"]))

    if args.runs > 0:
        res = cluster_trial(bool(best["processes"]), args.runs)
        out["full"] = res
        print(f"full study ({'processes' if res['processes'] else 'threads'}): {res['runs']} runs "
              f"in {res['wall_s']:.1f} s: {res['runs_per_s']:.1f} runs/s, "
              f"{res['runs_per_s_per_worker']:.1f} per worker; {res['runs_per_cpu_s']:.1f} runs "
              f"per CPU-second = {res['runs_per_cpu_s'] / anchor:.2f} x anchor; 10,000 runs at "
              f"this wall rate: {10_000 / res['runs_per_s'] / 60:.1f} min, on 2 idle cores at "
              f"the CPU rate: {10_000 / (2 * res['runs_per_cpu_s']) / 60:.1f} min")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
