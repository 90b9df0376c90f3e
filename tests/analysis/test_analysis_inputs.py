"""Input schemas and bad input: OpenSky units converted, corrupt files, missing columns and
mixed units refused with a message that says what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deconflict.analysis.inputs import normalise, open_source
from deconflict.analysis.run import analyse_files
from deconflict.errors import InputError

EDW = "state_vectors_data4_EDW24_LSZH_2024-04-06.parquet"


def test_opensky_state_vectors_are_converted(real_data: Path) -> None:
    raw = pd.read_parquet(real_data / "opensky" / EDW)
    src = open_source(real_data / "opensky" / EDW)
    assert src.schema == "opensky"
    lo, hi = src.time_range_s() or (0, 0)
    got = src.read_window(lo, hi + 1)
    ok = raw[["lat", "lon", "baroaltitude"]].notna().all(axis=1)
    # one sample per position: a position written again with the same lastposupdate is stale
    pos_t = raw.lastposupdate.astype(float).fillna(raw.time.astype("int64") / 1e9)
    fresh = raw.assign(pos_t=pos_t)[ok].drop_duplicates(["icao24", "pos_t"])
    assert 0 < len(fresh) < int(ok.sum())  # the recording repeats stale positions
    assert len(got) == len(fresh)
    assert np.allclose(np.sort(got.t_s), np.sort(fresh.pos_t), rtol=0, atol=1e-6)
    assert int(got.airborne.sum()) == int((~fresh.onground.astype(bool)).sum())
    assert got.alt_m.max() == pytest.approx(raw.baroaltitude.max())  # metres stay metres


def test_traffic_and_opensky_conventions_give_the_same_table(real_data: Path) -> None:
    raw = pd.read_parquet(real_data / "opensky" / "state_vectors_data4_RYR2RG_2022-02-02.parquet")
    ours = normalise(raw)
    as_traffic = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(raw.lastposupdate.astype(float), unit="s", utc=True),
            "icao24": raw.icao24,
            "callsign": raw.callsign,
            "latitude": raw.lat,
            "longitude": raw.lon,
            "altitude": raw.baroaltitude / 0.3048,
            "groundspeed": raw.velocity * 3600 / 1852,
            "onground": raw.onground,
        }
    )
    theirs = normalise(as_traffic)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-12)
    assert ours.alt_m.median() == pytest.approx(11277.6, abs=1.0)  # README: FL370


def test_corrupt_parquet_is_a_clear_error(real_data: Path, tmp_path: Path) -> None:
    data = (real_data / "traffic" / "switzerland.parquet").read_bytes()
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="not a readable Parquet file"):
        analyse_files([bad], tmp_path / "out", engine="local", progress=False)


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    pd.DataFrame(
        {
            "timestamp": ["2020-01-01T00:00:00Z"],
            "icao24": ["abc"],
            "latitude": [1.0],
            "longitude": [2.0],
        }
    ).to_csv(path, index=False)
    with pytest.raises(
        InputError,
        match=r"missing column\(s\): altitude \[altitude in ft or OpenSky.s baroaltitude\]",
    ):
        open_source(path)


def test_both_conventions_in_one_file_is_mixed_units(real_data: Path) -> None:
    raw = pd.read_parquet(real_data / "traffic" / "switzerland.parquet").head(100)
    with pytest.raises(InputError, match="mixed units"):
        normalise(raw.assign(baroaltitude=raw.altitude * 0.3048))


def test_speed_in_the_wrong_unit_is_mixed_units(real_data: Path) -> None:
    raw = pd.read_parquet(real_data / "traffic" / "switzerland.parquet").head(20000)
    normalise(raw)  # as recorded: knots, accepted
    with pytest.raises(InputError, match=r"groundspeed.*kt.*mixed units"):
        normalise(raw.assign(groundspeed=raw.groundspeed * 1852 / 3600))  # m/s labelled kt


def test_aircraft_on_the_ground_are_left_out(real_data: Path, tmp_path: Path) -> None:
    """quickstart (Paris, 1 s) has on-ground rows; no event involves a sample on the ground."""
    raw = pd.read_parquet(real_data / "traffic" / "quickstart.parquet")
    cut = raw[raw.timestamp < raw.timestamp.min() + pd.Timedelta("15min")]
    path = tmp_path / "q.parquet"
    cut.to_parquet(path)
    ev = analyse_files([path], tmp_path / "o", engine="local", progress=False, step_s=5.0)
    assert len(ev) > 0
    ground = cut[cut.onground.fillna(False).astype(bool)]
    on_ground = set(ground.icao24) - set(cut[~cut.onground.fillna(False).astype(bool)].icao24)
    assert on_ground  # some aircraft never leave the ground in these 15 min
    assert not (set(ev.a) | set(ev.b)) & on_ground
    assert np.all(ev.altitude_ft > 0)


def test_csv_gives_the_same_events_as_parquet(real_data: Path, tmp_path: Path) -> None:
    raw = pd.read_parquet(real_data / "traffic" / "switzerland.parquet")
    cut = raw[(raw.timestamp >= "2018-08-01 12:00") & (raw.timestamp < "2018-08-01 12:40")]
    pq_path, csv_path = tmp_path / "s.parquet", tmp_path / "s.csv"
    cut.to_parquet(pq_path)
    cut.to_csv(csv_path, index=False)
    a = analyse_files([pq_path], tmp_path / "a", engine="local", progress=False)
    b = analyse_files([csv_path], tmp_path / "b", engine="local", progress=False)
    assert len(a) > 5
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
