"""Resampling onto a common time grid and pair screening, in metres and seconds.

``resample`` puts every aircraft on the grid ``t = k * step_s`` (k integer, the same grid for every
window and engine): positions are interpolated linearly in time between consecutive samples of
one aircraft, never across a gap longer than ``max_gap_s`` and never where either sample is on
the ground. Positions are interpolated as ECEF vectors of the surface points (no antimeridian
case; the chord of a 10 s step departs from the ellipsoid by under a millimetre).

``screen`` finds, at every grid step at once, the pairs within a horizontal and a vertical
screening distance: one k-d tree over the ECEF points, each step shifted along x by
``k * 1e8 m`` so that points of different steps can never be neighbours. Horizontal distance is
the chord between the surface points (it differs from ``deconflict.geo.distance_m`` by under
2 cm at 10 NM); the vertical screen is applied to the tree's pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from deconflict.geo import ecef_m

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

STEP_SHIFT_M: Final = 1.0e8  # > Earth's diameter plus any screen: steps never touch in the tree


@dataclass(frozen=True)
class Grid:
    """Aircraft states on the time grid: one row per (aircraft, step), sorted by aircraft then k.

    ``aid``: index into the caller's aircraft list; ``k``: grid step (time ``k * step_s``);
    ``xyz_m``: ECEF of the surface point below the aircraft; ``alt_m``: barometric altitude.
    """

    aid: I64
    k: I64
    xyz_m: F64
    alt_m: F64

    def __len__(self) -> int:
        return int(self.k.size)


def resample(
    aid: I64,
    t_s: F64,
    lat_deg: F64,
    lon_deg: F64,
    alt_m: F64,
    airborne: NDArray[np.bool_],
    step_s: float,
    k_lo: int,
    k_hi: int,
    max_gap_s: float,
) -> Grid:
    """States at grid steps ``k_lo <= k < k_hi`` from samples sorted by (aid, t_s).

    A grid time is covered by a segment between consecutive samples of one aircraft that are
    both airborne and at most ``max_gap_s`` apart; a grid time that falls exactly on a sample
    with no such segment after it (the end of a run, or a lone sample) takes that sample.
    """
    xyz = ecef_m(lat_deg, lon_deg)
    n = t_s.size
    if n == 0:
        return Grid(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros(0))
    dt = np.diff(t_s)
    seg = (aid[1:] == aid[:-1]) & (dt > 0) & (dt <= max_gap_s) & airborne[1:] & airborne[:-1]
    i = np.flatnonzero(seg)
    t0, t1 = t_s[i], t_s[i + 1]
    # grid steps in [t0, t1): ceil(t0/step) .. ceil(t1/step) - 1, clipped to [k_lo, k_hi)
    ka = np.maximum(np.ceil(t0 / step_s - 1e-9).astype(np.int64), k_lo)
    kb = np.minimum(np.ceil(t1 / step_s - 1e-9).astype(np.int64), k_hi)
    count = np.maximum(kb - ka, 0)
    total = int(count.sum())
    owner = np.repeat(np.arange(i.size), count)
    first = np.repeat(np.cumsum(count) - count, count)
    k = ka[owner] + (np.arange(total, dtype=np.int64) - first)
    src = i[owner]
    frac = (k * step_s - t_s[src]) / (t_s[src + 1] - t_s[src])
    xyz_k = xyz[src] + frac[:, None] * (xyz[src + 1] - xyz[src])
    alt_k = alt_m[src] + frac * (alt_m[src + 1] - alt_m[src])
    # run ends and lone samples exactly on the grid
    has_next = np.zeros(n, dtype=bool)
    has_next[i] = True
    k_at = np.rint(t_s / step_s).astype(np.int64)
    on_grid = np.abs(k_at * step_s - t_s) < 1e-6
    end = np.flatnonzero(~has_next & airborne & on_grid & (k_at >= k_lo) & (k_at < k_hi))
    all_aid = np.concatenate((aid[src], aid[end]))
    all_k = np.concatenate((k, k_at[end]))
    order = np.lexsort((all_k, all_aid))
    return Grid(
        all_aid[order].astype(np.int64),
        all_k[order],
        np.concatenate((xyz_k, xyz[end]))[order],
        np.concatenate((alt_k, alt_m[end]))[order],
    )


def screen(grid: Grid, screen_h_m: float, screen_v_m: float) -> tuple[I64, I64]:
    """Row pairs (i, j) of ``grid``, at the same step, with ``aid[i] < aid[j]``, within the
    horizontal screen (chord ≤ ``screen_h_m``) and the vertical one (≤ ``screen_v_m``)."""
    if len(grid) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pts = grid.xyz_m.copy()
    pts[:, 0] += (grid.k - grid.k.min()).astype(np.float64) * STEP_SHIFT_M
    tree = cKDTree(pts, leafsize=32, balanced_tree=False, compact_nodes=False)
    pairs = tree.query_pairs(screen_h_m, output_type="ndarray").astype(np.int64)
    i, j = pairs[:, 0], pairs[:, 1]
    keep = np.abs(grid.alt_m[i] - grid.alt_m[j]) <= screen_v_m
    i, j = i[keep], j[keep]
    swap = grid.aid[i] > grid.aid[j]
    return np.where(swap, j, i), np.where(swap, i, j)


def lookup(grid: Grid, aid: I64, k: I64) -> I64:
    """Row of ``grid`` holding (aid, k), or -1 where the aircraft has no state at that step."""
    if len(grid) == 0:
        return np.full(aid.shape, -1, dtype=np.int64)
    span = np.int64(grid.k.max() - grid.k.min() + 3)
    base = grid.k.min() - 1
    keys = grid.aid * span + (grid.k - base)
    want = aid * span + (k - base)
    pos = np.searchsorted(keys, want)
    pos_c = np.minimum(pos, keys.size - 1)
    ok = (keys[pos_c] == want) & (k >= base) & (k - base < span)
    return np.where(ok, pos_c, -1).astype(np.int64)
