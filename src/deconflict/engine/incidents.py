"""Incidents in the live picture: a loss of separation between two parties' own aircraft,
recorded once it has been over for ``quiet_s`` with its closest approach, severity, the alerts
that came before it and the messages around it (``deconflict.incidents``), as an ``incident``
entry of the log addressed to the two parties and the host. Times Unix s, positions degrees,
altitudes m inside.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from deconflict.engine.desk import Desk
from deconflict.engine.picture import Row, num
from deconflict.hotline.messages import MessageKind
from deconflict.incidents.detect import IncidentPolicy, detect_incidents
from deconflict.incidents.geometry import Timeline
from deconflict.incidents.record import attach_context
from deconflict.predict.standards import Standard
from deconflict.store import Event
from deconflict.store import hotline as log
from deconflict.units import FT

Point = tuple[float, float, float, float]  # time s, latitude, longitude, altitude m


class IncidentWatch:
    """Own aircraft's recent positions, the pairs whose separation is lost, and their records."""

    def __init__(self, desk: Desk, standard: Standard, *, memory_s: float, quiet_s: float) -> None:
        self.desk = desk
        self.standard = standard
        self.memory_s = memory_s
        self.quiet_s = quiet_s
        self.tracklog: dict[str, deque[Point]] = {}
        self.key_party: dict[str, str] = {}
        self.lost: dict[tuple[str, str], float] = {}  # pair -> last time separation was lost
        self.recorded = 0
        #: Incidents the log holds already (an engine before this one recorded them): the
        #: aircraft of each, and its loss's start and end (s).
        self.known: list[tuple[frozenset[tuple[str, str]], float, float]] = []
        self.context_after = desk.start_seq  # the log seq the records' context is read after

    def inherit(self, recorded: Sequence[Mapping[str, Any]], context_after: int) -> None:
        """Take the incidents an engine before this one recorded, so that a loss of separation
        seen again after a restart is not recorded twice; the alerts and messages of the
        records' context are read from the log after seq ``context_after``."""
        for r in recorded:
            who = frozenset((str(t["party"]), str(t["aircraft_id"])) for t in r["tracks"])
            start = float(r.get("los_start_s") or r["time_s"])
            self.known.append((who, start, float(r.get("los_end_s") or r["time_s"])))
        self.context_after = min(self.context_after, context_after)

    def _known(self, who: frozenset[tuple[str, str]], start_s: float, end_s: float) -> bool:
        margin = self.quiet_s
        return any(
            w == who and start_s <= e + margin and end_s >= s - margin for w, s, e in self.known
        )

    def history(self, key: str) -> tuple[Point, ...]:
        """The track's last 30 positions (identification requests carry them)."""
        points = self.tracklog.get(key)
        return tuple(list(points)[-30:]) if points else ()

    def update(self, scene: pd.DataFrame, conflict_rows: list[Row], now: float) -> None:
        own = scene[(scene["identity"] == "own").to_numpy()] if len(scene) else scene
        for key, party, lat, lon, alt in zip(
            own["key"].tolist(), own["party"].tolist(), own["latitude"].tolist(),
            own["longitude"].tolist(), own["altitude"].tolist(), strict=True,
        ):  # fmt: skip
            points = self.tracklog.setdefault(key, deque())
            if not points or points[-1][0] < now:
                points.append((now, lat, lon, alt * FT))
            while points[0][0] < now - self.memory_s:
                points.popleft()
            self.key_party[key] = party
        hmin_nm = self.standard.separation.horizontal_m / 1852.0
        kp = self.key_party
        for row in conflict_rows:
            a, b = str(row["a"]), str(row["b"])
            if (
                kp.get(a)
                and kp.get(b)
                and kp[a] != kp[b]
                and num(row["t_in_s"]) == 0.0
                and float(row["d_now_nm"]) < hmin_nm
            ):
                self.lost[(a, b)] = now
        due = [pair for pair, last in self.lost.items() if now - last >= self.quiet_s]
        context = self._context() if due else None  # the log read once for all of them
        for pair in due:
            self.record(pair, context)
            del self.lost[pair]

    def finish(self) -> None:
        """Record the losses still open (end of a run)."""
        context = self._context() if self.lost else None
        for pair in list(self.lost):
            self.record(pair, context)
        self.lost.clear()

    def _context(self) -> tuple[list[dict[str, Any]], list[Event]]:
        """The conflict alerts (payloads, with their kind as ``text``) and the messages written
        after ``context_after`` (the engine's start, or an engine's before it on a restart):
        what an incident record cites."""
        store, after = self.desk.store, self.context_after
        alerts = [
            dict(e.payload) | {"text": e.kind}
            for kind in ("alert.raised", "alert.updated")
            for e in log.entries(store, kind, after=after)
            if e.payload.get("kind") == "conflict"
        ]
        return alerts, log.entries(store, log.MESSAGE, after=after)

    def _timeline(self, key: str) -> Timeline | None:
        points = self.tracklog.get(key)
        if not points or len(points) < 2:
            return None
        arr = np.array(points)
        return Timeline.from_arrays(self.key_party[key], key.split("/", 1)[-1], *arr.T)

    def record(
        self, pair: tuple[str, str], context: tuple[list[dict[str, Any]], list[Event]] | None = None
    ) -> None:
        """Record the incidents of ``pair``; ``context`` is ``_context()`` when the caller
        records several at once."""
        ta, tb = self._timeline(pair[0]), self._timeline(pair[1])
        if ta is None or tb is None:
            return
        all_alerts, messages = context or self._context()
        policy = IncidentPolicy.from_standard(self.standard)
        for inc in detect_incidents(ta, tb, policy):
            who = frozenset((t.party, t.aircraft_id) for t in (ta, tb))
            start, end = inc.los_start_s, inc.los_end_s
            if self._known(who, inc.time_s if start is None else start,
                           inc.time_s if end is None else end):  # fmt: skip
                continue  # recorded by an engine before this one
            alerts = [a for a in all_alerts if a.get("own_key") in pair]
            alerts.sort(key=lambda a: float(a.get("time_s", 0.0)))
            inc = attach_context(inc, alerts, self._messages(messages, who))
            if self.desk.record_incident(inc.to_dict()):
                self.recorded += 1

    @staticmethod
    def _messages(entries: list[Event], who: frozenset[tuple[str, str]]) -> list[dict[str, Any]]:
        """The messages the pair's parties sent or received; of the conflict notices, only those
        about the pair's own aircraft (a busy sky's notices about other pairs are not this
        incident's context, and would make its record thousands of messages long)."""
        parties = {p for p, _ in who}
        out = []
        for e in entries:
            m = e.payload
            if not (set(m.get("recipients", ())) & parties or m.get("sender") in parties):
                continue
            if m.get("kind") == MessageKind.CONFLICT_NOTICE.value and not any(
                (r, m.get("body", {}).get("own_aircraft")) in who for r in m.get("recipients", ())
            ):
                continue
            body = m.get("body", {})
            text = str(body.get("text", body.get("resolution", "")))
            out.append({"time_s": m["time_s"], "sender": m["sender"], "kind": m["kind"],
                        "text": text})  # fmt: skip
        return out
