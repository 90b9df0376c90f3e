"""The closed-form well-clear interval kernel against DAIDALUS's own projected states, the
head-on closed form of the notes (§4), and properties checked by sampling the instant test."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from predict_daidalus_helpers import CORRECTIVE, load_cases, num

from deconflict.predict.wcv import wcv_interval, wcv_violated_now

NM = 1852.0
FT = 0.3048
KT = NM / 3600.0


def test_reference_time_to_violation_from_projected_states(reference_dir: Path) -> None:
    """Every intruder's time to the corrective volume, exit time and 'violated now' from the
    ENU states DAIDALUS actually used, vectorised in one call."""
    rows = []
    for case in load_cases(reference_dir):
        out = case["outputs"]
        own_s = np.array(out["ownship_enu_s_m"])
        own_v = np.array(out["ownship_enu_v_mps"])
        for intr in out["intruders"]:
            dthr, tthr = CORRECTIVE[intr["alerter_index"]]
            s = own_s - np.array(intr["enu_s_m"])
            v = own_v - np.array(intr["enu_v_mps"])
            rows.append(
                (
                    *s,
                    *v,
                    dthr,
                    tthr,
                    num(intr["time_to_violation_s"]),
                    num(intr["time_out_of_violation_s"]),
                    intr["in_violation"],
                )
            )
    assert len(rows) >= 40
    arr = np.array([r[:10] for r in rows], dtype=float)
    sx, sy, sz, vx, vy, vz, dthr, tthr, ref_in, ref_out = arr.T
    t_in, t_out = wcv_interval(sx, sy, sz, vx, vy, vz, dthr, 450 * FT, tthr, 0.0, 180.0)
    finite = np.isfinite(ref_in)
    assert finite.sum() >= 20 and (~finite).sum() >= 5
    np.testing.assert_array_equal(np.isfinite(t_in), finite)
    assert np.max(np.abs(t_in[finite] - ref_in[finite])) < 1e-6
    assert np.max(np.abs(t_out[finite] - ref_out[finite])) < 1e-5
    now = wcv_violated_now(sx, sy, sz, vx, vy, vz, dthr, 450 * FT, tthr, 0.0)
    np.testing.assert_array_equal(now, np.array([r[10] for r in rows]))
    np.testing.assert_array_equal(t_in[now], 0.0)


def test_head_on_closed_form() -> None:
    """Head-on, zero miss distance, 400 kn closure from 10 nmi: entry where
    r² − TTHR·|ṙ|·r − DTHR² = 0 (r = 3.998 nmi), i.e. at 54.02 s."""
    closure = 400 * KT
    dthr = 0.66 * NM
    k = 35.0 * closure
    r_entry = (k + math.sqrt(k * k + 4 * dthr * dthr)) / 2
    expected = (10 * NM - r_entry) / closure
    assert abs(r_entry / NM - 3.998) < 1e-3
    t_in, t_out = wcv_interval(
        0.0, 10 * NM, 0.0, 0.0, -closure, 0.0, dthr, 450 * FT, 35.0, 0.0, 180
    )
    assert abs(float(t_in) - expected) < 1e-9
    assert abs(float(t_in) - 54.02) < 0.01
    # exit: the far side of the DTHR circle
    assert abs(float(t_out) - (10 * NM + dthr) / closure) < 1e-9


def test_no_violation_and_now() -> None:
    # 1000 ft above, level: never within 450 ft
    t_in, t_out = wcv_interval(0, 5 * NM, 1000 * FT, 0, -100, 0, 0.66 * NM, 450 * FT, 35, 0, 180)
    assert t_in == np.inf and t_out == -np.inf
    # co-located and still: violated for the whole lookahead
    t_in, t_out = wcv_interval(0, 0, 0, 0, 0, 0, 0.66 * NM, 450 * FT, 35, 0, 180)
    assert t_in == 0.0 and t_out == 180.0
    # broadcasting over a grid of thresholds
    t_in, _ = wcv_interval(
        0, 10 * NM, 0, 0, -200, 0, np.array([[1000.0], [2000.0]]), 137, 0, 0, 180
    )
    assert t_in.shape == (2, 1) and t_in[1, 0] < t_in[0, 0]


coord = st.floats(-20000, 20000, allow_nan=False)
speed = st.floats(-300, 300, allow_nan=False)
vspeed = st.floats(-40, 40, allow_nan=False)
alt = st.floats(-1500, 1500, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(coord, coord, alt, speed, speed, vspeed, st.floats(200, 5000), st.floats(0, 60))
def test_properties(
    sx: float, sy: float, sz: float, vx: float, vy: float, vz: float, dthr: float, tthr: float
) -> None:
    zthr = 450 * FT
    # a state exactly on the boundary, moving out, touches the volume for an instant only
    assume(abs(math.hypot(sx, sy) - dthr) > 1e-3 and abs(abs(sz) - zthr) > 1e-3)
    # ... and a path grazing the DTHR circle (dcpa = DTHR) likewise
    v2 = vx * vx + vy * vy
    dcpa = abs(sx * vy - sy * vx) / math.sqrt(v2) if v2 > 0 else math.hypot(sx, sy)
    assume(abs(dcpa - dthr) > 1e-3)
    t_in, t_out = wcv_interval(sx, sy, sz, vx, vy, vz, dthr, zthr, tthr, 0.0, 180.0)
    t_in2, t_out2 = wcv_interval(-sx, -sy, -sz, -vx, -vy, -vz, dthr, zthr, tthr, 0.0, 180.0)
    # symmetric under s, v -> -s, -v
    assert t_in == t_in2 or abs(t_in - t_in2) < 1e-9
    assert t_out == t_out2 or abs(t_out - t_out2) < 1e-9
    if np.isfinite(t_in):
        assert 0.0 <= t_in <= t_out <= 180.0
    else:
        assert t_out == -np.inf
    # monotone in DTHR: a larger volume is entered no later and left no earlier
    t_in3, t_out3 = wcv_interval(sx, sy, sz, vx, vy, vz, dthr * 1.5, zthr, tthr, 0.0, 180.0)
    if np.isfinite(t_in):
        assert t_in3 <= t_in + 1e-9 and t_out3 >= t_out - 1e-9
    # the interval is where the instant test holds along the straight line (sampled)
    t = np.linspace(0.0, 180.0, 721)
    now = wcv_violated_now(sx + vx * t, sy + vy * t, sz + vz * t, vx, vy, vz, dthr, zthr, tthr, 0.0)
    inside = (t > t_in + 1e-6) & (t < t_out - 1e-6)
    outside = (t < t_in - 1e-6) | (t > t_out + 1e-6)
    assert now[inside].all()
    assert not now[outside].any(), (sx, sy, sz, vx, vy, vz, dthr, tthr, t_in, t_out, t[now])
