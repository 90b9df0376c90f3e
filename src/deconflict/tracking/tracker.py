"""The multi-sensor tracker: association, Kalman filtering, life cycle and identity, in SI units.

Inside, positions are east/north metres in one local tangent frame, velocities m/s, altitudes m
and times seconds since the Unix epoch. Time is passed in (``now``); the clock is never read.

All tracks live in struct-of-arrays numpy state. One ``update`` call:

1. re-times reports stamped in the future or without a time, and counts late ones;
2. associates reports that carry an identity — an ``icao24`` address, or a sensor's own track
   number — to the track holding it (a dictionary look-up);
3. associates the other plots by kinematics: KD-tree pre-gating, the squared Mahalanobis distance
   of each gated pair, and an optimal global-nearest-neighbour assignment (``assign``). Reports
   with an ``icao24`` not yet known may join a track without one (a radar track picked up by
   ADS-B), so two parties' sensors seeing one aircraft make one track;
4. filters: a batched constant-velocity Kalman filter, with a higher process noise while a
   manoeuvre is detected (large innovations); late reports are applied at their own time by
   retrodicting the measurement; altitude is a separate 1-D filter whose impossible or jumping
   values are rejected (counted) while the rest of the report is kept;
5. steps the life cycle tentative → confirmed (``confirm_hits`` reports) → coasting → dropped,
   and merges two confirmed tracks whose states agree (one track per aircraft).

Nothing a report says is silently lost: every re-timed, late, stale or partly rejected report is
counted in ``counters`` and described in ``errors()``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from deconflict.geo import ecef_m
from deconflict.tracking.assign import candidate_pairs, gnn_assign
from deconflict.tracking.batch import (
    TRACK_UPDATE_COLUMNS,
    TRACK_UPDATE_DTYPES,
    ReportBatch,
    latlon,
    report_batch,
    seconds,
)
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.frame import LocalFrame
from deconflict.tracking.kalman import cv_predict, kalman_update
from deconflict.units import FPM, FT, KT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Obj = NDArray[np.object_]

__all__ = ["STATUS_NAMES", "TrackRows", "Tracker"]

TENTATIVE: Final = 0
CONFIRMED: Final = 1
COASTING: Final = 2
DROPPED: Final = 3
STATUS_NAMES: Final[tuple[str, ...]] = ("tentative", "confirmed", "coasting", "dropped")

COUNTER_NAMES: Final[tuple[str, ...]] = (
    "reports",  # reports given to update
    "position_updates",  # reports whose position updated a track
    "tracks_started",
    "tracks_confirmed",
    "tracks_dropped",
    "tracks_merged",
    "identity_associations",  # by icao24 or sensor track number
    "kinematic_associations",
    "out_of_order",  # older than the track state it updated (applied by retrodiction)
    "stale_reports",  # older than max_report_age_s (still applied)
    "clock_ahead",  # stamped too far after now: re-timed to now
    "no_timestamp",  # no time: re-timed to now
    "clock_backwards",  # update called with a now earlier than the previous one
    "no_position",  # no usable position (identity and altitude still applied)
    "unassociated_no_position",  # no position and no track to give its identity to
    "altitude_rejected",  # impossible or jumping altitude, rest of the report kept
    "altitude_reinitialised",
    "track_reinitialised",  # identified report far from its track: state restarted
    "identity_conflicts",  # an icao24 moved from one track to another
)


@dataclass
class TrackRows:
    """Track states in edge units, one row per track: the arrays behind a track-update table."""

    t_s: F64
    track_id: I64
    status: NDArray[np.int8]
    lat_deg: F64
    lon_deg: F64
    alt_ft: F64
    gs_kt: F64
    track_deg: F64
    vrate_fpm: F64
    icao24: Obj
    callsign: Obj
    identity: Obj

    @staticmethod
    def concat(parts: list[TrackRows]) -> TrackRows:
        """Rows of several updates, in order."""
        if not parts:
            return TrackRows(
                *(np.empty(0, dtype=d) for d in ("f8", "i8", "i1", *["f8"] * 6, "O", "O", "O"))
            )
        return TrackRows(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in TrackRows_fields)
        )

    def frame(self) -> pd.DataFrame:
        """The track-update table (``TRACK_UPDATE_COLUMNS``)."""
        ts = pd.to_datetime(np.round(self.t_s * 1e9).astype(np.int64), unit="ns", utc=True)
        data = {
            "timestamp": ts,
            "track_id": self.track_id,
            "status": np.asarray(STATUS_NAMES, dtype=object)[self.status.astype(np.int64)],
            "latitude": self.lat_deg,
            "longitude": self.lon_deg,
            "altitude": self.alt_ft,
            "groundspeed": self.gs_kt,
            "track": self.track_deg,
            "vertical_rate": self.vrate_fpm,
            "icao24": self.icao24,
            "callsign": self.callsign,
            "identity": self.identity,
        }
        out = pd.DataFrame(data)
        for col, dtype in TRACK_UPDATE_DTYPES.items():
            if dtype == "string":
                out[col] = out[col].astype("string")
        return out.loc[:, list(TRACK_UPDATE_COLUMNS)]


TrackRows_fields: Final = (
    "t_s",
    "track_id",
    "status",
    "lat_deg",
    "lon_deg",
    "alt_ft",
    "gs_kt",
    "track_deg",
    "vrate_fpm",
    "icao24",
    "callsign",
    "identity",
)


class Tracker:
    """A stateful multi-sensor tracker. Time is passed in, never read from the clock.

    ``update(reports, now)`` takes a report table and returns the track-update table of the
    tracks it touched; ``tracks(now)`` is the picture at ``now``. ``update_batch`` is the array
    form (no pandas in the loop) used by replays and benchmarks.
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        c = self.config
        self.frame: LocalFrame | None = None
        if c.origin_lat_deg is not None and c.origin_lon_deg is not None:
            self.frame = LocalFrame(c.origin_lat_deg, c.origin_lon_deg)
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self._errors: deque[dict[str, Any]] = deque(maxlen=c.max_error_records)
        self._now = -np.inf
        self._next_id = 1
        self._n = 0
        cap = 64
        self.ids = np.zeros(cap, dtype=np.int64)
        self.x = np.zeros((cap, 4))
        self.p = np.zeros((cap, 4, 4))
        self.t = np.zeros(cap)
        self.t_first = np.zeros(cap)
        self.t_seen = np.zeros(cap)  # ``now`` of the last update that brought a report
        self.q = np.zeros(cap)
        self.manoeuvre_until = np.zeros(cap)
        self.status = np.zeros(cap, dtype=np.int8)
        self.hits = np.zeros(cap, dtype=np.int64)
        self.alt_x = np.zeros((cap, 2))
        self.alt_p = np.zeros((cap, 2, 2))
        self.alt_t = np.zeros(cap)
        self.alt_ok = np.zeros(cap, dtype=bool)
        self.alt_rej_val = np.zeros(cap)
        self.alt_rej_n = np.zeros(cap, dtype=np.int64)
        self.icao24 = np.full(cap, None, dtype=object)
        self.callsign = np.full(cap, None, dtype=object)
        self.squawk = np.full(cap, None, dtype=object)
        self.icao24_t = np.full(cap, np.nan)
        self.callsign_t = np.full(cap, np.nan)
        self.squawk_t = np.full(cap, np.nan)
        self.owner = np.full(cap, None, dtype=object)  # party that claimed the track
        self.owner_t = np.full(cap, np.nan)
        self.touched = np.zeros(cap, dtype=bool)
        self.sensor_mask = np.zeros(cap, dtype=np.uint64)  # bit k: sensor k reported the track
        self._sensor_bits: dict[tuple[Any, Any], int] = {}  # (party, sensor) -> bit (64 at most)
        self._by_icao24: dict[str, int] = {}  # icao24 -> track id
        self._by_sensor_track: dict[tuple[Any, Any, int], int] = {}  # -> track id
        self._sensor_keys: dict[int, list[tuple[Any, Any, int]]] = {}

    # ------------------------------------------------------------------ storage
    _ARRAYS: Final = (
        "ids",
        "x",
        "p",
        "t",
        "t_first",
        "t_seen",
        "q",
        "manoeuvre_until",
        "status",
        "hits",
        "alt_x",
        "alt_p",
        "alt_t",
        "alt_ok",
        "alt_rej_val",
        "alt_rej_n",
        "icao24",
        "callsign",
        "squawk",
        "icao24_t",
        "callsign_t",
        "squawk_t",
        "owner",
        "owner_t",
        "touched",
        "sensor_mask",
    )

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        cap = self.ids.shape[0]
        if need <= cap:
            return
        new_cap = max(need, 2 * cap)
        for name in self._ARRAYS:
            old = getattr(self, name)
            new = np.zeros((new_cap, *old.shape[1:]), dtype=old.dtype)
            if old.dtype == object:
                new[:] = None
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def _compact(self, keep: NDArray[np.bool_]) -> None:
        n = self._n
        k = int(keep.sum())
        if k == n:
            return
        for name in self._ARRAYS:
            arr = getattr(self, name)
            arr[:k] = arr[:n][keep]
        self._n = k

    def _index_of(self, track_ids: I64) -> I64:
        """Row of each track id (ids are increasing, so a binary search)."""
        return np.searchsorted(self.ids[: self._n], track_ids).astype(np.int64)

    def __len__(self) -> int:
        return self._n

    # ------------------------------------------------------------------ errors
    def _error(self, kind: str, t_s: float, batch: ReportBatch | None, i: int, detail: str) -> None:
        rec: dict[str, Any] = {"time_s": t_s, "kind": kind, "detail": detail}
        if batch is not None and i >= 0:
            rec.update(
                row=int(batch.row[i]),
                party=batch.party[i],
                sensor=batch.sensor[i],
                icao24=batch.icao24[i],
            )
        self._errors.append(rec)

    def errors(self) -> pd.DataFrame:
        """The error records kept (newest ``max_error_records``): time, kind, detail, source."""
        cols = ["time", "kind", "detail", "row", "party", "sensor", "icao24"]
        if not self._errors:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        out = pd.DataFrame(list(self._errors))
        out["time"] = pd.to_datetime(np.round(out.pop("time_s") * 1e9), unit="ns", utc=True)
        return out.reindex(columns=cols)

    # ------------------------------------------------------------------ public API
    def update(self, reports: pd.DataFrame, now: Any) -> pd.DataFrame:
        """Take a report table; return the track-update table of the tracks touched."""
        batch = report_batch(reports, self.ensure_frame(*latlon(reports)))
        return self.update_batch(batch, seconds(now)).frame()

    def ensure_frame(self, lat_deg: F64, lon_deg: F64) -> LocalFrame:
        """Fix the local frame (once) at the mean of the given positions, if not set yet."""
        if self.frame is None:
            ok = np.isfinite(lat_deg) & np.isfinite(lon_deg)
            if not ok.any():  # nothing to place a frame on yet (and nothing to track)
                return LocalFrame(0.0, 0.0)
            else:
                # mean direction in ECEF: antimeridian safe
                p = ecef_m(lat_deg[ok], lon_deg[ok]).mean(axis=0)
                self.frame = LocalFrame(
                    float(np.degrees(np.arctan2(p[2], np.hypot(p[0], p[1])))),
                    float(np.degrees(np.arctan2(p[1], p[0]))),
                )
        return self.frame

    def update_batch(self, b: ReportBatch, now_s: float) -> TrackRows:
        """Array form of ``update``: reports already in this tracker's frame, ``now`` in s."""
        c = self.config
        self.touched[: self._n] = False
        self._status_before = self.status[: self._n].copy()
        n = len(b)
        self.counters["reports"] += n
        if now_s < self._now:
            self.counters["clock_backwards"] += 1
            self._error(
                "clock_backwards", now_s, None, -1, f"now went back by {self._now - now_s:.3f} s"
            )
            now_s = self._now
        self._now = now_s
        if n:
            t = b.t_s.copy()
            no_t = ~np.isfinite(t)
            ahead = t > now_s + c.max_clock_ahead_s
            stale = t < now_s - c.max_report_age_s
            for kind, mask in (("no_timestamp", no_t), ("clock_ahead", ahead)):
                for i in np.flatnonzero(mask):
                    d = "no time" if kind == "no_timestamp" else f"{t[i] - now_s:.3f} s ahead"
                    self._error(kind, now_s, b, int(i), f"{d}; re-timed to now")
                self.counters[kind] += int(mask.sum())
            for i in np.flatnonzero(stale):
                self._error("stale_report", now_s, b, int(i), f"{now_s - t[i]:.3f} s old")
            self.counters["stale_reports"] += int(stale.sum())
            t[no_t | ahead] = now_s
            # an unknown position error takes the configured one, once for the whole batch
            sigma = np.where(np.isfinite(b.sigma_m), b.sigma_m, c.position_sigma_m)
            b = ReportBatch(**{**b.__dict__, "t_s": t, "sigma_m": sigma})
            order = np.argsort(t, kind="stable")
            self._process(b.take(order))
        self._life_cycle(now_s)
        return self._rows_and_compact(now_s)

    # ------------------------------------------------------------------ association
    def _process(self, b: ReportBatch) -> None:
        """Associate and apply a time-ordered batch, in rounds so that each round has at most
        one report per identity."""
        n = len(b)
        rank = np.zeros(n, dtype=np.int64)
        seen: dict[Any, int] = {}
        for i in np.flatnonzero(b.icao24 != None):  # noqa: E711
            key = b.icao24[i]
            rank[i] = seen.get(key, 0)
            seen[key] = rank[i] + 1
        for r in range(int(rank.max()) + 1 if n else 0):
            self._process_round(b, np.flatnonzero(rank == r))

    def _identity_match(self, b: ReportBatch, idx: I64) -> I64:
        """Track row of each report by icao24, then by sensor track number; -1 if none.

        A sensor's track number is reused by the sensor for other aircraft, so a match by
        number far outside the gate unbinds the number and leaves the report to kinematics.
        """
        out = np.full(idx.size, -1, dtype=np.int64)
        ids = np.full(idx.size, -1, dtype=np.int64)
        by_number = np.zeros(idx.size, dtype=bool)
        for j, i in enumerate(idx):
            ic = b.icao24[i]
            tid = self._by_icao24.get(ic, -1) if ic is not None else -1
            if tid < 0 and b.track_number[i] >= 0:
                tid = self._by_sensor_track.get(
                    (b.party[i], b.sensor[i], int(b.track_number[i])), -1
                )
                by_number[j] = tid >= 0
            ids[j] = tid
        known = ids >= 0
        if known.any():
            out[known] = self._index_of(ids[known])
        check = np.flatnonzero(by_number & np.isfinite(b.xy_m[idx]).all(axis=1))
        if check.size:
            d2 = self._position_d2(out[check], idx[check], b)
            for j in check[d2 > self.config.reinit_d2]:
                i = int(idx[j])
                key = (b.party[i], b.sensor[i], int(b.track_number[i]))
                self._by_sensor_track.pop(key, None)
                self._error(
                    "track_number_reused",
                    float(b.t_s[i]),
                    b,
                    i,
                    f"sensor track number {key[2]} no longer fits track {ids[j]}; unbound",
                )
                out[j] = -1
        return out

    def _process_round(self, b: ReportBatch, idx: I64) -> None:
        has_pos = np.isfinite(b.xy_m[idx]).all(axis=1)
        rows = self._identity_match(b, idx)
        matched = rows >= 0
        if matched.any():
            self.counters["identity_associations"] += int(matched.sum())
            self._apply(rows[matched], idx[matched], b, identified=True)
        rest = idx[~matched & has_pos]
        # Established tracks choose first; tentative ones get the plots left over, so a new
        # track with a wide gate never steals the plots of an established one.
        for tentative in (False, True):
            if not (rest.size and self._n):
                break
            st = self.status[: self._n]
            eligible = np.flatnonzero((st == TENTATIVE) if tentative else (st != TENTATIVE))
            eligible = eligible[st[eligible] != DROPPED]
            if eligible.size == 0:
                continue
            rest = self._associate(b, rest, eligible)
        if rest.size:
            # reports with an identity start tracks first; anonymous plots of the same round
            # may then join those new tracks rather than start a second track each
            ident = b.icao24[rest] != None  # noqa: E711
            if ident.any():
                new_rows = self._start(b, rest[ident])
                rest = rest[~ident]
                if rest.size:
                    rest = self._associate(b, rest, new_rows)
        if rest.size:
            self._start(b, rest)
        nopos = idx[~matched & ~has_pos]
        if nopos.size:
            self.counters["unassociated_no_position"] += int(nopos.size)
            for i in nopos:
                self._error(
                    "unassociated_no_position",
                    float(b.t_s[i]),
                    b,
                    int(i),
                    "no position and no track with its identity; counted, not tracked",
                )

    def _associate(self, b: ReportBatch, rest: I64, rows: I64) -> I64:
        """Apply the plots ``rest`` that associate kinematically with track rows ``rows``;
        returns the plots left over."""
        ti, rj = self._kinematic(b, rest, rows)
        if ti.size == 0:
            return rest
        self.counters["kinematic_associations"] += int(ti.size)
        self._apply(ti, rest[rj], b, identified=False)
        left = np.ones(rest.size, dtype=bool)
        left[rj] = False
        return rest[left]

    def _kinematic(self, b: ReportBatch, rest: I64, rows: I64) -> tuple[I64, I64]:
        """GNN association of plots ``rest`` with track rows ``rows``; returns matched track
        rows and positions in ``rest``."""
        c = self.config
        t_med = float(np.median(b.t_s[rest]))
        dt0 = t_med - self.t[rows]
        pred = self.x[rows, :2] + dt0[:, None] * self.x[rows, 2:]
        sig_r = b.sigma_m[rest]
        # pre-gate radius: the gate on the largest innovation spread, plus the time spread
        pp = self.p[rows]
        dtc = dt0.clip(0)
        pos_var = (
            np.maximum(
                pp[:, 0, 0] + 2 * dtc * pp[:, 0, 2] + dtc**2 * pp[:, 2, 2],
                pp[:, 1, 1] + 2 * dtc * pp[:, 1, 3] + dtc**2 * pp[:, 3, 3],
            )
            + c.q_manoeuvre * dtc**3 / 3.0
        )
        speed = float(np.hypot(self.x[rows, 2], self.x[rows, 3]).max(initial=0.0))
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
        tic = self.icao24[ti]
        ok = (ic == None) | (tic == None) | (ic == tic)  # noqa: E711
        ti, rj, ri = ti[ok], rj[ok], ri[ok]
        if ti.size == 0:
            return ti, rj
        d2 = self._position_d2(ti, ri, b)
        at, ar = gnn_assign(ti, rj, d2, self._n, rest.size, c.gate_d2)
        return at, ar

    def _position_d2(self, ti: I64, ri: I64, b: ReportBatch) -> F64:
        """Squared Mahalanobis distance of each report's position to its track's prediction."""
        dt = b.t_s[ri] - self.t[ti]
        fwd = dt.clip(min=0.0)
        x, p = cv_predict(self.x[ti], self.p[ti], fwd, self.q[ti])
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

    # ------------------------------------------------------------------ filtering
    def _apply(self, rows: I64, ri: I64, b: ReportBatch, identified: bool) -> None:
        """Apply reports ``ri`` to track rows ``rows`` (a row may repeat: applied in turn)."""
        order = np.argsort(rows, kind="stable")
        rows, ri = rows[order], ri[order]
        first = np.ones(rows.size, dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        pos_in_group = np.arange(rows.size) - np.maximum.accumulate(
            np.where(first, np.arange(rows.size), 0)
        )
        for level in range(int(pos_in_group.max()) + 1 if rows.size else 0):
            m = pos_in_group == level
            self._apply_unique(rows[m], ri[m], b, identified)

    def _apply_unique(self, rows: I64, ri: I64, b: ReportBatch, identified: bool) -> None:
        has_pos = np.isfinite(b.xy_m[ri]).all(axis=1)
        self.counters["no_position"] += int((~has_pos).sum())
        pr, pi = rows[has_pos], ri[has_pos]
        if pr.size:
            self._position_update(pr, pi, b, identified)
        self._altitude_update(rows, ri, b)
        self._identity_update(rows, ri, b)
        self.touched[rows] = True

    def _position_update(self, rows: I64, ri: I64, b: ReportBatch, identified: bool) -> None:
        c = self.config
        n = rows.size
        dt = b.t_s[ri] - self.t[rows]
        late = dt < 0.0
        self.counters["out_of_order"] += int(late.sum())
        for j in np.flatnonzero(late):
            self._error(
                "out_of_order",
                float(self._now),
                b,
                int(ri[j]),
                f"{-dt[j]:.3f} s older than its track's state; applied at its own time",
            )
        fwd = dt.clip(min=0.0)
        back = dt.clip(max=0.0)
        x, p = cv_predict(self.x[rows], self.p[rows], fwd, self.q[rows])
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
        r = np.zeros((n, 4, 4))
        # a late plot also carries the motion noise between its time and the state's
        r[:, 0, 0] = r[:, 1, 1] = sig**2 + self.q[rows] * np.abs(back) ** 3 / 3.0
        r[:, 2, 2] = r[:, 3, 3] = np.where(has_v, c.velocity_sigma_mps**2, 1.0)
        x_new, p_new, _, d2 = kalman_update(x, p, z, h, r)
        t_new = np.maximum(self.t[rows], b.t_s[ri])
        if identified:
            jump = d2 > c.reinit_d2
            if jump.any():
                self.counters["track_reinitialised"] += int(jump.sum())
                for j in np.flatnonzero(jump):
                    self._error(
                        "track_reinitialised",
                        float(b.t_s[ri[j]]),
                        b,
                        int(ri[j]),
                        f"identified report {np.sqrt(d2[j]):.0f} sigma from its track",
                    )
                x0, p0 = self._initial_state(b, ri[jump])
                x_new[jump], p_new[jump] = x0, p0
                t_new[jump] = b.t_s[ri[jump]]
        manoeuvre = d2 > c.manoeuvre_nis_per_dim * np.where(has_v, 4.0, 2.0)
        until = np.where(manoeuvre, t_new + c.manoeuvre_hold_s, self.manoeuvre_until[rows])
        self.manoeuvre_until[rows] = until
        self.q[rows] = np.where(t_new < until, c.q_manoeuvre, c.q_cv)
        self.x[rows] = x_new
        self.p[rows] = p_new
        self.t[rows] = t_new
        self.hits[rows] += 1
        self.counters["position_updates"] += n
        st = self.status[rows]
        confirm = (st == TENTATIVE) & (self.hits[rows] >= c.confirm_hits)
        self.counters["tracks_confirmed"] += int(confirm.sum())
        st = np.where(confirm | (st == COASTING), CONFIRMED, st).astype(np.int8)
        self.status[rows] = st

    def _initial_state(self, b: ReportBatch, ri: I64) -> tuple[F64, F64]:
        c = self.config
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

    def _altitude_update(self, rows: I64, ri: I64, b: ReportBatch) -> None:
        c = self.config
        alt = b.alt_m[ri]
        have = np.isfinite(alt)
        impossible = have & ((alt < c.min_altitude_m) | (alt > c.max_altitude_m))
        for j in np.flatnonzero(impossible):
            self._error(
                "altitude_rejected",
                float(b.t_s[ri[j]]),
                b,
                int(ri[j]),
                f"impossible altitude {alt[j] / FT:.0f} ft; rest of the report kept",
            )
        self.counters["altitude_rejected"] += int(impossible.sum())
        use = have & ~impossible
        if not use.any():
            return
        rows, ri, alt = rows[use], ri[use], alt[use]
        vr = b.vrate_mps[ri]
        # a channel silent for longer than the drop time restarts from the next altitude
        init = ~self.alt_ok[rows] | (b.t_s[ri] - self.alt_t[rows] > c.drop_after_s)
        if init.any():
            r0 = rows[init]
            self.alt_x[r0, 0] = alt[init]
            self.alt_x[r0, 1] = np.nan_to_num(vr[init])
            self.alt_p[r0] = 0.0
            self.alt_p[r0, 0, 0] = c.altitude_sigma_m**2
            self.alt_p[r0, 1, 1] = (
                np.where(np.isfinite(vr[init]), c.vertical_rate_sigma_mps, 30.0) ** 2
            )
            self.alt_t[r0] = b.t_s[ri[init]]
            self.alt_ok[r0] = True
            self.alt_rej_n[r0] = 0
        upd = ~init
        if not upd.any():
            return
        rows, ri, alt, vr = rows[upd], ri[upd], alt[upd], vr[upd]
        n = rows.size
        dt = b.t_s[ri] - self.alt_t[rows]
        fwd, back = dt.clip(min=0.0), dt.clip(max=0.0)
        qv = np.full(n, c.q_vertical)
        x, p = cv_predict(self.alt_x[rows], self.alt_p[rows], fwd, qv)
        has_vr = np.isfinite(vr)
        h = np.zeros((n, 2, 2))
        h[:, 0, 0] = 1.0
        h[:, 0, 1] = back
        h[has_vr, 1, 1] = 1.0
        z = np.zeros((n, 2))
        z[:, 0] = alt
        z[has_vr, 1] = vr[has_vr]
        r = np.zeros((n, 2, 2))
        r[:, 0, 0] = c.altitude_sigma_m**2 + c.q_vertical * np.abs(back) ** 3 / 3.0
        r[:, 1, 1] = np.where(has_vr, c.vertical_rate_sigma_mps**2, 1.0)
        nu0 = alt - (x[:, 0] + back * x[:, 1])
        s0 = p[:, 0, 0] + 2 * back * p[:, 0, 1] + back**2 * p[:, 1, 1] + r[:, 0, 0]
        gate = np.maximum(c.altitude_gate_m, 5.0 * np.sqrt(s0))
        ok = np.abs(nu0) <= gate
        if ok.any():
            xo, po, _, _ = kalman_update(x[ok], p[ok], z[ok], h[ok], r[ok])
            ro = rows[ok]
            self.alt_x[ro], self.alt_p[ro] = xo, po
            self.alt_t[ro] = np.maximum(self.alt_t[ro], b.t_s[ri[ok]])
            self.alt_rej_n[ro] = 0
        bad = ~ok
        if bad.any():
            rb, ab = rows[bad], alt[bad]
            self.counters["altitude_rejected"] += int(bad.sum())
            for j in np.flatnonzero(bad):
                self._error(
                    "altitude_rejected",
                    float(b.t_s[ri[j]]),
                    b,
                    int(ri[j]),
                    f"altitude {alt[j] / FT:.0f} ft is {nu0[j] / FT:+.0f} ft from the track's; "
                    "rest of the report kept",
                )
            agree = (self.alt_rej_n[rb] > 0) & (
                np.abs(ab - self.alt_rej_val[rb]) <= c.altitude_gate_m
            )
            self.alt_rej_n[rb] = np.where(agree, self.alt_rej_n[rb] + 1, 1)
            self.alt_rej_val[rb] = ab
            # restart only on a persistent value the aircraft could have reached since the
            # last accepted altitude (a stuck or garbled altitude is rejected much longer)
            elapsed = b.t_s[ri[bad]] - self.alt_t[rb]
            reachable = np.abs(nu0[bad]) <= c.altitude_gate_m + c.max_vertical_speed_mps * elapsed
            again = (self.alt_rej_n[rb] >= c.altitude_reinit_count) & reachable
            if again.any():
                rr = rb[again]
                self.counters["altitude_reinitialised"] += int(again.sum())
                self.alt_x[rr, 0] = ab[again]
                self.alt_x[rr, 1] = 0.0
                self.alt_p[rr] = 0.0
                self.alt_p[rr, 0, 0] = c.altitude_sigma_m**2
                self.alt_p[rr, 1, 1] = 30.0**2
                self.alt_t[rr] = b.t_s[ri[bad][again]]
                self.alt_rej_n[rr] = 0

    def _identity_update(self, rows: I64, ri: I64, b: ReportBatch) -> None:
        t = b.t_s[ri]
        for name in ("icao24", "callsign", "squawk"):
            vals = getattr(b, name)[ri]
            has = vals != None  # noqa: E711
            if not has.any():
                continue
            arr = getattr(self, name)
            tarr = getattr(self, f"{name}_t")
            rr, vv, tt = rows[has], vals[has], t[has]
            if name == "icao24":
                for row, val in zip(rr, vv, strict=True):
                    old = arr[row]
                    tid = int(self.ids[row])
                    prev = self._by_icao24.get(val)
                    if prev is not None and prev != tid:
                        self.counters["identity_conflicts"] += 1
                        self._error(
                            "identity_conflict",
                            float(self._now),
                            None,
                            -1,
                            f"icao24 {val} moved from track {prev} to track {tid}",
                        )
                    if old is not None and old != val and self._by_icao24.get(old) == tid:
                        del self._by_icao24[old]
                    self._by_icao24[val] = tid
            arr[rr] = vv
            tarr[rr] = np.fmax(tarr[rr], tt)
        self._sensor_update(rows, ri, b)
        tn = b.track_number[ri]
        for j in np.flatnonzero(tn >= 0):
            key = (b.party[ri[j]], b.sensor[ri[j]], int(tn[j]))
            tid = int(self.ids[rows[j]])
            if self._by_sensor_track.get(key) != tid:
                self._by_sensor_track[key] = tid
                self._sensor_keys.setdefault(tid, []).append(key)

    def _sensor_update(self, rows: I64, ri: I64, b: ReportBatch) -> None:
        """Set each row's bit of the sensor (party, sensor) its report came from; sensors past
        the 64th share the last bit."""
        if ri.size == 0:
            return
        pairs = list(zip(b.party[ri], b.sensor[ri], strict=True))
        bits = self._sensor_bits
        codes = np.fromiter(
            (bits.setdefault(p, min(len(bits), 63)) for p in pairs), dtype=np.uint64, count=ri.size
        )
        np.bitwise_or.at(self.sensor_mask, rows, np.left_shift(np.uint64(1), codes))

    def squawks(self, track_ids: I64) -> Obj:
        """The last Mode A code of each live track (None where unknown or not live)."""
        rows = self._index_of(np.asarray(track_ids, dtype=np.int64))
        ok = rows < self._n
        ok[ok] = self.ids[rows[ok]] == np.asarray(track_ids)[ok]
        out = np.full(rows.size, None, dtype=object)
        out[ok] = self.squawk[rows[ok]]
        return out

    def detail(self, track_id: int) -> dict[str, Any]:
        """One live track's identifiers, its last update (Unix s) and the sensors that reported
        it (``party/sensor``), for an info panel; NotFoundError if there is no such track."""
        from deconflict.errors import NotFoundError

        row = int(self._index_of(np.array([track_id], dtype=np.int64))[0])
        if row >= self._n or self.ids[row] != track_id:
            raise NotFoundError(f"no live track {track_id}")
        mask = int(self.sensor_mask[row])
        sensors = sorted(
            f"{p}/{s}" if p else str(s) for (p, s), k in self._sensor_bits.items() if mask >> k & 1
        )
        return {
            "track_id": track_id,
            "icao24": self.icao24[row],
            "callsign": self.callsign[row],
            "squawk": self.squawk[row],
            "first_seen_s": float(self.t_first[row]),
            "last_update_s": float(self.t[row]),
            "status": STATUS_NAMES[int(self.status[row])],
            "sensors": sensors,
        }

    # ------------------------------------------------------------------ life cycle
    def _start(self, b: ReportBatch, ri: I64) -> I64:
        c = self.config
        n = ri.size
        self._reserve(n)
        rows = np.arange(self._n, self._n + n)
        self._n += n
        self.ids[rows] = np.arange(self._next_id, self._next_id + n)
        self._next_id += n
        x, p = self._initial_state(b, ri)
        self.x[rows], self.p[rows] = x, p
        t = b.t_s[ri]
        self.t[rows] = self.t_first[rows] = t
        self.q[rows] = c.q_cv
        self.manoeuvre_until[rows] = -np.inf
        self.hits[rows] = 1
        self.status[rows] = CONFIRMED if c.confirm_hits <= 1 else TENTATIVE
        self.alt_ok[rows] = False
        self.alt_rej_n[rows] = 0
        for name in ("icao24", "callsign", "squawk", "owner"):
            getattr(self, name)[rows] = None
            getattr(self, f"{name}_t")[rows] = np.nan
        self.sensor_mask[rows] = 0
        self.counters["tracks_started"] += n
        if c.confirm_hits <= 1:
            self.counters["tracks_confirmed"] += n
        self._altitude_update(rows, ri, b)
        self._identity_update(rows, ri, b)
        self.touched[rows] = True
        return rows

    def _life_cycle(self, now_s: float) -> None:
        c = self.config
        n = self._n
        if n == 0:
            return
        # ages count from the last update that brought a report (arrival, not report time): a
        # feed with latency keeps its tracks alive while its reports keep coming
        self.t_seen[:n][self.touched[:n]] = now_s
        age = now_s - self.t_seen[:n]
        st = self.status[:n]
        drop = ((st == TENTATIVE) & (age > c.tentative_timeout_s)) | (
            (st != TENTATIVE) & (age > c.drop_after_s)
        )
        coast = (st == CONFIRMED) & (age > c.coast_after_s) & ~drop
        st[coast] = COASTING
        st[drop] = DROPPED
        self.counters["tracks_dropped"] += int(drop.sum())
        self._merge(now_s)

    def _merge(self, now_s: float) -> None:
        """Merge pairs of confirmed/coasting tracks whose states agree (one aircraft)."""
        c = self.config
        n = self._n
        live = np.flatnonzero((self.status[:n] == CONFIRMED) | (self.status[:n] == COASTING))
        if live.size < 2:
            return
        dt = now_s - self.t[live]
        pos = self.x[live, :2] + dt[:, None] * self.x[live, 2:]
        pairs = cKDTree(pos).query_pairs(c.merge_radius_m, output_type="ndarray")
        if pairs.size == 0:
            return
        a, bb = live[pairs[:, 0]], live[pairs[:, 1]]
        ia, ib = self.icao24[a], self.icao24[bb]
        ok = (ia == None) | (ib == None) | (ia == ib)  # noqa: E711
        a, bb = a[ok], bb[ok]
        if a.size == 0:
            return
        xa, pa = cv_predict(self.x[a], self.p[a], now_s - self.t[a], self.q[a])
        xb, pb = cv_predict(self.x[bb], self.p[bb], now_s - self.t[bb], self.q[bb])
        d = xa - xb
        d2 = (d[:, None, :] @ np.linalg.inv(pa + pb) @ d[:, :, None])[:, 0, 0]
        close = np.flatnonzero(d2 < c.merge_d2)
        for j in close[np.argsort(d2[close])]:
            ra, rb = int(a[j]), int(bb[j])
            if self.status[ra] == DROPPED or self.status[rb] == DROPPED:
                continue
            keep, gone = (ra, rb) if self.hits[ra] >= self.hits[rb] else (rb, ra)
            for name in ("icao24", "callsign", "squawk", "owner"):
                arr, tarr = getattr(self, name), getattr(self, f"{name}_t")
                if arr[gone] is not None and not (tarr[keep] >= tarr[gone]):
                    arr[keep], tarr[keep] = arr[gone], tarr[gone]
            self.sensor_mask[keep] |= self.sensor_mask[gone]
            if self.icao24[keep] is not None:
                self._by_icao24[self.icao24[keep]] = int(self.ids[keep])
            for key in self._sensor_keys.pop(int(self.ids[gone]), []):
                self._by_sensor_track[key] = int(self.ids[keep])
                self._sensor_keys.setdefault(int(self.ids[keep]), []).append(key)
            self.status[gone] = DROPPED
            self.touched[keep] = True
            self.counters["tracks_merged"] += 1
            self.counters["tracks_dropped"] += 1

    # ------------------------------------------------------------------ output
    def _identity_state(self, rows: I64, now_s: float) -> Obj:
        stale_after = self.config.identity_stale_after_s
        last = np.fmax(self.icao24_t[rows], self.callsign_t[rows])
        out = np.full(rows.size, "none", dtype=object)
        known = np.isfinite(last)
        out[known] = np.where(now_s - last[known] <= stale_after, "fresh", "stale")
        return out

    def _rows(self, rows: I64, at_s: F64) -> TrackRows:
        dt = at_s - self.t[rows]
        xy = self.x[rows, :2] + dt[:, None] * self.x[rows, 2:]
        frame = self.frame or LocalFrame(0.0, 0.0)
        lat, lon = frame.to_latlon(xy)
        trk, gs = frame.track_speed_at(lat, lon, self.x[rows, 2:])
        # altitude is extrapolated for at most the coast time, and unknown after the drop time
        age = at_s - self.alt_t[rows]
        ok = self.alt_ok[rows] & (age <= self.config.drop_after_s)
        adt = age.clip(0.0, self.config.coast_after_s)
        alt = np.where(ok, self.alt_x[rows, 0] + adt * self.alt_x[rows, 1], np.nan)
        vr = np.where(ok, self.alt_x[rows, 1], np.nan)
        return TrackRows(
            t_s=at_s,
            track_id=self.ids[rows].copy(),
            status=self.status[rows].copy(),
            lat_deg=lat,
            lon_deg=lon,
            alt_ft=alt / FT,
            gs_kt=gs / KT,
            track_deg=trk,
            vrate_fpm=vr / FPM,
            icao24=self.icao24[rows].copy(),
            callsign=self.callsign[rows].copy(),
            identity=self._identity_state(rows, float(self._now)),
        )

    def _rows_and_compact(self, now_s: float) -> TrackRows:
        n = self._n
        st = self.status[:n]
        before = np.full(n, -1, dtype=np.int8)
        k = self._status_before.size
        before[:k] = self._status_before  # rows keep their order; new rows are appended
        changed = st != before
        out_rows = np.flatnonzero(self.touched[:n] | changed)
        at = np.where(self.touched[out_rows], self.t[out_rows], now_s)
        rows = self._rows(out_rows, at)
        dropped = np.flatnonzero(st == DROPPED)
        for r in dropped:
            tid = int(self.ids[r])
            ic = self.icao24[r]
            if ic is not None and self._by_icao24.get(ic) == tid:
                del self._by_icao24[ic]
            for key in self._sensor_keys.pop(tid, []):
                if self._by_sensor_track.get(key) == tid:
                    del self._by_sensor_track[key]
        if dropped.size:
            self._compact(st != DROPPED)
        return rows

    def tracks(self, now: Any = None, live_only: bool = True) -> pd.DataFrame:
        """The picture: every track predicted to ``now`` (default: the last update's ``now``)."""
        return self.track_rows(None if now is None else seconds(now), live_only).frame()

    def track_rows(self, now_s: float | None = None, live_only: bool = True) -> TrackRows:
        """Array form of ``tracks``; ``live_only`` keeps confirmed and coasting tracks."""
        at = float(self._now) if now_s is None else now_s
        n = self._n
        sel = np.arange(n)
        if live_only:
            sel = np.flatnonzero((self.status[:n] == CONFIRMED) | (self.status[:n] == COASTING))
        return self._rows(sel, np.full(sel.size, at))

    def positions_xy(self, now_s: float, live_only: bool = True) -> tuple[I64, F64]:
        """Track ids and east/north positions (m) at ``now_s`` in the local frame."""
        n = self._n
        sel = np.arange(n)
        if live_only:
            sel = np.flatnonzero((self.status[:n] == CONFIRMED) | (self.status[:n] == COASTING))
        dt = now_s - self.t[sel]
        return self.ids[sel].copy(), self.x[sel, :2] + dt[:, None] * self.x[sel, 2:]

    def identities(self) -> pd.DataFrame:
        """Per track: first seen, and each identifier (icao24, callsign, squawk, claimed owner)
        with the time it was last confirmed."""
        n = self._n

        def ts(a: F64) -> pd.Series:
            return pd.Series(pd.to_datetime(np.round(a * 1e9), unit="ns", utc=True))

        return pd.DataFrame(
            {
                "track_id": self.ids[:n].copy(),
                "status": np.asarray(STATUS_NAMES, dtype=object)[self.status[:n].astype(int)],
                "first_seen": ts(self.t_first[:n]),
                "icao24": pd.array(self.icao24[:n], dtype="string"),
                "icao24_time": ts(self.icao24_t[:n]),
                "callsign": pd.array(self.callsign[:n], dtype="string"),
                "callsign_time": ts(self.callsign_t[:n]),
                "squawk": pd.array(self.squawk[:n], dtype="string"),
                "squawk_time": ts(self.squawk_t[:n]),
                "owner": pd.array(self.owner[:n], dtype="string"),
                "owner_time": ts(self.owner_t[:n]),
            }
        )

    def claim(self, track_id: int, party: str, now: Any) -> None:
        """Record that ``party`` claimed the track (e.g. answered an identification request
        "ours") at ``now``; the claim goes stale like any identity unless confirmed again."""
        from deconflict.errors import InputError, NotFoundError

        if not party:
            raise InputError("a claim needs the claiming party's name")
        row = int(self._index_of(np.array([track_id], dtype=np.int64))[0])
        if row >= self._n or self.ids[row] != track_id:
            raise NotFoundError(f"no live track {track_id}; list them with Tracker.identities()")
        self.owner[row] = party
        self.owner_t[row] = seconds(now)
