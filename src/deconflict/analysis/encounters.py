"""Encounters from screened pairs: closest approach, loss-of-separation time, severity (m, s).

An *encounter* is a maximal run of consecutive grid steps at which a pair is inside the screening
volume. Between two grid steps both aircraft move linearly (the resampling's own model), so the
relative position is affine in time over each step: the closest approach is searched over every
step of the run and the step on either side of it (where both aircraft have states), minimising
the normalised separation ``r = max(h / H, |dz| / V)`` (``H``, ``V``: the standard's minima) —
the quantity `traffic` calls *aggregated*. Where ``r`` is flat (one distance dominates, e.g. two
aircraft 400 ft apart passing 1 NM abeam), the time of least ``h / H + |dz| / V`` is taken: the
objective is ``r + 1e-6 (h / H + |dz| / V)``, convex over a step, so a golden-section search
finds its minimum to 1e-9 of a step.

Separation is lost while ``h < H`` and ``|dz| < V − tol`` (``tol``: the standard's vertical
tolerance, so aircraft exactly on adjacent flight levels stay separated). The loss time of a step
is solved in closed form (``deconflict.predict.cylinder``) and summed over the run.

During a loss, the closest horizontal distance and the smallest vertical distance are reported
with their times (the inputs of a severity assessment: two aircraft can pass 0.5 NM apart with
975 ft between them while the aggregated closest approach above says 4.8 NM). Each is convex over
a step (the norm of an affine function), so its minimum over a step's loss interval is at the
unconstrained minimum clamped to that interval.

Adjacent levels: a pair whose reported altitudes stay, throughout the loss, each within
``level_tol`` of a flight level (a whole thousand feet: IFR cruising levels, ICAO Annex 2
Appendix 3), on two levels at least the vertical minimum apart, is on adjacent flight levels by
procedure — its altitudes differ from 1,000 ft only by Mode C quantisation (25 or 100 ft steps)
and altimetry. ICAO Doc 4444 §8.5.5.1 takes an aircraft to be at its level while its
pressure-altitude-derived level is within ±60 m (±200 ft) of it in RVSM airspace (the default
tolerance; ±90 m / 300 ft elsewhere). Such a pair is reported apart (``adjacent_levels``), not
as a loss; ``level_tol = 0`` turns the rule off.

Severity: the ICAO A–E class of ``deconflict.incidents.severity`` (one rule for incidents and
analysis): ``A`` inside the NMAC cylinder (500 ft / 100 ft), ``B`` a loss with less than half of
both minima left, ``C`` any other loss, ``E`` a closest approach inside the screening distances
without loss. (``D``, an approach inside a data gap, cannot occur: gaps are never interpolated.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from deconflict.analysis.screen import Grid, lookup
from deconflict.incidents.severity import severity_classes
from deconflict.predict.cylinder import horizontal_interval, vertical_interval
from deconflict.units import FT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_GOLDEN: Final = (np.sqrt(5.0) - 1.0) / 2.0
_ITERATIONS: Final = 48
_TIE: Final = 1e-6  # where r is flat (one distance dominates), the least other distance wins


@dataclass(frozen=True)
class Encounters:
    """One entry per encounter (arrays of equal length)."""

    a: I64  # aircraft index, a < b
    b: I64
    k_start: I64  # first and last grid step inside the screening volume
    k_end: I64
    t_cpa_s: F64
    dcpa_m: F64
    dalt_m: F64
    ratio: F64  # r = max(h / H, |dz| / V) at the closest approach
    loss_s: F64  # time with separation lost
    loss: NDArray[np.bool_]
    cpa_xyz_m: F64  # ECEF of the surface point midway between the two aircraft at the CPA
    cpa_alt_m: F64  # mean altitude of the two at the CPA
    severity: NDArray[np.str_]
    # during the loss (NaN without one): closest horizontal / smallest vertical distance, times
    loss_h_m: F64
    loss_h_t_s: F64
    loss_v_m: F64
    loss_v_t_s: F64
    adjacent_levels: NDArray[np.bool_]  # a loss only by altitude quantisation (module note)

    def __len__(self) -> int:
        return int(self.a.size)

    def take(self, index: NDArray[np.int64] | NDArray[np.bool_]) -> Encounters:
        return Encounters(**{f: getattr(self, f)[index] for f in self.__dataclass_fields__})


def _affine(grid: Grid, r0: I64, r1: I64) -> tuple[F64, F64]:
    """Start value and change over the step of (xyz, alt) for rows r0 -> r1 (r1 may equal r0)."""
    p0 = np.concatenate((grid.xyz_m[r0], grid.alt_m[r0, None]), axis=1)
    p1 = np.concatenate((grid.xyz_m[r1], grid.alt_m[r1, None]), axis=1)
    return p0, p1 - p0


def _ratio(s: F64, w: F64, tau: F64, h_m: float, v_m: float, tie: float = 0.0) -> F64:
    """``max(h / H, |dz| / V)``, plus ``tie`` times their sum (a convex tie-break)."""
    rel = s + w * tau[:, None]
    h = np.linalg.norm(rel[:, :3], axis=1) / h_m
    v = np.abs(rel[:, 3]) / v_m
    out: F64 = np.maximum(h, v) + tie * (h + v)
    return out


def _clamped_min(p0: F64, w: F64, lo: F64, hi: F64) -> tuple[F64, F64]:
    """Least norm of ``p0 + w tau`` (rows) over ``tau`` in [lo, hi]: (distance, tau)."""
    ww = np.einsum("ij,ij->i", w, w)
    free = np.where(ww > 0, -np.einsum("ij,ij->i", p0, w) / np.where(ww > 0, ww, 1.0), lo)
    tau = np.clip(free, lo, hi)
    return np.linalg.norm(p0 + w * tau[:, None], axis=1), tau


def _on_level(alt_m: F64, level_tol_m: float) -> tuple[NDArray[np.bool_], F64]:
    """Whether each altitude is within ``level_tol_m`` of a whole thousand feet, and that level."""
    level = np.rint(alt_m / (1000.0 * FT)) * (1000.0 * FT)
    return np.abs(alt_m - level) <= level_tol_m, level


def encounters(
    grid: Grid,
    i: I64,
    j: I64,
    step_s: float,
    h_m: float,
    v_m: float,
    tol_m: float,
    level_tol_m: float = 0.0,
) -> Encounters:
    """Encounters from screened row pairs ``(i, j)`` of ``grid`` (``aid[i] < aid[j]``)."""
    a_all, b_all, k_all = grid.aid[i], grid.aid[j], grid.k[i]
    order = np.lexsort((k_all, b_all, a_all))
    a_all, b_all, k_all = a_all[order], b_all[order], k_all[order]
    new = np.ones(a_all.size, dtype=bool)
    new[1:] = (a_all[1:] != a_all[:-1]) | (b_all[1:] != b_all[:-1]) | (k_all[1:] != k_all[:-1] + 1)
    starts = np.flatnonzero(new)
    ends = np.concatenate((starts[1:], [a_all.size]))[: starts.size] - 1
    a, b = a_all[starts], b_all[starts]
    k_start, k_end = k_all[starts], k_all[ends]
    n_runs = starts.size

    # sub-steps [s, s+1] for s in k_start-1 .. k_end of each run
    count = k_end - k_start + 2
    run = np.repeat(np.arange(n_runs), count)
    first = np.repeat(np.cumsum(count) - count, count)
    s = k_start[run] - 1 + (np.arange(int(count.sum()), dtype=np.int64) - first)
    ra0, ra1 = lookup(grid, a[run], s), lookup(grid, a[run], s + 1)
    rb0, rb1 = lookup(grid, b[run], s), lookup(grid, b[run], s + 1)
    full = (ra0 >= 0) & (ra1 >= 0) & (rb0 >= 0) & (rb1 >= 0)
    at_start = (ra0 >= 0) & (rb0 >= 0)
    at_end = (ra1 >= 0) & (rb1 >= 0)
    usable = at_start | at_end
    # a step missing one end degenerates to its known end (a zero-length step)
    ra0 = np.where(at_start, ra0, ra1)
    rb0 = np.where(at_start, rb0, rb1)
    ra1 = np.where(full, ra1, ra0)
    rb1 = np.where(full, rb1, rb0)
    s_tau0 = np.where(at_start, s, s + 1).astype(np.float64)
    ra0, ra1, rb0, rb1 = (np.where(usable, r, 0) for r in (ra0, ra1, rb0, rb1))

    pa, wa = _affine(grid, ra0, ra1)
    pb, wb = _affine(grid, rb0, rb1)
    rel0, rel_w = pb - pa, wb - wa

    lo = np.zeros(s.size)
    hi = np.where(full, 1.0, 0.0)
    for _ in range(_ITERATIONS):
        c = hi - _GOLDEN * (hi - lo)
        d = lo + _GOLDEN * (hi - lo)
        left = _ratio(rel0, rel_w, c, h_m, v_m, _TIE) < _ratio(rel0, rel_w, d, h_m, v_m, _TIE)
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
    tau = 0.5 * (lo + hi)
    ratio_sub = np.where(usable, _ratio(rel0, rel_w, tau, h_m, v_m), np.inf)
    objective = np.where(usable, _ratio(rel0, rel_w, tau, h_m, v_m, _TIE), np.inf)

    # loss time in each full sub-step (relative motion per unit of tau, so times are fractions)
    s_len = np.linalg.norm(rel0[:, :3], axis=1)
    unit = rel0[:, :3] / np.where(s_len > 0, s_len, 1.0)[:, None]
    along = np.einsum("ij,ij->i", rel_w[:, :3], unit)
    across = np.sqrt(np.maximum(np.einsum("ij,ij->i", rel_w[:, :3], rel_w[:, :3]) - along**2, 0))
    h_in, h_out = horizontal_interval(s_len, 0.0, along, across, h_m)
    v_in, v_out = vertical_interval(rel0[:, 3], rel_w[:, 3], v_m, tol_m)
    t_in = np.maximum(np.maximum(h_in, v_in), 0.0)
    t_out = np.minimum(np.minimum(h_out, v_out), 1.0)
    loss_sub = np.where(full, np.maximum(t_out - t_in, 0.0), 0.0) * step_s

    # during the loss: least horizontal and vertical distance per sub-step, then per run
    lossy = loss_sub > 0
    t_lo, t_hi = np.where(lossy, t_in, 0.0), np.where(lossy, t_out, 0.0)
    h_sub, h_tau = _clamped_min(rel0[:, :3], rel_w[:, :3], t_lo, t_hi)
    v_sub, v_tau = _clamped_min(rel0[:, 3:], rel_w[:, 3:], t_lo, t_hi)
    h_sub, v_sub = np.where(lossy, h_sub, np.inf), np.where(lossy, v_sub, np.inf)
    # adjacent levels: both aircraft on (distinct) levels at the loss's start and end in each step
    level_ok = np.ones(s.size, dtype=bool)
    if level_tol_m > 0:
        for tau_at in (t_lo, t_hi):
            on_a, lvl_a = _on_level(pa[:, 3] + wa[:, 3] * tau_at, level_tol_m)
            on_b, lvl_b = _on_level(pb[:, 3] + wb[:, 3] * tau_at, level_tol_m)
            level_ok &= on_a & on_b & (np.abs(lvl_a - lvl_b) >= v_m - tol_m)
    else:
        level_ok[:] = False

    # per run: the sub-step of least ratio
    best_order = np.lexsort((objective, run))
    first_of_run = np.cumsum(count) - count
    best = best_order[first_of_run]
    tb = tau[best]
    rel_best = rel0[best] + rel_w[best] * tb[:, None]
    dcpa = np.linalg.norm(rel_best[:, :3], axis=1)
    dalt = np.abs(rel_best[:, 3])
    mid = pa[best] + wa[best] * tb[:, None] + 0.5 * rel_best
    loss_s = np.bincount(run, weights=loss_sub, minlength=n_runs).astype(np.float64)
    loss = (loss_s > 0) | ((dcpa < h_m) & (dalt < v_m - tol_m))
    ratio = ratio_sub[best]
    loss_h, loss_h_t = _run_min(h_sub, s_tau0 + h_tau, run, first_of_run, step_s)
    loss_v, loss_v_t = _run_min(v_sub, s_tau0 + v_tau, run, first_of_run, step_s)
    point = loss & ~np.isfinite(loss_h)  # a loss seen only at the closest approach itself
    t_cpa = (s_tau0[best] + tb) * step_s
    loss_h, loss_h_t = np.where(point, dcpa, loss_h), np.where(point, t_cpa, loss_h_t)
    loss_v, loss_v_t = np.where(point, dalt, loss_v), np.where(point, t_cpa, loss_v_t)
    all_level = np.bincount(run, weights=(lossy & ~level_ok).astype(np.float64), minlength=n_runs)
    adjacent = loss & ~point & (all_level == 0) & (level_tol_m > 0)
    if level_tol_m > 0 and np.any(point):  # judged at the closest approach alone
        on_a, lvl_a = _on_level(pa[best, 3] + wa[best, 3] * tb, level_tol_m)
        on_b, lvl_b = _on_level(pb[best, 3] + wb[best, 3] * tb, level_tol_m)
        adjacent |= point & on_a & on_b & (np.abs(lvl_a - lvl_b) >= v_m - tol_m)
    loss &= ~adjacent
    return Encounters(
        a=a,
        b=b,
        k_start=k_start,
        k_end=k_end,
        t_cpa_s=t_cpa,
        dcpa_m=dcpa,
        dalt_m=dalt,
        ratio=ratio,
        loss_s=loss_s,
        loss=loss,
        cpa_xyz_m=mid[:, :3],
        cpa_alt_m=mid[:, 3],
        severity=severity_classes(dcpa, dalt, loss, h_m, v_m),
        loss_h_m=loss_h,
        loss_h_t_s=loss_h_t,
        loss_v_m=loss_v,
        loss_v_t_s=loss_v_t,
        adjacent_levels=adjacent,
    )


def _run_min(
    value: F64, t_steps: F64, run: I64, first_of_run: I64, step_s: float
) -> tuple[F64, F64]:
    """Per run, the least finite ``value`` of its sub-steps and its time (NaN where none)."""
    order = np.lexsort((value, run))
    pick = order[first_of_run]
    best = value[pick]
    found = np.isfinite(best)
    return np.where(found, best, np.nan), np.where(found, t_steps[pick] * step_s, np.nan)
