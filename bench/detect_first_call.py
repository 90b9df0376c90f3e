"""The first `deconflict detect` after install, and a warm one, timed as a user meets them.

A fresh virtual environment gets `pip install .` of this checkout (non-editable, as a user's
install), then `deconflict detect` runs on a small file (30 aircraft) in a fresh process with an
empty numba cache: first the default pair search (``auto``: the k-d tree below 2,000 aircraft, no
compilation), then the anchor, ``--pair-search grid`` (the compiled grid every scene used before:
numba compiles it on a fresh install). Each is then run warm (cache filled) several times. Last,
the first and a warm call from Python at 10,000 aircraft, where ``auto`` takes the grid.

    .venv/bin/python bench/detect_first_call.py                # makes bench/out/venv-first-call
    .venv/bin/python bench/detect_first_call.py --venv DIR     # reuse an install
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def small_file(path: Path, n: int = 30, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    pd.DataFrame(
        {
            "id": [f"AC{i:03d}" for i in range(n)],
            "latitude": 47 + rng.normal(size=n) * 0.3,
            "longitude": 8 + rng.normal(size=n) * 0.4,
            "altitude": rng.choice([30000, 31000, 32000], n),
            "groundspeed": rng.uniform(350, 480, n),
            "track": rng.uniform(0, 360, n),
            "vertical_rate": 0.0,
        }
    ).to_csv(path, index=False)
    return path


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--venv", type=Path, default=REPO / "bench" / "out" / "venv-first-call")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    venv = args.venv
    if not (venv / "bin" / "deconflict").exists():
        shutil.rmtree(venv, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", str(REPO)],
            check=True,
        )
        print(f"fresh install (pip install .): {time.perf_counter() - t0:.1f} s")
    cli = str(venv / "bin" / "deconflict")
    py = str(venv / "bin" / "python")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        data = small_file(Path(tmp) / "small30.csv")
        rows = []
        for label, extra in (("auto (default)", []), ("anchor: grid", ["--pair-search", "grid"])):
            env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / f"numba-{len(rows)}")}
            cmd = [cli, "detect", *extra, str(data)]
            first = timed(cmd, env)
            warm = [timed(cmd, env) for _ in range(args.repeats)]
            rows.append((label, first, statistics.median(warm), min(warm), max(warm)))
        print("\n`deconflict detect` on 30 aircraft, whole process, fresh numba cache first:")
        print(
            f"{'pair search':<16} {'first (s)':>10} {'warm median (s)':>16} {'warm min-max (s)':>18}"
        )
        for label, first, med, lo, hi in rows:
            print(f"{label:<16} {first:>10.2f} {med:>16.2f} {lo:>8.2f}-{hi:<8.2f}")
        print(f"first-call ratio anchor/auto: {rows[1][1] / rows[0][1]:.1f}x")
        code = (
            "import time, numpy as np, pandas as pd, deconflict\n"
            "rng = np.random.default_rng(1); n = 10_000\n"
            "df = pd.DataFrame({'id': [f'A{i}' for i in range(n)],"
            " 'latitude': rng.uniform(44, 56, n), 'longitude': rng.uniform(-5, 15, n),"
            " 'altitude': rng.uniform(20000, 40000, n), 'groundspeed': rng.uniform(300, 500, n),"
            " 'track': rng.uniform(0, 360, n), 'vertical_rate': 0.0})\n"
            "t0 = time.perf_counter(); deconflict.detect(df); t1 = time.perf_counter()\n"
            "deconflict.detect(df); t2 = time.perf_counter()\n"
            "print(f'{t1 - t0:.2f} {t2 - t1:.3f}')\n"
        )
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-10k")}
        first, warm = subprocess.run(
            [py, "-c", code], env=env, check=True, capture_output=True, text=True
        ).stdout.split()
        print(
            f"\ndeconflict.detect at 10,000 aircraft (grid): first call {first} s "
            f"(numba compiles), next call {warm} s"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
