"""Incident detection: closest approach against an independent geodesic reference, on synthetic
encounters and on real recorded traffic; severity classes; the record's JSON form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from deconflict.errors import InputError
from deconflict.incidents.detect import IncidentPolicy, detect_incidents
from deconflict.incidents.geometry import Timeline, separation
from deconflict.incidents.record import Incident, attach_context, load_incident, save_incident
from deconflict.incidents.severity import Severity, SeverityPolicy, classify
from deconflict.units import FT, NM

GEOD = Geod(ellps="WGS84")


def straight(
    party: str,
    ident: str,
    lat: float,
    lon: float,
    azimuth_deg: float,
    speed_mps: float,
    alt_m: float,
    t0: float,
    t1: float,
    step_s: float,
    t_ref: float,
) -> Timeline:
    """A geodesic straight flight that is at (lat, lon) at t_ref."""
    t = np.arange(t0, t1 + 1e-9, step_s)
    dist = (t - t_ref) * speed_mps
    az = np.where(dist >= 0, azimuth_deg, azimuth_deg + 180.0)
    lons, lats, _ = GEOD.fwd(np.full_like(t, lon), np.full_like(t, lat), az, np.abs(dist))
    return Timeline.from_arrays(party, ident, t, lats, lons, np.full_like(t, alt_m))


def reference_cpa(a: Timeline, b: Timeline, step_s: float = 0.05) -> tuple[float, float, float]:
    """Dense geodesic reference: lat/lon/alt interpolated linearly, distances by Geod.inv."""
    t = np.arange(max(a.t_s[0], b.t_s[0]), min(a.t_s[-1], b.t_s[-1]), step_s)
    la = [np.interp(t, a.t_s, x) for x in (a.latitude_deg, a.longitude_deg, a.altitude_m)]
    lb = [np.interp(t, b.t_s, x) for x in (b.latitude_deg, b.longitude_deg, b.altitude_m)]
    _, _, h = GEOD.inv(la[1], la[0], lb[1], lb[0])
    v = np.abs(la[2] - lb[2])
    k = int(np.argmin(np.hypot(h, v)))
    return float(t[k]), float(h[k]), float(v[k])


def test_crossing_encounter_matches_geodesic_reference() -> None:
    a = straight("alpha", "A1", 35.50, 38.90, 90.0, 230.0, 9000.0, 0, 1200, 10.0, 600.0)
    b = straight("bravo", "B1", 35.52, 38.91, 180.0, 210.0, 9150.0, 3, 1203, 7.0, 598.0)
    t_ref, h_ref, v_ref = reference_cpa(a, b)
    (inc,) = detect_incidents(a, b)
    assert inc.time_s == pytest.approx(t_ref, abs=0.2)
    assert inc.horizontal_m == pytest.approx(h_ref, abs=2.0)
    assert inc.vertical_m == pytest.approx(v_ref, abs=0.5)
    assert inc.kind == "loss_of_separation"
    assert inc.los_start_s is not None and inc.los_end_s is not None
    assert inc.los_start_s < inc.time_s < inc.los_end_s
    # Loss of separation starts when the horizontal distance drops below 5 NM (dz is 150 m).
    sep = separation(a, b)
    h_at_start = np.interp(inc.los_start_s, sep.t_s, sep.horizontal_m)
    assert h_at_start < 5 * NM and h_at_start > 5 * NM - 300.0  # within one sample interval
    lo, hi = inc.tracks[0].t_s[[0, -1]]
    assert lo >= inc.time_s - 300 and hi <= inc.time_s + 300 and hi - lo >= 580


def test_no_incident_when_apart_same_party_or_no_overlap() -> None:
    a = straight("alpha", "A1", 35.5, 38.9, 90.0, 230.0, 9000.0, 0, 600, 10.0, 300.0)
    far = straight("bravo", "B1", 35.6, 38.9, 90.0, 230.0, 9000.0, 0, 600, 10.0, 300.0)
    assert detect_incidents(a, far) == []  # 11 km abeam at the same level
    above = straight(
        "bravo", "B1", 35.5, 38.9, 90.0, 230.0, 9000.0 + 10000 * FT, 0, 600, 10.0, 300.0
    )
    assert detect_incidents(a, above) == []  # 3 km straight above: the slant range is 3,048 m
    mine = straight("alpha", "A2", 35.5, 38.9, 270.0, 230.0, 9000.0, 0, 600, 10.0, 300.0)
    assert detect_incidents(a, mine) == []
    later = straight("bravo", "B2", 35.5, 38.9, 270.0, 230.0, 9000.0, 700, 900, 10.0, 800.0)
    assert detect_incidents(a, later) == []


def test_adjacent_flight_levels_are_separated_only_at_1000_ft() -> None:
    a = straight("alpha", "A1", 35.5, 38.9, 90.0, 230.0, 9000.0, 0, 600, 10.0, 300.0)
    b = straight("bravo", "B1", 35.5, 38.9, 270.0, 230.0, 9000.0 + 1000 * FT, 0, 600, 10.0, 300.0)
    policy = IncidentPolicy(close_approach_m=100.0)
    assert detect_incidents(a, b, policy) == []
    b2 = straight("bravo", "B1", 35.5, 38.9, 270.0, 230.0, 9000.0 + 975 * FT, 0, 600, 10.0, 300.0)
    (inc,) = detect_incidents(a, b2, policy)
    assert inc.kind == "loss_of_separation"


def test_close_approach_without_loss_is_class_e_and_two_encounters_are_two_incidents() -> None:
    # Same level, passing 2.5 km apart abeam twice (out and back), 3 NM standard.
    a = straight("alpha", "A1", 35.5, 38.9, 0.0, 0.0, 9000.0, 0, 2000, 10.0, 0.0)  # hovering
    out = straight(
        "bravo", "B1", 35.5225, 38.9, 90.0, 200.0, 9000.0 + 1500 * FT, 0, 1000, 10.0, 500.0
    )
    back = straight(
        "bravo", "B1", 35.5225, 38.9, 270.0, 200.0, 9000.0 + 1500 * FT, 1000, 2000, 10.0, 1700.0
    )
    merged = Timeline.from_arrays(
        "bravo",
        "B1",
        np.r_[out.t_s, back.t_s[1:]],
        np.r_[out.latitude_deg, back.latitude_deg[1:]],
        np.r_[out.longitude_deg, back.longitude_deg[1:]],
        np.r_[out.altitude_m, back.altitude_m[1:]],
    )
    found = detect_incidents(a, merged, IncidentPolicy.from_standard("icao-3nm"))
    assert [i.kind for i in found] == ["close_approach", "close_approach"]
    assert [i.severity for i in found] == [Severity.E, Severity.E]
    assert found[0].time_s == pytest.approx(500, abs=2) and found[1].time_s == pytest.approx(
        1700, abs=2
    )
    assert found[0].incident_id != found[1].incident_id


def test_severity_rule_boundaries() -> None:
    kw = {"horizontal_min_m": 5 * NM, "vertical_min_m": 1000 * FT, "data_gap_s": 0.0}
    assert classify(100.0, 20.0, loss_of_separation=True, **kw)[0] is Severity.A
    assert classify(499 * FT, 99 * FT, loss_of_separation=True, **kw)[0] is Severity.A
    assert classify(501 * FT, 99 * FT, loss_of_separation=True, **kw)[0] is Severity.B
    assert classify(2 * NM, 400 * FT, loss_of_separation=True, **kw)[0] is Severity.B
    assert classify(2 * NM, 600 * FT, loss_of_separation=True, **kw)[0] is Severity.C
    assert classify(3 * NM, 100 * FT, loss_of_separation=True, **kw)[0] is Severity.C
    assert classify(2000.0, 2000 * FT, loss_of_separation=False, **kw)[0] is Severity.E
    gap = {**kw, "data_gap_s": 45.0}
    assert classify(10.0, 10.0, loss_of_separation=True, **gap)[0] is Severity.D
    with pytest.raises(InputError):
        SeverityPolicy(margin_fraction=0)


def test_gap_in_the_record_at_closest_approach_is_class_d() -> None:
    a = straight("alpha", "A1", 35.50, 38.90, 90.0, 230.0, 9000.0, 0, 1200, 5.0, 600.0)
    b = straight("bravo", "B1", 35.50, 38.90, 270.0, 230.0, 9020.0, 0, 1200, 5.0, 600.0)
    holed = b.window(0, 560)
    rest = b.window(640, 1200)
    b_gap = Timeline.from_arrays(
        "bravo",
        "B1",
        np.r_[holed.t_s, rest.t_s],
        np.r_[holed.latitude_deg, rest.latitude_deg],
        np.r_[holed.longitude_deg, rest.longitude_deg],
        np.r_[holed.altitude_m, rest.altitude_m],
    )
    (full,) = detect_incidents(a, b)
    (gapped,) = detect_incidents(a, b_gap)
    assert full.severity is Severity.A
    assert gapped.severity is Severity.D and "gap" in gapped.severity_reason


def test_record_round_trip_and_context(tmp_path: Path) -> None:
    a = straight("alpha", "A1", 35.50, 38.90, 90.0, 230.0, 9000.0, 0, 1200, 10.0, 600.0)
    b = straight("bravo", "B1", 35.52, 38.91, 180.0, 210.0, 9150.0, 3, 1203, 7.0, 598.0)
    (inc,) = detect_incidents(a, b)
    alerts = [
        {"time_s": 100.0, "level": 1, "text": "too early"},
        {"time_s": inc.time_s - 90, "level": 2, "text": "corrective"},
        {"time_s": inc.time_s - 120, "level": 1, "text": "preventive"},
        {"time_s": inc.time_s + 10, "level": 3, "text": "after"},
    ]
    messages = [
        {"time_s": inc.time_s - 60, "sender": "host", "kind": "conflict_notice", "text": "notice"},
        {"time_s": inc.time_s + 200, "sender": "alpha", "kind": "free_text", "text": "we saw it"},
    ]
    inc = attach_context(inc, alerts, messages)
    assert [a["text"] for a in inc.alerts] == ["preventive", "corrective"]
    assert len(inc.messages) == 2
    assert inc.warning_time_s == pytest.approx(inc.los_start_s - (inc.time_s - 120))
    path = tmp_path / "incident.json"
    save_incident(inc, path)
    again = load_incident(path)
    assert again.to_dict() == json.loads(path.read_text())
    assert again.to_dict() == inc.to_dict()
    with pytest.raises(InputError):
        Incident.from_dict({"incident_id": "x"})


REAL_PAIRS = [  # two real crossings in the Swiss sample, found by scanning it at 10 s steps
    ("4006d6", "40643c", "2018-08-01 12:27:00"),
    ("406b59", "4ca505", "2018-08-01 07:38:10"),
]


@pytest.mark.real_data
@pytest.mark.parametrize(("ica", "icb", "when"), REAL_PAIRS)
def test_real_crossings_match_geodesic_reference(
    real_data: Path, ica: str, icb: str, when: str
) -> None:
    frame = pd.read_parquet(real_data / "traffic" / "switzerland.parquet")
    t = pd.Timestamp(when, tz="UTC")
    near = frame[
        (frame.timestamp > t - pd.Timedelta("20min"))
        & (frame.timestamp < t + pd.Timedelta("20min"))
    ]
    a = Timeline.from_frame(near[near.icao24 == ica], "alpha", ica)
    b = Timeline.from_frame(near[near.icao24 == icb], "bravo", icb)
    t_ref, h_ref, v_ref = reference_cpa(a, b, step_s=0.1)
    found = detect_incidents(a, b)
    assert len(found) == 1
    inc = found[0]
    assert inc.time_s == pytest.approx(t_ref, abs=1.0)
    assert np.hypot(inc.horizontal_m, inc.vertical_m) == pytest.approx(
        np.hypot(h_ref, v_ref), abs=3.0
    )
    # Expected class from the reference geometry and the stated rule (icao-5nm minima).
    lost = h_ref < 5 * NM and v_ref < 999 * FT
    assert inc.kind == ("loss_of_separation" if lost else "close_approach")
    if h_ref < 500 * FT and v_ref < 100 * FT:
        expected = Severity.A
    elif lost and h_ref < 2.5 * NM and v_ref < 500 * FT:
        expected = Severity.B
    elif lost:
        expected = Severity.C
    else:
        expected = Severity.E
    assert inc.severity is expected


@settings(max_examples=15, deadline=None)
@given(
    st.floats(0, 359),
    st.floats(0, 359),
    st.floats(80, 300),
    st.floats(80, 300),
    st.floats(-3000, 3000),
    st.floats(-200, 200),
    st.floats(-60, 60),
)
def test_closest_approach_property(
    az_a: float, az_b: float, va: float, vb: float, offset_m: float, dz_m: float, dt_s: float
) -> None:
    """Random straight encounters (different sampling of each track) against the reference."""
    lon_b, lat_b, _ = GEOD.fwd(38.9, 35.5, 0.0, offset_m)
    a = straight("alpha", "A", 35.5, 38.9, az_a, va, 9000.0, 0, 900, 4.0, 450.0)
    b = straight(
        "bravo", "B", float(lat_b), float(lon_b), az_b, vb, 9000.0 + dz_m, 1, 901, 6.0, 450.0 + dt_s
    )
    sep = separation(a, b)
    k = int(np.argmin(sep.slant_m))
    _, h_ref, v_ref = reference_cpa(a, b, step_s=0.02)
    assert np.hypot(sep.horizontal_m[k], sep.vertical_m[k]) == pytest.approx(
        np.hypot(h_ref, v_ref), abs=1.0
    )
