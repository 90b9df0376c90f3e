"""Conflict tests of ownship candidate states against straight-flying traffic, in m, m/s and s
(the numpy reference of ``_kernels.line_intervals``).

Vectorised over candidates (axis 0) and intruders (axis 1): the ownship candidate ``k`` is at
``s[k]`` with velocity ``v[k]`` at time ``t[k]``; intruder ``i`` is at ``si[i] + vi[i] * t``.
A volume is a tuple ``(dthr_m, zthr_m, tthr_s, tcoa_s)`` of arrays broadcastable to the
intruders (a DO-365 well-clear volume, or a cylinder when TTHR = TCOA = 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.wcv import wcv_interval

__all__ = [
    "Volume4",
    "conflict_within",
    "cylinder",
    "line_intervals",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Volume4 = tuple[FloatArray, FloatArray, FloatArray, FloatArray]

# ``Util.almost_equals`` of DAIDALUS's default precision (16348 ulps, about 3.6e-12 relative), as
# ``wcv_interval`` uses it for a zero-length interval; and the tolerance of a single-instant window
_REL_TOL = 3.6e-12
_POINT_TOL = 1e-9


def cylinder(horizontal_m: float, vertical_m: float, n: int) -> Volume4:
    """A plain cylinder volume (radius, half-height) for ``n`` intruders (DAIDALUS CDCylinder).

    It is stored as a well-clear volume with TTHR = TCOA = 0.
    """
    return (np.full(n, horizontal_m), np.full(n, vertical_m), np.zeros(n), np.zeros(n))


def line_intervals(
    s: FloatArray,
    v: FloatArray,
    t: FloatArray,
    si: FloatArray,
    vi: FloatArray,
    vol: Volume4,
    end_s: float,
) -> tuple[FloatArray, FloatArray]:
    """Violation interval ``(t_in, t_out)`` (absolute times, shape (candidates, intruders)) of
    candidate ``k`` flying straight from ``s[k]`` at time ``t[k]``, within ``[t[k], end_s]``.

    The volume is violated along a straight line during one interval at most (``WCV_interval``),
    so a conflict within any ``[B, T]`` inside that span is its overlap with this interval (see
    :func:`conflict_within`): computed once per trajectory and volume, every search time B then
    costs a comparison. No violation: ``(+inf, -inf)``.
    """
    tt = t[..., None]
    rel_s = s[..., None, :] - (si + vi * tt[..., None])
    rel_v = v[..., None, :] - vi
    window = np.maximum(end_s - tt, 0.0)
    t_in, t_out = wcv_interval(
        rel_s[..., 0],
        rel_s[..., 1],
        rel_s[..., 2],
        rel_v[..., 0],
        rel_v[..., 1],
        rel_v[..., 2],
        *vol,
        window,
    )
    return t_in + tt, t_out + tt


def conflict_within(
    t_in: FloatArray,
    t_out: FloatArray,
    start_s: FloatArray | float,
    end_s: FloatArray | float,
) -> BoolArray:
    """DAIDALUS ``conflict(B, T)`` from a line's violation interval: a violation of positive
    length within ``[start, end]``, or, when ``start`` and ``end`` are (almost) equal, a
    violation at that instant (``violationAt``). False where ``start > end``."""
    start = np.asarray(start_s, dtype=np.float64)
    end = np.asarray(end_s, dtype=np.float64)
    lo = np.maximum(start, t_in)
    hi = np.minimum(end, t_out)
    point = np.abs(end - start) <= _POINT_TOL * np.maximum(1.0, np.abs(end))
    overlap = hi - lo > _REL_TOL * np.maximum(np.abs(lo), np.abs(hi))
    result: BoolArray = (start <= end) & np.where(
        point, (t_in <= start) & (start <= t_out), overlap
    )
    return result
