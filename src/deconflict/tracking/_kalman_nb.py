"""The batched Kalman kernels of ``deconflict.tracking.kalman`` in compiled code (numba), in m,
m/s and s: one loop over the rows, each row's small matrices in registers, no temporaries of
the batch's size. The same arithmetic as the numpy forms, row by row (results equal to them
within a few units in the last place: the sums' order may differ). Imported only for batches
large enough to pay for numba's import and, on a fresh install, its one-off compilation
(``kalman.JIT_MIN_ROWS``).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


@numba.njit(cache=True, nogil=True)
def cv_predict_rows(x: F64, p: F64, dt_s: F64, q: F64, x_out: F64, p_out: F64) -> None:
    """``kalman.cv_predict`` into ``x_out`` and ``p_out``."""
    n, width = x.shape
    nd = width // 2
    for r in range(n):
        d = dt_s[r]
        for i in range(nd):
            x_out[r, i] = x[r, i] + d * x[r, nd + i]
            x_out[r, nd + i] = x[r, nd + i]
        for i in range(nd):
            for j in range(nd):
                pp = p[r, i, j]
                pv = p[r, i, nd + j]
                vp = p[r, nd + i, j]
                vv = p[r, nd + i, nd + j]
                p_out[r, i, j] = pp + d * (pv + vp) + d * d * vv
                p_out[r, i, nd + j] = pv + d * vv
                p_out[r, nd + i, j] = vp + d * vv
                p_out[r, nd + i, nd + j] = vv
        a = q[r] * d**3 / 3.0
        b = q[r] * d**2 / 2.0
        c = q[r] * d
        for k in range(nd):
            p_out[r, k, k] += a
            p_out[r, k, nd + k] += b
            p_out[r, nd + k, k] += b
            p_out[r, nd + k, nd + k] += c


@numba.njit(cache=True, nogil=True)
def kalman_update_rows(
    x: F64, p: F64, z: F64, h: F64, r_var: F64, x_out: F64, p_out: F64, nu_out: F64, d2_out: F64
) -> None:
    """``kalman.kalman_update`` into ``x_out``, ``p_out``, ``nu_out`` and ``d2_out``: the ``m``
    scalar updates of each row in turn."""
    n, dim = x.shape
    m = z.shape[1]
    ph = np.empty(dim)
    for r in range(n):
        for a in range(dim):
            x_out[r, a] = x[r, a]
            for b in range(dim):
                p_out[r, a, b] = p[r, a, b]
        for i in range(m):
            hx = 0.0
            for a in range(dim):
                hx += h[r, i, a] * x[r, a]
            nu_out[r, i] = z[r, i] - hx
        d2 = 0.0
        for i in range(m):
            hx = 0.0
            for a in range(dim):
                hx += h[r, i, a] * x_out[r, a]
            nu = z[r, i] - hx
            for a in range(dim):
                acc = 0.0
                for b in range(dim):
                    acc += p_out[r, a, b] * h[r, i, b]
                ph[a] = acc
            s = 0.0
            for a in range(dim):
                s += h[r, i, a] * ph[a]
            s += r_var[r, i]
            gain = nu / s
            for a in range(dim):
                x_out[r, a] += ph[a] * gain
            root = np.sqrt(s)
            for a in range(dim):
                ga = ph[a] / root
                for b in range(dim):
                    p_out[r, a, b] -= ga * (ph[b] / root)
            d2 += nu * nu / s
        d2_out[r] = d2
