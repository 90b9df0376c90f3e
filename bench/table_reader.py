"""The one table reader (``deconflict.tables``) on 10,000 rows: what each reader costs beside the
least any reader does (the anchor: the numeric columns to float arrays times their unit factor,
no checks), in the same run, CPU time.

Rows timed: ``to_states`` (``deconflict.detect``'s validation) on a traffic-convention table and
on the same states in OpenSky's names and units; ``to_traffic`` (replay, ``track``) and the
analysis ``normalise`` on an OpenSky trajectory table with ``lastposupdate``; the public call
``deconflict.detect(frame)`` beside them.

    .venv/bin/python bench/table_reader.py            # prints a markdown table and JSON
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

FT, KT, FPM = 0.3048, 1852.0 / 3600.0, 0.3048 / 60.0


def states(n: int, seed: int) -> pd.DataFrame:
    """N aircraft over central Europe at one instant, in the traffic convention."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "icao24": [f"{i:06x}" for i in range(n)],
            "latitude": rng.uniform(44.0, 56.0, n),
            "longitude": rng.uniform(-5.0, 15.0, n),
            "altitude": rng.choice(np.arange(10_000, 41_000, 1000), n).astype(float),
            "groundspeed": rng.uniform(250.0, 500.0, n),
            "track": rng.uniform(0.0, 360.0, n),
            "vertical_rate": rng.normal(0.0, 500.0, n),
        }
    )


def opensky(frame: pd.DataFrame) -> pd.DataFrame:
    """The same states in OpenSky's names and units (m, m/s)."""
    return pd.DataFrame(
        {
            "icao24": frame["icao24"],
            "lat": frame["latitude"],
            "lon": frame["longitude"],
            "baroaltitude": frame["altitude"] * FT,
            "velocity": frame["groundspeed"] * KT,
            "heading": frame["track"],
            "vertrate": frame["vertical_rate"] * FPM,
        }
    )


def trajectory(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """An OpenSky trajectory table of the same size: 100 aircraft flying straight, a state
    vector a second each, one in five a stale repeat (the ``lastposupdate`` and position of the
    second before)."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    ac, step = np.arange(n) % 100, np.arange(n) // 100
    first = frame.iloc[:100]
    gs_mps = first["groundspeed"].to_numpy()[ac] * KT
    trk = np.radians(first["track"].to_numpy()[ac])
    lat0 = first["latitude"].to_numpy()[ac]
    t0 = 1_700_000_000.0
    pos_t = step + rng.uniform(0, 0.5, n)
    stale = (rng.uniform(size=n) < 0.2) & (step > 0)
    pos_t[stale] = pos_t[np.flatnonzero(stale) - 100]
    lat = lat0 + gs_mps * np.cos(trk) * pos_t / 111_195.0
    lon = first["longitude"].to_numpy()[ac] + gs_mps * np.sin(trk) * pos_t / (
        111_195.0 * np.cos(np.radians(lat0))
    )
    return pd.DataFrame(
        {
            "time": pd.to_datetime(t0 + step + 0.9, unit="s", utc=True),
            "icao24": [f"{i:06x}" for i in ac],
            "lat": lat,
            "lon": lon,
            "baroaltitude": first["altitude"].to_numpy()[ac] * FT,
            "velocity": gs_mps,
            "heading": first["track"].to_numpy()[ac],
            "vertrate": 0.0,
            "onground": False,
            "lastposupdate": t0 + pos_t,
        }
    )


def anchor(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The least any reader does: the numeric columns to float arrays in SI, no checks."""
    return {
        "lat": frame["latitude"].to_numpy(dtype=np.float64),
        "lon": frame["longitude"].to_numpy(dtype=np.float64),
        "alt": frame["altitude"].to_numpy(dtype=np.float64) * FT,
        "gs": frame["groundspeed"].to_numpy(dtype=np.float64) * KT,
        "trk": frame["track"].to_numpy(dtype=np.float64),
        "vs": frame["vertical_rate"].to_numpy(dtype=np.float64) * FPM,
    }


def cpu_ms(call: Callable[[], Any], reps: int) -> float:
    call()  # warm-up (imports, numba's cache)
    times = []
    for _ in range(reps):
        c0 = time.process_time()
        call()
        times.append(time.process_time() - c0)
    return 1000.0 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()

    from deconflict import detect
    from deconflict.predict.states import to_states

    frame = states(a.rows, a.seed)
    sky = opensky(frame)
    rows: dict[str, float] = {"anchor: columns to SI arrays": cpu_ms(lambda: anchor(frame), a.reps)}
    rows["to_states (traffic names)"] = cpu_ms(lambda: to_states(frame), a.reps)
    try:
        from deconflict.analysis.inputs import normalise
        from deconflict.tables import to_traffic
    except ImportError:  # before the one reader: OpenSky tables are refused by detect
        pass
    else:
        rows["to_states (OpenSky names, m and m/s)"] = cpu_ms(lambda: to_states(sky), a.reps)
        traj = trajectory(frame, a.seed)
        rows["to_traffic (OpenSky trajectory, lastposupdate)"] = cpu_ms(
            lambda: to_traffic(traj), a.reps
        )
        rows["analysis normalise (same table)"] = cpu_ms(lambda: normalise(traj), a.reps)
    rows["deconflict.detect(frame), the public call"] = cpu_ms(lambda: detect(frame), a.reps)
    base = rows["anchor: columns to SI arrays"]
    print(f"| {a.rows:,} rows | CPU (median of {a.reps}) | × anchor |")
    print("|---|---:|---:|")
    for name, ms in rows.items():
        print(f"| {name} | {ms:.2f} ms | {ms / base:.0f}× |")
    print(json.dumps({"rows": a.rows, "cpu_ms": rows}))


if __name__ == "__main__":
    main()
