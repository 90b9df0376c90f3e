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

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.geo import ecef_m
from deconflict.tracking.association import identity_match, kinematic_match
from deconflict.tracking.batch import ReportBatch, latlon, report_batch, seconds
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.counters import TrackerLog
from deconflict.tracking.filters import altitude_update, position_update
from deconflict.tracking.frame import LocalFrame
from deconflict.tracking.identity import IdentityIndex
from deconflict.tracking.lifecycle import age_tracks, merge_tracks, remove_dropped, start_tracks
from deconflict.tracking.rows import TrackRows, identities_frame, rows_at
from deconflict.tracking.table import DROPPED, STATUS_NAMES, TENTATIVE, TrackTable

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Obj = NDArray[np.object_]

__all__ = ["STATUS_NAMES", "TrackRows", "Tracker"]


class Tracker:
    """A stateful multi-sensor tracker. Time is passed in, never read from the clock.

    ``update(reports, now)`` takes a report table and returns the track-update table of the
    tracks it touched; ``tracks(now)`` is the picture at ``now``. ``update_batch`` is the array
    form (no pandas in the loop) used by replays and benchmarks.

    The parts: ``table`` (the tracks' arrays, ``tracking.table``), ``index`` (who holds which
    identity, ``tracking.identity``), ``log`` (counters and error records, ``tracking.counters``);
    association, filters, life cycle and output are the functions of their modules.
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        c = self.config
        self.frame: LocalFrame | None = None
        if c.origin_lat_deg is not None and c.origin_lon_deg is not None:
            self.frame = LocalFrame(c.origin_lat_deg, c.origin_lon_deg)
        self.table = TrackTable()
        self.index = IdentityIndex()
        self.log = TrackerLog(c.max_error_records)
        self.counters: dict[str, int] = self.log.counters
        self._now = -np.inf
        self._next_id = 1

    def __len__(self) -> int:
        return self.table.n

    def errors(self) -> pd.DataFrame:
        """The error records kept (newest ``max_error_records``): time, kind, detail, source."""
        return self.log.frame()

    # ------------------------------------------------------------------ update
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
        status_before = self._step(b, now_s)
        return self._output_and_remove(status_before, now_s)

    def ingest(self, b: ReportBatch, now_s: float) -> None:
        """``update_batch`` without building the rows of the tracks touched (a caller that
        reads the picture with ``track_rows`` afterwards)."""
        self._step(b, now_s)
        remove_dropped(self.table, self.index)

    def _step(self, b: ReportBatch, now_s: float) -> NDArray[np.int8]:
        """Associate, filter and age; returns the statuses before (for the output rows)."""
        c, log, table = self.config, self.log, self.table
        table.touched[: table.n] = False
        status_before = table.status[: table.n].copy()
        n = len(b)
        log.count("reports", n)
        if now_s < self._now:
            log.count("clock_backwards")
            log.error(
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
                    log.error(kind, now_s, b, int(i), f"{d}; re-timed to now")
                log.count(kind, int(mask.sum()))
            for i in np.flatnonzero(stale):
                log.error("stale_report", now_s, b, int(i), f"{now_s - t[i]:.3f} s old")
            log.count("stale_reports", int(stale.sum()))
            t[no_t | ahead] = now_s
            # an unknown position error takes the configured one, once for the whole batch
            sigma = np.where(np.isfinite(b.sigma_m), b.sigma_m, c.position_sigma_m)
            b = ReportBatch(**{**b.__dict__, "t_s": t, "sigma_m": sigma})
            order = np.argsort(t, kind="stable")
            self._process(b.take(order))
        age_tracks(table, now_s, c, log)
        if table.n:
            merge_tracks(table, self.index, now_s, c, log)
        return status_before

    def _process(self, b: ReportBatch) -> None:
        """Associate and apply a time-ordered batch, in rounds so that each round has at most
        one report per identity."""
        n = len(b)
        rank = np.zeros(n, dtype=np.int64)
        has = np.flatnonzero(b.icao24 != None)  # noqa: E711
        if 0 < has.size < 256:  # a few reports: a dictionary beats pandas' hash table
            seen: dict[Any, int] = {}
            for i, key in zip(has.tolist(), b.icao24[has].tolist(), strict=True):
                rank[i] = seen.get(key, 0)
                seen[key] = rank[i] + 1
        elif has.size:
            # a report's rank is how many reports of its icao24 come before it in the batch
            code = pd.factorize(b.icao24[has])[0]
            order = np.argsort(code, kind="stable")
            sorted_code = code[order]
            start = np.ones(has.size, dtype=bool)
            start[1:] = sorted_code[1:] != sorted_code[:-1]
            pos = np.arange(has.size)
            rank[has[order]] = pos - np.maximum.accumulate(np.where(start, pos, 0))
        for r in range(int(rank.max()) + 1 if n else 0):
            self._process_round(b, np.flatnonzero(rank == r))

    def _process_round(self, b: ReportBatch, idx: I64) -> None:
        table = self.table
        has_pos = np.isfinite(b.xy_m[idx]).all(axis=1)
        rows = identity_match(table, self.index, b, idx, self.config, self.log)
        matched = rows >= 0
        if matched.any():
            self.log.count("identity_associations", int(matched.sum()))
            self._apply(rows[matched], idx[matched], b, identified=True)
        rest = idx[~matched & has_pos]
        # Established tracks choose first; tentative ones get the plots left over, so a new
        # track with a wide gate never steals the plots of an established one.
        for tentative in (False, True):
            if not (rest.size and table.n):
                break
            st = table.status[: table.n]
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
            self.log.count("unassociated_no_position", int(nopos.size))
            for i in nopos:
                self.log.error(
                    "unassociated_no_position",
                    float(b.t_s[i]),
                    b,
                    int(i),
                    "no position and no track with its identity; counted, not tracked",
                )

    def _start(self, b: ReportBatch, ri: I64) -> I64:
        rows = start_tracks(
            self.table, self.index, b, ri, self._next_id, self.config, self.log, self._now
        )
        self._next_id += ri.size
        return rows

    def _associate(self, b: ReportBatch, rest: I64, rows: I64) -> I64:
        """Apply the plots ``rest`` that associate kinematically with track rows ``rows``;
        returns the plots left over."""
        ti, rj = kinematic_match(self.table, b, rest, rows, self.config)
        if ti.size == 0:
            return rest
        self.log.count("kinematic_associations", int(ti.size))
        self._apply(ti, rest[rj], b, identified=False)
        left = np.ones(rest.size, dtype=bool)
        left[rj] = False
        return rest[left]

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
        table, c, log = self.table, self.config, self.log
        has_pos = np.isfinite(b.xy_m[ri]).all(axis=1)
        log.count("no_position", int((~has_pos).sum()))
        pr, pi = rows[has_pos], ri[has_pos]
        if pr.size:
            position_update(table, pr, pi, b, identified, c, log, float(self._now))
        altitude_update(table, rows, ri, b, c, log)
        self.index.update(table, rows, ri, b, log, float(self._now))
        table.touched[rows] = True

    def _output_and_remove(self, status_before: NDArray[np.int8], now_s: float) -> TrackRows:
        """The rows of the tracks touched or whose status changed; then the dropped go."""
        table = self.table
        n = table.n
        st = table.status[:n]
        before = np.full(n, -1, dtype=np.int8)
        before[: status_before.size] = status_before  # rows keep their order; new ones appended
        out_rows = np.flatnonzero(table.touched[:n] | (st != before))
        at = np.where(table.touched[out_rows], table.t[out_rows], now_s)
        rows = rows_at(table, out_rows, at, self.frame, self.config, float(self._now))
        remove_dropped(table, self.index)
        return rows

    # ------------------------------------------------------------------ views
    def tracks(self, now: Any = None, live_only: bool = True) -> pd.DataFrame:
        """The picture: every track predicted to ``now`` (default: the last update's ``now``)."""
        return self.track_rows(None if now is None else seconds(now), live_only).frame()

    def _selected(self, live_only: bool) -> I64:
        return self.table.live_rows() if live_only else np.arange(self.table.n)

    def track_rows(
        self, now_s: float | None = None, live_only: bool = True, track_ids: I64 | None = None
    ) -> TrackRows:
        """Array form of ``tracks``; ``live_only`` keeps confirmed and coasting tracks,
        ``track_ids`` only those tracks."""
        at = float(self._now) if now_s is None else now_s
        sel = self._selected(live_only)
        if track_ids is not None:
            sel = sel[np.isin(self.table.ids[sel], track_ids)]
        return rows_at(
            self.table, sel, np.full(sel.size, at), self.frame, self.config, float(self._now)
        )

    def positions_xy(self, now_s: float, live_only: bool = True) -> tuple[I64, F64]:
        """Track ids and east/north positions (m) at ``now_s`` in the local frame."""
        t = self.table
        sel = self._selected(live_only)
        dt = now_s - t.t[sel]
        return t.ids[sel].copy(), t.x[sel, :2] + dt[:, None] * t.x[sel, 2:]

    def squawks(self, track_ids: I64) -> Obj:
        """The last Mode A code of each live track (None where unknown or not live)."""
        t = self.table
        rows = t.index_of(np.asarray(track_ids, dtype=np.int64))
        ok = rows < t.n
        ok[ok] = t.ids[rows[ok]] == np.asarray(track_ids)[ok]
        out = np.full(rows.size, None, dtype=object)
        out[ok] = t.squawk[rows[ok]]
        return out

    def number_after(self, track_id: int) -> None:
        """Number the tracks started from now on above ``track_id`` (an engine carrying on
        after another: its tracks' keys do not take the numbers the log already names)."""
        self._next_id = max(self._next_id, int(track_id) + 1)

    def panel(self, track_ids: I64) -> tuple[F64, F64, NDArray[np.uint64]]:
        """Per track, what ``detail`` adds to the picture: first seen and last update (Unix s,
        NaN where not live) and the mask of the sensors that reported it (their names:
        ``sensor_names``)."""
        t = self.table
        ids = np.asarray(track_ids, dtype=np.int64)
        rows = t.index_of(ids)
        ok = rows < t.n
        ok[ok] = t.ids[rows[ok]] == ids[ok]
        first, last = np.full(ids.size, np.nan), np.full(ids.size, np.nan)
        masks = np.zeros(ids.size, dtype=np.uint64)
        first[ok], last[ok], masks[ok] = t.t_first[rows[ok]], t.t[rows[ok]], t.sensor_mask[rows[ok]]
        return first, last, masks

    def sensor_names(self, mask: int) -> list[str]:
        """The ``party/sensor`` names of a sensor mask (sorted)."""
        return self.index.sensors(mask)

    def detail(self, track_id: int) -> dict[str, Any]:
        """One live track's identifiers, its last update (Unix s) and the sensors that reported
        it (``party/sensor``), for an info panel; NotFoundError if there is no such track."""
        from deconflict.errors import NotFoundError

        t = self.table
        row = t.row_of(track_id)
        if row < 0:
            raise NotFoundError(f"no live track {track_id}")
        return {
            "track_id": track_id,
            "icao24": t.icao24[row],
            "callsign": t.callsign[row],
            "squawk": t.squawk[row],
            "first_seen_s": float(t.t_first[row]),
            "last_update_s": float(t.t[row]),
            "status": STATUS_NAMES[int(t.status[row])],
            "sensors": self.index.sensors(int(t.sensor_mask[row])),
        }

    def identities(self) -> pd.DataFrame:
        """Per track: first seen, and each identifier (icao24, callsign, squawk, claimed owner)
        with the time it was last confirmed."""
        return identities_frame(self.table)

    def claim(self, track_id: int, party: str, now: Any) -> None:
        """Record that ``party`` claimed the track (e.g. answered an identification request
        "ours") at ``now``; the claim goes stale like any identity unless confirmed again."""
        from deconflict.errors import InputError, NotFoundError

        if not party:
            raise InputError("a claim needs the claiming party's name")
        row = self.table.row_of(track_id)
        if row < 0:
            raise NotFoundError(f"no live track {track_id}; list them with Tracker.identities()")
        self.table.owner[row] = party
        self.table.owner_t[row] = seconds(now)
