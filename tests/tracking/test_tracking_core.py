"""Tracker behaviour on real aircraft (quickstart.parquet) seen by several sensors and parties,
with bad input: late reports, jumping clocks, missing positions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import InputError
from deconflict.geo import distance_m
from deconflict.surveillance.report import Report, reports_frame
from deconflict.tracking import TRACK_UPDATE_COLUMNS, Tracker, TrackerConfig, replay
from deconflict.units import KT

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def quickstart(real_data: Path) -> pd.DataFrame:
    return pd.read_parquet(real_data / "traffic" / "quickstart.parquet")


@pytest.fixture(scope="module")
def one_aircraft(quickstart: pd.DataFrame) -> pd.DataFrame:
    """Ten airborne minutes of one real aircraft, as party A's ADS-B reports."""
    counts = quickstart[~quickstart["onground"].fillna(False).astype(bool)]["icao24"]
    icao = counts.value_counts().index[0]
    f = quickstart[quickstart["icao24"] == icao].sort_values("timestamp")
    f = f[f["timestamp"] < f["timestamp"].iloc[0] + pd.Timedelta("10min")]
    return f.assign(party="A", sensor="adsb", source="trajectory").reset_index(drop=True)


def radar_plots(adsb: pd.DataFrame, seed: int, every: int = 4) -> pd.DataFrame:
    """Party B's primary radar: every 4th position of the aircraft, 100 m noise, no identity."""
    rng = np.random.default_rng(seed)
    plots = adsb.iloc[::every][["timestamp", "latitude", "longitude"]].copy()
    lat0 = np.radians(plots["latitude"].to_numpy())
    plots["latitude"] += rng.normal(0, 100.0, len(plots)) / 111_132.0
    plots["longitude"] += rng.normal(0, 100.0, len(plots)) / (111_320.0 * np.cos(lat0))
    return plots.assign(party="B", sensor="radar-1", source="asterix", accuracy_m=100.0)


def test_two_parties_sensors_make_one_track(one_aircraft: pd.DataFrame) -> None:
    plots = radar_plots(one_aircraft, seed=1)
    both = pd.concat([one_aircraft, plots]).sort_values("timestamp", kind="stable")
    out, trk = replay(both.reset_index(drop=True))
    assert out["track_id"].nunique() == 1
    assert trk.counters["kinematic_associations"] == len(plots)
    assert set(out["icao24"].dropna()) == {one_aircraft["icao24"].iloc[0]}


def test_radar_track_picked_up_by_adsb_stays_one_track(one_aircraft: pd.DataFrame) -> None:
    plots = radar_plots(one_aircraft, seed=2)
    late_adsb = one_aircraft[one_aircraft["timestamp"] >= one_aircraft["timestamp"].iloc[120]]
    both = pd.concat([late_adsb, plots]).sort_values("timestamp", kind="stable")
    out, _trk = replay(both.reset_index(drop=True))
    confirmed = out[out["status"] == "confirmed"]
    assert confirmed["track_id"].nunique() == 1
    assert out["track_id"].nunique() <= 2  # at most a tentative ADS-B track merged away
    last = out.iloc[-1]
    assert last["icao24"] == one_aircraft["icao24"].iloc[0]
    early = out[out["timestamp"] < late_adsb["timestamp"].iloc[0]]
    assert early["icao24"].isna().all()  # before ADS-B the track had no identity


def test_reports_out_of_time_order(quickstart: pd.DataFrame) -> None:
    t0 = quickstart["timestamp"].iloc[0]
    part = quickstart[quickstart["timestamp"] < t0 + pd.Timedelta("10min")].reset_index(drop=True)
    rng = np.random.default_rng(3)
    # each report arrives up to 5 s late: shuffle within 5 s blocks
    block = (part["timestamp"] - t0).dt.total_seconds() // 5
    shuffled = part.iloc[np.lexsort((rng.random(len(part)), block.to_numpy()))]
    shuffled = shuffled.reset_index(drop=True)
    out_sorted, _trk_sorted = replay(part)
    out, trk = replay(shuffled)
    assert trk.counters["out_of_order"] > 100
    assert (trk.errors()["kind"] == "out_of_order").sum() == trk.counters["out_of_order"]
    assert trk.counters["reports"] == len(part)
    assert trk.counters["position_updates"] + trk.counters["tracks_started"] == len(part)
    assert out["track_id"].nunique() == out_sorted["track_id"].nunique()
    # late reports are applied at their own time: positions stay close to the sorted replay
    a = out_sorted[out_sorted["status"] == "confirmed"].drop_duplicates(["timestamp", "icao24"])
    b = out[out["status"] == "confirmed"].drop_duplicates(["timestamp", "icao24"])
    m = a.merge(b, on=["timestamp", "icao24"])
    d = distance_m(m["latitude_x"], m["longitude_x"], m["latitude_y"], m["longitude_y"])
    assert np.median(d) < 20.0


def test_a_sensor_clock_that_jumps(quickstart: pd.DataFrame) -> None:
    t0 = quickstart["timestamp"].iloc[0]
    part = quickstart[quickstart["timestamp"] < t0 + pd.Timedelta("5min")].reset_index(drop=True)
    icao = part["icao24"].value_counts().index[0]
    jumped = part.copy()
    sel = (jumped["icao24"] == icao) & (jumped["timestamp"] > t0 + pd.Timedelta("60s"))
    sel &= jumped["timestamp"] < t0 + pd.Timedelta("120s")
    jumped.loc[sel, "timestamp"] += pd.Timedelta("2h")  # that receiver's clock jumps ahead
    out_ok, _ = replay(part)
    out, trk = replay(jumped)
    assert trk.counters["clock_ahead"] == int(sel.sum())
    assert trk.counters["reports"] == len(part)
    assert out["track_id"].nunique() == out_ok["track_id"].nunique()
    errors = trk.errors()
    assert (errors["kind"] == "clock_ahead").sum() == int(sel.sum())
    assert set(errors.loc[errors["kind"] == "clock_ahead", "icao24"]) == {icao}


def test_now_going_backwards_is_counted(one_aircraft: pd.DataFrame) -> None:
    trk = Tracker()
    first = one_aircraft.iloc[:10]
    trk.update(first, first["timestamp"].max())
    trk.update(one_aircraft.iloc[10:20], first["timestamp"].max() - pd.Timedelta("30s"))
    assert trk.counters["clock_backwards"] == 1
    assert trk.counters["reports"] == 20
    assert len(trk.tracks()) == 1


def test_life_cycle(one_aircraft: pd.DataFrame) -> None:
    cfg = TrackerConfig(coast_after_s=10.0, drop_after_s=40.0)
    trk = Tracker(cfg)
    seen: list[str] = []
    minute = one_aircraft.iloc[:60]
    for _, row in minute.iterrows():
        out = trk.update(pd.DataFrame([row]), row["timestamp"])
        seen += list(out["status"])
    end = minute["timestamp"].iloc[-1]
    for k in range(1, 60):
        out = trk.update(minute.iloc[:0], end + pd.Timedelta(seconds=k))
        seen += list(out["status"])
        if k == 11:
            assert list(trk.tracks()["status"]) == ["coasting"]
    order = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]
    assert order == ["tentative", "confirmed", "coasting", "dropped"]
    assert len(trk.tracks(live_only=False)) == 0
    assert trk.counters["tracks_dropped"] == 1


def test_identity_goes_stale_without_confirmation(one_aircraft: pd.DataFrame) -> None:
    cfg = TrackerConfig(identity_stale_after_s=30.0)
    adsb = one_aircraft.iloc[:60]
    plots = radar_plots(one_aircraft.iloc[60:300], seed=4, every=4)
    both = pd.concat([adsb, plots]).reset_index(drop=True)
    out, trk = replay(both, cfg)
    assert out["track_id"].nunique() == 1
    last_adsb = adsb["timestamp"].max()
    fresh = out[out["timestamp"] <= last_adsb + pd.Timedelta("30s")]
    stale = out[out["timestamp"] > last_adsb + pd.Timedelta("31s")]
    assert (fresh["identity"] == "fresh").all()
    assert len(stale) > 10 and (stale["identity"] == "stale").all()
    ident = trk.identities()
    assert ident["callsign_time"].iloc[0] == last_adsb
    assert ident["icao24"].iloc[0] == adsb["icao24"].iloc[0]


def test_report_table_from_the_contract_and_reports_without_position() -> None:
    t = pd.Timestamp("2024-01-01T12:00:00Z")
    rows = [
        Report(
            t + pd.Timedelta(seconds=k),
            "A",
            "s1",
            "sbs",
            "3c6444",
            "DLH1",
            "1000",
            None,
            50.0 + k * 400 * KT / 111_250.0,
            8.0,
            30_000.0,
            400.0,
            0.0,
            0.0,
        )
        for k in range(5)
    ]
    trk = Tracker()
    out = trk.update(reports_frame(rows), t + pd.Timedelta(seconds=5))
    assert list(out["status"]) == ["confirmed"]
    assert out["altitude"].iloc[0] == pytest.approx(30_000.0, abs=1.0)
    assert out["groundspeed"].iloc[0] == pytest.approx(400.0, abs=1.0)
    # an identity-only report (no position) still renews the callsign
    no_pos = Report(t + pd.Timedelta(seconds=6), "A", "s1", "modes", "3c6444", "DLH2")
    stray = Report(t + pd.Timedelta(seconds=6), "A", "s1", "modes", "abcdef", "XYZ1")
    out = trk.update(reports_frame([no_pos, stray]), t + pd.Timedelta(seconds=6))
    assert list(out["callsign"]) == ["DLH2"]
    assert trk.counters["no_position"] == 1
    assert trk.counters["unassociated_no_position"] == 1
    assert (trk.errors()["kind"] == "unassociated_no_position").sum() == 1
    with pytest.raises(InputError, match="latitude"):
        trk.update(pd.DataFrame({"timestamp": [t]}), t)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(-4000.0, 4000.0), st.just(float("nan"))),  # time offset (s)
            st.one_of(st.floats(-0.5, 0.5), st.just(float("nan"))),  # latitude offset (deg)
            st.sampled_from([None, "aaaaaa", "bbbbbb"]),
            st.one_of(st.floats(-2000.0, 130_000.0), st.just(float("nan"))),  # altitude (ft)
        ),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.floats(-100.0, 100.0), min_size=1, max_size=5),
)
def test_bad_input_never_crashes_and_every_report_is_accounted_for(
    rows: list[tuple[float, float, str | None, float]], nows: list[float]
) -> None:
    t0 = pd.Timestamp("2024-01-01T00:00:00Z")
    frame = pd.DataFrame(
        {
            "timestamp": [t0 + pd.Timedelta(seconds=dt) if dt == dt else pd.NaT for dt, *_ in rows],
            "latitude": [48.0 + dl for _, dl, _, _ in rows],
            "longitude": [2.0] * len(rows),
            "icao24": pd.array([ic for _, _, ic, _ in rows], dtype="string"),
            "altitude": [alt for *_, alt in rows],
        }
    )
    trk = Tracker(TrackerConfig(origin_lat_deg=48.0, origin_lon_deg=2.0))
    chunks = np.array_split(np.arange(len(frame)), len(nows))
    for chunk, now in zip(chunks, nows, strict=True):
        out = trk.update(frame.iloc[chunk], t0 + pd.Timedelta(seconds=now))
        assert tuple(out.columns) == TRACK_UPDATE_COLUMNS
        assert np.isfinite(out["latitude"]).all()
    c = trk.counters
    accounted = (
        c["position_updates"]
        + c["tracks_started"]
        + c["no_position"]
        + c["unassociated_no_position"]
    )
    assert c["reports"] == accounted == len(frame)


def test_a_reused_sensor_track_number_does_not_drag_a_track(quickstart: pd.DataFrame) -> None:
    """Party B's system track 7 follows one real aircraft, then the number is reused for another
    one 20+ km away; party A's ADS-B keeps seeing the first. Two tracks, each on its aircraft."""
    t0 = quickstart["timestamp"].iloc[0] + pd.Timedelta("10min")
    win = quickstart[
        (quickstart["timestamp"] >= t0) & (quickstart["timestamp"] < t0 + pd.Timedelta("2min"))
    ]
    first = win[~win["onground"].fillna(False).astype(bool)].iloc[0]
    one = win[win["icao24"] == first["icao24"]]
    d = distance_m(first["latitude"], first["longitude"], win["latitude"], win["longitude"])
    other_icao = win.loc[d > 20_000, "icao24"].iloc[0]
    two = win[win["icao24"] == other_icao]
    half = t0 + pd.Timedelta("60s")
    b1 = one[one["timestamp"] < half].iloc[::4]
    b2 = two[two["timestamp"] >= half].iloc[::4]
    system = pd.concat([b1, b2])[["timestamp", "latitude", "longitude"]].assign(
        party="B", sensor="sdps", track_number=7
    )
    adsb = one.assign(party="A", sensor="adsb")
    both = pd.concat([adsb, system]).sort_values("timestamp", kind="stable").reset_index(drop=True)
    out, trk = replay(both)
    assert (trk.errors()["kind"] == "track_number_reused").sum() == 1
    assert trk.counters["track_reinitialised"] == 0
    mine = out[(out["icao24"] == first["icao24"]) & (out["status"] == "confirmed")]
    assert mine["track_id"].nunique() == 1
    ref = one.set_index("timestamp")
    at = mine[mine["timestamp"].isin(ref.index)].drop_duplicates("timestamp")
    dist = distance_m(
        at["latitude"], at["longitude"],
        ref.loc[at["timestamp"], "latitude"], ref.loc[at["timestamp"], "longitude"],
    )  # fmt: skip
    assert dist.max() < 500.0  # never pulled towards the other aircraft
    others = out[out["track_id"] != mine["track_id"].iloc[0]]
    assert others["track_id"].nunique() == 1 and others["icao24"].isna().all()


@pytest.mark.parametrize("icao24", ["3e3ab8", "440612"])  # two of the recording's sharpest turners
def test_the_manoeuvre_model_pays_on_turning_real_aircraft(
    quickstart: pd.DataFrame, icao24: str
) -> None:
    """Radar-only plots (4 s, 100 m) of a real turning aircraft: with the manoeuvre model the
    tracker breaks the track less often and stays closer to the ADS-B truth than plain CV."""
    air = quickstart[~quickstart["onground"].fillna(False).astype(bool)]
    truth = air[air["icao24"] == icao24].sort_values("timestamp").reset_index(drop=True)
    plots = radar_plots(truth, seed=5).reset_index(drop=True)
    result = {}
    for name, cfg in (("manoeuvre", TrackerConfig()), ("cv", TrackerConfig(q_manoeuvre=1.0))):
        out, _ = replay(plots, cfg)
        conf = out[out["status"] == "confirmed"]
        m = conf.merge(truth[["timestamp", "latitude", "longitude"]], on="timestamp")
        err = distance_m(m["latitude_x"], m["longitude_x"], m["latitude_y"], m["longitude_y"])
        result[name] = (conf["track_id"].nunique(), float(np.sqrt(np.mean(err**2))))
    assert result["manoeuvre"][0] < result["cv"][0]
    assert result["manoeuvre"][1] < result["cv"][1]
    assert result["manoeuvre"][1] < 125.0  # below the raw plots' 141 m (100 m per axis)
