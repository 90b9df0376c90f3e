"""Scripted crews and duty officers: how the scenario's people answer the engine (time in s).

A hook for the live engine (called after each tick with the log entries written since the last:
the engine's and every client's, in the log's kinds). As the scenario says:

* crews whose aircraft ``follows_resolutions`` fly the recommended resolution (a heading) of a
  conflict alert ``reaction_s`` after it is raised (their party's figure), hold it until the
  alert has cleared and the predicted closest approach is ``hold_after_s`` past, then fly direct
  to the next waypoint of their route;
* a party's duty officer reads its hotline queue every tick (so messages count as delivered),
  acknowledges safety messages ``ack_delay_s`` after they arrive, and answers identification
  requests ``answer_delay_s`` after they arrive: ``ours`` (naming the aircraft) when one of its
  own aircraft is within ``claim_radius_nm`` and ``claim_dalt_ft`` of the reported position —
  a duty officer compares the request with its own picture — and ``not_ours`` otherwise.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from deconflict.errors import DeconflictError
from deconflict.geo import distance_m
from deconflict.sim.simulator import Simulator
from deconflict.units import NM


class EventLike(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


class EngineLike(Protocol):
    now_s: float

    def answer_identification(
        self, party: str, request_id: str, answer: str, aircraft: str = "", operation: str = ""
    ) -> Any: ...

    def acknowledge(self, party: str, message_id: str) -> Any: ...

    def fetch_messages(self, party: str, after_seq: int = 0) -> list[dict[str, Any]]: ...


@dataclass
class Crews:
    """The scenario's people, as an engine hook: ``engine.hooks.append(Crews(sim))``."""

    sim: Simulator
    claim_radius_nm: float = 5.0
    claim_dalt_ft: float = 3000.0
    hold_after_s: float = 30.0
    answers: bool = True  # set False to leave identification requests to people on the page
    _queue: list[tuple[float, int, Callable[[EngineLike], None]]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _cursor: dict[str, int] = field(default_factory=dict)
    _acked: set[tuple[str, str]] = field(default_factory=set)
    _flying: dict[str, tuple[str, float]] = field(default_factory=dict)  # id -> alert, until

    def _at(self, t_s: float, action: Callable[[EngineLike], None]) -> None:
        heapq.heappush(self._queue, (t_s, next(self._seq), action))

    def __call__(self, engine: EngineLike, now: pd.Timestamp, events: Sequence[EventLike]) -> None:
        sc = self.sim.scenario
        now_s = engine.now_s
        by_callsign = {a.callsign: a for a in sc.aircraft}
        for e in events:
            if e.kind == "alert.raised" and e.payload.get("kind") == "conflict":
                adv = e.payload.get("resolution")
                ac = by_callsign.get(str(adv["aircraft"])) if adv else None
                if ac is None or not ac.follows_resolutions or adv is None:
                    continue
                delay = sc.party(ac.party).reaction_s
                heading = float(adv["heading_deg"])
                tcpa = float(e.payload.get("tcpa_s") or 0.0)

                def fly(_: EngineLike, ac_id: str = ac.id, heading: float = heading) -> None:
                    self.sim.command(ac_id, heading_deg=heading)

                # hold the resolution until the encounter is past, then rejoin the route
                self._flying[ac.id] = (str(e.payload["alert_id"]), now_s + tcpa + self.hold_after_s)
                self._at(now_s + delay, fly)
            elif e.kind == "alert.cleared" and e.payload.get("kind") == "conflict":
                for ac_id, (alert_id, until) in list(self._flying.items()):
                    if alert_id == e.payload.get("alert_id"):
                        del self._flying[ac_id]
                        self._at(
                            max(until, now_s),
                            lambda _, ac_id=ac_id: self.sim.release(ac_id, skip_waypoint=True),  # type: ignore[misc]
                        )
            elif (
                e.kind == "message"
                and e.payload.get("kind") == "identification_request"
                and self.answers
            ):
                for party in e.payload.get("recipients", ()):
                    self._schedule_answer(now_s, str(party), e.payload["body"])
        for party in (p.id for p in sc.parties):
            self._read_queue(engine, party, now_s)
        while self._queue and self._queue[0][0] <= now_s + 1e-9:
            _, _, action = heapq.heappop(self._queue)
            # a duty officer on a page may have been quicker (answered, acknowledged): the
            # workflow refuses the crew's second go, and the crew carries on
            with contextlib.suppress(DeconflictError):
                action(engine)

    def _schedule_answer(self, now_s: float, party: str, request: Mapping[str, Any]) -> None:
        # a party registered on the store beside the scenario's has no crew here: its own
        # officers answer (the engine process must not stop on it)
        crew = next((p for p in self.sim.scenario.parties if p.id == party), None)
        delay = None if crew is None else crew.answer_delay_s
        if delay is None:
            return
        rid = str(request["request_id"])
        pos = request["position"]

        def answer(engine: EngineLike) -> None:
            truth = self.sim.truth()
            mine = truth[truth["party"] == party]
            ac = _nearest(mine, float(pos["latitude"]), float(pos["longitude"]),
                          float(pos["altitude"]))  # fmt: skip
            d_ok = ac is not None and ac[1] <= self.claim_radius_nm * NM
            if ac is not None and d_ok and ac[2] <= self.claim_dalt_ft:
                engine.answer_identification(party, rid, "ours", aircraft=ac[0])
            else:
                engine.answer_identification(party, rid, "not_ours")

        self._at(now_s + delay, answer)

    def _read_queue(self, engine: EngineLike, party: str, now_s: float) -> None:
        delay = self.sim.scenario.party(party).ack_delay_s
        got = engine.fetch_messages(party, self._cursor.get(party, 0))
        for m in got:
            self._cursor[party] = max(self._cursor.get(party, 0), int(m["seq"]))
            if delay is None or not m.get("safety") or m.get("sender") == party:
                continue
            key = (party, str(m["message_id"]))
            if key in self._acked:
                continue
            self._acked.add(key)
            self._at(
                now_s + delay,
                lambda eng, mid=str(m["message_id"]), p=party: eng.acknowledge(p, mid),  # type: ignore[misc]
            )


def _nearest(
    truth: pd.DataFrame, lat: float, lon: float, alt_ft: float
) -> tuple[str, float, float] | None:
    """(callsign, horizontal m, vertical ft) of the aircraft nearest a position."""
    if not len(truth):
        return None
    d = distance_m(lat, lon, truth["latitude"].to_numpy(), truth["longitude"].to_numpy())
    i = int(np.argmin(d))
    row = truth.iloc[i]
    return str(row["callsign"]), float(d[i]), abs(float(row["altitude"]) - alt_ft)
