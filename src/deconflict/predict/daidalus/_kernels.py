"""Compiled (numba) kernels of the DAIDALUS band search, in m, m/s and s: the straight lines'
violation intervals, and a region's conflict-free candidates for one search time B.

They compute exactly what the numpy reference in ``greens`` computes (``line_intervals``,
``conflict_within`` and the green functions, AND-ed over a region's aircraft), one scalar loop
instead of some forty array operations per call: the recovery search calls them hundreds of times
per encounter on a few hundred candidates, where numpy's per-call overhead dominates. Imported on
first use only (numba's import and, on a fresh install, its one-off compilation).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B1 = NDArray[np.bool_]

_REL_TOL = 3.6e-12  # Util.almost_equals at DAIDALUS's default precision (16348 ulps)
_POINT_TOL = 1e-9


@numba.njit(cache=True, nogil=True, inline="always")
def _wcv(
    sx: float, sy: float, sz: float, vx: float, vy: float, vz: float,
    dthr: float, zthr: float, tthr: float, tcoa: float, horizon: float,
) -> tuple[float, float]:  # fmt: skip
    """``wcv_interval`` for one pair (see ``predict.wcv``): (t_in, t_out), (inf, -inf) if none."""
    if vz == 0.0:
        if abs(sz) > zthr:
            return math.inf, -math.inf
        v_in, v_out = 0.0, horizon
    else:
        sign = 1.0 if vz > 0.0 else -1.0
        t_entry = (-sign * max(zthr, abs(vz) * tcoa) - sz) / vz
        t_exit = (sign * zthr - sz) / vz
        if horizon < t_entry or t_exit < 0.0:
            return math.inf, -math.inf
        v_in, v_out = max(0.0, t_entry), min(horizon, t_exit)
    if not v_in <= v_out:
        return math.inf, -math.inf
    window = v_out - v_in
    hx = sx + v_in * vx
    hy = sy + v_in * vy
    if abs(v_in - v_out) <= _REL_TOL * max(abs(v_in), abs(v_out)):
        return math.inf, -math.inf  # a single instant: zero length, no conflict
    sqs = hx * hx + hy * hy
    sdotv = hx * vx + hy * vy
    sqd = dthr * dthr
    a = vx * vx + vy * vy
    inside = sqs <= sqd
    safe_a = a if a != 0.0 else 1.0
    theta_disc = sdotv * sdotv - a * (sqs - sqd)
    theta_exit = (-sdotv + math.sqrt(max(theta_disc, 0.0))) / safe_a
    if theta_disc < 0.0:
        theta_exit = math.nan
    exit_in_window = math.nan if math.isnan(theta_exit) else min(window, theta_exit)
    if inside:
        h_in = 0.0
        h_out = window if a == 0.0 else exit_in_window
    else:
        b = 2.0 * sdotv + tthr * a
        c = sqs + tthr * sdotv - sqd
        det = hx * vy - hy * vx
        discr = b * b - 4.0 * a * c
        t_tau = (-b - math.sqrt(max(discr, 0.0))) / (2.0 * safe_a)
        delta = sqd * a - det * det
        if a != 0.0 and sdotv < 0.0 and discr >= 0.0 and delta >= 0.0 and t_tau <= window:
            h_in, h_out = max(0.0, t_tau), exit_in_window
        else:
            return math.inf, -math.inf
    t_in = v_in + h_in
    t_out = v_in + h_out
    if t_out - t_in > _REL_TOL * max(abs(t_in), abs(t_out)):
        return t_in, t_out
    return math.inf, -math.inf


@numba.njit(cache=True, nogil=True, inline="always")
def _within(t_in: float, t_out: float, start: float, end: float) -> bool:
    """``detection.conflict_within`` for one line."""
    if start > end:
        return False
    if abs(end - start) <= _POINT_TOL * max(1.0, abs(end)):
        return t_in <= start <= t_out
    lo = max(start, t_in)
    hi = min(end, t_out)
    return hi - lo > _REL_TOL * max(abs(lo), abs(hi))


@numba.njit(cache=True, nogil=True)
def line_intervals(
    s: F64, v: F64, t: F64, si: F64, vi: F64,
    dthr: F64, zthr: F64, tthr: F64, tcoa: F64, end: float, step: float,
) -> tuple[F64, F64, B1]:  # fmt: skip
    """Per line (candidate k, intruder i): violation interval within ``[t_k, end]`` (absolute
    times) and the loss of separation on the step ``[t_k, t_k + step]``."""
    n_k, n_i = t.shape[0], si.shape[0]
    t_in = np.empty((n_k, n_i))
    t_out = np.empty((n_k, n_i))
    coast = np.empty((n_k, n_i), dtype=np.bool_)
    for k in range(n_k):
        tk = t[k]
        window = max(end - tk, 0.0)
        for i in range(n_i):
            a, b = _wcv(
                s[k, 0] - (si[i, 0] + vi[i, 0] * tk),
                s[k, 1] - (si[i, 1] + vi[i, 1] * tk),
                s[k, 2] - (si[i, 2] + vi[i, 2] * tk),
                v[k, 0] - vi[i, 0],
                v[k, 1] - vi[i, 1],
                v[k, 2] - vi[i, 2],
                dthr[i], zthr[i], tthr[i], tcoa[i], window,
            )  # fmt: skip
            t_in[k, i] = a + tk
            t_out[k, i] = b + tk
            coast[k, i] = _within(a + tk, b + tk, tk, tk + step)
    return t_in, t_out, coast


@numba.njit(cache=True, nogil=True, inline="always")
def _tests(
    b: float, h: float, has_rec: bool,
    c_in: F64, c_out: F64, c_coast: B1, r_in: F64, r_out: F64, r_coast: B1,
) -> tuple[float, bool, F64, F64, B1]:  # fmt: skip
    """(B, whether the recovery cylinder counts, lines tested as conflicts) for an aircraft of
    horizon ``h``: when B is past it, only the recovery cylinder, from 0 to ``h``."""
    if b > h:
        return 0.0, False, r_in, r_out, r_coast
    return b, has_rec, c_in, c_out, c_coast


@numba.njit(cache=True, nogil=True)
def kinematic_region(
    t: F64, kabs: I64, right: B1, left: B1,
    c_in: F64, c_out: F64, c_coast: B1, r_in: F64, r_out: F64, r_coast: B1, has_rec: bool,
    cols: I64, horizon: F64, b: float, la: float,
) -> B1:  # fmt: skip
    """Conflict-free candidates of a turn/speed/vertical-speed manoeuvre for all the region's
    aircraft ``cols`` (``greens.kinematic_green`` AND-ed, with ``region_green``'s rule for an
    aircraft whose horizon is before B: only the recovery cylinder, from 0 to its horizon)."""
    n_k = t.shape[0]
    out = np.ones(n_k, dtype=np.bool_)
    big = np.iinfo(np.int64).max
    for c in range(cols.shape[0]):
        i = cols[c]
        h = horizon[c]
        if b > h and not has_rec:
            continue
        bb, use_rec, a_in, a_out, a_coast = _tests(
            b, h, has_rec, c_in, c_out, c_coast, r_in, r_out, r_coast
        )
        first_r = big
        first_l = big
        for p in range(n_k):
            tk = t[p]
            if tk >= la:
                continue
            los = (bb <= tk and a_coast[p, i]) or (use_rec and tk <= bb and r_coast[p, i])
            if los:
                if right[p] and kabs[p] < first_r:
                    first_r = kabs[p]
                if left[p] and kabs[p] < first_l:
                    first_l = kabs[p]
        for p in range(n_k):
            if not out[p]:
                continue
            first = first_r if right[p] else first_l
            tk = t[p]
            if (
                kabs[p] >= first
                or _within(a_in[p, i], a_out[p, i], max(bb, tk), min(la, h + tk))
                or (use_rec and _within(r_in[p, i], r_out[p, i], tk, min(bb, la)))
            ):
                out[p] = False
    return out


@numba.njit(cache=True, nogil=True)
def altitude_region(
    e_t: F64, e_target: I64, t2: F64, t_climb: F64, t_level: F64,
    c_in: F64, c_out: F64, c_coast: B1, r_in: F64, r_out: F64, r_coast: B1, has_rec: bool,
    cols: I64, horizon: F64, b: float, la: float,
) -> B1:  # fmt: skip
    """Conflict-free target altitudes for all the region's aircraft (``greens.alt_green``
    AND-ed, same rule as ``kinematic_region``). Line rows: the steps, then the climbs, then the
    level flights of every target."""
    n_e = e_t.shape[0]
    n_t = t2.shape[0]
    out = np.ones(n_t, dtype=np.bool_)
    for c in range(cols.shape[0]):
        i = cols[c]
        h = horizon[c]
        if b > h and not has_rec:
            continue
        bb, use_rec, a_in, a_out, a_coast = _tests(
            b, h, has_rec, c_in, c_out, c_coast, r_in, r_out, r_coast
        )
        for e in range(n_e):
            j = e_target[e]
            et = e_t[e]
            conflict_los = bb <= et and a_coast[e, i]
            recovery_los = use_rec and et <= bb and r_coast[e, i]
            if et < la and (conflict_los or recovery_los):
                out[j] = False
        for j in range(n_t):
            if not out[j]:
                continue
            climb, level = n_e + j, n_e + n_t + j
            climb_end = min(la, min(h + t_climb[j], t2[j]))
            level_end = min(la, h + t_level[j])
            climb_red = t2[j] >= bb and _within(
                a_in[climb, i], a_out[climb, i], max(bb, t_climb[j]), climb_end
            )
            level_red = _within(a_in[level, i], a_out[level, i], max(bb, t_level[j]), level_end)
            if climb_red or level_red:
                out[j] = False
            elif use_rec:
                rec_end = min(la, min(bb, t2[j]))
                if (
                    t2[j] >= 0.0 and _within(r_in[climb, i], r_out[climb, i], t_climb[j], rec_end)
                ) or _within(r_in[level, i], r_out[level, i], t_level[j], min(bb, la)):
                    out[j] = False
    return out
