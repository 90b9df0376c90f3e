"""The engine's identification requests: an unknown track in a party's picture (confirmed, no
transponder identity) becomes a request to every other party, opened through the store's
workflow (``workflows.hotline.open_identification``, for that observing party); the outcome
comes back through the log (``identification.resolved``), whoever answered and however (a page,
a client of ``/v1``, the crews the demo plays). Times are Unix s; edge units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from deconflict.engine.desk import Desk
from deconflict.geo import distance_m
from deconflict.identify.request import TrackSnapshot
from deconflict.store import Event
from deconflict.store import hotline as log
from deconflict.units import FPM, FT, KT, si_kinematics

History = Callable[[str], tuple[tuple[float, float, float, float], ...]]
Where = Callable[[str, str], tuple[float, float, float] | None]
#: How near (m) a track of this engine must be to an inherited request's aircraft to be it: the
#: duty officers' own rule for claiming a track (``sim.crews``), with room in altitude for a
#: young primary-radar track's (a 3-D radar's height is off by thousands of ft at first).
CLAIM_RADIUS_M = 5.0 * 1852.0
CLAIM_DALT_M = 5000.0 * FT


@dataclass
class _Asked:
    """An inherited request: who asked, where the track was (degrees, m, m/s) and when (s),
    and the aircraft it was declared as, if it was."""

    observer: str
    lat: float
    lon: float
    alt_m: float
    east_mps: float
    north_mps: float
    created_s: float
    claim: tuple[str, str] | None

    @property
    def speed_mps(self) -> float:
        return math.hypot(self.east_mps, self.north_mps)

    def at(self, now_s: float) -> tuple[float, float, float]:
        """Its position carried on at its velocity to ``now_s`` (latitude, longitude, m)."""
        dt = max(0.0, now_s - self.created_s)
        lat = self.lat + math.degrees(self.north_mps * dt / 6_371_000.0)
        coslat = max(math.cos(math.radians(self.lat)), 1e-6)
        lon = self.lon + math.degrees(self.east_mps * dt / (6_371_000.0 * coslat))
        return lat, lon, self.alt_m


class _Where:
    """Where a party's own aircraft is now in its picture (latitude, longitude, m), by name."""

    def __init__(self, pictures: Mapping[str, pd.DataFrame]) -> None:
        self.pictures = pictures

    def __call__(self, party: str, aircraft: str) -> tuple[float, float, float] | None:
        pic = self.pictures.get(party)
        if pic is None or not len(pic):
            return None
        hit = pic[(pic["identity"] == "own").to_numpy() & (pic["label"] == aircraft).to_numpy()]
        if not len(hit):
            return None
        r = hit.iloc[0]
        return float(r["latitude"]), float(r["longitude"]), float(r["altitude"]) * FT


class Identification:
    """Requests opened by the engine, what they settled, and which tracks wait for one."""

    def __init__(self, desk: Desk, *, request_after_s: float, timeout_s: float) -> None:
        self.desk = desk
        self.request_after_s = request_after_s
        self.timeout_s = timeout_s
        self.first_seen: dict[tuple[str, str], float] = {}
        self.requested: dict[tuple[str, str], str] = {}  # (observer, key) -> request id
        self.track_of: dict[str, tuple[str, str]] = {}  # request id -> (observer, key)
        self.deadline: dict[str, float] = {}  # open request id -> deadline (s)
        self.declared: dict[str, dict[str, tuple[str, str]]] = {}  # party -> key -> owner, ac
        #: Requests of an engine before this one, not yet matched to a track of this one.
        self.inherited: dict[str, _Asked] = {}
        self.grace_s = 0.0
        self._first_s: float | None = None

    def inherit(self, requests: Sequence[Event], resolved: Sequence[Event], grace_s: float) -> None:
        """Take back the requests an engine before this one opened (``requests``: their
        ``message`` entries; ``resolved``: the outcomes of those settled). An open one is
        followed to its outcome (the deadline check settles it), so none is lost; each is
        matched to this engine's track of the same aircraft when it appears (an open request
        near its reported position carried on at its speed, a declared one near the claimed
        aircraft), so the track is not asked about again. Unknown tracks first seen within
        ``grace_s`` of the first tick wait for that matching before a new request."""
        outcome = {str(e.payload["request_id"]): e.payload for e in resolved}
        for e in requests:
            body = e.payload["body"]
            rid = str(body["request_id"])
            got = outcome.get(rid)
            claim = None
            if got is None:
                self.deadline[rid] = float(body["deadline_s"])
            elif got["outcome"] == "declared" and got.get("claimants"):
                c = got["claimants"][0]
                claim = (str(c["party"]), str(c["aircraft"]))
            lat, lon, alt_m, east, north, _ = si_kinematics(body["position"], body["velocity"])
            self.inherited[rid] = _Asked(
                str(body["observer"]), lat, lon, alt_m, east, north, float(body["created_s"]), claim
            )
        self.grace_s = grace_s

    def _adopt(self, p: str, key: str, row: Any, where: Where, now: float) -> bool:
        """Match ``p``'s unknown track ``key`` (``row``: its position) to an inherited request."""
        lat, lon = float(row["latitude"]), float(row["longitude"])
        alt_m = float(row["altitude"]) * FT
        for rid, asked in self.inherited.items():
            if asked.observer != p:
                continue
            if asked.claim is not None:
                there = where(*asked.claim)
                if there is None:
                    continue
                tol_m, (a_lat, a_lon, a_alt) = CLAIM_RADIUS_M, there
            else:
                a_lat, a_lon, a_alt = asked.at(now)
                tol_m = CLAIM_RADIUS_M + 0.1 * asked.speed_mps * max(0.0, now - asked.created_s)
            d_m = float(distance_m(a_lat, a_lon, lat, lon))
            if abs(a_alt - alt_m) > CLAIM_DALT_M or d_m > tol_m:
                continue
            del self.inherited[rid]
            self.requested[(p, key)] = rid
            self.track_of[rid] = (p, key)
            if asked.claim is not None:
                self.declared.setdefault(p, {})[key] = asked.claim
            return True
        return False

    def pending(self, party: str) -> set[str]:
        """Keys of the party's tracks with a request open."""
        return {k for (p, k), rid in self.requested.items() if p == party and rid in self.deadline}

    def declared_for(self, party: str) -> Mapping[str, tuple[str, str]]:
        return self.declared.get(party, {})

    def update(self, pictures: Mapping[str, pd.DataFrame], history: History, now: float) -> None:
        """Open a request for each unknown, confirmed track with no transponder identity that
        has been seen for ``request_after_s`` (one write per observing party and tick)."""
        if self._first_s is None:
            self._first_s = now
        waiting = bool(self.inherited) and now < self._first_s + self.grace_s
        where = _Where(pictures)
        for p, pic in pictures.items():
            if not len(pic):
                continue
            unknown = np.flatnonzero(
                (pic["identity"].to_numpy(dtype=object) == "unknown")
                & (pic["status"].to_numpy(dtype=object) == "confirmed")
            )
            unknown = unknown[pd.isna(pic["icao24"].to_numpy(dtype=object)[unknown])]
            keys = pic["key"].to_numpy(dtype=object)
            due = []
            for i in unknown:
                k = (p, str(keys[i]))
                first = self.first_seen.setdefault(k, now)
                if k in self.requested:
                    continue
                if self.inherited and self._adopt(p, k[1], pic.iloc[int(i)], where, now):
                    continue
                if not waiting and now - first >= self.request_after_s:
                    due.append(int(i))
            if not due:
                continue
            # each column as Python values at once (SI), not an element of an array at a time
            keys_due = [str(k) for k in keys[due].tolist()]
            lat = pic["latitude"].to_numpy(np.float64)[due].tolist()
            lon = pic["longitude"].to_numpy(np.float64)[due].tolist()
            alt_m = (pic["altitude"].to_numpy(np.float64)[due] * FT).tolist()
            gs_ms = (pic["groundspeed"].to_numpy(np.float64)[due] * KT).tolist()
            trk = pic["track"].to_numpy(np.float64)[due].tolist()
            vr_ms = (np.nan_to_num(pic["vertical_rate"].to_numpy(np.float64)[due]) * FPM).tolist()
            tracks = [
                (
                    k,
                    TrackSnapshot.from_ground_track(
                        lat[j], lon[j], alt_m[j], gs_ms[j], trk[j], vr_ms[j], history(k)
                    ),
                )
                for j, k in enumerate(keys_due)
            ]
            opened = self.desk.open_requests(p, tracks, now_s=now, timeout_s=self.timeout_s)
            if not opened:  # no other party to ask
                continue
            for (key, _), (rid, deadline) in zip(tracks, opened, strict=True):
                self.requested[(p, key)] = rid
                self.track_of[rid] = (p, key)
                self.deadline[rid] = deadline

    def due(self, now: float) -> bool:
        """Whether a request of the engine is past its deadline and still open."""
        return any(d <= now for d in self.deadline.values())

    def learn(self, events: Sequence[Event]) -> None:
        """Take the outcomes the log settled for the engine's requests."""
        for e in events:
            if e.kind != log.ID_RESOLVED:
                continue
            rid = str(e.payload["request_id"])
            self.deadline.pop(rid, None)
            asked = self.inherited.get(rid)
            if asked is not None:  # settled before its track was found again: a declared
                claimants = e.payload.get("claimants") or []  # one is still matched to it
                if e.payload["outcome"] == "declared" and claimants:
                    asked.claim = (str(claimants[0]["party"]), str(claimants[0]["aircraft"]))
                else:
                    del self.inherited[rid]
                continue
            where = self.track_of.get(rid)
            if where is None:
                continue
            self.deadline.pop(rid, None)
            observer, key = where
            claimants = e.payload.get("claimants") or []
            if e.payload["outcome"] == "declared" and claimants:
                c = claimants[0]
                self.declared.setdefault(observer, {})[key] = (str(c["party"]), str(c["aircraft"]))
            else:
                self.declared.get(observer, {}).pop(key, None)
