"""Batched Kalman filter kernels for many tracks at once, in m, m/s and s.

The horizontal state of a track is ``[e, n, ve, vn]`` (east and north position in m in a local
tangent frame, and velocity in m/s). The motion model is the discrete white-noise-acceleration
constant-velocity model: ``F(dt) = [[I, dt I], [0, I]]`` and
``Q(dt) = q [[dt³/3 I, dt²/2 I], [dt²/2 I, dt I]]`` with ``q`` in m²/s³ per axis. The vertical
state is ``[h, hdot]`` (m, m/s) with the same model in one dimension.

Every function takes arrays with a leading batch axis (one row per track or per track-report
pair) and never loops in Python over that axis.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

__all__ = [
    "cv_predict",
    "kalman_update",
    "process_noise",
]


def process_noise(dt_s: F64, q: F64, ndim: int = 2) -> F64:
    """``Q(dt)`` for each ``dt`` and per-row intensity ``q`` (m²/s³): ``(n, 2 ndim, 2 ndim)``."""
    n = dt_s.shape[0]
    out = np.zeros((n, 2 * ndim, 2 * ndim))
    a = q * dt_s**3 / 3.0
    b = q * dt_s**2 / 2.0
    c = q * dt_s
    for k in range(ndim):
        out[:, k, k] = a
        out[:, k, ndim + k] = b
        out[:, ndim + k, k] = b
        out[:, ndim + k, ndim + k] = c
    return out


def cv_predict(x: F64, p: F64, dt_s: F64, q: F64) -> tuple[F64, F64]:
    """Predict states ``x`` (``(n, 2d)``) and covariances ``p`` (``(n, 2d, 2d)``) by ``dt_s``."""
    ndim = x.shape[1] // 2
    x_new = x.copy()
    x_new[:, :ndim] += dt_s[:, None] * x[:, ndim:]
    # F P F^T written out for the block structure (cheaper than two batched matmuls).
    pp = p[:, :ndim, :ndim]
    pv = p[:, :ndim, ndim:]
    vp = p[:, ndim:, :ndim]
    vv = p[:, ndim:, ndim:]
    d = dt_s[:, None, None]
    p_new = np.empty_like(p)
    p_new[:, :ndim, :ndim] = pp + d * (pv + vp) + d * d * vv
    p_new[:, :ndim, ndim:] = pv + d * vv
    p_new[:, ndim:, :ndim] = vp + d * vv
    p_new[:, ndim:, ndim:] = vv
    p_new += process_noise(dt_s, q, ndim)
    return x_new, p_new


def kalman_update(x: F64, p: F64, z: F64, h: F64, r: F64) -> tuple[F64, F64, F64, F64]:
    """Kalman update of ``n`` states with measurements ``z`` (``(n, m)``), ``h`` (``(n, m, 2d)``)
    and noise ``r`` (``(n, m, m)``).

    A measurement row whose ``h`` row is zero and whose ``z`` is zero carries no information and
    leaves the state untouched (that is how optional components such as velocity are masked).
    Returns the updated state and covariance, the innovation and the squared Mahalanobis
    distance of the innovation (``ν^T S^-1 ν``).
    """
    h_t = np.swapaxes(h, 1, 2)
    nu = z - (h @ x[:, :, None])[:, :, 0]
    ph_t = p @ h_t
    s = h @ ph_t + r
    s_inv = np.linalg.inv(s)
    k = ph_t @ s_inv
    x_new = x + (k @ nu[:, :, None])[:, :, 0]
    # Joseph form keeps P symmetric positive definite under round-off.
    ikh = np.eye(x.shape[1])[None, :, :] - k @ h
    p_new = ikh @ p @ np.swapaxes(ikh, 1, 2) + k @ r @ np.swapaxes(k, 1, 2)
    d2 = (nu[:, None, :] @ s_inv @ nu[:, :, None])[:, 0, 0]
    return x_new, p_new, nu, d2
