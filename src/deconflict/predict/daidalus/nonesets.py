"""Conflict-free (NONE) value sets of a band region, and the regions' aircraft, in SI units.

A NONE set is a sorted list of disjoint closed intervals ``(lo, hi)``; on a circular dimension
(direction) the values are taken modulo 2π.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.candidates import Dimension, Traffic
from deconflict.predict.daidalus.detection import Volume4

__all__ = ["EPS", "Intervals", "RegionAircraft", "contains", "none_set", "region_green", "union"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Intervals = list[tuple[float, float]]
EPS = 1e-9


def union(intervals: Intervals) -> Intervals:
    out: Intervals = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + EPS:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def none_set(dim: Dimension, green: BoolArray) -> Intervals:
    """Conflict-free value intervals from the candidates' green flags (runs of >= 2 steps)."""
    out: Intervals = []
    if not green.any():  # saturated, the commonest answer in a recovery search
        return out
    g = np.concatenate([[False], green, [False]])
    starts = (g[1:] & ~g[:-1]).nonzero()[0]
    ends = (g[:-1] & ~g[1:]).nonzero()[0] - 1
    for a, b in zip(starts, ends, strict=True):
        if b <= a:
            continue
        lo = dim.base + float(dim.idx[a]) * dim.step
        hi = dim.base + float(dim.idx[b]) * dim.step
        if dim.mod == 0.0:
            lo, hi = max(dim.min_val, lo), min(dim.max_val, hi)
            if lo < hi - EPS:
                out.append((lo, hi))
        elif hi - lo >= dim.mod - EPS:
            out.append((0.0, dim.mod))
        else:
            mlo, mhi = dim.mod_val(lo), dim.mod_val(hi)
            if mlo < mhi:
                out.append((mlo, mhi))
            else:
                out.extend([(0.0, mhi), (mlo, dim.mod)])
    return union([iv for iv in out if iv[1] - iv[0] > EPS])


def contains(intervals: Intervals, x: float) -> bool:
    return any(lo - EPS <= x <= hi + EPS for lo, hi in intervals)


@dataclass
class RegionAircraft:
    mask: BoolArray  # which intruders contribute
    horizon: FloatArray  # their horizon T (all intruders, NaN where not contributing)
    level: int


def region_green(
    dim: Dimension,
    traffic: Traffic,
    ra: RegionAircraft,
    b: float = 0.0,
    vol_override: Volume4 | None = None,
    rec: Volume4 | None = None,
) -> BoolArray:
    """AND over the region's aircraft of the candidates' green flags (compute_none_bands)."""
    if not ra.mask.any():
        return np.ones(dim.idx.shape, dtype=bool)
    horizon = ra.horizon[ra.mask]
    vol = vol_override if vol_override is not None else traffic.volume(ra.level)
    # an aircraft whose horizon is before B counts with the recovery cylinder only, up to T
    return dim.region(traffic, ra.mask, vol, horizon, b, rec)
