"""Conflict-free (*green*) tests of sampled ownship manoeuvres against straight-flying traffic,
in SI units (m, m/s, s), as DAIDALUS v2.0.4 makes them.

A green function answers, for every candidate manoeuvre and every intruder at once, whether the
candidate is conflict free for a search time B and per-intruder horizons T:

- no loss of separation on the way to the candidate. For turns and speed and vertical-speed
  changes DAIDALUS tests each *step* of the trajectory: from sample ``k`` (time ``t_k``) the
  ownship coasts straight to ``t_k + step`` and a violation anywhere on that segment counts (not
  only at the sample instant, which would miss losses shorter than a step); the altitude bands
  test their 1 s samples at the instant. Conflict volume from B on, recovery cylinder up to B;
  past the first loss on a side no candidate of that side is reachable;
- no conflict on the straight flight after the candidate, within ``[max(B, t_k), min(lookahead,
  T + t_k)]`` (conflict volume) or ``[t_k, B]`` (recovery cylinder) (``CD_future_traj``).

Every straight line's violation interval is computed once per volume (``line_intervals``); the
recovery search then tests many B values by comparisons only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.alerting import level_parameters
from deconflict.predict.daidalus.config import DaidalusConfig
from deconflict.predict.daidalus.detection import Volume4, conflict_within, line_intervals
from deconflict.predict.daidalus.kinematics import Samples, level_out_state, level_out_times

__all__ = ["GreenFn", "RegionFn", "Traffic", "alt_green", "kinematic_green", "numpy_region"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
_BIG = np.iinfo(np.int64).max


@dataclass
class Traffic:
    """Intruders (ENU states, alerter indices) and the configuration."""

    s: FloatArray
    v: FloatArray
    alerter: NDArray[np.int64]
    config: DaidalusConfig
    _volumes: dict[int, Volume4] = field(default_factory=dict, repr=False, compare=False)
    _key: bytes = field(default=b"", repr=False, compare=False)

    @property
    def n(self) -> int:
        return int(self.s.shape[0])

    @property
    def key(self) -> bytes:
        """The states' bytes (a cache key)."""
        if not self._key:
            self._key = self.s.tobytes() + self.v.tobytes() + b"|"
        return self._key

    def volume(self, level: int) -> Volume4:
        """Each intruder's well-clear volume at ``level`` (computed once)."""
        if level not in self._volumes:
            dthr, zthr, tthr, tcoa, _ = level_parameters(self.alerter, level, self.config)
            self._volumes[level] = (dthr, zthr, tthr, tcoa)
        return self._volumes[level]


# A green function: (traffic, which intruders, conflict volume, their horizons T, start B,
# recovery volume or None) -> bool[candidates, chosen intruders], True where the candidate is
# conflict free. Traffic and volumes are those of all intruders (so that a trajectory's
# intervals are computed once for all of them); the mask chooses the intruders tested.
GreenFn = Callable[[Traffic, BoolArray, Volume4, FloatArray, float, Volume4 | None], BoolArray]

# A region function: the same arguments -> bool[candidates], True where the candidate is conflict
# free for all the chosen intruders (an intruder whose horizon is before B counts with the
# recovery cylinder only, from 0 to its horizon; ``nonesets.region_green``), compiled.
RegionFn = Callable[[Traffic, BoolArray, Volume4, FloatArray, float, Volume4 | None], BoolArray]

Lines = tuple[FloatArray, FloatArray, BoolArray]  # t_in, t_out, loss on the step from the sample


def _numpy_lines(
    s: FloatArray, v: FloatArray, t: FloatArray,
    traffic: Traffic, vol: Volume4, end: float, step: float,
) -> Lines:  # fmt: skip
    t_in, t_out = line_intervals(s, v, t, traffic.s, traffic.v, vol, end)
    return t_in, t_out, conflict_within(t_in, t_out, t[:, None], (t + step)[:, None])


def _line_cache(
    s: FloatArray, v: FloatArray, t: FloatArray, step_s: float, compiled: bool
) -> Callable[[Traffic, Volume4], Lines]:
    """Violation intervals of the lines from every sample (cached per traffic and volume) and
    the loss of separation on each step from a sample (``LOS_at`` over ``[t_k, t_k + step]``),
    by the compiled kernel or the numpy reference."""
    cache: dict[bytes, Lines] = {}
    # the same (traffic, volume) objects come back many times (volumes are made once per level
    # and per recovery cylinder): look them up by identity first, holding them so that their
    # ids cannot be reused, and by value otherwise
    seen: dict[tuple[int, int], tuple[Traffic, Volume4, Lines]] = {}

    def lines(traffic: Traffic, vol: Volume4) -> Lines:
        hit = seen.get((id(traffic), id(vol)))
        if hit is not None and hit[0] is traffic and hit[1] is vol:
            return hit[2]
        key = traffic.key + b"".join(x.tobytes() for x in vol)
        end = traffic.config.lookahead_s + 1.0  # past every horizon and search time
        if key in cache:
            pass
        elif compiled:
            from deconflict.predict.daidalus import _kernels

            dthr, zthr, tthr, tcoa = (np.ascontiguousarray(x, dtype=np.float64) for x in vol)
            t_in, t_out, coast = _kernels.line_intervals(
                s, v, t, traffic.s, traffic.v, dthr, zthr, tthr, tcoa, end, step_s
            )
            cache[key] = (t_in, t_out, coast)
        else:
            cache[key] = _numpy_lines(s, v, t, traffic, vol, end, step_s)
        seen[(id(traffic), id(vol))] = (traffic, vol, cache[key])
        return cache[key]

    return lines


def _columns(lines: Lines, mask: BoolArray) -> Lines:
    return lines[0][:, mask], lines[1][:, mask], lines[2][:, mask]


def numpy_region(green: GreenFn) -> RegionFn:
    """The region function of a green function, in numpy (the reference of the compiled ones):
    AND over the chosen intruders; one whose horizon is before B counts with the recovery
    cylinder only, from 0 to its horizon."""

    def region(
        traffic: Traffic,
        mask: BoolArray,
        vol: Volume4,
        horizon: FloatArray,
        b: float,
        rec: Volume4 | None,
    ) -> BoolArray:
        result = green(traffic, mask, vol, horizon, b, rec)
        late = b > horizon
        if late.any():
            late_green = (
                green(traffic, mask, rec, horizon, 0.0, None)
                if rec is not None
                else np.ones_like(result)
            )
            result = np.where(late[None, :], late_green, result)
        all_green: BoolArray = np.asarray(result.all(axis=1), dtype=bool)
        return all_green

    return region


def _compiled(kernel: str, lines: Callable[[Traffic, Volume4], Lines], *fixed: Any) -> RegionFn:
    """The region function of a green test: the compiled ``kernel`` of ``_kernels`` called with
    the trajectory's ``fixed`` arrays and the lines of the volumes asked for."""

    def region(
        traffic: Traffic,
        mask: BoolArray,
        vol: Volume4,
        horizon: FloatArray,
        b: float,
        rec: Volume4 | None,
    ) -> BoolArray:
        from deconflict.predict.daidalus import _kernels

        conflict = lines(traffic, vol)
        recovery = lines(traffic, rec) if rec is not None else conflict
        result: BoolArray = getattr(_kernels, kernel)(
            *fixed,
            *conflict,
            *recovery,
            rec is not None,
            mask.nonzero()[0],
            horizon.astype(np.float64),
            b,
            traffic.config.lookahead_s,
        )
        return result

    return region


def kinematic_green(samples: Samples, compiled: bool = True) -> tuple[GreenFn, RegionFn]:
    """Green test of DaidalusIntegerBands.kinematic_bands_combine for one sampled manoeuvre
    (numpy, per intruder), and its compiled region test."""
    k = np.abs(samples.idx)
    right = (samples.idx >= 0)[:, None]
    left = (samples.idx <= 0)[:, None]
    t = samples.t[:, None]
    lines = _line_cache(samples.s, samples.v, samples.t, samples.time_step_s, compiled)

    def green(
        traffic: Traffic,
        mask: BoolArray,
        vol: Volume4,
        horizon: FloatArray,
        b: float,
        rec: Volume4 | None,
    ) -> BoolArray:
        la = traffic.config.lookahead_s
        t_in, t_out, coast = _columns(lines(traffic, vol), mask)
        before_la = t < la
        los = (b <= t) & before_la & coast
        red = conflict_within(t_in, t_out, np.maximum(b, t), np.minimum(la, horizon[None, :] + t))
        if rec is not None:
            r_in, r_out, r_coast = _columns(lines(traffic, rec), mask)
            los |= (t <= b) & before_la & r_coast
            red |= conflict_within(r_in, r_out, t, min(b, la))
        kk = np.where(los, k[:, None], _BIG)
        first_right = np.where(right, kk, _BIG).min(axis=0, initial=_BIG)
        first_left = np.where(left, kk, _BIG).min(axis=0, initial=_BIG)
        first = np.where(right, first_right[None, :], first_left[None, :])
        result: BoolArray = ~red & (k[:, None] < first)
        return result

    if not compiled:
        return green, numpy_region(green)
    flat_right, flat_left = right[:, 0].copy(), left[:, 0].copy()
    return green, _compiled("kinematic_region", lines, samples.t, k, flat_right, flat_left)


def alt_green(
    own_s: FloatArray,
    own_v: FloatArray,
    targets: FloatArray,
    config: DaidalusConfig,
    compiled: bool = True,
) -> tuple[GreenFn, RegionFn]:
    """Green test of DaidalusAltBands.conflict_free_traj_step for every target altitude (numpy,
    per intruder), and its compiled region test."""
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

    n_targets = targets.shape[0]
    # LOS steps, in whole seconds within the lookahead: up to the end of the first acceleration,
    # and over the level-off phase (a few per target), sorted by target
    last = np.floor(config.lookahead_s / tstep)
    n_first = np.clip(np.floor(t1 / tstep), -1.0, last) + 1.0  # seconds 0 .. floor(t1)
    level_off_from = np.maximum(np.ceil(t2 / tstep), n_first)
    n_level_off = np.maximum(np.minimum(np.floor(t3 / tstep), last) - level_off_from + 1.0, 0.0)
    counts = (n_first + n_level_off).astype(np.int64)
    e_target = np.repeat(np.arange(n_targets), counts)
    starts = np.cumsum(counts) - counts
    rank = (np.arange(e_target.shape[0]) - starts[e_target]).astype(np.float64)
    e_t = np.where(
        rank < n_first[e_target], rank, level_off_from[e_target] + rank - n_first[e_target]
    )
    e_t = e_t * tstep
    has_entries = counts > 0
    t_climb = np.maximum(t1, 0.0)
    t_level = np.maximum(t3, 0.0)
    every = np.arange(n_targets)
    # one line cache for the samples, the climbs and the level flights (one kernel call each).
    # DaidalusAltBands tests its 1 s samples at their instant (LOS_at, a step of length 0): the
    # step-wise LOS_at_coast is the kinematic bands' (DaidalusIntegerBands), and the reference
    # encounters' altitude bands agree either way
    all_t = np.concatenate([e_t, t_climb, t_level])
    lines = _line_cache(
        *state_at(np.concatenate([e_target, every, every]), all_t), all_t, 0.0, compiled
    )
    n_e = e_t.shape[0]
    et = e_t[:, None]

    def parts(traffic: Traffic, mask: BoolArray, vol: Volume4) -> tuple[Lines, Lines, Lines]:
        t_in, t_out, coast = _columns(lines(traffic, vol), mask)
        cut = (slice(0, n_e), slice(n_e, n_e + n_targets), slice(n_e + n_targets, None))
        steps, climb, level = ((t_in[c], t_out[c], coast[c]) for c in cut)
        return steps, climb, level

    def any_by_target(hits: BoolArray) -> BoolArray:
        if hits.shape[0] == 0:
            return np.zeros((n_targets, hits.shape[1]), dtype=bool)
        reduced = np.logical_or.reduceat(hits, np.minimum(starts, hits.shape[0] - 1), axis=0)
        result: BoolArray = reduced & has_entries[:, None]
        return result

    def green(
        traffic: Traffic,
        mask: BoolArray,
        vol: Volume4,
        horizon: FloatArray,
        b: float,
        rec: Volume4 | None,
    ) -> BoolArray:
        la = traffic.config.lookahead_s
        steps, (c_in, c_out, _), (l_in, l_out, _) = parts(traffic, mask, vol)
        los = (b <= et) & (et < la) & steps[2]
        climb_end = np.minimum(la, np.minimum(horizon[None, :] + t_climb[:, None], t2[:, None]))
        red = (t2 >= b)[:, None] & conflict_within(
            c_in, c_out, np.maximum(b, t_climb)[:, None], climb_end
        )
        level_end = np.minimum(la, horizon[None, :] + t_level[:, None])
        red |= conflict_within(l_in, l_out, np.maximum(b, t_level)[:, None], level_end)
        if rec is not None:
            steps, (c_in, c_out, _), (l_in, l_out, _) = parts(traffic, mask, rec)
            los |= (et <= b) & (et < la) & steps[2]
            red |= (t2 >= 0.0)[:, None] & conflict_within(
                c_in, c_out, t_climb[:, None], np.minimum(la, np.minimum(b, t2))[:, None]
            )
            red |= conflict_within(l_in, l_out, t_level[:, None], min(b, la))
        result: BoolArray = ~(red | any_by_target(los))
        return result

    if not compiled:
        return green, numpy_region(green)
    fixed = (e_t, e_target, t2, t_climb, t_level)
    return green, _compiled("altitude_region", lines, *fixed)
