"""Candidate manoeuvres of the four band dimensions and their conflict-free tests, in SI units.

A dimension (direction, horizontal speed, vertical speed, altitude) is a grid of candidate
values ``base + idx * step``; its *green* function tells, for every candidate at once and every
intruder, whether the candidate is conflict free (``DaidalusIntegerBands`` and
``DaidalusAltBands``): no loss of separation along the manoeuvre before the candidate is reached
and none on the straight flight after it, within ``[max(B, t_k), min(lookahead, T + t_k)]``; past
the first loss on either side no candidate is reachable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.alerting import level_parameters
from deconflict.predict.daidalus.config import DaidalusConfig
from deconflict.predict.daidalus.detection import (
    Volume4,
    conflict_after,
    is_cylinder,
    violation_at,
)
from deconflict.predict.daidalus.kinematics import (
    Samples,
    gs_samples,
    level_out_state,
    level_out_times,
    turn_samples,
    vs_samples,
)

__all__ = ["Dimension", "GreenFn", "Traffic", "make_dimensions", "sub_volume"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
TWO_PI = 2.0 * math.pi


@dataclass
class Traffic:
    """Intruders (ENU states, alerter indices) and the configuration."""

    s: FloatArray
    v: FloatArray
    alerter: NDArray[np.int64]
    config: DaidalusConfig

    @property
    def n(self) -> int:
        return int(self.s.shape[0])

    def volume(self, level: int) -> Volume4:
        dthr, zthr, tthr, tcoa, _ = level_parameters(self.alerter, level, self.config)
        return (dthr, zthr, tthr, tcoa)

    def subset(self, mask: BoolArray) -> Traffic:
        return Traffic(self.s[mask], self.v[mask], self.alerter[mask], self.config)


def sub_volume(vol: Volume4, mask: BoolArray) -> Volume4:
    return (vol[0][mask], vol[1][mask], vol[2][mask], vol[3][mask])


# A green function: (traffic, conflict volume, horizons T, start B, recovery volume or None)
# -> bool[candidates, intruders], True where the candidate is conflict free.
GreenFn = Callable[[Traffic, Volume4, FloatArray, float, Volume4 | None], BoolArray]


@dataclass
class Dimension:
    name: str
    own_value: float
    step: float
    min_val: float
    max_val: float
    mod: float
    min_rel: float
    max_rel: float
    valid: bool
    idx: NDArray[np.int64]
    base: float  # value of candidate idx: base + idx * step
    green: GreenFn

    def mod_val(self, x: float) -> float:
        if self.mod > 0:
            return (
                math.fmod(math.fmod(x, self.mod) + self.mod, self.mod)
                if math.isfinite(x)
                else math.nan
            )
        return x


def kinematic_green(samples: Samples) -> GreenFn:
    """Green test of DaidalusIntegerBands.kinematic_bands_combine for one sampled manoeuvre."""
    k = np.abs(samples.idx)
    right = samples.idx >= 0
    left = samples.idx <= 0
    cache: dict[bytes, BoolArray] = {}

    def los_at(traffic: Traffic, vol: Volume4) -> BoolArray:
        """Loss of separation at each sample (independent of B and T, so cached)."""
        key = b"".join(np.ascontiguousarray(x).tobytes() for x in vol) + traffic.s.tobytes()
        if key not in cache:
            cache[key] = violation_at(samples.s, samples.v, samples.t, traffic.s, traffic.v, vol)
        return cache[key]

    back_s = samples.s - samples.v * samples.t[:, None]
    zero_t = np.zeros_like(samples.t)

    def cd_future(
        traffic: Traffic, vol: Volume4, b: float, horizon: FloatArray | float
    ) -> BoolArray:
        """CD_future_traj of the conflict detector for every sample. When that detector is a
        cylinder (the NMAC and recovery-cylinder tests), DAIDALUS's results match testing the
        final leg's straight line from B rather than from the sample's time, so a cylinder
        crossed between two samples is still seen; we do the same."""
        if is_cylinder(vol):
            late = samples.t[:, None] > horizon
            hit = conflict_after(back_s, samples.v, zero_t, traffic.s, traffic.v, vol, b, horizon)
            result: BoolArray = hit & ~late
            return result
        return conflict_after(
            samples.s, samples.v, samples.t, traffic.s, traffic.v, vol, b, horizon
        )

    def green(
        traffic: Traffic, vol: Volume4, horizon: FloatArray, b: float, rec: Volume4 | None
    ) -> BoolArray:
        la = traffic.config.lookahead_s
        t = samples.t[:, None]
        # horizons are relative to the manoeuvre: [max(B, t_k), min(lookahead, T + t_k)]
        los = (b <= t) & (t < la) & los_at(traffic, vol)
        horizon_k = np.minimum(la, horizon[None, :] + t)
        red = cd_future(traffic, vol, b, horizon_k)
        if rec is not None:
            los = los | ((t <= b) & (t < la) & los_at(traffic, rec))
            red |= conflict_after(
                samples.s, samples.v, samples.t, traffic.s, traffic.v, rec, 0.0, min(b, la)
            )
        big = np.iinfo(np.int64).max
        kk = np.broadcast_to(k[:, None], los.shape)
        first_right = np.where(los & right[:, None], kk, big).min(axis=0, initial=big)
        first_left = np.where(los & left[:, None], kk, big).min(axis=0, initial=big)
        first = np.where(right[:, None], first_right[None, :], first_left[None, :])
        result: BoolArray = ~red & (kk < first)
        return result

    return green


def alt_green(
    own_s: FloatArray, own_v: FloatArray, targets: FloatArray, config: DaidalusConfig
) -> GreenFn:
    """Green test of DaidalusAltBands.conflict_free_traj_step for every target altitude."""
    bc = config.bands
    rate, accel = bc.vertical_rate_mps, bc.vertical_accel_mps2
    t1, t2, t3, a1, a2 = level_out_times(float(own_s[2]), float(own_v[2]), rate, targets, accel)
    tstep = 1.0
    t3 = t3 + tstep
    traj_end = np.where(t1 < 0, -1.0, t3 - tstep) + tstep  # vsLevelOutTime + time step

    def state_at(j: NDArray[np.int64], tt: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Ownship on target ``j``'s trajectory at time ``tt`` (1-D arrays, same length)."""
        z, vz = level_out_state(
            float(own_s[2]),
            float(own_v[2]),
            targets[j],
            a1[j],
            a2[j],
            t1[j],
            t2[j],
            t3[j] - tstep,
            tt,
        )
        late = tt > traj_end[j]
        z = np.where(late, targets[j], z)
        vz = np.where(late, 0.0, vz)
        ones = np.ones_like(tt)
        s = np.stack([own_s[0] + own_v[0] * tt, own_s[1] + own_v[1] * tt, z], axis=-1)
        v = np.stack([own_v[0] * ones, own_v[1] * ones, vz], axis=-1)
        return s, v

    horizon_max = config.lookahead_s
    grid = np.arange(0.0, math.floor(horizon_max / tstep) + 1) * tstep  # sample seconds
    # LOS samples: up to the end of the first acceleration, and over the level-off phase;
    # only those (target, second) pairs are evaluated (a few per target)
    sampled = (grid[None, :] <= np.floor(t1 / tstep)[:, None] * tstep) | (
        (grid[None, :] >= np.ceil(t2 / tstep)[:, None] * tstep)
        & (grid[None, :] <= np.floor(t3 / tstep)[:, None] * tstep)
    )
    e_target, e_sample = np.nonzero(sampled)
    e_t = grid[e_sample]
    n_targets = targets.shape[0]
    e_s, e_v = state_at(e_target, e_t)
    t_climb = np.maximum(t1, 0.0)
    s_climb, v_climb = state_at(np.arange(n_targets), t_climb)
    t_level = np.maximum(t3, 0.0)
    s_level, v_level = state_at(np.arange(n_targets), t_level)
    cache: dict[bytes, BoolArray] = {}

    def los_entries(traffic: Traffic, vol: Volume4) -> BoolArray:
        key = b"".join(np.ascontiguousarray(x).tobytes() for x in vol) + traffic.s.tobytes()
        if key not in cache:
            cache[key] = violation_at(e_s, e_v, e_t, traffic.s, traffic.v, vol)
        return cache[key]

    def any_by_target(hits: BoolArray) -> BoolArray:
        counts = np.zeros((n_targets, hits.shape[1]), dtype=np.int64)
        np.add.at(counts, e_target, hits.astype(np.int64))
        result: BoolArray = counts > 0
        return result

    def green(
        traffic: Traffic, vol: Volume4, horizon: FloatArray, b: float, rec: Volume4 | None
    ) -> BoolArray:
        la = traffic.config.lookahead_s
        et = e_t[:, None]
        red = any_by_target((b <= et) & (et < la) & los_entries(traffic, vol))
        climb_horizon = np.minimum(la, np.minimum(horizon[None, :] + t_climb[:, None], t2[:, None]))
        red |= (t2 >= b)[:, None] & conflict_after(
            s_climb, v_climb, t_climb, traffic.s, traffic.v, vol, b, climb_horizon
        )
        level_horizon = np.minimum(la, horizon[None, :] + t_level[:, None])
        red |= conflict_after(
            s_level, v_level, t_level, traffic.s, traffic.v, vol, b, level_horizon
        )
        if rec is not None:
            red |= any_by_target((et <= b) & (et < la) & los_entries(traffic, rec))
            red |= (t2 >= 0.0)[:, None] & conflict_after(
                s_climb,
                v_climb,
                t_climb,
                traffic.s,
                traffic.v,
                rec,
                0.0,
                np.minimum(la, np.minimum(b, t2))[:, None],
            )
            red |= conflict_after(
                s_level, v_level, t_level, traffic.s, traffic.v, rec, 0.0, min(b, la)
            )
        result: BoolArray = ~red
        return result

    return green


def max_steps(rel: float, step: float, mod: float) -> int:
    n = math.ceil(rel / step - 1e-12)
    if mod > 0 and n * step > mod / 2.0 + 1e-12:
        n -= 1
    return int(n)


def make_dimensions(
    own_s: FloatArray, own_v: FloatArray, config: DaidalusConfig
) -> list[Dimension]:
    bc = config.bands
    dims: list[Dimension] = []
    # direction (track, or heading with wind); a hovering ownship turns at a minimum speed
    gs = float(np.hypot(own_v[0], own_v[1]))
    trk = float(np.arctan2(own_v[0], own_v[1])) % TWO_PI
    turn_v = own_v.copy()
    min_gs = max(bc.step_hs_mps, bc.min_airspeed_mps)
    if gs < min_gs:
        turn_v[0], turn_v[1] = min_gs * math.sin(trk), min_gs * math.cos(trk)
    n_left = max_steps(bc.left_hdir_rad, bc.step_hdir_rad, TWO_PI)
    n_right = max_steps(bc.right_hdir_rad, bc.step_hdir_rad, TWO_PI)
    samples = turn_samples(
        own_s, turn_v, bc.turn_rate_rad_s, bc.step_hdir_rad / bc.turn_rate_rad_s, n_left, n_right
    )
    dims.append(
        Dimension(
            "hdir",
            trk,
            bc.step_hdir_rad,
            0.0,
            TWO_PI,
            TWO_PI,
            bc.left_hdir_rad,
            bc.right_hdir_rad,
            True,
            samples.idx,
            trk,
            kinematic_green(samples),
        )
    )
    # horizontal speed
    valid = bc.min_hs_mps <= gs <= bc.max_hs_mps
    n_down = max_steps(gs - bc.min_hs_mps, bc.step_hs_mps, 0.0) if valid else 0
    n_up = max_steps(bc.max_hs_mps - gs, bc.step_hs_mps, 0.0) if valid else 0
    samples = gs_samples(
        own_s,
        own_v,
        bc.horizontal_accel_mps2,
        bc.step_hs_mps / bc.horizontal_accel_mps2,
        n_down,
        n_up,
    )
    dims.append(
        Dimension(
            "hs",
            gs,
            bc.step_hs_mps,
            bc.min_hs_mps,
            bc.max_hs_mps,
            0.0,
            gs - bc.min_hs_mps,
            bc.max_hs_mps - gs,
            valid,
            samples.idx,
            gs,
            kinematic_green(samples),
        )
    )
    # vertical speed
    vs = float(own_v[2])
    valid = bc.min_vs_mps <= vs <= bc.max_vs_mps
    n_down = max_steps(vs - bc.min_vs_mps, bc.step_vs_mps, 0.0) if valid else 0
    n_up = max_steps(bc.max_vs_mps - vs, bc.step_vs_mps, 0.0) if valid else 0
    samples = vs_samples(
        own_s,
        own_v,
        bc.vertical_accel_mps2,
        bc.step_vs_mps / bc.vertical_accel_mps2,
        n_down,
        n_up,
    )
    dims.append(
        Dimension(
            "vs",
            vs,
            bc.step_vs_mps,
            bc.min_vs_mps,
            bc.max_vs_mps,
            0.0,
            vs - bc.min_vs_mps,
            bc.max_vs_mps - vs,
            valid,
            samples.idx,
            vs,
            kinematic_green(samples),
        )
    )
    # altitude: targets min_alt + j * step, j = 0 .. floor((max - min) / step) + 1
    alt = float(own_s[2])
    valid = bc.min_alt_m <= alt <= bc.max_alt_m
    n_targets = math.floor((bc.max_alt_m - bc.min_alt_m) / bc.step_alt_m + 1e-9) + 1
    idx = np.arange(0, n_targets + 1, dtype=np.int64)
    targets: FloatArray = bc.min_alt_m + idx.astype(np.float64) * bc.step_alt_m
    dims.append(
        Dimension(
            "alt",
            alt,
            bc.step_alt_m,
            bc.min_alt_m,
            bc.max_alt_m,
            0.0,
            alt - bc.min_alt_m,
            bc.max_alt_m - alt,
            valid,
            idx,
            bc.min_alt_m,
            alt_green(own_s, own_v, targets, config),
        )
    )
    return dims
