"""Batched Kalman filter kernels for many tracks at once, in m, m/s and s.

The horizontal state of a track is ``[e, n, ve, vn]`` (east and north position in m in a local
tangent frame, and velocity in m/s). The motion model is the discrete white-noise-acceleration
constant-velocity model: ``F(dt) = [[I, dt I], [0, I]]`` and
``Q(dt) = q [[dt³/3 I, dt²/2 I], [dt²/2 I, dt I]]`` with ``q`` in m²/s³ per axis. The vertical
state is ``[h, hdot]`` (m, m/s) with the same model in one dimension.

Every function takes arrays with a leading batch axis (one row per track or per track-report
pair) and never loops in Python over that axis. From ``JIT_MIN_ROWS`` rows on, ``cv_predict`` and
``kalman_update`` run in compiled code (``tracking._kalman_nb``: one loop over the rows, with the
same arithmetic; equal within a few units in the last place, tested); below it, in numpy, where
numba's import would cost more than it saves.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

#: From this many rows on, the kernels run compiled (``bench/kalman_kernels.py`` measures both).
JIT_MIN_ROWS = 1_000

__all__ = [
    "JIT_MIN_ROWS",
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
    if x.shape[0] >= JIT_MIN_ROWS:
        from deconflict.tracking._kalman_nb import cv_predict_rows

        x_new, p_new = np.empty(x.shape), np.empty(p.shape)
        xc, pc, dtc, qc = _f64(x, p, dt_s, q)
        cv_predict_rows(xc, pc, dtc, qc, x_new, p_new)
        return x_new, p_new
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


def kalman_update(x: F64, p: F64, z: F64, h: F64, r_var: F64) -> tuple[F64, F64, F64, F64]:
    """Kalman update of ``n`` states with measurements ``z`` (``(n, m)``), ``h`` (``(n, m, 2d)``)
    and independent measurement noise of variances ``r_var`` (``(n, m)``: a diagonal ``R``).

    With independent components the update is ``m`` scalar updates in turn (the same estimate,
    with no matrix to invert): each ``P h`` is one batched product, ``S`` a scalar and the
    covariance update ``P - (P h)(P h)^T / S`` symmetric by construction.
    A measurement row whose ``h`` row is zero and whose ``z`` is zero carries no information and
    leaves the state untouched (that is how optional components such as velocity are masked).
    Returns the updated state and covariance, the innovation and the squared Mahalanobis
    distance of the innovation (``ν^T S^-1 ν``, the sum of the scalar updates' ``ν_i² / S_i``).
    """
    if x.shape[0] >= JIT_MIN_ROWS:
        from deconflict.tracking._kalman_nb import kalman_update_rows

        x_new, p_new, nu = np.empty(x.shape), np.empty(p.shape), np.empty(z.shape)
        d2 = np.empty(x.shape[0])
        xc, pc, zc, hc, rc = _f64(x, p, z, h, r_var)
        kalman_update_rows(xc, pc, zc, hc, rc, x_new, p_new, nu, d2)
        return x_new, p_new, nu, d2
    nu = z - np.einsum("nmd,nd->nm", h, x)
    d2 = np.zeros(x.shape[0])
    x = x.copy()
    p = p.copy()
    for i in range(z.shape[1]):
        hi = h[:, i, :]
        nu_i = z[:, i] - np.einsum("nd,nd->n", hi, x)
        ph = np.einsum("nij,nj->ni", p, hi)
        s = np.einsum("nd,nd->n", hi, ph) + r_var[:, i]
        x += ph * (nu_i / s)[:, None]
        g = ph / np.sqrt(s)[:, None]
        p -= np.einsum("ni,nj->nij", g, g)
        d2 += nu_i * nu_i / s
    return x, p, nu, d2


def _f64(*arrays: F64) -> list[F64]:
    """C-contiguous float64 arrays (the compiled kernels' one signature)."""
    return [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
