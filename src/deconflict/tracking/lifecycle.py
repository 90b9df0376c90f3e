"""A track's life: started from a report, tentative → confirmed → coasting → dropped, merged
into another track that is the same aircraft, removed once dropped. Times in s, distances in m.

Ages count from the last update that brought a report (arrival, not report time), so a feed with
latency keeps its tracks alive while its reports keep coming.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from deconflict.tracking.batch import ReportBatch
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.counters import TrackerLog
from deconflict.tracking.filters import altitude_update, initial_state
from deconflict.tracking.identity import IdentityIndex
from deconflict.tracking.kalman import cv_predict
from deconflict.tracking.table import (
    COASTING,
    CONFIRMED,
    DROPPED,
    IDENTIFIERS,
    TENTATIVE,
    TrackTable,
)

I64 = NDArray[np.int64]

__all__ = ["age_tracks", "merge_tracks", "remove_dropped", "start_tracks"]


def start_tracks(
    table: TrackTable,
    index: IdentityIndex,
    b: ReportBatch,
    ri: I64,
    first_id: int,
    config: TrackerConfig,
    log: TrackerLog,
    now_s: float,
) -> I64:
    """A new track from each report ``ri`` (ids from ``first_id``); their rows."""
    c = config
    n = ri.size
    rows = table.append(n, first_id)
    x, p = initial_state(b, ri, c)
    table.x[rows], table.p[rows] = x, p
    t = b.t_s[ri]
    table.t[rows] = table.t_first[rows] = t
    table.q[rows] = c.q_cv
    table.manoeuvre_until[rows] = -np.inf
    table.hits[rows] = 1
    table.status[rows] = CONFIRMED if c.confirm_hits <= 1 else TENTATIVE
    table.alt_ok[rows] = False
    table.alt_rej_n[rows] = 0
    for name in IDENTIFIERS:
        getattr(table, name)[rows] = None
        getattr(table, f"{name}_t")[rows] = np.nan
    table.sensor_mask[rows] = 0
    log.count("tracks_started", n)
    if c.confirm_hits <= 1:
        log.count("tracks_confirmed", n)
    altitude_update(table, rows, ri, b, c, log)
    index.update(table, rows, ri, b, log, now_s)
    table.touched[rows] = True
    return rows


def age_tracks(table: TrackTable, now_s: float, config: TrackerConfig, log: TrackerLog) -> None:
    """Coast the confirmed tracks and drop the tracks not updated for too long."""
    c = config
    n = table.n
    if n == 0:
        return
    table.t_seen[:n][table.touched[:n]] = now_s
    age = now_s - table.t_seen[:n]
    st = table.status[:n]
    drop = ((st == TENTATIVE) & (age > c.tentative_timeout_s)) | (
        (st != TENTATIVE) & (age > c.drop_after_s)
    )
    coast = (st == CONFIRMED) & (age > c.coast_after_s) & ~drop
    st[coast] = COASTING
    st[drop] = DROPPED
    log.count("tracks_dropped", int(drop.sum()))


def merge_tracks(
    table: TrackTable, index: IdentityIndex, now_s: float, config: TrackerConfig, log: TrackerLog
) -> None:
    """Merge pairs of confirmed/coasting tracks whose states agree (one aircraft)."""
    c = config
    live = table.live_rows()
    if live.size < 2:
        return
    dt = now_s - table.t[live]
    pos = table.x[live, :2] + dt[:, None] * table.x[live, 2:]
    # an unbalanced tree (split at the midpoint) with uncompacted nodes builds faster and finds
    # the same pairs
    tree = cKDTree(pos, balanced_tree=False, compact_nodes=False)
    pairs = tree.query_pairs(c.merge_radius_m, output_type="ndarray")
    if pairs.size == 0:
        return
    a, bb = live[pairs[:, 0]], live[pairs[:, 1]]
    ia, ib = table.icao24[a], table.icao24[bb]
    ok = (ia == None) | (ib == None) | (ia == ib)  # noqa: E711
    a, bb = a[ok], bb[ok]
    if a.size == 0:
        return
    xa, pa = cv_predict(table.x[a], table.p[a], now_s - table.t[a], table.q[a])
    xb, pb = cv_predict(table.x[bb], table.p[bb], now_s - table.t[bb], table.q[bb])
    d = xa - xb
    d2 = (d[:, None, :] @ np.linalg.inv(pa + pb) @ d[:, :, None])[:, 0, 0]
    close = np.flatnonzero(d2 < c.merge_d2)
    for j in close[np.argsort(d2[close])]:
        ra, rb = int(a[j]), int(bb[j])
        if table.status[ra] == DROPPED or table.status[rb] == DROPPED:
            continue
        keep, gone = (ra, rb) if table.hits[ra] >= table.hits[rb] else (rb, ra)
        index.merged(table, keep, gone)
        table.status[gone] = DROPPED
        table.touched[keep] = True
        log.count("tracks_merged")
        log.count("tracks_dropped")


def remove_dropped(table: TrackTable, index: IdentityIndex) -> None:
    """Remove the dropped tracks from the table and from the identity index."""
    st = table.status[: table.n]
    dropped = np.flatnonzero(st == DROPPED)
    if dropped.size:
        index.dropped(table, dropped)
        table.compact(st != DROPPED)
