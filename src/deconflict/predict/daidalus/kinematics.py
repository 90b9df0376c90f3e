"""Ownship manoeuvre trajectories sampled for the DAIDALUS bands, in m, m/s, s and rad.

Every function is vectorised over all candidate manoeuvres at once and returns the ownship's
state (position ``s``, velocity ``v``, shape ``(..., 3)``, x east, y north, z up) on them:

- direction: turn at a constant rate (3°/s) to the left or right, then fly straight;
- horizontal speed: accelerate or decelerate at a constant rate (2 m/s²);
- vertical speed: vertical acceleration at a constant rate (0.25 g);
- altitude: the DAIDALUS level-out manoeuvre (accelerate to the climb rate, climb, decelerate
  and level off at the target altitude), modelled as ``Kinematics.vsLevelOut`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Samples",
    "gs_samples",
    "level_out_state",
    "level_out_times",
    "turn_samples",
    "vs_samples",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Samples:
    """Candidate manoeuvres indexed by a signed step count ``idx`` (negative = left/down).

    Candidate ``idx`` is the state reached after ``|idx|`` steps of the manoeuvre, at time
    ``t = |idx| * time_step``; it stands for the value ``own_value + idx * step``.
    """

    idx: NDArray[np.int64]
    t: FloatArray
    s: FloatArray
    v: FloatArray
    time_step_s: float

    @property
    def side(self) -> NDArray[np.int64]:
        return np.sign(self.idx)


def _indices(max_left: int, max_right: int) -> NDArray[np.int64]:
    return np.arange(-max_left, max_right + 1, dtype=np.int64)


def turn_samples(
    own_s: FloatArray,
    own_v: FloatArray,
    turn_rate_rad_s: float,
    time_step_s: float,
    max_left: int,
    max_right: int,
) -> Samples:
    """Constant-rate turns (``Kinematics.turnOmega``): right for idx > 0, left for idx < 0."""
    idx = _indices(max_left, max_right)
    t = np.abs(idx) * time_step_s
    omega = np.where(idx >= 0, 1.0, -1.0) * turn_rate_rad_s
    gs = float(np.hypot(own_v[0], own_v[1]))
    trk = float(np.arctan2(own_v[0], own_v[1]))
    new_trk = trk + omega * t
    nvx = gs * np.sin(new_trk)
    nvy = gs * np.cos(new_trk)
    x = own_s[0] + (own_v[1] - nvy) / omega
    y = own_s[1] + (-own_v[0] + nvx) / omega
    z = own_s[2] + own_v[2] * t
    s = np.stack([x, y, z], axis=-1)
    v = np.stack([nvx, nvy, np.full_like(t, own_v[2])], axis=-1)
    return Samples(idx, t, s, v, time_step_s)


def gs_samples(
    own_s: FloatArray,
    own_v: FloatArray,
    accel_mps2: float,
    time_step_s: float,
    max_down: int,
    max_up: int,
) -> Samples:
    """Constant ground-speed acceleration along the current track (``Kinematics.gsAccel``)."""
    idx = _indices(max_down, max_up)
    t = np.abs(idx) * time_step_s
    a = np.sign(idx) * accel_mps2
    gs = float(np.hypot(own_v[0], own_v[1]))
    trk = float(np.arctan2(own_v[0], own_v[1]))
    ux, uy = np.sin(trk), np.cos(trk)
    dist = gs * t + 0.5 * a * t * t
    s = np.stack([own_s[0] + ux * dist, own_s[1] + uy * dist, own_s[2] + own_v[2] * t], axis=-1)
    ngs = gs + a * t
    v = np.stack([ux * ngs, uy * ngs, np.full_like(t, own_v[2])], axis=-1)
    return Samples(idx, t, s, v, time_step_s)


def vs_samples(
    own_s: FloatArray,
    own_v: FloatArray,
    accel_mps2: float,
    time_step_s: float,
    max_down: int,
    max_up: int,
) -> Samples:
    """Constant vertical acceleration (``Kinematics.vsAccel``), horizontal motion unchanged."""
    idx = _indices(max_down, max_up)
    t = np.abs(idx) * time_step_s
    a = np.sign(idx) * accel_mps2
    s = np.stack(
        [
            own_s[0] + own_v[0] * t,
            own_s[1] + own_v[1] * t,
            own_s[2] + own_v[2] * t + 0.5 * a * t * t,
        ],
        axis=-1,
    )
    v = np.stack([np.full_like(t, own_v[0]), np.full_like(t, own_v[1]), own_v[2] + a * t], axis=-1)
    return Samples(idx, t, s, v, time_step_s)


def _level_out_base(
    z0: FloatArray, v0: FloatArray, rate: float, target: FloatArray, accel: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``vsLevelOutTimesAD1`` with the climb rate allowed to grow to the current speed."""
    up = target >= z0
    alt_dir = np.where(up, 1.0, -1.0)
    climb = alt_dir * np.maximum(rate, np.abs(v0))
    a1 = np.where(climb >= v0, accel, -accel)
    a2 = np.where(up, -accel, accel)
    dz = target - z0
    t1 = (climb - v0) / a1
    s1 = v0 * t1 + 0.5 * a1 * t1 * t1
    vel1 = v0 + a1 * t1
    s3 = -vel1 * vel1 / (2.0 * a2)
    trapezoid = np.abs(dz) >= np.abs(s1 + s3)
    with np.errstate(divide="ignore", invalid="ignore"):
        t2 = (dz - s1 - s3) / climb
        ratio = a1 / a2
        aa = 0.5 * a1 * (1.0 - ratio)
        bb = v0 * (1.0 - ratio)
        cc = -v0 * v0 / (2.0 * a2) - dz
        disc = np.sqrt(bb * bb - 4.0 * aa * cc)
        root1 = (-bb + disc) / (2.0 * aa)
        root2 = (-bb - disc) / (2.0 * aa)
    tri_t1 = np.where(root1 < 0, root2, np.where(root2 < 0, root1, np.minimum(root1, root2)))
    tri_t1 = np.where(np.isfinite(tri_t1), tri_t1, 0.0)
    tri_t3 = tri_t1 - (v0 + a1 * tri_t1) / a2
    out_t1 = np.where(trapezoid, t1, tri_t1)
    out_t2 = np.where(trapezoid, t1 + t2, tri_t1)
    out_t3 = np.where(trapezoid, t1 + t2 - climb / a2, tri_t3)
    return out_t1, out_t2, out_t3, a1, a2


def level_out_times(
    z0_m: float, vz0_mps: float, rate_mps: float, target_m: FloatArray, accel_mps2: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Key times (end of first acceleration, end of constant climb, level-off) and the two
    accelerations of the level-out manoeuvre to each target altitude (``vsLevelOutTimes``)."""
    target = np.asarray(target_m, dtype=np.float64)
    z0 = np.full_like(target, z0_m)
    v0 = np.full_like(target, vz0_mps)
    up = target >= z0
    a1o = np.where(up, accel_mps2, -accel_mps2)
    a2o = np.where(up, -accel_mps2, accel_mps2)
    dz = target - z0
    same_dir = (np.where(v0 >= 0, 1.0, -1.0) == np.where(up, 1.0, -1.0)) | (v0 == 0.0)
    stop_a2 = -v0 * v0 / (2.0 * a2o)  # S3(v0, a2): distance to stop with a2
    stop_a1 = -v0 * v0 / (2.0 * a1o)
    direct = same_dir & (np.abs(dz) >= np.abs(stop_a2))
    # pre-phase: first brake to a stop (with a2 if overshooting, a1 if moving away)
    pre_dz = np.where(same_dir, stop_a2, stop_a1)
    pre_t = np.where(same_dir, -v0 / a2o, -v0 / a1o)
    b_t1, b_t2, b_t3, b_a1, b_a2 = _level_out_base(z0, v0, rate_mps, target, accel_mps2)
    p_t1, p_t2, p_t3, p_a1, p_a2 = _level_out_base(
        z0 + pre_dz, np.zeros_like(v0), rate_mps, target, accel_mps2
    )
    t1 = np.where(direct, b_t1, pre_t + p_t1)
    t2 = np.where(direct, b_t2, pre_t + p_t2)
    t3 = np.where(direct, b_t3, pre_t + p_t3)
    a1 = np.where(direct, b_a1, p_a1)
    a2 = np.where(direct, b_a2, p_a2)
    return t1, t2, t3, a1, a2


def level_out_state(
    z0_m: float,
    vz0_mps: float,
    target_m: FloatArray,
    a1: FloatArray,
    a2: FloatArray,
    t1: FloatArray,
    t2: FloatArray,
    t3: FloatArray,
    t_s: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Altitude and vertical speed at times ``t_s`` on the level-out (``vsLevelOutCalc``);
    all arguments broadcast together."""
    v1 = vz0_mps + a1 * t1
    z1 = z0_m + vz0_mps * t1 + 0.5 * a1 * t1 * t1
    z2 = z1 + v1 * (t2 - t1)
    dt3 = t_s - t2
    z = np.where(
        t_s <= t1,
        z0_m + vz0_mps * t_s + 0.5 * a1 * t_s * t_s,
        np.where(
            t_s <= t2,
            z1 + v1 * (t_s - t1),
            np.where(t_s <= t3, z2 + v1 * dt3 + 0.5 * a2 * dt3 * dt3, target_m),
        ),
    )
    vz = np.where(
        t_s <= t1,
        vz0_mps + a1 * t_s,
        np.where(t_s <= t2, v1, np.where(t_s <= t3, v1 + a2 * dt3, 0.0)),
    )
    return z, vz
