"""Closed-form loss-of-separation intervals for a cylinder, in metres, m/s and seconds.

Separation is lost while the horizontal distance is below ``h_m`` and the vertical distance is
below ``v_m - tol_m`` (``tol_m``: the tolerance that keeps aircraft exactly ``v_m`` apart, such as
adjacent flight levels, separated). Intervals are over all time; callers intersect them with
their lookahead. Empty intervals are ``(+inf, -inf)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]


def horizontal_interval(
    sx_m: ArrayLike, sy_m: ArrayLike, vx_mps: ArrayLike, vy_mps: ArrayLike, h_m: ArrayLike
) -> tuple[F64, F64]:
    """Times (s) between which |s + v t| < h, for relative position s and velocity v."""
    sx, sy, vx, vy, h = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (sx_m, sy_m, vx_mps, vy_mps, h_m))
    )
    a = vx * vx + vy * vy
    b = sx * vx + sy * vy  # half of the linear coefficient
    c = sx * sx + sy * sy - h * h
    disc = b * b - a * c
    moving = a > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.sqrt(np.where(disc > 0.0, disc, 0.0))
        t_in = np.where(moving & (disc > 0.0), (-b - root) / np.where(moving, a, 1.0), np.inf)
        t_out = np.where(moving & (disc > 0.0), (-b + root) / np.where(moving, a, 1.0), -np.inf)
    still_inside = ~moving & (c < 0.0)
    t_in = np.where(still_inside, -np.inf, t_in)
    t_out = np.where(still_inside, np.inf, t_out)
    return t_in, t_out


def vertical_interval(
    sz_m: ArrayLike, vz_mps: ArrayLike, v_m: ArrayLike, tol_m: ArrayLike = 0.0
) -> tuple[F64, F64]:
    """Times (s) between which |sz + vz t| < v - tol."""
    sz, vz, v, tol = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (sz_m, vz_mps, v_m, tol_m))
    )
    lim = v - tol
    moving = np.abs(vz) > 1e-9
    safe_vz = np.where(moving, vz, 1.0)
    t1 = (-lim - sz) / safe_vz
    t2 = (lim - sz) / safe_vz
    inside_now = np.abs(sz) < lim
    t_in = np.where(moving, np.minimum(t1, t2), np.where(inside_now, -np.inf, np.inf))
    t_out = np.where(moving, np.maximum(t1, t2), np.where(inside_now, np.inf, -np.inf))
    return t_in, t_out


def cpa(sx_m: ArrayLike, sy_m: ArrayLike, vx_mps: ArrayLike, vy_mps: ArrayLike) -> tuple[F64, F64]:
    """Time (s, not before 0) and horizontal distance (m) of the closest point of approach."""
    sx, sy, vx, vy = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (sx_m, sy_m, vx_mps, vy_mps))
    )
    a = vx * vx + vy * vy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(a > 1e-12, -(sx * vx + sy * vy) / np.where(a > 1e-12, a, 1.0), 0.0)
    t = np.maximum(t, 0.0)
    return t, np.hypot(sx + vx * t, sy + vy * t)
