"""Conflict tests of ownship candidate states against straight-flying traffic, in m, m/s and s.

Vectorised over candidates (axis 0) and intruders (axis 1): the ownship candidate ``k`` is at
``s[k]`` with velocity ``v[k]`` at time ``t[k]``; intruder ``i`` is at ``si[i] + vi[i] * t``.
A volume is a tuple ``(dthr_m, zthr_m, tthr_s, tcoa_s)`` of arrays broadcastable to the
intruders (a DO-365 well-clear volume, or a cylinder when TTHR = TCOA = 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.wcv import wcv_interval, wcv_violated_now

__all__ = ["Volume4", "conflict_after", "cylinder", "is_cylinder", "violation_at"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Volume4 = tuple[FloatArray, FloatArray, FloatArray, FloatArray]


def cylinder(horizontal_m: float, vertical_m: float, n: int) -> Volume4:
    """A plain cylinder volume (radius, half-height) for ``n`` intruders (DAIDALUS CDCylinder).

    It is stored as a well-clear volume with TTHR = 0 and TCOA = -1, which is the same volume as
    TCOA = 0; the negative TCOA only marks it as a cylinder (see :func:`is_cylinder`).
    """
    return (
        np.full(n, horizontal_m),
        np.full(n, vertical_m),
        np.zeros(n),
        np.full(n, -1.0),
    )


def is_cylinder(vol: Volume4) -> bool:
    """Whether ``vol`` was made by :func:`cylinder`."""
    return bool(np.all(vol[3] < 0.0))


def violation_at(
    s: FloatArray, v: FloatArray, t: FloatArray, si: FloatArray, vi: FloatArray, vol: Volume4
) -> BoolArray:
    """Whether candidate ``k`` violates the volume of intruder ``i`` at its own time ``t[k]``."""
    tt = t[..., None, None]
    rel_s = s[..., None, :] - (si + vi * tt)
    rel_v = v[..., None, :] - vi
    result: BoolArray = wcv_violated_now(
        rel_s[..., 0],
        rel_s[..., 1],
        rel_s[..., 2],
        rel_v[..., 0],
        rel_v[..., 1],
        rel_v[..., 2],
        *vol,
    )
    return result


def conflict_after(
    s: FloatArray,
    v: FloatArray,
    t: FloatArray,
    si: FloatArray,
    vi: FloatArray,
    vol: Volume4,
    b_s: FloatArray | float,
    t_s: FloatArray | float,
) -> BoolArray:
    """DAIDALUS ``CD_future_traj``: whether candidate ``k``, flying straight from ``s[k]`` at
    time ``t[k]``, violates intruder ``i``'s volume within ``[max(B, t[k]), T]``.

    ``b_s`` and ``t_s`` broadcast against the intruders. False where ``t[k] > T`` or ``B > T``.
    """
    tt = t[..., None]
    b = np.asarray(b_s, dtype=np.float64)
    horizon = np.asarray(t_s, dtype=np.float64)
    start = np.maximum(b, tt)
    valid = (tt <= horizon) & (b <= horizon)
    own = s[..., None, :] + v[..., None, :] * (start - tt)[..., None]
    rel_s = own - (si + vi * start[..., None])
    rel_v = v[..., None, :] - vi
    window = np.maximum(horizon - start, 0.0)
    args = (
        rel_s[..., 0],
        rel_s[..., 1],
        rel_s[..., 2],
        rel_v[..., 0],
        rel_v[..., 1],
        rel_v[..., 2],
    )
    t_in, _ = wcv_interval(*args, *vol, window)
    point = np.abs(horizon - start) <= 1e-9 * np.maximum(1.0, np.abs(horizon))
    if point.any():
        hit = np.where(point, wcv_violated_now(*args, *vol), np.isfinite(t_in))
    else:
        hit = np.isfinite(t_in)
    result: BoolArray = valid & hit
    return result
