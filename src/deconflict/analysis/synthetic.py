"""A synthetic day of en-route traffic over Europe, for benchmarks: degrees, ft, kt, seconds.

Flights take off uniformly over 24 hours from random points of a box over Europe (lat 38–58°,
lon −8–25°), fly a great circle (spherical Earth) on a random heading for 300–1,500 km at
430–490 kt, level at a flight level between FL290 and FL410, and report every ``step_s``
seconds. Columns follow the traffic convention, so the files go straight into the analysis.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from deconflict.units import KT

EARTH_R_M = 6_371_000.0


def synthetic_chunks(
    flights: int, seed: int = 0, step_s: float = 10.0, chunks: int = 24, day: str = "2024-06-01"
) -> Iterator[pd.DataFrame]:
    """The day's state vectors in ``chunks`` frames (flights grouped by take-off time), each
    sorted by timestamp."""
    rng = np.random.default_rng(seed)
    t_day = pd.Timestamp(day, tz="UTC").value // 10**9
    dep = np.sort(rng.uniform(0, 86400.0, flights))
    lat0 = np.radians(rng.uniform(38.0, 58.0, flights))
    lon0 = np.radians(rng.uniform(-8.0, 25.0, flights))
    hdg = rng.uniform(0, 2 * np.pi, flights)
    speed = rng.uniform(430.0, 490.0, flights) * KT
    n_pts = (rng.uniform(300e3, 1500e3, flights) / speed / step_s).astype(np.int64) + 1
    fl = rng.integers(29, 42, flights) * 1000.0
    for part in np.array_split(np.arange(flights), chunks):
        count = n_pts[part]
        f = np.repeat(part, count)
        j = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        t = np.ceil(dep[f] / step_s) * step_s + j * step_s
        delta = speed[f] * (t - dep[f]) / EARTH_R_M
        la0, lo0, h = lat0[f], lon0[f], hdg[f]
        lat = np.arcsin(np.sin(la0) * np.cos(delta) + np.cos(la0) * np.sin(delta) * np.cos(h))
        lon = lo0 + np.arctan2(
            np.sin(h) * np.sin(delta) * np.cos(la0), np.cos(delta) - np.sin(la0) * np.sin(lat)
        )
        frame = pd.DataFrame(
            {
                "timestamp": pd.to_datetime((t_day + t) * 1e9, utc=True),
                "icao24": np.char.mod("%06x", f + 0x100000),
                "callsign": np.char.mod("SYN%05d", f),
                "latitude": np.degrees(lat),
                "longitude": (np.degrees(lon) + 180.0) % 360.0 - 180.0,
                "altitude": fl[f],
                "groundspeed": speed[f] / KT,
            }
        )
        yield frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def write_synthetic_day(
    folder: str | Path, flights: int, seed: int = 0, step_s: float = 10.0, chunks: int = 24
) -> tuple[list[Path], int]:
    """Write the day as ``chunks`` Parquet files (row groups of 200,000 rows, sorted by time, so
    a window's filtered read skips most of them). Returns the files and the row count."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths, rows = [], 0
    for i, frame in enumerate(synthetic_chunks(flights, seed, step_s, chunks)):
        path = out / f"day_{i:02d}.parquet"
        frame.to_parquet(path, index=False, row_group_size=200_000)
        paths.append(path)
        rows += len(frame)
    return paths, rows
