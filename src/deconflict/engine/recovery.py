"""What an engine takes back from the signed log when it starts on a store another engine wrote
(a restart after ``kill -9``, a standby taking over): the alerts, conflict notices and
identification requests still open, the incidents already recorded, and what the crews it plays
still owe (acknowledgements, answers, resolutions to fly). Times Unix s; edge units.

Nothing here decides: it reads the log (``deconflict.store.hotline``) and hands each part of the
engine its open state (``Alerts.inherit``, ``Identification.inherit``, ``IncidentWatch.inherit``);
the parts carry on from there with the feeds' next reports, so that no alert is raised twice, no
notice sent twice, no request lost or opened twice and no incident recorded twice.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deconflict.engine.alerts import ConflictAlert
from deconflict.engine.area_alerts import AreaAlert
from deconflict.engine.resolution import Advice
from deconflict.hotline.messages import MessageKind
from deconflict.hotline.notices import AircraftState, ConflictPrediction, OpenNotice, PairKey
from deconflict.kinematics import Kinematics
from deconflict.store import Event, Store
from deconflict.store import hotline as log
from deconflict.units import si_kinematics

if TYPE_CHECKING:
    from deconflict.engine.engine import Engine

#: How long (s) after its first tick a new engine waits for its trackers to find the aircraft of
#: the alerts, notices and requests it took back before it settles them as over.
GRACE_S = 20.0


@dataclass(frozen=True)
class Pending:
    """A log entry the crews the engine plays still have to act on (as ``sim.crews`` reads)."""

    kind: str
    payload: Mapping[str, Any]


@dataclass
class Recovered:
    """What was taken back (counts for the summary and the benchmark) and the entries the
    crews the engine plays still have to act on."""

    entries_read: int = 0
    rebuild_s: float = 0.0  # wall-clock time the reading and handing over took
    alerts: int = 0
    area_alerts: int = 0
    notices: int = 0
    requests_open: int = 0
    requests_settled: int = 0
    incidents: int = 0
    #: The requests the crews the engine plays still have to answer (their hook, first tick;
    #: their acknowledgements they find reading their queue from its start, and the
    #: resolutions they fly were flown again with the traffic, ``Session.resumed``).
    pending: list[Pending] = field(default_factory=list)
    settled_requests: list[Event] = field(default_factory=list)
    resolved: list[Event] = field(default_factory=list)

    def counts(self) -> dict[str, float]:
        return {
            "entries_read": self.entries_read,
            "rebuild_s": round(self.rebuild_s, 4),
            "alerts": self.alerts,
            "area_alerts": self.area_alerts,
            "notices": self.notices,
            "requests_open": self.requests_open,
            "requests_settled": self.requests_settled,
            "incidents": self.incidents,
            "crew_actions": len(self.pending),
        }


def _advice(d: Mapping[str, Any] | None) -> Advice | None:
    if not d:
        return None
    return Advice(str(d["aircraft"]), str(d["manoeuvre"]), float(d["heading_deg"]))


def open_alerts(
    store: Store,
) -> tuple[list[ConflictAlert], list[AreaAlert], list[Event], list[Event], int]:
    """The conflict and area alerts raised and not cleared (for every party alerted), the
    ``alert.raised`` entries of the open conflicts (an incident's record reads its context from
    the first), every ``alert.raised`` entry, and how many entries were read."""
    raised = log.entries(store, "alert.raised")
    updated = log.entries(store, "alert.updated")
    cleared = {str(e.payload["alert_id"]) for e in log.entries(store, "alert.cleared")}
    level: dict[str, int] = {}
    for e in updated:
        level[str(e.payload["alert_id"])] = int(e.payload["level"])
    by_id: dict[str, list[Event]] = defaultdict(list)
    for e in raised:
        if str(e.payload["alert_id"]) not in cleared:
            by_id[str(e.payload["alert_id"])].append(e)
    conflicts, areas, entries = [], [], []
    for aid, es in by_id.items():
        p = es[0].payload
        t = float(p["time_s"])
        if p.get("kind") == "area":
            areas.append(
                AreaAlert(aid, str(p["own_key"]), str(p["area"]), str(p["party"]), t, t, True)
            )
            continue
        entries += es
        keys = [str(e.payload["own_key"]) for e in es][:2]
        advice = [_advice(e.payload.get("resolution")) for e in es][:2]
        if len(keys) == 1:  # an own aircraft and an unknown track (or one party's half)
            keys.append("?")
            advice.append(None)
        row = {k: p.get(k) for k in ("t_in_s", "tcpa_s", "dcpa_nm", "dalt_cpa_ft")}
        parties = tuple(sorted({str(e.payload["party"]) for e in es}))
        if p.get("other_identity") == "other party" and len(parties) == 1:
            continue  # half of a pair's alert (a write cut short): cannot be matched again
        conflicts.append(
            ConflictAlert(
                aid, (keys[0], keys[1]), level.get(aid, int(p["level"])), t, t, row,
                (advice[0], advice[1]), parties,
            )
        )  # fmt: skip
    return conflicts, areas, entries, raised, len(raised) + len(updated) + len(cleared)


def track_numbers(raised: Sequence[Event], parties: Sequence[str]) -> dict[str, int]:
    """Per party, the highest track number of the keys ``party/T<n>`` its alerts name (the
    log's ``alert.raised``): the numbers a new engine's tracker starts above, so that a key of
    the log always means the track that had it, and an area alert's key can be adopted again
    (``Alerts.on_adopt``) by the track now entering its area without naming another."""
    out = dict.fromkeys(parties, 0)
    for e in raised:
        party, key = str(e.payload.get("party")), str(e.payload.get("own_key", ""))
        head, _, number = key.partition("/T")
        if party in out and head == party and number.isdigit():
            out[party] = max(out[party], int(number))
    return out


def _state(party: str, aircraft: str, other_of_peer: Mapping[str, Any]) -> AircraftState:
    motion = si_kinematics(other_of_peer["position"], other_of_peer["velocity"])
    return AircraftState(party, aircraft, Kinematics(*motion))


def open_notices(store: Store) -> tuple[dict[PairKey, OpenNotice], int]:
    """The conflict notices opened and not closed, as ``hotline.notices`` holds them (a pair
    of parties' aircraft -> its notice), and how many entries were read."""
    msgs = log.messages_of_kinds(store, [MessageKind.CONFLICT_NOTICE.value])
    by_id: dict[str, list[Event]] = defaultdict(list)
    for e in msgs:
        by_id[str(e.payload["body"]["notice_id"])].append(e)
    out: dict[PairKey, OpenNotice] = {}
    for nid, es in by_id.items():
        if any(e.payload["body"]["action"] == "close" for e in es):
            continue
        last: dict[str, Mapping[str, Any]] = {}  # party -> its last notice's body
        for e in es:
            last[str(e.payload["recipients"][0])] = e.payload["body"]
        if len(last) != 2:
            continue  # one party's half only: nothing to pair it with
        (pa, ba), (pb, bb) = sorted(last.items())
        a = _state(pa, str(ba["own_aircraft"]), bb["other"])
        b = _state(pb, str(bb["own_aircraft"]), ba["other"])
        lvl = max(int(e.payload["body"]["level"]) for e in es)
        opened, seen = float(es[0].payload["time_s"]), float(es[-1].payload["time_s"])
        t_los = float(ba.get("time_to_los_s") or 0.0)
        advice = (str(ba.get("resolution") or ""), str(bb.get("resolution") or ""))
        pred = ConflictPrediction(a, b, lvl, t_los, *advice)
        out[pred.pair] = OpenNotice(nid, lvl, opened, seen, pred)
    return out, len(msgs)


def engine_requests(
    store: Store, parties: Sequence[str], memory_s: float
) -> tuple[list[Event], list[Event], int]:
    """The engine's identification requests for ``parties`` (observers) still open or made in
    the last ``memory_s`` before the newest, the ``identification.resolved`` entries of the
    settled ones, and how many entries were read."""
    mine = [
        e
        for e in log.messages_of_kinds(store, [MessageKind.IDENTIFICATION_REQUEST.value])
        if e.payload.get("sender") == "host" and e.payload["body"].get("observer") in parties
    ]
    resolved = log.entries(store, log.ID_RESOLVED)
    settled = {str(e.payload["request_id"]) for e in resolved}
    newest = max((float(e.payload["body"]["created_s"]) for e in mine), default=0.0)
    requests = [
        e
        for e in mine
        if str(e.payload["body"]["request_id"]) not in settled
        or float(e.payload["body"]["created_s"]) >= newest - memory_s
    ]
    ours = {str(e.payload["body"]["request_id"]) for e in requests}
    done = [e for e in resolved if str(e.payload["request_id"]) in ours]
    return requests, done, len(mine) + len(resolved)


def unanswered(store: Store, requests: Sequence[Event], settled: set[str]) -> list[Pending]:
    """The open requests, addressed only to the parties asked that have not answered yet."""
    still = [e for e in requests if str(e.payload["body"]["request_id"]) not in settled]
    answers = log.acknowledgements(store, [str(e.payload["message_id"]) for e in still])
    out = []
    for e in still:
        done = answers.get(str(e.payload["message_id"]), {})
        left = [r for r in e.payload["recipients"] if r not in done]
        if left:
            out.append(Pending(e.kind, {**e.payload, "recipients": left}))
    return out


def recover(engine: Engine, grace_s: float = GRACE_S) -> Recovered:
    """Hand each part of ``engine`` what the log holds open (see the module docstring); what
    was taken back, and what the crews still owe. The requests already settled are kept in
    ``settled_requests`` for ``remember_answers`` (an engine carrying the same traffic on)."""
    t0 = time.perf_counter()
    store = engine.desk.store
    conflicts, areas, raised, every_raised, n_alerts = open_alerts(store)
    for party, number in track_numbers(every_raised, engine.parties).items():
        engine.trackers[party].number_after(number)
    notices, n_notices = open_notices(store)
    engine.alerts.inherit(conflicts, areas, notices, grace_s)
    requests, resolved, n_requests = engine_requests(store, engine.parties, engine.config.history_s)
    settled = {str(e.payload["request_id"]) for e in resolved}
    still_open = [e for e in requests if str(e.payload["body"]["request_id"]) not in settled]
    engine.identification.inherit(still_open, [], grace_s)
    incidents = recorded_incidents(store)
    context = min((e.seq - 1 for e in raised), default=engine.desk.start_seq)
    engine.incidents.inherit(incidents, context)
    return Recovered(
        entries_read=n_alerts + n_notices + n_requests + len(incidents),
        alerts=len(conflicts),
        area_alerts=len(areas),
        notices=len(notices),
        requests_open=len(still_open),
        requests_settled=len(resolved),
        incidents=len(incidents),
        pending=unanswered(store, still_open, settled),
        rebuild_s=time.perf_counter() - t0,
        settled_requests=[e for e in requests if str(e.payload["body"]["request_id"]) in settled],
        resolved=resolved,
    )


def remember_answers(engine: Engine, grace_s: float = GRACE_S) -> None:
    """An engine carrying on the traffic of the one before it (a restart, a takeover) also
    takes the answers that settled its requests in the last ``history_s``: a track found near
    the aircraft its owner claimed is that aircraft, and not asked about again. (An engine that
    starts the traffic again, ``resumed_scenario``, asks again: its tracks are new flights.)"""
    rec = engine.recovered
    engine.identification.inherit(rec.settled_requests, rec.resolved, grace_s)


def recorded_incidents(store: Store) -> list[Mapping[str, Any]]:
    return [e.payload for e in log.entries(store, log.INCIDENT)]
