"""Which track each report belongs to, in m, m² and s: by identity, then by kinematics.

A report carrying an ``icao24`` known to a track, or a sensor track number bound to one, goes to
that track (a number far outside the gate is a reused number: it is unbound and the report left
to kinematics). The other plots are pre-gated with a KD-tree around each track's prediction and
assigned by global nearest neighbour on the squared Mahalanobis distance (``tracking.assign``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from deconflict.tracking.assign import candidate_pairs, gnn_assign
from deconflict.tracking.batch import ReportBatch
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.counters import TrackerLog
from deconflict.tracking.identity import IdentityIndex
from deconflict.tracking.kalman import cv_predict
from deconflict.tracking.table import TrackTable

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

__all__ = ["identity_match", "kinematic_match", "position_d2"]


def identity_match(
    table: TrackTable,
    index: IdentityIndex,
    b: ReportBatch,
    idx: I64,
    config: TrackerConfig,
    log: TrackerLog,
) -> I64:
    """Track row of each report ``idx`` by icao24, then by sensor track number; -1 if none.

    A sensor's track number is reused by the sensor for other aircraft, so a match by number
    far outside the gate unbinds the number and leaves the report to kinematics.
    """
    out = np.full(idx.size, -1, dtype=np.int64)
    ids, by_number = index.lookup(b, idx)
    known = ids >= 0
    if known.any():
        out[known] = table.index_of(ids[known])
    check = np.flatnonzero(by_number & np.isfinite(b.xy_m[idx]).all(axis=1))
    if check.size:
        d2 = position_d2(table, out[check], idx[check], b)
        for j in check[d2 > config.reinit_d2]:
            i = int(idx[j])
            key = (b.party[i], b.sensor[i], int(b.track_number[i]))
            index.unbind(key)
            log.error(
                "track_number_reused",
                float(b.t_s[i]),
                b,
                i,
                f"sensor track number {key[2]} no longer fits track {ids[j]}; unbound",
            )
            out[j] = -1
    return out


def kinematic_match(
    table: TrackTable, b: ReportBatch, rest: I64, rows: I64, config: TrackerConfig
) -> tuple[I64, I64]:
    """GNN association of plots ``rest`` with track rows ``rows``; returns matched track rows
    and positions in ``rest``."""
    c = config
    t_med = float(np.median(b.t_s[rest]))
    dt0 = t_med - table.t[rows]
    pred = table.x[rows, :2] + dt0[:, None] * table.x[rows, 2:]
    sig_r = b.sigma_m[rest]
    # pre-gate radius: the gate on the largest innovation spread, plus the time spread
    pp = table.p[rows]
    dtc = dt0.clip(0)
    pos_var = (
        np.maximum(
            pp[:, 0, 0] + 2 * dtc * pp[:, 0, 2] + dtc**2 * pp[:, 2, 2],
            pp[:, 1, 1] + 2 * dtc * pp[:, 1, 3] + dtc**2 * pp[:, 3, 3],
        )
        + c.q_manoeuvre * dtc**3 / 3.0
    )
    speed = float(np.hypot(table.x[rows, 2], table.x[rows, 3]).max(initial=0.0))
    spread = float(np.ptp(b.t_s[rest])) * speed
    radius = min(
        float(np.sqrt(c.gate_d2 * 2.0 * (pos_var.max() + (sig_r**2).max()))) + spread,
        c.max_gate_m,
    )
    tj, rj = candidate_pairs(pred, b.xy_m[rest], radius)
    if tj.size == 0:
        return tj, rj
    ti = rows[tj]
    ri = rest[rj]
    # an icao24 plot joins only a track that never had an icao24: an address is one
    # airframe, so a track that had another one (even stale) is another aircraft
    ic = b.icao24[ri]
    tic = table.icao24[ti]
    ok = (ic == None) | (tic == None) | (ic == tic)  # noqa: E711
    ti, rj, ri = ti[ok], rj[ok], ri[ok]
    if ti.size == 0:
        return ti, rj
    d2 = position_d2(table, ti, ri, b)
    at, ar = gnn_assign(ti, rj, d2, table.n, rest.size, c.gate_d2)
    return at, ar


def position_d2(table: TrackTable, ti: I64, ri: I64, b: ReportBatch) -> F64:
    """Squared Mahalanobis distance of each report's position to its track's prediction."""
    dt = b.t_s[ri] - table.t[ti]
    fwd = dt.clip(min=0.0)
    x, p = cv_predict(table.x[ti], table.p[ti], fwd, table.q[ti])
    back = dt.clip(max=0.0)
    pos = x[:, :2] + back[:, None] * x[:, 2:]
    # innovation covariance of the position (retrodicted for late plots)
    hp = p[:, :2, :2] + back[:, None, None] * (p[:, 2:, :2] + p[:, :2, 2:])
    hp += (back**2)[:, None, None] * p[:, 2:, 2:]
    sig = b.sigma_m[ri]
    s = hp + (sig**2)[:, None, None] * np.eye(2)
    nu = b.xy_m[ri] - pos
    det = s[:, 0, 0] * s[:, 1, 1] - s[:, 0, 1] * s[:, 1, 0]
    d2 = (s[:, 1, 1] * nu[:, 0] ** 2 - 2 * s[:, 0, 1] * nu[:, 0] * nu[:, 1]) / det
    return np.asarray(d2 + s[:, 0, 0] * nu[:, 1] ** 2 / det, dtype=np.float64)
