"""The tracker on real traffic: quickstart.parquet replayed in 1 s windows (no anchor: this is a
throughput figure on real data; the Stone Soup comparison is bench/tracker_vs_stonesoup.py).

Run: .venv/bin/python bench/tracking_quickstart.py [--data ../shared/data/real]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.replay import replay

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "real")
    args = ap.parse_args()
    reports = pd.read_parquet(args.data / "traffic" / "quickstart.parquet")
    wall0, cpu0 = time.perf_counter(), time.process_time()
    out, tracker = replay(reports, TrackerConfig())
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    tracks = out["track_id"].nunique() if "track_id" in out.columns else len(tracker.identities())
    print(
        f"{len(reports):,} reports replayed in 1 s windows: {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"({len(reports) / cpu:,.0f} reports per CPU second); {tracks} tracks; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
