"""Incidents in the live picture: a loss of separation between two parties' own aircraft,
recorded once it has been over for ``quiet_s`` with its closest approach, severity, the alerts
that came before it and the messages around it (``deconflict.incidents``), as an ``incident``
entry of the log addressed to the two parties and the host. Times Unix s, positions degrees,
altitudes m inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from deconflict.engine.desk import Desk
from deconflict.engine.picture import Row, num
from deconflict.engine.tracklog import Point, TrackLog
from deconflict.hotline.messages import MessageKind
from deconflict.incidents.detect import IncidentPolicy, detect_incidents
from deconflict.incidents.geometry import Timeline
from deconflict.incidents.record import CONTEXT_WINDOW_S, attach_context
from deconflict.predict.standards import Standard
from deconflict.store import Event, Store, follow
from deconflict.store import hotline as log
from deconflict.units import FT

_K = TypeVar("_K")

#: How often (s of the picture's time) the incidents' context forgets what no record can cite.
PRUNE_EVERY_S = 60.0


class IncidentWatch:
    """Own aircraft's recent positions, the pairs whose separation is lost, and their records."""

    def __init__(self, desk: Desk, standard: Standard, *, memory_s: float, quiet_s: float) -> None:
        self.desk = desk
        self.standard = standard
        self.memory_s = memory_s
        self.quiet_s = quiet_s
        self.tracklog = TrackLog(memory_s)
        self.key_party: dict[str, str] = {}
        self._seen: tuple[list[str], list[str]] = ([], [])  # the last update's keys and parties
        self.lost: dict[tuple[str, str], float] = {}  # pair -> last time separation was lost
        self.recorded = 0
        #: Incidents the log holds already (an engine before this one recorded them): the
        #: aircraft of each, and its loss's start and end (s).
        self.known: list[tuple[frozenset[tuple[str, str]], float, float]] = []
        self.context_after = desk.start_seq  # the log seq the records' context is read after
        self._read = _ContextLog(self.context_after)  # the log the records cite, read so far
        self._pruned_s = -np.inf  # when the context was last pruned (s)

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
        return self.tracklog.last(key, 30)

    def update(self, scene: pd.DataFrame, conflict_rows: list[Row], now: float) -> None:
        # the own aircraft's columns only (not a copy of the whole scene)
        own = (scene["identity"] == "own").to_numpy(bool) if len(scene) else slice(None)
        keys = scene["key"].to_numpy()[own].tolist()
        self.tracklog.append(
            now,
            keys,
            scene["latitude"].to_numpy(np.float64)[own],
            scene["longitude"].to_numpy(np.float64)[own],
            scene["altitude"].to_numpy(np.float64)[own] * FT,
        )
        parties = scene["party"].to_numpy()[own].tolist()
        if (keys, parties) != self._seen:  # the same aircraft as the last tick: nothing new
            self.key_party.update(zip(keys, parties, strict=True))
            self._seen = (keys, parties)
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
        if now - self._pruned_s >= PRUNE_EVERY_S:
            self.prune(now)

    def prune(self, now: float) -> None:
        """Forget the context no record can cite any more: a record's closest approach lies in
        the track log (the last ``memory_s``), and it cites what was sent within
        ``CONTEXT_WINDOW_S`` of it; what is older than both, by the time ``now`` (s), goes."""
        self._read.prune(now - self.memory_s - CONTEXT_WINDOW_S)
        self._pruned_s = now

    def finish(self) -> None:
        """Record the losses still open (end of a run)."""
        context = self._context() if self.lost else None
        for pair in list(self.lost):
            self.record(pair, context)
        self.lost.clear()

    def _context(self) -> Context:
        """The conflict alerts (payloads, with their kind as ``text``) and the messages written
        after ``context_after`` (the engine's start, or an engine's before it on a restart):
        what an incident record cites. The log is read from where the last call stopped."""
        if self._read.after != self.context_after:
            self._read = _ContextLog(self.context_after)
        return self._read.catch_up(self.desk.store)

    def learn(self, after: int, read: Sequence[Event]) -> None:
        """What the engine read of the log (every entry with seq > ``after``, in order): the
        records' context takes its alerts and messages from it, not from the log again."""
        if self._read.after == self.context_after:
            self._read.take(after, read)

    def _timeline(self, key: str) -> Timeline | None:
        t, lat, lon, alt_m = self.tracklog.points(key)
        if t.size < 2:
            return None
        return Timeline.from_arrays(self.key_party[key], key.split("/", 1)[-1], t, lat, lon, alt_m)

    def record(self, pair: tuple[str, str], context: Context | None = None) -> None:
        """Record the incidents of ``pair``; ``context`` is ``_context()`` when the caller
        records several at once."""
        ta, tb = self._timeline(pair[0]), self._timeline(pair[1])
        if ta is None or tb is None:
            return
        alerts_log, messages = context or self._context()
        policy = IncidentPolicy.from_standard(self.standard)
        for inc in detect_incidents(ta, tb, policy):
            who = frozenset((t.party, t.aircraft_id) for t in (ta, tb))
            start, end = inc.los_start_s, inc.los_end_s
            if self._known(who, inc.time_s if start is None else start,
                           inc.time_s if end is None else end):  # fmt: skip
                continue  # recorded by an engine before this one
            inc = attach_context(inc, alerts_log.alerts(pair), messages.cited(who))
            if self.desk.record_incident(inc.to_dict()):
                self.recorded += 1


class MessageIndex:
    """``message`` entries indexed by who an incident record would cite them for: the messages
    the pair's parties sent or received, except those a busy sky sends about other aircraft
    (they are not this incident's context, and would make its record thousands of messages
    long): of the conflict notices, only those about the pair's own aircraft; of the
    identification requests (each asks every party) and their answers, only those of a
    request a party answered with one of the pair's aircraft."""

    def __init__(self) -> None:
        #: what a record cites of each message, by its place in log order: (time s, sender,
        #: kind, text) (atomic tuples, not the entries: held without their payloads, and out of
        #: the garbage collector's walks); ``prune`` drops those no record can cite any more
        self.rows: dict[int, tuple[float, Any, Any, str]] = {}
        self._next = 0  # the next message's place
        self._by_party: dict[Any, list[int]] = {}  # sender or recipient -> positions
        self._notices: dict[tuple[Any, Any], list[int]] = {}  # (recipient, own aircraft) -> ...
        self._requests: dict[Any, tuple[int, ...]] = {}  # request id -> request and answers
        self._claimed: dict[tuple[Any, Any], set[Any]] = {}  # (party, aircraft) -> request ids

    def add(self, entries: Iterable[Event]) -> None:
        notice = MessageKind.CONFLICT_NOTICE.value
        request = MessageKind.IDENTIFICATION_REQUEST.value
        answer = MessageKind.IDENTIFICATION_ANSWER.value
        for e in entries:
            m = e.payload
            if not isinstance(m.get("time_s"), int | float):
                continue  # no time to place it by: no record cites it (nor stops the engine)
            i = self._next
            self._next += 1
            kind, body = m.get("kind"), m.get("body") or {}
            text = str(body.get("text", body.get("resolution", body.get("answer", ""))))
            self.rows[i] = (float(m["time_s"]), m.get("sender"), kind, text)
            recipients = m.get("recipients", ())
            if kind == notice:
                own = body.get("own_aircraft")
                for r in recipients:
                    self._notices.setdefault((r, own), []).append(i)
            elif kind in (request, answer):
                rid = body.get("request_id")
                self._requests[rid] = (*self._requests.get(rid, ()), i)
                if kind == answer and body.get("aircraft"):
                    claim = (m.get("sender"), body["aircraft"])
                    self._claimed.setdefault(claim, set()).add(rid)
            else:
                for p in {*recipients, m.get("sender")}:
                    self._by_party.setdefault(p, []).append(i)

    def cited(self, who: frozenset[tuple[str, str]]) -> list[dict[str, Any]]:
        """The messages an incident between the aircraft ``who`` ((party, aircraft) each)
        cites, in log order: time, sender, kind and text."""
        found: set[int] = set()
        for party in {p for p, _ in who}:
            found.update(self._by_party.get(party, ()))
        for aircraft in who:
            found.update(self._notices.get(aircraft, ()))
            for request_id in self._claimed.get(aircraft, ()):
                found.update(self._requests.get(request_id, ()))
        names = ("time_s", "sender", "kind", "text")
        return [dict(zip(names, self.rows[i], strict=True)) for i in sorted(found)]

    def prune(self, before_s: float) -> None:
        """Forget the messages sent before ``before_s`` (s): a record cites none of them."""
        old = {i for i, row in self.rows.items() if row[0] < before_s}
        if not old:
            return
        for i in old:
            del self.rows[i]
        _drop_places(self._by_party, old)
        _drop_places(self._notices, old)
        _drop_places(self._requests, old)
        for claim in list(self._claimed):
            self._claimed[claim] &= self._requests.keys()
            if not self._claimed[claim]:
                del self._claimed[claim]


def _drop_places(index: dict[_K, Any], old: set[int]) -> None:
    """Take the places ``old`` out of each key's places in ``index``, and keys left with none."""
    for key, places in list(index.items()):
        kept = [i for i in places if i not in old]
        if not kept:
            del index[key]
        elif len(kept) < len(places):
            index[key] = type(places)(kept)


#: What incident records cite: the conflict alerts (``_ContextLog.alerts``), and the messages.
Context = tuple["_ContextLog", MessageIndex]

_ALERT_KINDS = ("alert.raised", "alert.updated")


class _ContextLog:
    """The conflict alerts and the messages written after log seq ``after``, read on from
    where the last ``catch_up`` stopped (the log only grows), or taken from what the engine read
    of the log (``take``); the alerts indexed by the own aircraft they were raised for."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.cursor = dict.fromkeys((*_ALERT_KINDS, log.MESSAGE), after)
        #: own aircraft key -> (kind's place in ``_ALERT_KINDS``, seq, payload with its kind
        #: as ``text``) of each conflict alert about it
        self.by_key: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
        self.messages = MessageIndex()

    def _add(self, kind: str, new: Sequence[Event]) -> None:
        if kind == log.MESSAGE:
            self.messages.add(new)
            return
        place = _ALERT_KINDS.index(kind)
        for e in new:
            if e.payload.get("kind") == "conflict":
                alert = dict(e.payload) | {"text": e.kind}
                self.by_key.setdefault(str(alert.get("own_key")), []).append((place, e.seq, alert))

    def catch_up(self, store: Store) -> Context:
        for kind in self.cursor:
            new = log.entries(store, kind, after=self.cursor[kind])
            self._add(kind, new)
            self.cursor[kind] = new[-1].seq if new else self.cursor[kind]
        return self, self.messages

    def take(self, after: int, read: Sequence[Event]) -> None:
        """Every entry of the log with seq > ``after``, in order, as the engine read them: each
        kind whose read stopped within them takes its entries from them (``follow.taken_from``,
        as the checks' followers do)."""
        for kind, cursor in self.cursor.items():
            new = follow.taken_from(cursor, after, read, kind)
            if new is not None:
                self._add(kind, new)
                self.cursor[kind] = read[-1].seq

    def prune(self, before_s: float) -> None:
        """Forget the alerts and messages of before ``before_s`` (s): a record cites none."""
        for key, alerts in list(self.by_key.items()):
            kept = [a for a in alerts if float(a[2].get("time_s", 0.0)) >= before_s]
            if not kept:
                del self.by_key[key]
            elif len(kept) < len(alerts):
                self.by_key[key] = kept
        self.messages.prune(before_s)

    def alerts(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        """The conflict alerts about the own aircraft ``keys``, in time order (raised before
        updated, then in log order, at one time)."""
        found = sorted(a for k in set(keys) for a in self.by_key.get(k, ()))
        found.sort(key=lambda a: float(a[2].get("time_s", 0.0)))
        return [a[2] for a in found]
