"""DAIDALUS manoeuvre guidance bands, resolutions and recovery bands, in SI units (m, m/s, s, rad).

For each dimension (direction, horizontal speed, vertical speed, altitude) every candidate
manoeuvre is sampled on its kinematic trajectory at once (candidates × intruders in numpy
arrays) and tested with the alert level's well-clear detector, as ``DaidalusRealBands`` does:

- a candidate is conflict free for an intruder when no loss of well clear occurs along the
  manoeuvre before it is reached (``LOS_at``) and the straight flight after it is conflict free
  up to the aircraft's horizon (``CD_future_traj``); values beyond the first loss on either side
  are not reachable and count as conflicts;
- *conflict aircraft* of a region (NEAR: warning level, MID: corrective level) alert on the
  current trajectory and are checked up to that level's early alerting time; *peripheral
  aircraft* would alert after some manoeuvre of the dimension and are checked up to the
  alerting time;
- the conflict-free (NONE) set of a region is the intersection over its aircraft; a value's
  region is the most severe one whose NONE set does not hold it;
- when no NONE value is left at the corrective or a more severe region, recovery bands are
  searched (``compute_recovery_bands``): the earliest time after which some manoeuvre stays out
  of the corrective volume without entering a recovery cylinder before, shrinking the cylinder
  by the collision-avoidance factor down to the NMAC cylinder.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.alerting import level_parameters
from deconflict.predict.daidalus.config import DO365B, DaidalusConfig
from deconflict.predict.daidalus.detection import (
    Volume4,
    conflict_after,
    cylinder,
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
from deconflict.predict.wcv import wcv_interval, wcv_violated_now

__all__ = ["DIMENSIONS", "DimensionBands", "RecoveryInfo", "compute_bands"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Intervals = list[tuple[float, float]]

#: the four band dimensions, in output order
DIMENSIONS: tuple[str, ...] = ("hdir", "hs", "vs", "alt")
# conflict-region index -> (alert level, region name); 0 is the most severe
_REGIONS: tuple[tuple[int, str], ...] = ((3, "NEAR"), (2, "MID"))
_CORRECTIVE = 1  # index of the corrective region (MID) in _REGIONS
_TWO_PI = 2.0 * math.pi
_EPS = 1e-9


@dataclass(frozen=True)
class RecoveryInfo:
    """Outcome of the recovery-band search of one dimension (DAIDALUS RecoveryInformation)."""

    computed: bool = False
    saturated: bool = False
    time_to_recovery_s: float = math.nan
    horizontal_distance_m: float = math.nan
    vertical_distance_m: float = math.nan
    n_factor: int = -1


@dataclass(frozen=True)
class DimensionBands:
    """Bands of one dimension: ``bands`` covers the range with (lo, hi, region) in SI."""

    name: str
    own_value: float
    bands: list[tuple[float, float, str]]
    current_region: str
    resolution_up: float
    resolution_low: float
    preferred_up: bool
    recovery: RecoveryInfo = field(default_factory=RecoveryInfo)


@dataclass
class _Traffic:
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

    def times(self, level: int) -> tuple[FloatArray, FloatArray]:
        """(alerting time, early alerting time) of ``level``, capped at the lookahead."""
        la = self.config.lookahead_s
        rows = [self.config.alerters[int(k)].levels[level - 1] for k in self.alerter]
        return (
            np.minimum(la, np.array([r.alerting_time_s for r in rows], dtype=np.float64)),
            np.minimum(la, np.array([r.early_alerting_time_s for r in rows], dtype=np.float64)),
        )

    def subset(self, mask: BoolArray) -> _Traffic:
        return _Traffic(self.s[mask], self.v[mask], self.alerter[mask], self.config)


def _sub(vol: Volume4, mask: BoolArray) -> Volume4:
    return (vol[0][mask], vol[1][mask], vol[2][mask], vol[3][mask])


# A green function: (traffic, conflict volume, horizons T, start B, recovery volume or None)
# -> bool[candidates, intruders], True where the candidate is conflict free.
GreenFn = Callable[[_Traffic, Volume4, FloatArray, float, Volume4 | None], BoolArray]


@dataclass
class _Dimension:
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


def _kinematic_green(samples: Samples) -> GreenFn:
    """Green test of DaidalusIntegerBands.kinematic_bands_combine for one sampled manoeuvre."""
    k = np.abs(samples.idx)
    right = samples.idx >= 0
    left = samples.idx <= 0
    cache: dict[bytes, BoolArray] = {}

    def los_at(traffic: _Traffic, vol: Volume4) -> BoolArray:
        """Loss of separation at each sample (independent of B and T, so cached)."""
        key = b"".join(np.ascontiguousarray(x).tobytes() for x in vol) + traffic.s.tobytes()
        if key not in cache:
            cache[key] = violation_at(samples.s, samples.v, samples.t, traffic.s, traffic.v, vol)
        return cache[key]

    back_s = samples.s - samples.v * samples.t[:, None]
    zero_t = np.zeros_like(samples.t)

    def cd_future(
        traffic: _Traffic, vol: Volume4, b: float, horizon: FloatArray | float
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
        traffic: _Traffic, vol: Volume4, horizon: FloatArray, b: float, rec: Volume4 | None
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


def _alt_green(
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

    def los_entries(traffic: _Traffic, vol: Volume4) -> BoolArray:
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
        traffic: _Traffic, vol: Volume4, horizon: FloatArray, b: float, rec: Volume4 | None
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


def _max_steps(rel: float, step: float, mod: float) -> int:
    n = math.ceil(rel / step - 1e-12)
    if mod > 0 and n * step > mod / 2.0 + 1e-12:
        n -= 1
    return int(n)


def _dimensions(own_s: FloatArray, own_v: FloatArray, config: DaidalusConfig) -> list[_Dimension]:
    bc = config.bands
    dims: list[_Dimension] = []
    # direction (track, or heading with wind); a hovering ownship turns at a minimum speed
    gs = float(np.hypot(own_v[0], own_v[1]))
    trk = float(np.arctan2(own_v[0], own_v[1])) % _TWO_PI
    turn_v = own_v.copy()
    min_gs = max(bc.step_hs_mps, bc.min_airspeed_mps)
    if gs < min_gs:
        turn_v[0], turn_v[1] = min_gs * math.sin(trk), min_gs * math.cos(trk)
    n_left = _max_steps(bc.left_hdir_rad, bc.step_hdir_rad, _TWO_PI)
    n_right = _max_steps(bc.right_hdir_rad, bc.step_hdir_rad, _TWO_PI)
    samples = turn_samples(
        own_s, turn_v, bc.turn_rate_rad_s, bc.step_hdir_rad / bc.turn_rate_rad_s, n_left, n_right
    )
    dims.append(
        _Dimension(
            "hdir",
            trk,
            bc.step_hdir_rad,
            0.0,
            _TWO_PI,
            _TWO_PI,
            bc.left_hdir_rad,
            bc.right_hdir_rad,
            True,
            samples.idx,
            trk,
            _kinematic_green(samples),
        )
    )
    # horizontal speed
    valid = bc.min_hs_mps <= gs <= bc.max_hs_mps
    n_down = _max_steps(gs - bc.min_hs_mps, bc.step_hs_mps, 0.0) if valid else 0
    n_up = _max_steps(bc.max_hs_mps - gs, bc.step_hs_mps, 0.0) if valid else 0
    samples = gs_samples(
        own_s,
        own_v,
        bc.horizontal_accel_mps2,
        bc.step_hs_mps / bc.horizontal_accel_mps2,
        n_down,
        n_up,
    )
    dims.append(
        _Dimension(
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
            _kinematic_green(samples),
        )
    )
    # vertical speed
    vs = float(own_v[2])
    valid = bc.min_vs_mps <= vs <= bc.max_vs_mps
    n_down = _max_steps(vs - bc.min_vs_mps, bc.step_vs_mps, 0.0) if valid else 0
    n_up = _max_steps(bc.max_vs_mps - vs, bc.step_vs_mps, 0.0) if valid else 0
    samples = vs_samples(
        own_s,
        own_v,
        bc.vertical_accel_mps2,
        bc.step_vs_mps / bc.vertical_accel_mps2,
        n_down,
        n_up,
    )
    dims.append(
        _Dimension(
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
            _kinematic_green(samples),
        )
    )
    # altitude: targets min_alt + j * step, j = 0 .. floor((max - min) / step) + 1
    alt = float(own_s[2])
    valid = bc.min_alt_m <= alt <= bc.max_alt_m
    n_targets = math.floor((bc.max_alt_m - bc.min_alt_m) / bc.step_alt_m + 1e-9) + 1
    idx = np.arange(0, n_targets + 1, dtype=np.int64)
    targets: FloatArray = bc.min_alt_m + idx.astype(np.float64) * bc.step_alt_m
    dims.append(
        _Dimension(
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
            _alt_green(own_s, own_v, targets, config),
        )
    )
    return dims


# ---------------------------------------------------------------- interval sets


def _union(intervals: Intervals) -> Intervals:
    out: Intervals = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + _EPS:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _none_set(dim: _Dimension, green: BoolArray) -> Intervals:
    """Conflict-free value intervals from the candidates' green flags (runs of >= 2 steps)."""
    out: Intervals = []
    g = np.concatenate([[False], green, [False]])
    starts = np.flatnonzero(g[1:] & ~g[:-1])
    ends = np.flatnonzero(g[:-1] & ~g[1:]) - 1
    for a, b in zip(starts, ends, strict=True):
        if b <= a:
            continue
        lo = dim.base + float(dim.idx[a]) * dim.step
        hi = dim.base + float(dim.idx[b]) * dim.step
        if dim.mod == 0.0:
            lo, hi = max(dim.min_val, lo), min(dim.max_val, hi)
            if lo < hi - _EPS:
                out.append((lo, hi))
        elif hi - lo >= dim.mod - _EPS:
            out.append((0.0, dim.mod))
        else:
            mlo, mhi = dim.mod_val(lo), dim.mod_val(hi)
            if mlo < mhi:
                out.append((mlo, mhi))
            else:
                out.extend([(0.0, mhi), (mlo, dim.mod)])
    return _union([iv for iv in out if iv[1] - iv[0] > _EPS])


def _contains(intervals: Intervals, x: float) -> bool:
    return any(lo - _EPS <= x <= hi + _EPS for lo, hi in intervals)


# ---------------------------------------------------------------- regions and recovery


@dataclass
class _RegionAircraft:
    mask: BoolArray  # which intruders contribute
    horizon: FloatArray  # their horizon T (all intruders, NaN where not contributing)
    level: int


def _region_green(
    dim: _Dimension,
    traffic: _Traffic,
    ra: _RegionAircraft,
    b: float = 0.0,
    vol_override: Volume4 | None = None,
    rec: Volume4 | None = None,
) -> BoolArray:
    """AND over the region's aircraft of the candidates' green flags (compute_none_bands)."""
    if not ra.mask.any():
        return np.ones(dim.idx.shape, dtype=bool)
    sub = traffic.subset(ra.mask)
    horizon = ra.horizon[ra.mask]
    vol = _sub(vol_override if vol_override is not None else traffic.volume(ra.level), ra.mask)
    rec_sub = _sub(rec, ra.mask) if rec is not None else None
    green = dim.green(sub, vol, horizon, b, rec_sub)
    late = b > horizon
    if late.any():  # B beyond an aircraft's horizon: only the recovery cylinder, up to T
        late_green = (
            dim.green(sub, rec_sub, horizon, 0.0, None)
            if rec_sub is not None
            else np.ones_like(green)
        )
        green = np.asarray(np.where(late[None, :], late_green, green), dtype=bool)
    result: BoolArray = np.asarray(green.all(axis=1), dtype=bool)
    return result


def _recovery(
    dim: _Dimension, traffic: _Traffic, ra: _RegionAircraft, config: DaidalusConfig
) -> tuple[RecoveryInfo, Intervals]:
    """DaidalusRealBands.compute_recovery_bands for the corrective region's aircraft."""
    bc = config.bands
    n = traffic.n
    nmac = cylinder(bc.horizontal_nmac_m, bc.vertical_nmac_m, n)
    none = _none_set(dim, _region_green(dim, traffic, ra, 0.0, vol_override=nmac))
    if not none:
        return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, 0), none
    horizontal, vertical = bc.min_horizontal_recovery_m, bc.min_vertical_recovery_m
    factor = 1.0 - bc.ca_factor
    lookahead = config.lookahead_s
    n_factor = 0
    while horizontal > bc.horizontal_nmac_m or vertical > bc.vertical_nmac_m:
        cyl = cylinder(horizontal, vertical, n)
        none = _none_set(dim, _region_green(dim, traffic, ra, 0.0, vol_override=cyl))
        if not none and not bc.ca_bands:
            return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, n_factor), none
        if none:
            pivot_red, pivot_green = 0.0, lookahead + 1.0
            pivot = pivot_green - 1.0
            while pivot_green - pivot_red > 0.5:
                none = _none_set(dim, _region_green(dim, traffic, ra, pivot, rec=cyl))
                if none:
                    pivot_green = pivot
                else:
                    pivot_red = pivot
                pivot = (pivot_red + pivot_green) / 2.0
            if pivot_green <= lookahead:
                recovery_time = min(lookahead, pivot_green + bc.recovery_stability_time_s)
            else:
                recovery_time = pivot_red
            none = _none_set(dim, _region_green(dim, traffic, ra, recovery_time, rec=cyl))
            if none:
                info = RecoveryInfo(True, False, recovery_time, horizontal, vertical, n_factor)
                return info, none
            if not bc.ca_bands:
                return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, n_factor), none
        n_factor += 1
        horizontal = max(bc.horizontal_nmac_m, horizontal * factor)
        vertical = max(bc.vertical_nmac_m, vertical * factor)
    return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, n_factor), []


# ---------------------------------------------------------------- colouring and resolutions


def _colour(
    dim: _Dimension, none_sets: list[Intervals], last_region: int, recovery: bool
) -> list[tuple[float, float, str]]:
    """ColorValue logic: NONE, then each region outside its NONE set (most severe first, up to
    a saturated one); with recovery, the recovery set of the corrective region is RECOVERY."""
    points = {dim.min_val, dim.max_val}
    if recovery:
        for lo, hi in none_sets[last_region]:
            points.update((lo, hi))
    used: list[tuple[Intervals, str]] = []
    for r in range(last_region + 1):
        used.append((none_sets[r], _REGIONS[r][1]))
        for lo, hi in none_sets[r]:
            points.update((lo, hi))
        if not none_sets[r]:
            break
    pts = sorted(p for p in points if dim.min_val - _EPS <= p <= dim.max_val + _EPS)
    out: list[tuple[float, float, str]] = []
    for lo, hi in itertools.pairwise(pts):
        if hi - lo <= _EPS:
            continue
        mid = 0.5 * (lo + hi)
        name = "NONE"
        for none, region in used:
            if not _contains(none, mid):
                name = region
                break
        if recovery and _contains(none_sets[last_region], mid):
            name = "RECOVERY"
        if out and out[-1][2] == name:
            out[-1] = (out[-1][0], hi, name)
        else:
            out.append((lo, hi, name))
    return out


def _region_of(bands: list[tuple[float, float, str]], x: float) -> str:
    """Region holding ``x``; on a boundary the less severe side (conflict-free bounds are
    closed)."""
    hits = [name for lo, hi, name in bands if lo - _EPS <= x <= hi + _EPS]
    for name in ("NONE", "RECOVERY", "MID", "NEAR"):
        if name in hits:
            return name
    return "UNKNOWN"


def _resolutions(dim: _Dimension, none: Intervals) -> tuple[float, float, bool]:
    val = dim.own_value
    low, up = -math.inf, math.inf
    conflict = True
    for i, (lo, hi) in enumerate(none):
        if lo - _EPS <= val <= hi + _EPS:
            low, up, conflict = math.nan, math.nan, False
            break
        if hi < val:
            if i + 1 == len(none):
                low = hi
                if dim.mod > 0:
                    up = none[0][0]
                break
            if val < none[i + 1][0]:
                low, up = hi, none[i + 1][0]
                break
        elif val < lo and i == 0:
            if dim.mod > 0:
                low = none[-1][1]
            up = lo
            break
    if conflict:
        if dim.mod_val(val - low) >= dim.min_rel - _EPS:
            low = -math.inf
        if dim.mod_val(up - val) >= dim.max_rel - _EPS:
            up = math.inf
    if (not math.isfinite(up) and not math.isfinite(low)) or not math.isfinite(up):
        preferred = False
    elif not math.isfinite(low):
        preferred = True
    else:
        preferred = dim.mod_val(up - val) <= dim.mod_val(val - low) + _EPS
    return up, low, preferred


# ---------------------------------------------------------------- entry point


def compute_bands(
    own_s: FloatArray,
    own_v: FloatArray,
    intr_s: FloatArray,
    intr_v: FloatArray,
    alerter: NDArray[np.int64],
    config: DaidalusConfig = DO365B,
) -> dict[str, DimensionBands]:
    """Bands, resolutions and recovery information of the four dimensions (snapshot logic)."""
    traffic = _Traffic(
        np.asarray(intr_s, dtype=np.float64).reshape(-1, 3),
        np.asarray(intr_v, dtype=np.float64).reshape(-1, 3),
        np.asarray(alerter, dtype=np.int64).reshape(-1),
        config,
    )
    own_s = np.asarray(own_s, dtype=np.float64)
    own_v = np.asarray(own_v, dtype=np.float64)
    lookahead = config.lookahead_s
    rel_s = own_s[None, :] - traffic.s
    rel_v = own_v[None, :] - traffic.v
    args = (rel_s[:, 0], rel_s[:, 1], rel_s[:, 2], rel_v[:, 0], rel_v[:, 1], rel_v[:, 2])
    # conflict aircraft per region, and candidates for peripheral aircraft
    conflict_ra: list[_RegionAircraft] = []
    peripheral_candidates: list[tuple[BoolArray, FloatArray, int]] = []
    for level, _name in _REGIONS:
        vol = traffic.volume(level)
        alerting, _early = traffic.times(level)
        t_in, _ = wcv_interval(*args, *vol, lookahead)
        now = wcv_violated_now(*args, *vol)
        is_conflict = now | (np.isfinite(t_in) & (t_in < alerting))
        # conflict aircraft are checked over the whole lookahead (DAIDALUS v2.0.4)
        horizon = np.where(is_conflict, lookahead, np.nan)
        conflict_ra.append(_RegionAircraft(is_conflict, horizon, level))
        t_in_alert, _ = wcv_interval(*args, *vol, alerting)
        quiet = ~is_conflict & ~np.isfinite(t_in_alert)
        peripheral_candidates.append((quiet, alerting, level))

    out: dict[str, DimensionBands] = {}
    for dim in _dimensions(own_s, own_v, config):
        if not dim.valid:
            out[dim.name] = DimensionBands(
                dim.name, dim.own_value, [], "UNKNOWN", math.nan, math.nan, False
            )
            continue
        regions: list[_RegionAircraft] = []
        for r, (quiet, alerting, level) in enumerate(peripheral_candidates):
            peripheral = np.zeros(traffic.n, dtype=bool)
            if quiet.any():
                sub = traffic.subset(quiet)
                green = dim.green(
                    sub, _sub(traffic.volume(level), quiet), alerting[quiet], 0.0, None
                )
                peripheral[quiet] = ~green.all(axis=0)
            base = conflict_ra[r]
            regions.append(
                _RegionAircraft(
                    base.mask | peripheral,
                    np.where(peripheral, alerting, base.horizon),
                    level,
                )
            )
        none_sets: list[Intervals] = [[] for _ in _REGIONS]
        recovery = False
        info = RecoveryInfo()
        last = 0
        for r in range(len(_REGIONS)):
            last = r
            none_sets[r] = _none_set(dim, _region_green(dim, traffic, regions[r]))
            if not none_sets[r]:
                if r <= _CORRECTIVE:
                    recovery = True
                    info, none_sets[_CORRECTIVE] = _recovery(
                        dim, traffic, regions[_CORRECTIVE], config
                    )
                break
        bands = _colour(dim, none_sets, _CORRECTIVE if recovery else last, recovery)
        up, low, preferred = _resolutions(dim, none_sets[_CORRECTIVE])
        out[dim.name] = DimensionBands(
            dim.name,
            dim.own_value,
            bands,
            _region_of(bands, dim.own_value),
            up,
            low,
            preferred,
            info,
        )
    return out
