"""quickstart.parquet (real 1 s ADS-B around Paris) replayed through the tracker.

The expected segments are computed here from the recording itself (one icao24, split where it
falls silent for longer than the tracker's drop time), independently of the tracker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deconflict.geo import distance_m
from deconflict.tracking import Tracker, TrackerConfig, replay

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def quickstart(real_data: Path) -> pd.DataFrame:
    return pd.read_parquet(real_data / "traffic" / "quickstart.parquet")


@pytest.fixture(scope="module")
def replayed(quickstart: pd.DataFrame) -> tuple[pd.DataFrame, Tracker]:
    return replay(quickstart, TrackerConfig())


def segments(frame: pd.DataFrame, gap_s: float) -> pd.DataFrame:
    """(icao24, segment number, start, end, rows) of each run without a gap longer than gap_s."""
    f = frame.sort_values(["icao24", "timestamp"])
    gap = f.groupby("icao24")["timestamp"].diff().dt.total_seconds() > gap_s
    seg = gap.astype(int).groupby(f["icao24"]).cumsum()
    return (
        f.assign(seg=seg)
        .groupby(["icao24", "seg"])
        .agg(start=("timestamp", "min"), end=("timestamp", "max"), rows=("timestamp", "size"))
        .reset_index()
    )


def test_one_track_per_aircraft_segment(
    quickstart: pd.DataFrame, replayed: tuple[pd.DataFrame, Tracker]
) -> None:
    out, trk = replayed
    cfg = trk.config
    segs = segments(quickstart, cfg.drop_after_s)
    # the recording's silences are far from the drop time, so segments are unambiguous
    gaps = quickstart.groupby("icao24")["timestamp"].diff().dt.total_seconds().dropna()
    assert not ((gaps > cfg.drop_after_s - 5) & (gaps < cfg.drop_after_s + 5)).any()
    assert out["track_id"].nunique() == len(segs)
    confirmed = out.loc[out["status"] == "confirmed", "track_id"].nunique()
    assert confirmed == int((segs["rows"] >= cfg.confirm_hits).sum())
    # each track holds exactly one aircraft and spans exactly one of its segments
    updates = out[out["status"].isin(["tentative", "confirmed"])]  # rows at report times
    per_track = (
        updates.groupby("track_id")
        .agg(
            icao=("icao24", "nunique"),
            icao24=("icao24", "first"),
            first=("timestamp", "min"),
            last=("timestamp", "max"),
        )
        .reset_index()
    )
    assert (per_track["icao"] == 1).all()
    m = per_track.merge(segs, on="icao24")
    m = m[(m["first"] >= m["start"]) & (m["last"] <= m["end"])]
    assert m["track_id"].is_unique and len(m) == len(per_track)  # each track in one segment
    assert not m.duplicated(["icao24", "seg"]).any()  # and each segment is one track
    assert trk.counters["reports"] == len(quickstart)
    assert trk.counters["position_updates"] + trk.counters["tracks_started"] == len(quickstart)
    assert trk.counters["kinematic_associations"] == 0  # every report carries its icao24


def test_track_positions_follow_the_reports(
    quickstart: pd.DataFrame, replayed: tuple[pd.DataFrame, Tracker]
) -> None:
    out, _ = replayed
    # airborne reports with a new position (OpenSky repeats the last position between updates)
    prev = quickstart.groupby("icao24")[["latitude", "longitude"]].shift()
    repeated = (quickstart["latitude"] == prev["latitude"]) & (
        quickstart["longitude"] == prev["longitude"]
    )
    fresh = quickstart[~repeated & ~quickstart["onground"].fillna(False).astype(bool)]
    live = out[out["status"] == "confirmed"]
    rows = live.merge(fresh, on=["timestamp", "icao24"], suffixes=("", "_rep"))
    assert len(rows) > 0.7 * len(fresh)
    d = distance_m(rows["latitude"], rows["longitude"], rows["latitude_rep"], rows["longitude_rep"])
    # ADS-B positions are good to tens of metres; the filter stays close to them
    assert np.median(d) < 30.0
    assert np.percentile(d, 99) < 200.0
    speed = (rows["groundspeed"] - rows["groundspeed_rep"].astype(float)).abs()
    assert np.nanmedian(speed) < 2.0


def test_altitude_outliers_rejected_never_a_track(
    quickstart: pd.DataFrame, replayed: tuple[pd.DataFrame, Tracker]
) -> None:
    out, trk = replayed
    errors = trk.errors()
    for alt_ft in (123_100, -300):
        row = quickstart[quickstart["altitude"] == alt_ft].iloc[0]
        at = out[(out["icao24"] == row["icao24"]) & (out["timestamp"] == row["timestamp"])]
        assert len(at) == 1  # the report updated the aircraft's one track ...
        tracks_of_aircraft = out.loc[out["icao24"] == row["icao24"], "track_id"].unique()
        near = quickstart[
            (quickstart["icao24"] == row["icao24"])
            & ((quickstart["timestamp"] - row["timestamp"]).abs() <= pd.Timedelta("3s"))
            & (quickstart["timestamp"] != row["timestamp"])
        ]
        neighbours_ft = near["altitude"].astype(float).median()
        # ... and the track's altitude is the neighbours' altitude, not the outlier's
        assert abs(float(at["altitude"].iloc[0]) - neighbours_ft) < 100.0
        assert at["track_id"].iloc[0] in tracks_of_aircraft
    jump = quickstart[quickstart["altitude"] == 123_100].iloc[0]
    rejected = errors[
        (errors["kind"] == "altitude_rejected") & (errors["icao24"] == jump["icao24"])
    ]
    assert (rejected["time"] == jump["timestamp"]).any()
    assert not (out["altitude"] > 60_000).any()


def test_altitude_jump_gate_alone_rejects_the_123100_ft_spike(quickstart: pd.DataFrame) -> None:
    row = quickstart[quickstart["altitude"] == 123_100].iloc[0]
    one = quickstart[quickstart["icao24"] == row["icao24"]]
    out, trk = replay(one, TrackerConfig(max_altitude_m=1.0e6))  # no ceiling: only the gate
    at = out[out["timestamp"] == row["timestamp"]]
    assert float(at["altitude"].iloc[0]) < 30_000
    assert trk.counters["altitude_rejected"] >= 1
    assert out["track_id"].nunique() == len(segments(one, trk.config.drop_after_s))
