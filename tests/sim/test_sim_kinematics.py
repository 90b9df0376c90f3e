"""Kinematics: turns at the type's rate, climbs at its rate, speeds within its envelope."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.geo import bearing_deg, distance_m
from deconflict.sim.kinematics import Limits, step, wrap_pi
from deconflict.sim.performance import BUILTIN, performance
from deconflict.sim.scenario import AircraftSpec, Base, Party, Scenario, SensorSpec, Waypoint
from deconflict.sim.simulator import Simulator
from deconflict.units import FPM, G0, KT


def _one(
    route: tuple[Waypoint, ...], type_: str = "A320", bases: tuple[Base, ...] = ()
) -> Scenario:
    return Scenario(
        name="one",
        start=pd.Timestamp("2026-01-01T00:00Z"),
        duration_s=3600,
        center=(45.0, 7.0),
        parties=(Party("p", "P"),),
        sensors=(SensorSpec("s", "p", "link"),),
        aircraft=(AircraftSpec("A", "p", type_, route, transponder="modes"),),
        bases=bases,
    )


def _fly(sc: Scenario, seconds: int) -> pd.DataFrame:
    sim = Simulator(sc, use_openap=False)
    rows = []
    for t in range(1, seconds + 1):
        sim.advance(t)
        rows.append(sim.truth())
    return pd.concat(rows, ignore_index=True)


@pytest.mark.slow
def test_ninety_degree_turn_at_standard_rate_capped_by_bank() -> None:
    # North along 7E, then a right turn to fly east along 46N.
    route = (
        Waypoint(45.0, 7.0, 20000, 250),
        Waypoint(46.0, 7.0, 20000, 250),
        Waypoint(46.0, 9.0, 20000, 250),
    )
    truth = _fly(_one(route), 1000)
    track = truth["track"].to_numpy()
    rate_dps = np.abs(np.degrees(wrap_pi(np.radians(np.diff(track)))))
    # Independent figure: at 250 kt a 25-degree bank gives g tan(25°)/v.
    v = 250 * KT
    expected = min(3.0, math.degrees(G0 * math.tan(math.radians(25)) / v))
    assert rate_dps.max() <= expected * 1.0001
    turning = rate_dps > 0.5 * expected
    assert turning.sum() >= 0.8 * 90 / expected  # the turn takes about 90°/rate seconds
    # It ends up flying east along the route (geodesic bearing to the last waypoint).
    last = truth.iloc[-1]
    assert abs(((last["track"] - 90 + 180) % 360) - 180) < 3
    assert abs(last["latitude"] - 46.0) < 0.02


def test_climb_from_a_base_at_the_type_rate() -> None:
    base = Base("b", "B", "p", 45.0, 7.0, 1000)
    route = (Waypoint(45.0, 7.0, 1000, float("nan"), base="b"), Waypoint(46.5, 7.0, 31000, 450))
    perf = performance("F16", use_openap=False)
    truth = _fly(_one(route, "F16", (base,)), 400)
    vs_fpm = np.diff(truth["altitude"].to_numpy())  # ft per 1 s step
    assert vs_fpm.max() * 60 <= perf.climb_mps / FPM * 1.0001
    reached = truth.index[truth["altitude"] >= 31000 - 1][0]
    assert reached >= 30000 / (perf.climb_mps / FPM) * 60 - 1  # no faster than the climb rate
    assert truth["groundspeed"].max() <= perf.max_mps / KT + 1e-6


def test_route_is_flown_over_the_waypoints() -> None:
    # A straight route: the aircraft stays on the great-circle-ish line and goes at its speed.
    route = (Waypoint(45.0, 7.0, 30000, 420), Waypoint(45.0, 9.0, 30000, 420))
    truth = _fly(_one(route), 600)
    d = distance_m(truth["latitude"].iloc[0], truth["longitude"].iloc[0],
                   truth["latitude"].iloc[-1], truth["longitude"].iloc[-1])  # fmt: skip
    assert abs(d - 420 * KT * 599) < 0.01 * d
    b = bearing_deg(45.0, 7.0, 45.0, 9.0)
    assert abs(float(truth["track"].iloc[-1]) - float(b)) < 1.5


@settings(max_examples=200, deadline=None)
@given(
    hdg=st.floats(0, 2 * math.pi),
    tgt=st.floats(0, 2 * math.pi),
    spd=st.floats(60, 400),
    alt=st.floats(0, 15000),
    tgt_alt=st.floats(0, 15000),
    dt=st.floats(0.1, 2.0),
    type_=st.sampled_from(sorted(BUILTIN)),
)
def test_step_never_exceeds_the_limits(
    hdg: float, tgt: float, spd: float, alt: float, tgt_alt: float, dt: float, type_: str
) -> None:
    p = BUILTIN[type_]
    one = lambda v: np.array([v], dtype=np.float64)  # noqa: E731
    lim = Limits(one(p.turn_rate_rad_s), one(p.max_bank_rad), one(p.climb_mps),
                 one(p.descent_mps), one(p.accel_mps2), one(p.min_mps), one(p.max_mps))  # fmt: skip
    _, _, a2, h2, s2, vs = step(one(0), one(0), one(alt), one(hdg), one(spd), one(tgt),
                                one(tgt_alt), one(p.cruise_mps), lim, dt)  # fmt: skip
    turned = abs(float(wrap_pi(h2 - hdg)[0]))
    assert turned <= p.turn_rate_rad_s * dt + 1e-9
    assert turned <= G0 * math.tan(p.max_bank_rad) / spd * dt + 1e-9
    assert -p.descent_mps * dt - 1e-9 <= float(a2[0] - alt) <= p.climb_mps * dt + 1e-9
    assert abs(float(s2[0]) - spd) <= p.accel_mps2 * dt + 1e-9
    # never overshoots the target altitude
    assert min(alt, tgt_alt) - 1e-6 <= float(a2[0]) <= max(alt, tgt_alt) + 1e-6
    assert (
        float(vs[0]) * dt == float(a2[0] - alt)
        or abs(float(vs[0]) * dt - float(a2[0] - alt)) < 1e-6
    )


def test_commands_override_then_release() -> None:
    route = (Waypoint(45.0, 7.0, 20000, 300), Waypoint(47.0, 7.0, 20000, 300))
    sim = Simulator(_one(route), use_openap=False)
    sim.advance(10)
    sim.command("A", altitude_ft=22000, heading_deg=30, until_s=200)
    sim.advance(150)
    now = sim.truth().iloc[0]
    assert abs(now["altitude"] - 22000) < 1 and abs(now["track"] - 30) < 0.5
    sim.advance(400)
    now = sim.truth().iloc[0]
    assert abs(now["altitude"] - 20000) < 1  # back on the route's level
