"""The one reader of aircraft tables (``deconflict.tables``) behind every command and API:
OpenSky's names and units wherever the traffic convention is accepted, ``lastposupdate`` as the
position's time (a stale position written again is not a fresh report), ``onground``,
``flight_id``, ``traffic`` objects, and times without a zone read as UTC whatever ``TZ`` says."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from deconflict import detect
from deconflict.analysis.inputs import normalise, open_source
from deconflict.cli import app
from deconflict.engine.session import Session
from deconflict.engine.sources import ReplaySource
from deconflict.errors import InputError
from deconflict.predict.states import to_states
from deconflict.surveillance import DecodeOptions
from deconflict.surveillance.tables import decode_table
from deconflict.tables import layout_of, to_traffic

RYR = "state_vectors_data4_RYR2RG_2022-02-02.parquet"
NOON = 1714564800.0  # 2024-05-01T12:00:00Z


class Flight:
    """What the reader needs of a ``traffic`` ``Flight`` / ``Traffic``: its ``.data`` frame
    (the ``traffic`` package itself is not a dependency; see the module note of tables.py)."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data


@pytest.fixture()
def ryr(real_data: Path) -> pd.DataFrame:
    return pd.read_parquet(real_data / "opensky" / RYR)


def head_on(raw: pd.DataFrame) -> pd.DataFrame:
    """Two OpenSky state vectors at one instant, head-on at FL370: RYR2RG now, and the state
    vector it had 4 min later, turned round, as another aircraft at the same level."""
    a, b = raw.iloc[[0]].copy(), raw.iloc[[240]].copy()
    b["icao24"], b["callsign"] = "abcdef", "OTHER1"
    b["heading"] = (b["heading"].astype(float) + 180.0) % 360.0
    b["baroaltitude"] = a["baroaltitude"].to_numpy()
    return pd.concat([a, b], ignore_index=True)


def by_hand(states: pd.DataFrame) -> pd.DataFrame:
    """The same states converted to the traffic convention here, from OpenSky's units."""
    return pd.DataFrame(
        {
            "icao24": states["icao24"],
            "latitude": states["lat"],
            "longitude": states["lon"],
            "altitude": states["baroaltitude"].astype(float) / 0.3048,
            "groundspeed": states["velocity"].astype(float) * 3600 / 1852,
            "track": states["heading"],
            "vertical_rate": states["vertrate"].astype(float) * 60 / 0.3048,
        }
    )


def test_detect_takes_opensky_state_vectors(ryr: pd.DataFrame) -> None:
    states = head_on(ryr)
    ours = detect(states)
    theirs = detect(by_hand(states))
    assert len(ours) == 1  # head-on at one level: a conflict
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-9)
    # a traffic object at one instant is accepted as its frame
    pd.testing.assert_frame_equal(detect(Flight(states)), ours)
    s = to_states(states)
    assert s.alt_m == pytest.approx(np.full(2, 11277.6))  # metres stay metres
    assert s.gs_mps == pytest.approx(states["velocity"].astype(float).to_numpy())


def test_detect_cli_on_an_opensky_file(ryr: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "opensky.parquet"
    head_on(ryr).to_parquet(path)
    result = CliRunner().invoke(app, ["detect", str(path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    expected = detect(by_hand(head_on(ryr)))
    assert out["skipped_rows"] == 0 and len(out["conflicts"]) == 1
    got = out["conflicts"][0]
    assert {got["a"], got["b"]} == {"4d2271", "abcdef"}
    assert got["tcpa_s"] == pytest.approx(float(expected["tcpa_s"].iloc[0]))


def test_flight_id_names_the_aircraft_everywhere() -> None:
    """One icao24 flying two flights: ``flight_id`` tells them apart (analysis, detect, replay)."""
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([NOON, NOON + 10, NOON, NOON + 10], unit="s", utc=True),
            "icao24": ["4b1901"] * 4,
            "flight_id": ["EDW24_1", "EDW24_1", "EDW24_2", "EDW24_2"],
            "latitude": [47.0, 47.01, 46.0, 46.01],
            "longitude": [8.0, 8.0, 7.0, 7.0],
            "altitude": [30000.0] * 4,
            "groundspeed": [400.0] * 4,
            "track": [0.0] * 4,
        }
    )
    canon = normalise(frame)
    assert sorted(set(canon["id"])) == ["EDW24_1", "EDW24_2"] and len(canon) == 4
    pd.testing.assert_frame_equal(normalise(Flight(frame)), canon)  # a traffic object
    assert set(to_states(frame.iloc[[0, 2]]).ids) == {"EDW24_1", "EDW24_2"}
    assert list(to_traffic(frame)["flight_id"]) == list(frame["flight_id"])


def test_stale_positions_are_not_fresh_reports() -> None:
    """OpenSky writes a state vector every second; one whose ``lastposupdate`` did not change
    repeats the old position: every reader keeps it once, at the position's time."""
    t0 = pd.Timestamp(NOON, unit="s", tz="UTC")
    raw = pd.DataFrame(
        {
            "time": [t0, t0 + pd.Timedelta(seconds=1), t0 + pd.Timedelta(seconds=2)],
            "icao24": ["4d2271"] * 3,
            "lat": [45.0, 45.0, 45.01],
            "lon": [5.0, 5.0, 5.0],
            "baroaltitude": [11277.6] * 3,
            "velocity": [216.0] * 3,
            "heading": [0.0] * 3,
            "vertrate": [0.0] * 3,
            "onground": [False] * 3,
            "lastposupdate": [NOON - 0.4, NOON - 0.4, NOON + 1.9],
        }
    )
    edge = to_traffic(raw)
    assert list(edge.index) == [0, 2]  # the repeat (row 1) is left out
    assert edge["timestamp"].astype("int64").tolist() == [
        round((NOON - 0.4) * 1e9),
        round((NOON + 1.9) * 1e9),
    ]
    assert edge["altitude"].to_numpy() == pytest.approx([37000.0, 37000.0])
    assert normalise(raw)["t_s"].tolist() == pytest.approx([NOON - 0.4, NOON + 1.9])
    result = decode_table(raw, DecodeOptions())
    assert len(result.reports) == 2 and result.counts["stale_positions"] == 1
    replay = ReplaySource(raw, party="p", start=pd.Timestamp("2030-01-01T00:00:00Z"))
    assert len(replay.reports) == 2
    assert replay.duration_s == pytest.approx(2.3)


def test_onground_flag_from_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame(
        {
            "timestamp": ["2024-05-01T12:00:00Z", "2024-05-01T12:00:10Z"],
            "icao24": ["abc123", "abc123"],
            "latitude": [47.0, 47.01],
            "longitude": [8.0, 8.0],
            "altitude": [1400.0, 1400.0],
            "groundspeed": [10.0, 160.0],
            "onground": [True, False],
        }
    ).to_csv(path, index=False)
    src = open_source(path)
    got = src.read_window(NOON - 1, NOON + 60)
    assert got["airborne"].tolist() == [False, True]
    assert to_traffic(path)["onground"].tolist() == [True, False]


def test_missing_and_mixed_columns_say_what_is_accepted() -> None:
    with pytest.raises(InputError) as err:
        layout_of(["time", "icao24", "lat", "lon"], "x.parquet", need=("altitude", "groundspeed"))
    text = str(err.value)
    assert "altitude [altitude in ft or OpenSky's baroaltitude]" in text
    assert "groundspeed [groundspeed in kt or OpenSky's velocity]" in text
    assert "found: time, icao24, lat, lon" in text
    with pytest.raises(InputError, match="mixed units, both 'altitude'"):
        layout_of(["timestamp", "icao24", "latitude", "longitude", "altitude", "baroaltitude"])
    # traffic's decoded Mode S data has a (magnetic) heading beside the track: not a clash
    both = layout_of(["timestamp", "icao24", "latitude", "longitude", "track", "heading"])
    assert both.name == "traffic" and both.columns["track"] == "track"


def test_replay_of_an_opensky_recording(real_data: Path, ryr: pd.DataFrame) -> None:
    """``serve --replay`` (``Session.from_recording``) takes an OpenSky table: its aircraft is
    tracked at its altitude in ft."""
    session = Session.from_recording(real_data / "opensky" / RYR)
    fresh = ryr.drop_duplicates(["icao24", "lastposupdate"])
    assert session.duration_s == pytest.approx(
        fresh["lastposupdate"].max() - fresh["lastposupdate"].min(), abs=1e-3
    )
    session.run_fast(30)
    picture = session.engine.picture("replay")
    assert list(picture["icao24"]) == ["4d2271"]
    assert float(picture["altitude"].iloc[0]) == pytest.approx(11277.6 / 0.3048, abs=50)


@pytest.fixture(params=["Europe/Paris", "America/Los_Angeles"])
def local_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    assert time.timezone != 0
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_naive_times_are_utc_in_every_reader(local_zone: str, tmp_path: Path) -> None:
    """The same table with times written without a zone, with ``Z`` and in unix seconds gives
    the same instants in every reader, whatever the machine's zone."""
    base = {
        "icao24": ["abc123", "abc123"],
        "latitude": [47.0, 47.01],
        "longitude": [8.0, 8.0],
        "altitude": [30000.0, 30000.0],
        "groundspeed": [400.0, 400.0],
        "track": [0.0, 0.0],
    }
    naive = pd.DataFrame({"timestamp": ["2024-05-01T12:00:00", "2024-05-01T12:00:10"], **base})
    zoned = naive.assign(timestamp=["2024-05-01T12:00:00Z", "2024-05-01T12:00:10Z"])
    unix = naive.assign(timestamp=[NOON, NOON + 10])
    expected = [NOON, NOON + 10]
    for frame in (naive, zoned, unix):
        assert (to_traffic(frame)["timestamp"].astype("int64") / 1e9).tolist() == expected
        assert normalise(frame)["t_s"].tolist() == expected
        reports = decode_table(frame, DecodeOptions()).reports
        assert (reports["timestamp"].astype("int64") / 1e9).tolist() == expected
        assert ReplaySource(frame, party="p").reports["timestamp"].iloc[0].timestamp() == NOON
    path = tmp_path / "naive.csv"
    naive.to_csv(path, index=False)
    assert open_source(path).time_range_s() == (NOON, NOON + 10)
