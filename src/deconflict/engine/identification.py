"""The engine's identification requests: an unknown track in a party's picture (confirmed, no
transponder identity) becomes a request to every other party, opened through the store's
workflow (``workflows.hotline.open_identification``, for that observing party); the outcome
comes back through the log (``identification.resolved``), whoever answered and however (a page,
a client of ``/v1``, the crews the demo plays). Times are Unix s; edge units.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from deconflict.engine.desk import Desk
from deconflict.identify.request import TrackSnapshot
from deconflict.store import Event
from deconflict.store import hotline as log
from deconflict.units import FPM, FT, KT

History = Callable[[str], tuple[tuple[float, float, float, float], ...]]


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
        self.inherited: set[str] = set()  # open requests of an engine before this one

    def rebuild(self, parties: Sequence[str]) -> int:
        """Take back from the log the requests an engine opened for ``parties`` before this one
        started (a restart, a new leader) and that are still open: they are followed to their
        outcome (the deadline check settles them), so none is lost. Their track keys were another
        tracker's, so they neither mark this engine's tracks pending nor declare them: a track
        this engine has not identified is asked about again. Returns how many were taken."""
        store = self.desk.store
        settled = {str(e.payload["request_id"]) for e in log.entries(store, log.ID_RESOLVED)}
        taken = 0
        for e in log.entries(store, log.MESSAGE, match={"kind": "identification_request"}):
            body = e.payload["body"]
            observer = body.get("observer")
            rid = str(body["request_id"])
            if e.payload.get("sender") != "host" or observer not in parties or rid in settled:
                continue
            self.deadline[rid] = float(body["deadline_s"])
            self.inherited.add(rid)
            taken += 1
        return taken

    def pending(self, party: str) -> set[str]:
        """Keys of the party's tracks with a request open."""
        return {k for (p, k), rid in self.requested.items() if p == party and rid in self.deadline}

    def declared_for(self, party: str) -> Mapping[str, tuple[str, str]]:
        return self.declared.get(party, {})

    def update(self, pictures: Mapping[str, pd.DataFrame], history: History, now: float) -> None:
        """Open a request for each unknown, confirmed track with no transponder identity that
        has been seen for ``request_after_s`` (one write per observing party and tick)."""
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
                if k not in self.requested and now - first >= self.request_after_s:
                    due.append(int(i))
            if not due:
                continue
            col = {c: pic[c].to_numpy()[due] for c in
                   ("key", "latitude", "longitude", "altitude", "groundspeed", "track",
                    "vertical_rate")}  # fmt: skip
            tracks = [
                (
                    str(col["key"][j]),
                    TrackSnapshot.from_ground_track(
                        float(col["latitude"][j]),
                        float(col["longitude"][j]),
                        float(col["altitude"][j]) * FT,
                        float(col["groundspeed"][j]) * KT,
                        float(col["track"][j]),
                        float(np.nan_to_num(col["vertical_rate"][j])) * FPM,
                        history(str(col["key"][j])),
                    ),
                )
                for j in range(len(due))
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
            if rid in self.inherited:  # settled: followed to its end, about another's track
                self.inherited.discard(rid)
                self.deadline.pop(rid, None)
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
