"""Spatial pruning of aircraft pairs, in metres and seconds: cost grows with N and the number of
nearby pairs, not with N².

The lookahead is cut into time slices. In each slice every aircraft sits at its straight-line
position at the slice's middle; a pair can lose separation during the slice only if, there, its
offset is within ``reach + slice × (fastest speed)`` on both horizontal axes and its altitude
offset within the vertical equivalent. Positions are projected orthographically onto the plane
tangent at the scene's centre — a contraction of the ECEF chord, so no pair is ever lost, however
large the scene (far from the centre the boxes just hold more pairs). Candidates are found with a
uniform grid of one reach per cell, in compiled code (numba): each aircraft checks the 9 cells
around its own. The Earth's-curvature margin is derived in ``horizontal_margin_m``.
The result is a superset of the pairs that can conflict; ``detect`` applies the exact test.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from deconflict.geo import WGS84_A_M
from deconflict.predict.pairs import Scene, midpoint_frames

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def horizontal_margin_m(reach_m: float, vmax_mps: float, lookahead_s: float) -> float:
    """Extra distance a pair within ``reach_m`` in its midpoint plane can show in ECEF.

    Two aircraft d0 apart have local verticals d0 / R apart, so their horizontal velocities
    differ out of the midpoint plane by at most (|v_i| + |v_j|) d0 / (2R); over the lookahead T
    that adds at most vmax T d0 / R of out-of-plane offset, with d0 <= reach + 2 vmax T.
    """
    d0 = reach_m + 2.0 * vmax_mps * lookahead_s
    out_of_plane = vmax_mps * lookahead_s * d0 / WGS84_A_M + 1.0
    return math.hypot(reach_m, out_of_plane) - reach_m + 1.0


def scene_plane(scene: Scene) -> tuple[F64, F64, F64, F64]:
    """Orthographic (x, y) positions and velocities on the plane tangent at the scene centre."""
    centre = scene.pos_m.mean(axis=0)[None, :]
    if not np.any(centre):  # a scene balanced around the Earth's centre: any plane will do
        centre = np.array([[0.0, 0.0, 1.0]])
    east, north = midpoint_frames(centre, centre)
    east, north = east[0], north[0]
    return scene.pos_m @ east, scene.pos_m @ north, scene.vel_mps @ east, scene.vel_mps @ north


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


def candidate_pairs(
    scene: Scene,
    horizontal_reach_m: float,
    vertical_reach_m: float,
    lookahead_s: float,
    n_slices: int | None = None,
) -> tuple[I64, I64]:
    """Index pairs (i < j) that may come within the reaches during [0, lookahead_s]."""
    n = scene.pos_m.shape[0]
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    vmax = float(np.linalg.norm(scene.vel_mps, axis=1).max())
    vsmax = float(np.abs(scene.vs_mps).max())
    if n_slices is None:
        n_slices = default_slices(lookahead_s, vmax, horizontal_reach_m)
    reach_h = horizontal_reach_m + horizontal_margin_m(horizontal_reach_m, vmax, lookahead_s)
    reach_v = vertical_reach_m + 1e-3
    x, y, vx, vy = scene_plane(scene)
    i, j = _grid_candidates(
        x, y, np.ascontiguousarray(scene.alt_m), vx, vy, np.ascontiguousarray(scene.vs_mps),
        float(lookahead_s), int(n_slices), float(reach_h), float(reach_v), vmax, vsmax,
    )  # fmt: skip
    codes = np.unique(np.asarray(i, dtype=np.int64) * n + np.asarray(j, dtype=np.int64))
    return codes // n, codes % n


def default_slices(lookahead_s: float, vmax_mps: float, reach_m: float) -> int:
    """About two reaches of motion per slice, at most 32: fewer, larger boxes cost more pair
    checks; more slices cost more grid passes. Measured best at 10,000 and 100,000 aircraft
    (4 slices for icao-5nm at en-route speeds; bench/detect_vs_bluesky.py)."""
    if lookahead_s <= 0.0 or vmax_mps <= 0.0:
        return 1
    return int(min(32, max(1, round(lookahead_s * vmax_mps / max(2.0 * reach_m, 1.0)))))
