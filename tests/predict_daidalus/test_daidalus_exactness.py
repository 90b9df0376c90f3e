"""Two details where DAIDALUS's bands depend on more than the sampled states, each built on
purpose: a loss of separation shorter than a trajectory step, between two samples; and an
ownship within DAIDALUS's relative ``ALMOST_`` tolerance of a band edge."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from deconflict.predict.daidalus.api import alert
from deconflict.predict.daidalus.config import DO365B
from deconflict.predict.daidalus.detection import cylinder
from deconflict.predict.daidalus.greens import Traffic, kinematic_green
from deconflict.predict.daidalus.kinematics import gs_samples
from deconflict.predict.daidalus.regions import almost_equals, index_of

FT = 0.3048

# Ownship flying north at 100 m/s; speed candidates accelerate at 2 m/s² (DO-365B), one 5 kn
# step every 1.286 s. An intruder crossing east at 200 m/s crosses the ownship's track 140 m
# ahead of it at t = 4.3 s and stays within a 500 ft (152.4 m) cylinder for about 0.8 s (4.2 to
# 5.0 s): between samples 3 (3.86 s) and 4 (5.14 s), never at a sample instant.
OWN_S = np.array([0.0, 0.0, 3000.0])
OWN_V = np.array([0.0, 100.0, 0.0])
ACCEL = DO365B.bands.horizontal_accel_mps2
STEP_S = DO365B.bands.step_hs_mps / ACCEL
T_CROSS = 4.3
Y_CROSS = 100.0 * T_CROSS + 0.5 * ACCEL * T_CROSS**2
INTR_S = np.array([[-200.0 * T_CROSS, Y_CROSS + 140.0, 3000.0]])
INTR_V = np.array([[200.0, 0.0, 0.0]])
RADIUS = 500 * FT


def _distance_on_accelerating_path(t: np.ndarray, north_m: float = 0.0) -> np.ndarray:
    """Horizontal distance to the intruder (moved ``north_m`` north) on the ownship's continuous
    acceleration (y = v t + a t² / 2), an independent closed form of the trajectory the speed
    candidates lie on."""
    own_y = 100.0 * t + 0.5 * ACCEL * t**2
    intr = INTR_S[0, :2] + np.array([0.0, north_m]) + INTR_V[0, :2] * t[:, None]
    distance: np.ndarray = np.hypot(intr[:, 0], intr[:, 1] - own_y)
    return distance


def _distance_after(k: int, t: np.ndarray) -> np.ndarray:
    """Horizontal distance when the ownship accelerates for k steps, then flies straight."""
    tk = k * STEP_S
    y_k = 100.0 * tk + 0.5 * ACCEL * tk**2
    own_y = y_k + (100.0 + ACCEL * tk) * (t - tk)
    intr = INTR_S[0, :2] + INTR_V[0, :2] * t[:, None]
    distance: np.ndarray = np.hypot(intr[:, 0], intr[:, 1] - own_y)
    return distance


def test_a_loss_between_two_samples_blocks_the_candidates_beyond_it() -> None:
    fine = np.arange(0.0, 12.0, 1e-3)
    inside = _distance_on_accelerating_path(fine) < RADIUS
    # the construction: a loss of separation, entirely between samples 3 and 4
    assert inside.any()
    assert fine[inside].min() > 3 * STEP_S and fine[inside].max() < 4 * STEP_S
    samples_t = np.arange(0, 10) * STEP_S
    assert (_distance_on_accelerating_path(samples_t) > RADIUS).all()

    samples = gs_samples(OWN_S, OWN_V, ACCEL, STEP_S, 0, 9)
    green_fn, region_fn = kinematic_green(samples)
    vol = cylinder(RADIUS, 100 * FT, 1)
    horizon = np.array([DO365B.lookahead_s])
    traffic = Traffic(INTR_S, INTR_V, np.array([1]), DO365B)
    green = green_fn(traffic, np.array([True]), vol, horizon, 0.0, None)[:, 0]
    # candidates 5..9 are reached after the crossing and fly clear of the intruder afterwards
    for k in range(5, 10):
        after = np.arange(k * STEP_S, 60.0, 1e-3)
        assert (_distance_after(k, after) > RADIUS).all()
    # ... yet none is conflict free: reaching them crosses the loss between samples 3 and 4
    assert not green[samples.idx >= 3].any()
    assert (region_fn(traffic, np.array([True]), vol, horizon, 0.0, None) == green).all()
    # control: the same intruder 100 m further north never comes within the cylinder, and the
    # candidates 5..9 are conflict free
    clear = Traffic(INTR_S + np.array([0.0, 100.0, 0.0]), INTR_V, np.array([1]), DO365B)
    assert (_distance_on_accelerating_path(fine, 100.0) > RADIUS).all()
    assert green_fn(clear, np.array([True]), vol, horizon, 0.0, None)[samples.idx >= 5, 0].all()


def test_almost_equals_is_two_to_the_forty_units_in_the_last_place() -> None:
    """DAIDALUS's ALMOST_ is Util.PRECISION5 = 2^40 ulps: 0.5 m for values in [2048, 4096) m."""
    edge = 10100 * FT  # 3078.48 m
    tolerance = 2**40 * math.ulp(edge)
    assert tolerance == 0.5
    assert almost_equals(edge, edge + tolerance)
    assert not almost_equals(edge, edge + tolerance + math.ulp(edge))
    assert almost_equals(-edge, -edge - tolerance)
    assert almost_equals(0.0, 9e-6) and not almost_equals(0.0, 2e-5)


def test_index_of_on_an_edge_prefers_the_conflict_free_side() -> None:
    edge = 10100 * FT
    bands = [(100 * FT, edge, "NONE"), (edge, 50000 * FT, "NEAR")]
    assert index_of(bands, edge + 0.49, 0.0) == 0
    assert index_of(bands, edge + 0.51, 0.0) == 1
    # an absolute tolerance (1e-9) would put both in NEAR; between two conflict bands the less
    # severe one wins, and near 2π a circular value wraps onto the first band
    two = [(0.0, 1.0, "MID"), (1.0, 2.0, "NEAR")]
    assert index_of(two, 1.0 + 1e-5, 0.0) == 0
    circle = [(0.0, 3.0, "NONE"), (3.0, 2 * math.pi, "MID")]
    assert index_of(circle, 2 * math.pi - 1e-6, 2 * math.pi) == 0


def _state(ident: str, y_nmi: float, alt_ft: float, trk: float) -> dict[str, Any]:
    return {
        "id": ident,
        "x_nmi": 0.0,
        "y_nmi": y_nmi,
        "altitude": alt_ft,
        "track": trk,
        "groundspeed": 200.0,
        "vertical_rate": 0.0,
    }


def test_an_ownship_within_almost_of_an_altitude_band_edge_is_on_its_conflict_free_side() -> None:
    """Head-on intruder 6 nmi ahead and about 500 ft above: altitudes up to 10,100 ft are
    conflict free, above NEAR. An ownship 0.49 m above that edge is on it (NONE, no resolution);
    0.51 m above it is in the NEAR band, with the edge as its resolution down."""
    edge_ft = 10100.0
    outs = {}
    for offset_m in (0.49, 0.51):
        own = _state("own", 0.0, edge_ft + offset_m / FT, 0.0)
        outs[offset_m] = alert({"ownship": own, "intruders": [_state("i", 6.0, 10600.0, 180.0)]})
    for out in outs.values():
        assert out["bands"]["alt_ft"] == [[100.0, edge_ft, "NONE"], [edge_ft, 50000.0, "NEAR"]]
    on_edge, beyond = outs[0.49], outs[0.51]
    assert on_edge["bands"]["current_region"]["alt"] == "NONE"
    assert on_edge["resolution"]["alt_down_ft"] is None
    assert beyond["bands"]["current_region"]["alt"] == "NEAR"
    assert beyond["resolution"]["alt_down_ft"] == edge_ft
    assert beyond["resolution"]["alt_up_ft"] == "inf"
