"""The track filters, in m, m/s and s: the horizontal constant-velocity Kalman filter with its
manoeuvre model, and the vertical channel with its altitude gate.

Every function works on many tracks at once (rows of a ``TrackTable``, each updated by one report
of a ``ReportBatch``); the kernels are ``tracking.kalman``'s.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from deconflict.tracking.batch import ReportBatch
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.counters import TrackerLog
from deconflict.tracking.kalman import cv_predict, kalman_update
from deconflict.tracking.table import COASTING, CONFIRMED, TENTATIVE, TrackTable
from deconflict.units import FT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

__all__ = ["altitude_update", "initial_state", "position_update"]


def position_update(
    table: TrackTable,
    rows: I64,
    ri: I64,
    b: ReportBatch,
    identified: bool,
    config: TrackerConfig,
    log: TrackerLog,
    now_s: float,
) -> None:
    """Kalman update of track rows ``rows`` (distinct) with the positions of reports ``ri``;
    a late report is applied at its own time (retrodicted), an identified report far from its
    track restarts the state, a large innovation switches the manoeuvre model on."""
    c = config
    n = rows.size
    dt = b.t_s[ri] - table.t[rows]
    late = dt < 0.0
    log.counters["out_of_order"] += int(late.sum())
    for j in np.flatnonzero(late):
        log.error(
            "out_of_order",
            now_s,
            b,
            int(ri[j]),
            f"{-dt[j]:.3f} s older than its track's state; applied at its own time",
        )
    fwd = dt.clip(min=0.0)
    back = dt.clip(max=0.0)
    x, p = cv_predict(table.x[rows], table.p[rows], fwd, table.q[rows])
    v = b.v_mps[ri]
    has_v = np.isfinite(v).all(axis=1)
    h = np.zeros((n, 4, 4))
    h[:, 0, 0] = h[:, 1, 1] = 1.0
    h[:, 0, 2] = h[:, 1, 3] = back
    h[has_v, 2, 2] = h[has_v, 3, 3] = 1.0
    z = np.zeros((n, 4))
    z[:, :2] = b.xy_m[ri]
    z[has_v, 2:] = v[has_v]
    sig = b.sigma_m[ri]
    r = np.empty((n, 4))  # variances of the four (independent) components
    # a late plot also carries the motion noise between its time and the state's
    r[:, 0] = r[:, 1] = sig**2 + table.q[rows] * np.abs(back) ** 3 / 3.0
    r[:, 2] = r[:, 3] = np.where(has_v, c.velocity_sigma_mps**2, 1.0)
    x_new, p_new, _, d2 = kalman_update(x, p, z, h, r)
    t_new = np.maximum(table.t[rows], b.t_s[ri])
    if identified:
        jump = d2 > c.reinit_d2
        if jump.any():
            log.counters["track_reinitialised"] += int(jump.sum())
            log.report_errors(
                "track_reinitialised",
                b,
                ri,
                np.flatnonzero(jump),
                lambda j: f"identified report {np.sqrt(d2[j]):.0f} sigma from its track",
            )
            x0, p0 = initial_state(b, ri[jump], c)
            x_new[jump], p_new[jump] = x0, p0
            t_new[jump] = b.t_s[ri[jump]]
    manoeuvre = d2 > c.manoeuvre_nis_per_dim * np.where(has_v, 4.0, 2.0)
    until = np.where(manoeuvre, t_new + c.manoeuvre_hold_s, table.manoeuvre_until[rows])
    table.manoeuvre_until[rows] = until
    table.q[rows] = np.where(t_new < until, c.q_manoeuvre, c.q_cv)
    table.x[rows] = x_new
    table.p[rows] = p_new
    table.t[rows] = t_new
    table.hits[rows] += 1
    log.counters["position_updates"] += n
    st = table.status[rows]
    confirm = (st == TENTATIVE) & (table.hits[rows] >= c.confirm_hits)
    log.counters["tracks_confirmed"] += int(confirm.sum())
    st = np.where(confirm | (st == COASTING), CONFIRMED, st).astype(np.int8)
    table.status[rows] = st


def initial_state(b: ReportBatch, ri: I64, config: TrackerConfig) -> tuple[F64, F64]:
    """The state and covariance of a track started from each report ``ri``."""
    c = config
    n = ri.size
    v = b.v_mps[ri]
    has_v = np.isfinite(v).all(axis=1)
    x = np.zeros((n, 4))
    x[:, :2] = b.xy_m[ri]
    x[has_v, 2:] = v[has_v]
    sig = b.sigma_m[ri]
    sv = np.where(has_v, c.velocity_sigma_mps, c.init_velocity_sigma_mps)
    p = np.zeros((n, 4, 4))
    p[:, 0, 0] = p[:, 1, 1] = sig**2
    p[:, 2, 2] = p[:, 3, 3] = sv**2
    return x, p


def altitude_update(
    table: TrackTable, rows: I64, ri: I64, b: ReportBatch, config: TrackerConfig, log: TrackerLog
) -> None:
    """The vertical channel of track rows ``rows`` from the altitudes of reports ``ri``:
    impossible or jumping values are rejected (counted), a persistent one restarts it."""
    c = config
    alt = b.alt_m[ri]
    have = np.isfinite(alt)
    impossible = have & ((alt < c.min_altitude_m) | (alt > c.max_altitude_m))
    log.report_errors(
        "altitude_rejected",
        b,
        ri,
        np.flatnonzero(impossible),
        lambda j: f"impossible altitude {alt[j] / FT:.0f} ft; rest of the report kept",
    )
    log.counters["altitude_rejected"] += int(impossible.sum())
    use = have & ~impossible
    if not use.any():
        return
    rows, ri, alt = rows[use], ri[use], alt[use]
    vr = b.vrate_mps[ri]
    # a channel silent for longer than the drop time restarts from the next altitude
    init = ~table.alt_ok[rows] | (b.t_s[ri] - table.alt_t[rows] > c.drop_after_s)
    if init.any():
        r0 = rows[init]
        table.alt_x[r0, 0] = alt[init]
        table.alt_x[r0, 1] = np.nan_to_num(vr[init])
        table.alt_p[r0] = 0.0
        table.alt_p[r0, 0, 0] = c.altitude_sigma_m**2
        table.alt_p[r0, 1, 1] = (
            np.where(np.isfinite(vr[init]), c.vertical_rate_sigma_mps, 30.0) ** 2
        )
        table.alt_t[r0] = b.t_s[ri[init]]
        table.alt_ok[r0] = True
        table.alt_rej_n[r0] = 0
    upd = ~init
    if not upd.any():
        return
    rows, ri, alt, vr = rows[upd], ri[upd], alt[upd], vr[upd]
    n = rows.size
    dt = b.t_s[ri] - table.alt_t[rows]
    fwd, back = dt.clip(min=0.0), dt.clip(max=0.0)
    qv = np.full(n, c.q_vertical)
    x, p = cv_predict(table.alt_x[rows], table.alt_p[rows], fwd, qv)
    has_vr = np.isfinite(vr)
    h = np.zeros((n, 2, 2))
    h[:, 0, 0] = 1.0
    h[:, 0, 1] = back
    h[has_vr, 1, 1] = 1.0
    z = np.zeros((n, 2))
    z[:, 0] = alt
    z[has_vr, 1] = vr[has_vr]
    r = np.empty((n, 2))  # variances of the altitude and the rate
    r[:, 0] = c.altitude_sigma_m**2 + c.q_vertical * np.abs(back) ** 3 / 3.0
    r[:, 1] = np.where(has_vr, c.vertical_rate_sigma_mps**2, 1.0)
    nu0 = alt - (x[:, 0] + back * x[:, 1])
    s0 = p[:, 0, 0] + 2 * back * p[:, 0, 1] + back**2 * p[:, 1, 1] + r[:, 0]
    gate = np.maximum(c.altitude_gate_m, 5.0 * np.sqrt(s0))
    ok = np.abs(nu0) <= gate
    if ok.any():
        xo, po, _, _ = kalman_update(x[ok], p[ok], z[ok], h[ok], r[ok])
        ro = rows[ok]
        table.alt_x[ro], table.alt_p[ro] = xo, po
        table.alt_t[ro] = np.maximum(table.alt_t[ro], b.t_s[ri[ok]])
        table.alt_rej_n[ro] = 0
    bad = ~ok
    if bad.any():
        rb, ab = rows[bad], alt[bad]
        log.counters["altitude_rejected"] += int(bad.sum())
        log.report_errors(
            "altitude_rejected",
            b,
            ri,
            np.flatnonzero(bad),
            lambda j: (
                f"altitude {alt[j] / FT:.0f} ft is {nu0[j] / FT:+.0f} ft from the track's; "
                "rest of the report kept"
            ),
        )
        agree = (table.alt_rej_n[rb] > 0) & (
            np.abs(ab - table.alt_rej_val[rb]) <= c.altitude_gate_m
        )
        table.alt_rej_n[rb] = np.where(agree, table.alt_rej_n[rb] + 1, 1)
        table.alt_rej_val[rb] = ab
        # restart only on a persistent value the aircraft could have reached since the
        # last accepted altitude (a stuck or garbled altitude is rejected much longer)
        elapsed = b.t_s[ri[bad]] - table.alt_t[rb]
        reachable = np.abs(nu0[bad]) <= c.altitude_gate_m + c.max_vertical_speed_mps * elapsed
        again = (table.alt_rej_n[rb] >= c.altitude_reinit_count) & reachable
        if again.any():
            rr = rb[again]
            log.counters["altitude_reinitialised"] += int(again.sum())
            table.alt_x[rr, 0] = ab[again]
            table.alt_x[rr, 1] = 0.0
            table.alt_p[rr] = 0.0
            table.alt_p[rr, 0, 0] = c.altitude_sigma_m**2
            table.alt_p[rr, 1, 1] = 30.0**2
            table.alt_t[rr] = b.t_s[ri[bad][again]]
            table.alt_rej_n[rr] = 0
