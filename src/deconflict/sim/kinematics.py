"""One time step of many aircraft flying their routes, vectorised; SI: m, m/s, rad, s.

Positions are east/north metres on a plane (the simulator uses an azimuthal equidistant
projection centred on the scene), headings radians clockwise from north. Each aircraft steers for
its current target: it turns towards the target heading at most at its turn rate (the type's rate,
capped by ``g tan(max bank) / v``), climbs or descends towards the target altitude at most at its
climb / descent rate, and changes speed at most at its acceleration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deconflict.units import G0

F64 = npt.NDArray[np.float64]


@dataclass(slots=True)
class Limits:
    """Per-aircraft performance limits (arrays of one value per aircraft, SI)."""

    turn_rate_rad_s: F64
    max_bank_rad: F64
    climb_mps: F64
    descent_mps: F64
    accel_mps2: F64
    min_mps: F64
    max_mps: F64


def wrap_pi(a: F64) -> F64:
    """Angles wrapped into [-pi, pi)."""
    return np.asarray((a + np.pi) % (2.0 * np.pi) - np.pi, dtype=np.float64)


def turn_rate(limits: Limits, speed_mps: F64) -> F64:
    """Turn rate (rad/s) each aircraft can fly at its speed."""
    bank_rate = G0 * np.tan(limits.max_bank_rad) / np.maximum(speed_mps, 1.0)
    return np.asarray(np.minimum(limits.turn_rate_rad_s, bank_rate), dtype=np.float64)


def step(
    x_m: F64,
    y_m: F64,
    alt_m: F64,
    hdg_rad: F64,
    spd_mps: F64,
    target_hdg_rad: F64,
    target_alt_m: F64,
    target_spd_mps: F64,
    limits: Limits,
    dt_s: float,
) -> tuple[F64, F64, F64, F64, F64, F64]:
    """Advance every aircraft by ``dt_s``; returns new x, y, alt, heading, speed, vertical rate.

    A NaN target leaves that quantity as it is (heading held, level flight, speed held).
    """
    d_hdg = wrap_pi(np.where(np.isnan(target_hdg_rad), 0.0, target_hdg_rad - hdg_rad))
    max_turn = turn_rate(limits, spd_mps) * dt_s
    turn = np.clip(d_hdg, -max_turn, max_turn)
    new_hdg = np.asarray((hdg_rad + turn) % (2.0 * np.pi), dtype=np.float64)

    d_alt = np.where(np.isnan(target_alt_m), 0.0, target_alt_m - alt_m)
    vs = np.clip(d_alt / dt_s, -limits.descent_mps, limits.climb_mps)
    new_alt = alt_m + vs * dt_s

    tgt_spd = np.where(np.isnan(target_spd_mps), spd_mps, target_spd_mps)
    tgt_spd = np.clip(tgt_spd, limits.min_mps, limits.max_mps)
    d_spd = np.clip(tgt_spd - spd_mps, -limits.accel_mps2 * dt_s, limits.accel_mps2 * dt_s)
    new_spd = spd_mps + d_spd

    # Position along the arc, using the mean heading and speed over the step.
    mean_hdg = hdg_rad + 0.5 * turn
    mean_spd = 0.5 * (spd_mps + new_spd)
    new_x = x_m + mean_spd * np.sin(mean_hdg) * dt_s
    new_y = y_m + mean_spd * np.cos(mean_hdg) * dt_s
    return new_x, new_y, new_alt, new_hdg, new_spd, np.asarray(vs, dtype=np.float64)
