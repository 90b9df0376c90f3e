"""Conflict detection: ours against BlueSky's two detectors, side by side, on the same states.

BlueSky (GPL) runs in its own virtualenv (.venv-bluesky, created if missing) through
../shared/tools/bluesky_cd_bench.py; ours runs in a fresh child process per N, on the states that
the same tool's seeded generator makes. Timings are wall and CPU medians of repeated calls on
prepared arrays (BlueSky's input objects; our validated SI ``States``: the kernel), and of the
public call ``deconflict.detect(frame)`` a user makes (DataFrame in: validation, pair search, exact
test and result table). Peak memory is the child's peak RSS growth during detection.

    .venv/bin/python bench/detect_vs_bluesky.py                 # full run, writes docs/perf/
    .venv/bin/python bench/detect_vs_bluesky.py --sizes 500,2000 --no-bluesky-py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO.parent / "shared" / "tools"
OUT = REPO / "docs" / "perf"
REGION = (44.0, 56.0, -5.0, 15.0)  # the tool's default region


def scaled_region(factor: float) -> tuple[float, float, float, float]:
    """The default region with its area multiplied by ``factor`` (same density at factor × N)."""
    lat0, lat1, lon0, lon1 = REGION
    k = factor**0.5
    clat, clon = (lat0 + lat1) / 2, (lon0 + lon1) / 2
    return (clat - (lat1 - lat0) * k / 2, clat + (lat1 - lat0) * k / 2,
            clon - (lon1 - lon0) * k / 2, clon + (lon1 - lon0) * k / 2)  # fmt: skip


def child(n: int, area: float, reps: int, seed: int, uniform_area: bool = False) -> None:
    sys.path.insert(0, str(TOOLS))
    import numpy as np
    import pandas as pd
    from bluesky_cd_bench import generate

    from deconflict.predict.detect import detect_states
    from deconflict.predict.standards import get_standard
    from deconflict.predict.states import to_states
    from deconflict.units import FPM, FT, KT

    t = generate(n, seed=seed, region=scaled_region(area))
    if uniform_area:  # same density everywhere: latitudes uniform in sin(lat), not in lat
        lat0, lat1, _, _ = scaled_region(area)
        u = np.random.default_rng(seed + 1).uniform(
            np.sin(np.radians(lat0)), np.sin(np.radians(lat1)), n
        )
        t.lat = np.degrees(np.arcsin(u))
    frame = pd.DataFrame({"id": t.id, "latitude": t.lat, "longitude": t.lon, "altitude": t.alt / FT,
                          "groundspeed": t.gs / KT, "track": t.trk, "vertical_rate": t.vs / FPM})  # fmt: skip
    t0 = time.perf_counter()
    states = to_states(frame)
    convert_s = time.perf_counter() - t0
    std = get_standard("icao-5nm")
    detect_states(states, std)  # warm-up: numba's compiled kernel loads from its cache
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    wall, cpu = [], []
    for _ in range(reps):
        c0, w0 = time.process_time(), time.perf_counter()
        out = detect_states(states, std)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    from deconflict import detect

    pub_wall, pub_cpu = [], []
    for _ in range(reps):  # the public call: DataFrame in, validation and table included
        c0, w0 = time.process_time(), time.perf_counter()
        detect(frame, "icao-5nm")
        pub_wall.append(time.perf_counter() - w0)
        pub_cpu.append(time.process_time() - c0)
    print(json.dumps({
        "public_s": statistics.median(pub_wall), "public_cpu_s": statistics.median(pub_cpu),
        "impl": "deconflict", "n": n, "area": area, "median_s": statistics.median(wall),
        "median_cpu_s": statistics.median(cpu), "convert_s": convert_s, "pairs": len(out),
        "peak_rss": peak, "rss_growth": max(peak - max(rss_before, current), 0),
        "rss_before": current, "vertical_pairs_1ft": int(np.sum(np.abs(out.dalt_cpa_ft - 1000) < 1)),
    }))  # fmt: skip


def run_ours(
    n: int, area: float, reps: int, seed: int, uniform_area: bool = False
) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(n), "--area", str(area), "--reps", str(reps),
           "--seed", str(seed)] + (["--uniform-area"] if uniform_area else [])  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_bluesky(sizes: list[int], impls: str, seed: int) -> list[dict[str, float]]:
    sys.path.insert(0, str(REPO / "bench"))
    from make_bluesky_reference import bluesky_python

    py = bluesky_python()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bs.json"
        subprocess.run([str(py), str(TOOLS / "bluesky_cd_bench.py"), "--sizes", ",".join(map(str, sizes)),
                        "--impl", impls, "--seed", str(seed), "--reps", "5", "--min-reps", "3",
                        "--budget", "20", "--json-out", str(out)], check=True, cwd=tmp)  # fmt: skip
        return json.loads(out.read_text())  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="500,1000,2000,5000,10000")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-bluesky-py", action="store_true", help="skip BlueSky's NumPy detector")
    ap.add_argument("--no-bluesky", action="store_true")
    ap.add_argument("--scale-n", type=int, default=10_000, help="N for the 10x-area scaling check")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--area", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--uniform-area", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--only-scale", action="store_true", help="run only the 10x-area scaling check")
    a = ap.parse_args()
    if a.child:
        child(a.child, a.area, a.reps, a.seed, a.uniform_area)
        return
    if a.only_scale:
        print(scaling(a)[0])
        return
    from rich.console import Console
    from rich.progress import track

    console = Console()
    sizes = [int(s) for s in a.sizes.split(",")]
    ours = {n: run_ours(n, 1.0, a.reps, a.seed) for n in track(sizes, description="deconflict")}
    bs_rows: list[dict[str, float]] = []
    if not a.no_bluesky:
        bs_sizes = [n for n in sizes if n <= 10_000]
        bs_rows += run_bluesky(bs_sizes, "c", a.seed)
        if not a.no_bluesky_py:
            bs_rows += run_bluesky([n for n in bs_sizes if n <= 5000], "py", a.seed)
    bs = {(r["impl"], r["n"]): r for r in bs_rows if "error" not in r}
    lines = ["| N | ours wall | ours CPU | BlueSky C wall | BlueSky C CPU | C / ours (CPU) | BlueSky NumPy CPU "
             "| NumPy / ours (CPU) | pairs ours / BlueSky | our peak RSS growth | public call CPU | C / public call (CPU) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for n in sizes:
        o = ours[n]
        c = bs.get(("c", n), {})
        p = bs.get(("py", n), {})
        ratio_c = c["median_cpu_s"] / o["median_cpu_s"] if c else float("nan")
        ratio_p = p["median_cpu_s"] / o["median_cpu_s"] if p else float("nan")
        lines.append(
            f"| {n:,} | {o['median_s'] * 1e3:.1f} ms | {o['median_cpu_s'] * 1e3:.1f} ms "
            f"| {c.get('median_s', float('nan')) * 1e3:.0f} ms | {c.get('median_cpu_s', float('nan')) * 1e3:.0f} ms "
            f"| {ratio_c:.0f}× | {p.get('median_cpu_s', float('nan')) * 1e3:.0f} ms | {ratio_p:.0f}× "
            f"| {o['pairs']} / {c.get('pairs_unique', '—')} | {o['rss_growth'] / 2**20:.0f} MiB "
            f"| {o['public_cpu_s'] * 1e3:.1f} ms "
            f"| {(c['median_cpu_s'] / o['public_cpu_s']) if c else float('nan'):.0f}× |"
        )
    scale_text, scale_rows = scaling(a)
    lines += ["", scale_text,
              f"DataFrame → States conversion (validation) at N={sizes[-1]:,}: "
              f"{ours[sizes[-1]]['convert_s'] * 1e3:.1f} ms (in the public call, not in 'ours').",
              f"Process peak RSS at N={sizes[-1]:,}: {ours[sizes[-1]]['peak_rss'] / 2**20:.0f} MiB "
              "(interpreter, numpy, pandas, numba included)."]  # fmt: skip
    table = "\n".join(lines)
    console.print(table)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "detect_results.json").write_text(
        json.dumps({"ours": ours, "bluesky": bs_rows, "scale": scale_rows}, indent=1)
    )
    plot(sizes, ours, bs, OUT / "detect_time_vs_n.png")
    (OUT / "detect.md").write_text(
        "## Conflict detection against BlueSky\n\n"
        f"Command: `.venv/bin/python bench/detect_vs_bluesky.py` (load average at the end: "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores).\n\n{table}\n\n"
        "![time against N](perf/detect_time_vs_n.png)\n"
    )


def scaling(a: argparse.Namespace) -> tuple[str, list[dict[str, float]]]:
    """10x the aircraft over 10x the area, both drawn uniformly over the area (same density)."""
    reps = max(3, a.reps // 2)
    base = run_ours(a.scale_n, 1.0, reps, a.seed, uniform_area=True)
    big = run_ours(a.scale_n * 10, 10.0, reps, a.seed, uniform_area=True)
    ratio = big["median_cpu_s"] / base["median_cpu_s"]
    text = (
        f"10× the aircraft over 10× the area (uniform density): N={a.scale_n * 10:,} takes "
        f"{big['median_cpu_s'] * 1e3:.0f} ms CPU ({big['median_s'] * 1e3:.0f} ms wall) against "
        f"{base['median_cpu_s'] * 1e3:.1f} ms at N={a.scale_n:,}: **{ratio:.1f}×** the time "
        f"(target ≤ 12×); conflict pairs {big['pairs']} against {base['pairs']} "
        f"({big['pairs'] / max(base['pairs'], 1):.1f}×); peak RSS growth "
        f"{big['rss_growth'] / 2**20:.0f} MiB."
    )
    return text, [base, big]


def plot(
    sizes: list[int],
    ours: dict[int, dict[str, float]],
    bs: dict[tuple[str, int], dict[str, float]],
    path: Path,
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.loglog(
        sizes, [ours[n]["median_cpu_s"] for n in sizes], "o-", label="Deconflict (pruned, numba)"
    )
    for impl, label in (("c", "BlueSky compiled C++"), ("py", "BlueSky NumPy")):
        ns = [n for n in sizes if (impl, n) in bs]
        if ns:
            ax.loglog(ns, [bs[(impl, n)]["median_cpu_s"] for n in ns], "s--", label=label)
    ax.set_xlabel("aircraft N")
    ax.set_ylabel("CPU time per detection (s)")
    ax.set_title("Conflict detection, icao-5nm, 300 s lookahead")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
