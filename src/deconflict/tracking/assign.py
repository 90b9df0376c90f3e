"""Gating and global-nearest-neighbour assignment of reports to tracks, in m, m² and s.

``candidate_pairs`` pre-gates with a KD-tree on positions (Euclidean, m); ``gnn_assign`` solves the
optimal one-to-one assignment on the squared Mahalanobis cost of the gated pairs. The bipartite
graph of gated pairs is split into connected components: a component of one track and one report
is assigned directly, and each larger one is solved by ``scipy.optimize.linear_sum_assignment`` on
a matrix padded with "missed" columns, so a report is left unassigned whenever that is cheaper
than any gated track.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

__all__ = ["candidate_pairs", "gnn_assign"]


def candidate_pairs(track_xy: F64, report_xy: F64, radius_m: float) -> tuple[I64, I64]:
    """All (track, report) index pairs closer than ``radius_m`` (KD-tree on the reports)."""
    if track_xy.shape[0] == 0 or report_xy.shape[0] == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy()
    tree_r = cKDTree(report_xy)
    tree_t = cKDTree(track_xy)
    sparse = tree_t.sparse_distance_matrix(tree_r, radius_m, output_type="ndarray")
    ti = np.asarray(sparse["i"], dtype=np.int64)
    ri = np.asarray(sparse["j"], dtype=np.int64)
    return ti, ri


def gnn_assign(
    ti: I64, ri: I64, cost: F64, n_tracks: int, n_reports: int, miss_cost: float
) -> tuple[I64, I64]:
    """Optimal assignment over gated pairs (``cost`` <= ``miss_cost``); returns matched indices.

    ``ti``, ``ri`` and ``cost`` list the gated pairs. Pairs costlier than ``miss_cost`` are
    ignored. The total cost of matched pairs plus ``miss_cost`` per unmatched report is minimal.
    """
    keep = cost <= miss_cost
    ti, ri, cost = ti[keep], ri[keep], cost[keep]
    if ti.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy()
    # Bipartite graph: nodes 0..n_tracks-1 are tracks, n_tracks.. are reports.
    n = n_tracks + n_reports
    graph = coo_matrix((np.ones(ti.size), (ti, ri + n_tracks)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    comp = label[ti]
    counts_t = np.bincount(comp, minlength=label.max() + 1)
    # a component with a single edge has exactly one track and one report
    single = counts_t[comp] == 1
    out_t = [ti[single]]
    out_r = [ri[single]]
    multi = np.flatnonzero(~single)
    if multi.size:
        order = multi[np.argsort(comp[multi], kind="stable")]
        bounds = np.flatnonzero(np.diff(comp[order])) + 1
        for group in np.split(order, bounds):
            gt, gt_inv = np.unique(ti[group], return_inverse=True)
            gr, gr_inv = np.unique(ri[group], return_inverse=True)
            nt, nr = gt.size, gr.size
            # rows: reports; columns: tracks, then one "missed" column per report
            big = miss_cost * 1e6 + 1.0
            mat = np.full((nr, nt + nr), big)
            mat[gr_inv, gt_inv] = cost[group]
            mat[np.arange(nr), nt + np.arange(nr)] = miss_cost
            rows, cols = linear_sum_assignment(mat)
            ok = cols < nt
            ok &= mat[rows, np.minimum(cols, nt + nr - 1)] < big
            out_t.append(gt[cols[ok]])
            out_r.append(gr[rows[ok]])
    return np.concatenate(out_t).astype(np.int64), np.concatenate(out_r).astype(np.int64)
