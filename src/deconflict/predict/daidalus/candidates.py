"""Candidate manoeuvres of the four band dimensions and their conflict-free tests, in SI units.

A dimension (direction, horizontal speed, vertical speed, altitude) is a grid of candidate
values ``base + idx * step``; its *green* function (see ``greens``) tells, for every candidate at
once and every intruder, whether the candidate is conflict free (``DaidalusIntegerBands`` and
``DaidalusAltBands``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.config import DaidalusConfig
from deconflict.predict.daidalus.greens import (
    GreenFn,
    RegionFn,
    Traffic,
    alt_green,
    kinematic_green,
)
from deconflict.predict.daidalus.kinematics import gs_samples, turn_samples, vs_samples

__all__ = ["Dimension", "GreenFn", "RegionFn", "Traffic", "make_dimensions"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
TWO_PI = 2.0 * math.pi


@dataclass
class Dimension:
    name: str
    own_value: float
    step: float
    min_val: float
    max_val: float
    mod: float
    valid: bool
    idx: NDArray[np.int64]
    base: float  # value of candidate idx: base + idx * step
    green: GreenFn  # per intruder (numpy)
    region: RegionFn  # AND over a region's intruders (compiled)

    def mod_val(self, x: float) -> float:
        if self.mod > 0:
            return (
                math.fmod(math.fmod(x, self.mod) + self.mod, self.mod)
                if math.isfinite(x)
                else math.nan
            )
        return x


def max_steps(rel: float, step: float, mod: float) -> int:
    n = math.ceil(rel / step - 1e-12)
    if mod > 0 and n * step > mod / 2.0 + 1e-12:
        n -= 1
    return int(n)


def make_dimensions(
    own_s: FloatArray, own_v: FloatArray, config: DaidalusConfig, compiled: bool = True
) -> list[Dimension]:
    """The four dimensions' candidates and their tests (``compiled``: the region tests by the
    compiled kernels, else by numpy)."""
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
            True,
            samples.idx,
            trk,
            *kinematic_green(samples, compiled),
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
            valid,
            samples.idx,
            gs,
            *kinematic_green(samples, compiled),
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
            valid,
            samples.idx,
            vs,
            *kinematic_green(samples, compiled),
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
            valid,
            idx,
            bc.min_alt_m,
            *alt_green(own_s, own_v, targets, config, compiled),
        )
    )
    return dims
