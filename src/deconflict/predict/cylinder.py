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


def _f64(*values: ArrayLike) -> list[F64]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def horizontal_interval(
    sx_m: ArrayLike, sy_m: ArrayLike, vx_mps: ArrayLike, vy_mps: ArrayLike, h_m: ArrayLike
) -> tuple[F64, F64]:
    """Times (s) between which |s + v t| < h, for relative position s and velocity v.

    Arguments broadcast against each other (numpy's rules); no division by zero is evaluated,
    so this needs no error-state switching — it runs at every step of a Monte Carlo run.
    """
    sx, sy, vx, vy, h = _f64(sx_m, sy_m, vx_mps, vy_mps, h_m)
    a = vx * vx + vy * vy
    b = sx * vx + sy * vy  # half of the linear coefficient
    c = sx * sx + sy * sy - h * h
    disc = b * b - a * c
    moving = a > 1e-12
    cross = moving & (disc > 0.0)
    inv = 1.0 / np.where(moving, a, 1.0)
    root = np.sqrt(np.maximum(disc, 0.0))
    still_inside = ~moving & (c < 0.0)
    t_in = np.where(cross, (-b - root) * inv, np.where(still_inside, -np.inf, np.inf))
    t_out = np.where(cross, (-b + root) * inv, np.where(still_inside, np.inf, -np.inf))
    return t_in, t_out


def vertical_interval(
    sz_m: ArrayLike, vz_mps: ArrayLike, v_m: ArrayLike, tol_m: ArrayLike = 0.0
) -> tuple[F64, F64]:
    """Times (s) between which |sz + vz t| < v - tol (arguments broadcast)."""
    sz, vz, v, tol = _f64(sz_m, vz_mps, v_m, tol_m)
    lim = v - tol
    moving = np.abs(vz) > 1e-9
    safe_vz = np.where(moving, vz, 1.0)
    t1 = (-lim - sz) / safe_vz
    t2 = (lim - sz) / safe_vz
    inside_now = np.abs(sz) < lim
    t_in = np.where(moving, np.minimum(t1, t2), np.where(inside_now, -np.inf, np.inf))
    t_out = np.where(moving, np.maximum(t1, t2), np.where(inside_now, np.inf, -np.inf))
    return t_in, t_out


def cylinder_interval(
    sx_m: ArrayLike, sy_m: ArrayLike, sz_m: ArrayLike, vx_mps: ArrayLike, vy_mps: ArrayLike,
    vz_mps: ArrayLike, h_m: ArrayLike, v_m: ArrayLike, tol_m: ArrayLike = 0.0,
) -> tuple[F64, F64]:  # fmt: skip
    """(t_in, t_out) over all time of loss inside the cylinder: both intervals intersected
    (empty where t_in >= t_out)."""
    h_in, h_out = horizontal_interval(sx_m, sy_m, vx_mps, vy_mps, h_m)
    v_in, v_out = vertical_interval(sz_m, vz_mps, v_m, tol_m)
    return np.maximum(h_in, v_in), np.minimum(h_out, v_out)


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
