"""DO-365 alerting (projection, alerters, levels, time to the corrective volume, wind) against
DAIDALUS's outputs for every reference encounter, plus closed-form and invariance properties."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from predict_daidalus_helpers import case_encounter, load_cases, num

from deconflict.errors import InputError
from deconflict.predict.daidalus.alerting import compute_alerts
from deconflict.predict.daidalus.encounter import read_encounter
from deconflict.predict.daidalus.projection import project_states

NM = 1852.0
FT = 0.3048
KT = NM / 3600.0
FPM = FT / 60.0


def _alerts(encounter: dict[str, Any]) -> Any:
    e = read_encounter(encounter)
    return compute_alerts(e.own_s, e.own_v, e.intr_s, e.intr_v, e.alerter)


def test_projection_matches_daidalus_enu_states(reference_dir: Path) -> None:
    """Our ENU projection (with the 10 s great-circle velocity) reproduces the projected states
    DAIDALUS reports, to its 6-decimal rounding."""
    worst_s = worst_v = 0.0
    for case in load_cases(reference_dir):
        if case["coords"] != "latlon":
            continue
        inp = case["inputs"]
        states = [inp["ownship"], *inp["intruders"]]
        trk = np.radians([a["trk_deg"] for a in states])
        gs = np.array([a["gs_kn"] for a in states]) * KT
        s, v = project_states(
            inp["ownship"]["lat_deg"],
            inp["ownship"]["lon_deg"],
            [a["lat_deg"] for a in states],
            [a["lon_deg"] for a in states],
            [a["alt_ft"] * FT for a in states],
            gs * np.sin(trk),
            gs * np.cos(trk),
            [a["vs_fpm"] * FPM for a in states],
        )
        out = case["outputs"]
        ref_s = np.array([out["ownship_enu_s_m"]] + [i["enu_s_m"] for i in out["intruders"]])
        ref_v = np.array([out["ownship_enu_v_mps"]] + [i["enu_v_mps"] for i in out["intruders"]])
        worst_s = max(worst_s, float(np.abs(s - ref_s).max()))
        worst_v = max(worst_v, float(np.abs(v - ref_v).max()))
    assert worst_s < 1e-5 and worst_v < 1e-5


def test_alert_levels_and_times_match_daidalus(reference_dir: Path) -> None:
    """Every intruder of every encounter: alert level, per-level violation intervals, time to
    the corrective volume and 'in violation' as DAIDALUS gives them (from lat/lon inputs)."""
    n = 0
    worst = 0.0
    levels_seen = set()
    for case in load_cases(reference_dir):
        alerts = _alerts(case_encounter(case))
        for k, ref in enumerate(case["outputs"]["intruders"]):
            n += 1
            assert alerts.alert_level[k] == ref["alert_level"], case["case_id"]
            levels_seen.add(ref["alert_level"])
            assert bool(alerts.in_violation[k]) == ref["in_violation"], case["case_id"]
            t_ref = num(ref["time_to_violation_s"])
            t = float(alerts.time_to_violation_s[k])
            if math.isinf(t_ref):
                assert t == t_ref, case["case_id"]
            else:
                worst = max(worst, abs(t - t_ref))
            for lvl, interval in enumerate(ref["level_conflict_intervals_s"]):
                if interval is None:
                    assert math.isinf(alerts.intervals_s[k, lvl, 0]), case["case_id"]
                else:
                    assert abs(alerts.intervals_s[k, lvl, 0] - num(interval[0])) < 1e-4
                    assert abs(alerts.intervals_s[k, lvl, 1] - num(interval[1])) < 1e-4
    assert n >= 40 and levels_seen == {0, 1, 2, 3}
    assert worst < 1e-5  # measured: 4.9e-7 s


def _geo_state(ident: str, east_nmi: float, north_nmi: float, **kw: float) -> dict[str, Any]:
    lat0, lon0 = 37.0, -122.0
    state: dict[str, Any] = {
        "id": ident,
        "latitude": lat0 + north_nmi / 60.0,
        "longitude": lon0 + east_nmi / (60.0 * math.cos(math.radians(lat0))),
        "altitude": 10000.0,
        "groundspeed": 200.0,
        "track": 0.0,
        "vertical_rate": 0.0,
    }
    state.update(kw)
    return state


def test_head_on_closed_form_from_lat_lon() -> None:
    """10 nmi head-on at 400 kn closure: entry at range r solving r² − TTHR·ṙ·r − DTHR² = 0,
    i.e. 54.02 s (notes §4), so a corrective alert (54.02 < 55 s)."""
    enc = {
        "ownship": _geo_state("own", 0.0, 0.0),
        "intruders": [_geo_state("intr", 0.0, 10.0, track=180.0)],
    }
    alerts = _alerts(enc)
    closure = 400 * KT
    k = 35.0 * closure
    r = (k + math.sqrt(k * k + 4 * (0.66 * NM) ** 2)) / 2
    assert abs(float(alerts.time_to_violation_s[0]) - (10 * NM - r) / closure) < 0.01
    assert abs(float(alerts.time_to_violation_s[0]) - 54.02) < 0.01
    assert alerts.alert_level[0] == 2


def _xyz(
    ident: str, x: float, y: float, alt: float, trk: float, gs: float, vs: float, **kw: Any
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "id": ident,
        "x_nmi": x,
        "y_nmi": y,
        "altitude": alt,
        "track": trk,
        "groundspeed": gs,
        "vertical_rate": vs,
    }
    state.update(kw)
    return state


def test_alerter_cylinders() -> None:
    """Phase II (1500 ft) and non-cooperative (2200 ft) volumes are plain cylinders (TTHR 0):
    head-on at 300 kn closure from 2 nmi enters when the range reaches DTHR."""
    closure = 300 * KT
    for alerter, dthr in ((2, 1500 * FT), (3, 2200 * FT)):
        enc = {
            "ownship": _xyz("own", 0, 0, 5000, 0, 150, 0),
            "intruders": [_xyz("i", 0, 2, 5000, 180, 150, 0, alerter=alerter)],
        }
        alerts = _alerts(enc)
        assert abs(float(alerts.time_to_violation_s[0]) - (2 * NM - dthr) / closure) < 1e-6
    # Phase II alerting time is 45 s: entry at 40 s warns (level 3), at 50 s does not alert
    for dist_s, level in ((40.0, 3), (50.0, 0)):
        y = (1500 * FT + closure * dist_s) / NM
        enc = {
            "ownship": _xyz("own", 0, 0, 5000, 0, 150, 0),
            "intruders": [_xyz("i", 0, y, 5000, 180, 150, 0, alerter=2)],
        }
        assert _alerts(enc).alert_level[0] == level


@settings(max_examples=40, deadline=None)
@given(
    st.floats(-8, 8),
    st.floats(-8, 8),
    st.floats(-800, 800),
    st.floats(0, 360),
    st.floats(20, 300),
    st.floats(-2000, 2000),
    st.floats(0, 360),
    st.floats(0, 80),
    st.floats(0, 360),
)
def test_wind_and_rotation_invariance(
    x: float,
    y: float,
    dz: float,
    trk: float,
    gs: float,
    vs: float,
    wind_to: float,
    wind_kt: float,
    rot: float,
) -> None:
    """In the local (xyz) frame a uniform wind cancels in the relative velocity and a rotation
    of the whole scene changes nothing: levels and times are unchanged."""
    base = {
        "ownship": _xyz("own", 0, 0, 8000, 30, 120, 0),
        "intruders": [_xyz("i", x, y, 8000 + dz, trk, gs, vs)],
    }
    ref = _alerts(base)
    windy = dict(base, wind={"to_deg": wind_to, "speed_kt": wind_kt})
    got = _alerts(windy)
    assert got.alert_level[0] == ref.alert_level[0]
    t0, t1 = float(ref.time_to_violation_s[0]), float(got.time_to_violation_s[0])
    assert t0 == t1 or abs(t0 - t1) < 1e-6
    c, s = math.cos(math.radians(rot)), math.sin(math.radians(rot))
    rotated = {
        "ownship": _xyz("own", 0, 0, 8000, (30 + rot) % 360, 120, 0),
        "intruders": [
            _xyz("i", c * x + s * y, -s * x + c * y, 8000 + dz, (trk + rot) % 360, gs, vs)
        ],
    }
    t2 = float(_alerts(rotated).time_to_violation_s[0])
    assert t0 == t2 or abs(t0 - t2) < 1e-6


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"latitude": 91.0}, "ownship.latitude"),
        ({"groundspeed": -5.0}, "ownship.groundspeed"),
        ({"altitude": float("nan")}, "ownship.altitude"),
        ({"trak": 10.0}, "did you mean 'track'"),
        ({"alerter": 4}, "ownship.alerter"),
    ],
)
def test_bad_input_names_the_field(patch: dict[str, Any], field: str) -> None:
    own = _geo_state("own", 0, 0)
    own.update(patch)
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        read_encounter({"ownship": own, "intruders": []})


def test_bad_input_structure() -> None:
    own = _geo_state("own", 0, 0)
    with pytest.raises(InputError, match=r"intruders\[1\]\.id: 'a' is used twice"):
        read_encounter(
            {"ownship": own, "intruders": [_geo_state("a", 1, 1), _geo_state("a", 2, 2)]}
        )
    missing = _geo_state("b", 1, 1)
    del missing["vertical_rate"]
    with pytest.raises(InputError, match=r"intruders\[0\]\.vertical_rate: missing"):
        read_encounter({"ownship": own, "intruders": [missing]})
    with pytest.raises(InputError, match="same kind of position"):
        read_encounter({"ownship": own, "intruders": [_xyz("c", 1, 1, 0, 0, 100, 0)]})
    with pytest.raises(InputError, match=r"wind\.speed_kn: unknown field; did you mean .speed_kt."):
        read_encounter({"ownship": own, "intruders": [], "wind": {"to_deg": 10, "speed_kn": 3}})
    with pytest.raises(InputError, match="unknown field"):
        read_encounter({"ownship": own, "intruder": []})


def test_timestamps_synchronise_traffic_to_the_ownship() -> None:
    """An intruder reported 10 s earlier (60 nmi/h further back along its track) is projected to
    the ownship's time, as DAIDALUS's addTrafficState does: same alert as a simultaneous state."""
    own = _geo_state("own", 0.0, 0.0)
    now = _geo_state("intr", 0.0, 10.0, track=180.0)
    earlier = _geo_state("intr", 0.0, 10.0 + 200.0 * 10.0 / 3600.0, track=180.0)
    ref = _alerts({"ownship": own, "intruders": [now]})
    synced = _alerts(
        {
            "ownship": dict(own, timestamp="2024-05-01T12:00:10Z"),
            "intruders": [dict(earlier, timestamp="2024-05-01T12:00:00Z")],
        }
    )
    assert synced.alert_level[0] == ref.alert_level[0] == 2
    assert abs(float(synced.time_to_violation_s[0]) - float(ref.time_to_violation_s[0])) < 0.01
    unsynced = _alerts({"ownship": own, "intruders": [earlier]})
    # 10 s of the intruder alone at half the 400 kn closure: entry 5 s later
    assert (
        abs(float(unsynced.time_to_violation_s[0]) - float(ref.time_to_violation_s[0]) - 5.0) < 0.01
    )
    with pytest.raises(InputError, match="for some aircraft only"):
        read_encounter({"ownship": dict(own, timestamp=10.0), "intruders": [now]})
    with pytest.raises(InputError, match=r"ownship\.timestamp"):
        read_encounter({"ownship": dict(own, timestamp="noon"), "intruders": []})
