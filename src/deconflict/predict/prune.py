"""Spatial pruning of aircraft pairs, in metres and seconds: cost grows with N and the number of
nearby pairs, not with N².

The lookahead is cut into time slices. In each slice every aircraft sits at its straight-line
position at the slice's middle; a pair can lose separation during the slice only if, there, its
offset is within ``reach + slice × (fastest speed)`` on both horizontal axes and its altitude
offset within the vertical equivalent. Positions are projected orthographically onto the plane
tangent at the scene's centre — a contraction of the ECEF chord, so no pair is ever lost, however
large the scene (far from the centre the boxes just hold more pairs). The Earth's-curvature margin
is derived in ``horizontal_margin_m``. Each box candidate then passes a closed-form test over the
whole lookahead in the scene plane (``exact_reach``).

Two searches find the box candidates, pluggable by name and equal in result (tested):
``"grid"``, a uniform grid of one reach per cell in compiled code (numba, ``predict._grid``), where
each aircraft checks the 9 cells around its own; and ``"kdtree"``, scipy's ``cKDTree.query_pairs``
in the Chebyshev norm. The grid is 4-10x faster from a few thousand aircraft on, but numba costs
about 0.3 s to import and, once per install, 10-25 s to compile; ``"auto"`` takes the k-d tree
below ``GRID_MIN_AIRCRAFT`` (bench/detect_first_call.py measures both).
The result is a superset of the pairs that can conflict; ``detect`` applies the exact test.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

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


GRID_MIN_AIRCRAFT = 2_000
METHODS = ("auto", "grid", "kdtree")


def candidate_pairs(
    scene: Scene,
    horizontal_reach_m: float,
    vertical_reach_m: float,
    lookahead_s: float,
    n_slices: int | None = None,
    method: str = "auto",
) -> tuple[I64, I64]:
    """Index pairs (i < j) that may come within the reaches during [0, lookahead_s].

    ``method``: ``"grid"`` (numba), ``"kdtree"`` (scipy) or ``"auto"`` (the k-d tree below
    ``GRID_MIN_AIRCRAFT`` aircraft, the grid from there on).
    """
    if method not in METHODS:
        raise ValueError(f"unknown pair search {method!r}: use one of {', '.join(METHODS)}")
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
    z = np.ascontiguousarray(scene.alt_m)
    vz = np.ascontiguousarray(scene.vs_mps)
    if method == "grid" or (method == "auto" and n >= GRID_MIN_AIRCRAFT):
        from deconflict.predict._grid import _grid_candidates

        i, j = _grid_candidates(
            x, y, z, vx, vy, vz, float(lookahead_s), int(n_slices), float(reach_h),
            float(reach_v), vmax, vsmax,
        )  # fmt: skip
        codes = np.unique(np.asarray(i, dtype=np.int64) * n + np.asarray(j, dtype=np.int64))
        return codes // n, codes % n
    dt = lookahead_s / n_slices
    box_h = reach_h + dt * vmax  # box half-size during one slice
    box_v = reach_v + dt * vsmax
    found = []
    for k in range(n_slices):
        t = (k + 0.5) * dt
        pairs = cKDTree(np.column_stack((x + vx * t, y + vy * t))).query_pairs(
            box_h, p=np.inf, output_type="ndarray"
        )
        a, b = pairs[:, 0], pairs[:, 1]
        close = np.abs(z[b] - z[a] + (vz[b] - vz[a]) * t) <= box_v
        found.append(np.minimum(a, b)[close] * n + np.maximum(a, b)[close])
    codes = np.unique(np.concatenate(found))
    i, j = codes // n, codes % n
    keep = exact_reach(
        x[j] - x[i], y[j] - y[i], z[j] - z[i], vx[j] - vx[i], vy[j] - vy[i], vz[j] - vz[i],
        reach_h, reach_v, lookahead_s,
    )  # fmt: skip
    return i[keep], j[keep]


def query_pairs(
    scene: Scene,
    query: I64,
    horizontal_reach_m: float,
    vertical_reach_m: float,
    lookahead_s: float,
) -> tuple[I64, I64]:
    """Index pairs (i < j) with at least one of the rows ``query`` that may come within the
    reaches during [0, lookahead_s]: ``candidate_pairs``' test (the same margins), between the
    few query rows and every row (cost: len(query) x N, no index)."""
    n = scene.pos_m.shape[0]
    q = np.unique(np.asarray(query, dtype=np.int64))
    if n < 2 or q.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    vmax = float(np.linalg.norm(scene.vel_mps, axis=1).max())
    reach_h = horizontal_reach_m + horizontal_margin_m(horizontal_reach_m, vmax, lookahead_s)
    reach_v = vertical_reach_m + 1e-3
    x, y, vx, vy = scene_plane(scene)
    z, vz = scene.alt_m, scene.vs_mps
    found = []
    for a in q.tolist():
        near = exact_reach(
            x - x[a], y - y[a], z - z[a], vx - vx[a], vy - vy[a], vz - vz[a],
            reach_h, reach_v, lookahead_s,
        )  # fmt: skip
        near[a] = False
        b = np.flatnonzero(near)
        found.append(np.minimum(a, b) * n + np.maximum(a, b))
    codes = np.unique(np.concatenate(found))
    return codes // n, codes % n


def exact_reach(
    sx: F64, sy: F64, sz: F64, vx: F64, vy: F64, vz: F64,
    reach_h: float, reach_v: float, lookahead_s: float,
) -> NDArray[np.bool_]:  # fmt: skip
    """Pairs whose plane offset comes within ``reach_h`` while their altitude offset is within
    ``reach_v``, at some time of [0, lookahead_s] (straight flight; the grid's inline test)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.abs(vz) < 1e-12
        t1 = (-reach_v - sz) / vz
        t2 = (reach_v - sz) / vz
        inside = np.abs(sz) <= reach_v
        lo = np.where(level, np.where(inside, 0.0, 1.0), np.maximum(np.minimum(t1, t2), 0.0))
        hi = np.where(
            level, np.where(inside, lookahead_s, 0.0), np.minimum(np.maximum(t1, t2), lookahead_s)
        )
        aa = vx * vx + vy * vy
        bb = sx * vx + sy * vy
        cc = sx * sx + sy * sy - reach_h * reach_h
        disc = bb * bb - aa * cc
        root = np.sqrt(np.maximum(disc, 0.0))
        still = aa < 1e-12
        h_lo = np.maximum(lo, (-bb - root) / aa)
        h_hi = np.minimum(hi, (-bb + root) / aa)
        horizontal = np.where(still, cc <= 0.0, (disc >= 0.0) & (h_lo <= h_hi))
    return np.asarray((lo <= hi) & horizontal, dtype=np.bool_)


def default_slices(lookahead_s: float, vmax_mps: float, reach_m: float) -> int:
    """About two reaches of motion per slice, at most 32: fewer, larger boxes cost more pair
    checks; more slices cost more grid passes. Measured best at 10,000 and 100,000 aircraft
    (4 slices for icao-5nm at en-route speeds; bench/detect_vs_bluesky.py)."""
    if lookahead_s <= 0.0 or vmax_mps <= 0.0:
        return 1
    return int(min(32, max(1, round(lookahead_s * vmax_mps / max(2.0 * reach_m, 1.0)))))
