"""DAIDALUS manoeuvre guidance bands and resolutions, in SI units (m, m/s, s, rad).

For each dimension (direction, horizontal speed, vertical speed, altitude; see ``candidates``)
every candidate manoeuvre is tested against all intruders at once, as ``DaidalusRealBands``
does:

- *conflict aircraft* of a region (NEAR: warning level, MID: corrective level) alert on the
  current trajectory and are checked over the whole lookahead; *peripheral aircraft* would
  alert after some manoeuvre of the dimension and are checked up to the alerting time;
- the conflict-free (NONE) set of a region is the intersection over its aircraft (see
  ``nonesets``); a value's region is the most severe one whose NONE set does not hold it;
- when no NONE value is left at the corrective or a more severe region, recovery bands are
  searched (see ``recovery``) and the values they keep are RECOVERY;
- resolutions are the nearest values of the corrective NONE (or recovery) set each way: NaN
  when the current value is in it, ±inf when there is none that way.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.alerting import level_parameters
from deconflict.predict.daidalus.candidates import Dimension, Traffic, make_dimensions
from deconflict.predict.daidalus.config import DO365B, DaidalusConfig
from deconflict.predict.daidalus.nonesets import (
    EPS,
    Intervals,
    RegionAircraft,
    contains,
    none_set,
    region_green,
)
from deconflict.predict.daidalus.recovery import RecoveryInfo, recovery_bands
from deconflict.predict.daidalus.regions import index_of, resolutions
from deconflict.predict.wcv import wcv_interval, wcv_violated_now

__all__ = ["DIMENSIONS", "DimensionBands", "RecoveryInfo", "compute_bands"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

DIMENSIONS: tuple[str, ...] = ("hdir", "hs", "vs", "alt")


def _conflict_regions(config: DaidalusConfig) -> tuple[tuple[tuple[int, str], ...], int]:
    """(alert level, region name) of the levels that paint bands, most severe first (DO-365B:
    (3, NEAR), (2, MID)), and the index among them of the corrective level's region."""
    levels = config.alerters[min(config.alerters)].levels
    regions = tuple(
        (k, lv.region)
        for k, lv in reversed(list(enumerate(levels, start=1)))
        if lv.region != "NONE"
    )
    return regions, [k for k, _ in regions].index(config.corrective_level)


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


def _colour(
    dim: Dimension,
    regions: tuple[tuple[int, str], ...],
    none_sets: list[Intervals],
    last_region: int,
    recovery: bool,
) -> list[tuple[float, float, str]]:
    """ColorValue logic: NONE, then each region outside its NONE set (most severe first, up to
    a saturated one); with recovery, the recovery set of the corrective region is RECOVERY."""
    points = {dim.min_val, dim.max_val}
    if recovery:
        for lo, hi in none_sets[last_region]:
            points.update((lo, hi))
    used: list[tuple[Intervals, str]] = []
    for r in range(last_region + 1):
        used.append((none_sets[r], regions[r][1]))
        for lo, hi in none_sets[r]:
            points.update((lo, hi))
        if not none_sets[r]:
            break
    pts = sorted(p for p in points if dim.min_val - EPS <= p <= dim.max_val + EPS)
    out: list[tuple[float, float, str]] = []
    for lo, hi in itertools.pairwise(pts):
        if hi - lo <= EPS:
            continue
        mid = 0.5 * (lo + hi)
        name = "NONE"
        for none, region in used:
            if not contains(none, mid):
                name = region
                break
        if recovery and contains(none_sets[last_region], mid):
            name = "RECOVERY"
        if out and out[-1][2] == name:
            out[-1] = (out[-1][0], hi, name)
        else:
            out.append((lo, hi, name))
    return out


#: calls of a process whose band search runs in numpy before the compiled kernels take over: a
#: one-off call never pays numba's import and compilation (0.4-0.7 s CPU with numba's cache
#: warm, about 3 s on a fresh install), a process that calls on pays it once (docs/perf/daidalus.md)
COMPILE_AFTER_CALLS = 2
_calls = 0


def _compile_now() -> bool:
    global _calls
    _calls += 1
    return _calls > COMPILE_AFTER_CALLS


def compute_bands(
    own_s: FloatArray,
    own_v: FloatArray,
    intr_s: FloatArray,
    intr_v: FloatArray,
    alerter: NDArray[np.int64],
    config: DaidalusConfig = DO365B,
    compiled: bool | None = None,
) -> dict[str, DimensionBands]:
    """Bands, resolutions and recovery information of the four dimensions (snapshot logic).

    ``compiled``: the band search by the compiled kernels (True) or numpy (False), the same
    results; None (default): numpy for the first ``COMPILE_AFTER_CALLS`` calls of the process,
    compiled after."""
    if compiled is None:
        compiled = _compile_now()
    traffic = Traffic(
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
    conflict_ra: list[RegionAircraft] = []
    peripheral_candidates: list[tuple[BoolArray, FloatArray, int]] = []
    regions_of, corrective = _conflict_regions(config)
    for level, _name in regions_of:
        dthr, zthr, tthr, tcoa, alerting = level_parameters(traffic.alerter, level, config)
        vol = (dthr, zthr, tthr, tcoa)
        alerting = np.minimum(lookahead, alerting)  # capped at the lookahead
        t_in, _ = wcv_interval(*args, *vol, lookahead)
        now = wcv_violated_now(*args, *vol)
        is_conflict = now | (np.isfinite(t_in) & (t_in < alerting))
        # conflict aircraft are checked over the whole lookahead (DAIDALUS v2.0.4)
        horizon = np.where(is_conflict, lookahead, np.nan)
        conflict_ra.append(RegionAircraft(is_conflict, horizon, level))
        t_in_alert, _ = wcv_interval(*args, *vol, alerting)
        quiet = ~is_conflict & ~np.isfinite(t_in_alert)
        peripheral_candidates.append((quiet, alerting, level))

    out: dict[str, DimensionBands] = {}
    for dim in make_dimensions(own_s, own_v, config, compiled):
        if not dim.valid:
            out[dim.name] = DimensionBands(
                dim.name, dim.own_value, [], "UNKNOWN", math.nan, math.nan, False
            )
            continue
        regions: list[RegionAircraft] = []
        for r, (quiet, alerting, level) in enumerate(peripheral_candidates):
            peripheral = np.zeros(traffic.n, dtype=bool)
            if quiet.any():
                vol = traffic.volume(level)
                for i in np.flatnonzero(quiet):
                    one = np.arange(traffic.n) == i
                    green = dim.region(traffic, one, vol, alerting[one], 0.0, None)
                    peripheral[i] = not green.all()
            base = conflict_ra[r]
            regions.append(
                RegionAircraft(
                    base.mask | peripheral,
                    np.where(peripheral, alerting, base.horizon),
                    level,
                )
            )
        none_sets: list[Intervals] = [[] for _ in regions_of]
        recovery = False
        info = RecoveryInfo()
        last = 0
        for r in range(len(regions_of)):
            last = r
            none_sets[r] = none_set(dim, region_green(dim, traffic, regions[r]))
            if not none_sets[r]:
                if r <= corrective:
                    recovery = True
                    info, none_sets[corrective] = recovery_bands(
                        dim, traffic, regions[corrective], config
                    )
                break
        bands = _colour(dim, regions_of, none_sets, corrective if recovery else last, recovery)
        idx = index_of(bands, dim.own_value, dim.mod)
        up, low, preferred = resolutions(bands, idx, dim.own_value, dim.mod)
        out[dim.name] = DimensionBands(
            dim.name,
            dim.own_value,
            bands,
            bands[idx][2] if idx >= 0 else "UNKNOWN",
            up,
            low,
            preferred,
            info,
        )
    return out
