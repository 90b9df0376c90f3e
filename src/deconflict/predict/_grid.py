"""The uniform-grid pair search of ``deconflict.predict.prune`` in compiled code (numba), in
metres and seconds. Imported only when a scene is large enough for the grid to pay for numba's
import and, on a fresh install, its one-off compilation (``prune.GRID_MIN_AIRCRAFT``).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@numba.njit(cache=True, nogil=True, inline="always")
def _interval(s0: float, v: float, lim: float, lookahead: float) -> tuple[float, float]:
    """Times within [0, lookahead] where |s0 + v t| <= lim (1-D); empty when lo > hi."""
    if abs(v) < 1e-12:
        return (0.0, lookahead) if abs(s0) <= lim else (1.0, 0.0)
    t1 = (-lim - s0) / v
    t2 = (lim - s0) / v
    return max(min(t1, t2), 0.0), min(max(t1, t2), lookahead)


@numba.njit(cache=True, nogil=True)
def _grid_candidates(
    px: F64, py: F64, pz: F64, vx: F64, vy: F64, vz: F64,
    lookahead: float, n_slices: int, reach_h: float, reach_v: float, vmax: float, vsmax: float,
) -> tuple[I64, I64]:  # fmt: skip
    n = px.shape[0]
    dt = lookahead / n_slices
    r_h = reach_h + dt * vmax  # box half-size during one slice
    r_v = reach_v + dt * vsmax
    r_h_prev = r_h * (1.0 - 1e-9) - 1e-6
    r_v_prev = r_v * (1.0 - 1e-9) - 1e-6
    cap = 2 * n + 1024
    out_i = np.empty(cap, np.int64)
    out_j = np.empty(cap, np.int64)
    m = 0
    for k in range(n_slices):
        t = (k + 0.5) * dt
        x = px + vx * t
        y = py + vy * t
        z = pz + vz * t
        # cells of at least one box; grown until the dense cell table is at most ~4 N
        x0 = x.min()
        y0 = y.min()
        cell = r_h
        while ((x.max() - x0) / cell + 3.0) * ((y.max() - y0) / cell + 3.0) > 4.0 * n + 64:
            cell *= 1.25
        ix = (np.floor((x - x0) / cell)).astype(np.int64) + 1
        iy = (np.floor((y - y0) / cell)).astype(np.int64) + 1
        w = iy.max() + 2
        n_cells = (ix.max() + 2) * w
        key = ix * w + iy
        start = np.zeros(n_cells + 1, np.int64)
        for i in range(n):
            start[key[i] + 1] += 1
        for c in range(n_cells):
            start[c + 1] += start[c]
        fill = start[:-1].copy()
        members = np.empty(n, np.int64)
        for i in range(n):
            members[fill[key[i]]] = i
            fill[key[i]] += 1
        # everything the inner loop reads, in cell order (contiguous reads)
        xs = x[members]
        ys = y[members]
        zs = z[members]
        ks = key[members]
        vxs = vx[members]
        vys = vy[members]
        vzs = vz[members]
        pxs = px[members]
        pys = py[members]
        pzs = pz[members]
        for a in range(n):
            i = members[a]
            xi = xs[a]
            yi = ys[a]
            zi = zs[a]
            ki = ks[a]
            for dx in range(-1, 2):
                for dy in range(-1, 2):
                    c = ki + dx * w + dy
                    for b in range(start[c], start[c + 1]):
                        j = members[b]
                        if j <= i:
                            continue
                        ddx = xs[b] - xi
                        ddy = ys[b] - yi
                        ddz = zs[b] - zi
                        if abs(ddx) > r_h or abs(ddy) > r_h or abs(ddz) > r_v:
                            continue
                        dvx = vxs[b] - vxs[a]
                        dvy = vys[b] - vys[a]
                        dvz = vzs[b] - vzs[a]
                        if (  # slices a pair's box test passes are consecutive: keep the first
                            k > 0  # (with a tolerance: rounding may only ever duplicate a pair)
                            and abs(ddx - dvx * dt) <= r_h_prev
                            and abs(ddy - dvy * dt) <= r_h_prev
                            and abs(ddz - dvz * dt) <= r_v_prev
                        ):
                            continue
                        # closed-form test over the whole lookahead, in the scene plane
                        sx = pxs[b] - pxs[a]
                        sy = pys[b] - pys[a]
                        lo, hi = _interval(pzs[b] - pzs[a], dvz, reach_v, lookahead)
                        if lo > hi:
                            continue
                        aa = dvx * dvx + dvy * dvy
                        cc = sx * sx + sy * sy - reach_h * reach_h
                        if aa < 1e-12:
                            if cc > 0.0:
                                continue
                        else:
                            bb = sx * dvx + sy * dvy
                            disc = bb * bb - aa * cc
                            if disc < 0.0:
                                continue
                            root = np.sqrt(disc)
                            lo = max(lo, (-bb - root) / aa)
                            hi = min(hi, (-bb + root) / aa)
                            if lo > hi:
                                continue
                        if m == cap:
                            cap *= 2
                            grown_i = np.empty(cap, np.int64)
                            grown_j = np.empty(cap, np.int64)
                            grown_i[:m] = out_i[:m]
                            grown_j[:m] = out_j[:m]
                            out_i = grown_i
                            out_j = grown_j
                        out_i[m] = i
                        out_j[m] = j
                        m += 1
    return out_i[:m], out_j[:m]
