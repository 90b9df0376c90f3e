"""Conflict-free (*green*) tests of sampled ownship manoeuvres against straight-flying traffic,
in SI units (m, m/s, s), as DAIDALUS v2.0.4 makes them.

A green function answers, for every candidate manoeuvre and every intruder at once, whether the
candidate is conflict free for a search time B and per-intruder horizons T:

- no loss of separation on the way to the candidate. DAIDALUS tests each *step* of the
  trajectory: from sample ``k`` (time ``t_k``) the ownship coasts straight to ``t_k + step``
  and a violation anywhere on that segment counts (not only at the sample instant, which would
  miss losses shorter than a step). Conflict volume from B on, recovery cylinder up to B; past the
  first loss on a side no candidate of that side is reachable;
- no conflict on the straight flight after the candidate, within ``[max(B, t_k), min(lookahead,
  T + t_k)]`` (conflict volume) or ``[t_k, B]`` (recovery cylinder) (``CD_future_traj``).

Every straight line's violation interval is computed once per volume (``line_intervals``); the
recovery search then tests many B values by comparisons only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.alerting import level_parameters
from deconflict.predict.daidalus.config import DaidalusConfig
from deconflict.predict.daidalus.detection import Volume4, conflict_within, line_intervals
from deconflict.predict.daidalus.kinematics import Samples, level_out_state, level_out_times

__all__ = ["GreenFn", "Traffic", "alt_green", "kinematic_green", "sub_volume"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_BIG = np.iinfo(np.int64).max


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

Lines = tuple[FloatArray, FloatArray, BoolArray]  # t_in, t_out, loss on the step from the sample


def _key(traffic: Traffic, vol: Volume4) -> bytes:
    return b"".join(np.ascontiguousarray(x).tobytes() for x in (*vol, traffic.s, traffic.v))


def _line_cache(
    s: FloatArray, v: FloatArray, t: FloatArray, step_s: float
) -> Callable[[Traffic, Volume4], Lines]:
    """Violation intervals of the lines from every sample (cached per traffic and volume) and
    the loss of separation on each step from a sample (``LOS_at`` over ``[t_k, t_k + step]``)."""
    cache: dict[bytes, Lines] = {}

    def lines(traffic: Traffic, vol: Volume4) -> Lines:
        key = _key(traffic, vol)
        if key not in cache:
            end = traffic.config.lookahead_s + 1.0  # past every horizon and search time
            t_in, t_out = line_intervals(s, v, t, traffic.s, traffic.v, vol, end)
            coast = conflict_within(t_in, t_out, t[:, None], (t + step_s)[:, None])
            cache[key] = (t_in, t_out, coast)
        return cache[key]

    return lines


def kinematic_green(samples: Samples) -> GreenFn:
    """Green test of DaidalusIntegerBands.kinematic_bands_combine for one sampled manoeuvre."""
    k = np.abs(samples.idx)
    right = (samples.idx >= 0)[:, None]
    left = (samples.idx <= 0)[:, None]
    t = samples.t[:, None]
    lines = _line_cache(samples.s, samples.v, samples.t, samples.time_step_s)

    def green(
        traffic: Traffic, vol: Volume4, horizon: FloatArray, b: float, rec: Volume4 | None
    ) -> BoolArray:
        la = traffic.config.lookahead_s
        t_in, t_out, coast = lines(traffic, vol)
        before_la = t < la
        los = (b <= t) & before_la & coast
        red = conflict_within(t_in, t_out, np.maximum(b, t), np.minimum(la, horizon[None, :] + t))
        if rec is not None:
            r_in, r_out, r_coast = lines(traffic, rec)
            los |= (t <= b) & before_la & r_coast
            red |= conflict_within(r_in, r_out, t, min(b, la))
        kk = np.where(los, k[:, None], _BIG)
        first_right = np.where(right, kk, _BIG).min(axis=0, initial=_BIG)
        first_left = np.where(left, kk, _BIG).min(axis=0, initial=_BIG)
        first = np.where(right, first_right[None, :], first_left[None, :])
        result: BoolArray = ~red & (k[:, None] < first)
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

    grid = np.arange(0.0, np.floor(config.lookahead_s / tstep) + 1) * tstep  # sample seconds
    # LOS steps: up to the end of the first acceleration, and over the level-off phase;
    # only those (target, second) pairs are evaluated (a few per target)
    sampled = (grid[None, :] <= np.floor(t1 / tstep)[:, None] * tstep) | (
        (grid[None, :] >= np.ceil(t2 / tstep)[:, None] * tstep)
        & (grid[None, :] <= np.floor(t3 / tstep)[:, None] * tstep)
    )
    e_target, e_sample = np.nonzero(sampled)  # sorted by target
    e_t = grid[e_sample]
    n_targets = targets.shape[0]
    starts = np.searchsorted(e_target, np.arange(n_targets))
    has_entries = np.bincount(e_target, minlength=n_targets) > 0
    e_s, e_v = state_at(e_target, e_t)
    every = np.arange(n_targets)
    t_climb = np.maximum(t1, 0.0)
    t_level = np.maximum(t3, 0.0)
    steps = _line_cache(e_s, e_v, e_t, tstep)
    climb = _line_cache(*state_at(every, t_climb), t_climb, tstep)
    level = _line_cache(*state_at(every, t_level), t_level, tstep)
    et = e_t[:, None]

    def any_by_target(hits: BoolArray) -> BoolArray:
        if hits.shape[0] == 0:
            return np.zeros((n_targets, hits.shape[1]), dtype=bool)
        reduced = np.logical_or.reduceat(hits, np.minimum(starts, hits.shape[0] - 1), axis=0)
        result: BoolArray = reduced & has_entries[:, None]
        return result

    def green(
        traffic: Traffic, vol: Volume4, horizon: FloatArray, b: float, rec: Volume4 | None
    ) -> BoolArray:
        la = traffic.config.lookahead_s
        los = (b <= et) & (et < la) & steps(traffic, vol)[2]
        c_in, c_out, _ = climb(traffic, vol)
        climb_end = np.minimum(la, np.minimum(horizon[None, :] + t_climb[:, None], t2[:, None]))
        red = (t2 >= b)[:, None] & conflict_within(
            c_in, c_out, np.maximum(b, t_climb)[:, None], climb_end
        )
        l_in, l_out, _ = level(traffic, vol)
        level_end = np.minimum(la, horizon[None, :] + t_level[:, None])
        red |= conflict_within(l_in, l_out, np.maximum(b, t_level)[:, None], level_end)
        if rec is not None:
            los |= (et <= b) & (et < la) & steps(traffic, rec)[2]
            c_in, c_out, _ = climb(traffic, rec)
            red |= (t2 >= 0.0)[:, None] & conflict_within(
                c_in, c_out, t_climb[:, None], np.minimum(la, np.minimum(b, t2))[:, None]
            )
            l_in, l_out, _ = level(traffic, rec)
            red |= conflict_within(l_in, l_out, t_level[:, None], min(b, la))
        result: BoolArray = ~(red | any_by_target(los))
        return result

    return green
