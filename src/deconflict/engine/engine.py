"""The live loop: reports in, tracks, identities, conflicts, alerts, messages and incidents out.

Time is passed in (``tick(now)``, UTC) and never read from the clock; the edge units are those of
DESIGN.md (degrees, ft, kt, ft/min), times inside are Unix seconds. At each tick the engine

1. pulls the reports of every source up to ``now``;
2. updates one tracker per party with that party's own reports: each party's picture is what its
   own sensors see (nothing a party has not shared leaks into another's picture);
3. classifies every track of each picture for its party: ``own`` (an identity of the party's own
   fleet), ``declared`` (another party's aircraft, by its transponder identity or by the answer to
   an identification request), ``pending`` (an identification request is open) or ``unknown``;
4. predicts conflicts with the configured separation standard (``deconflict.predict.detect``) in
   the shared scene: every party's own aircraft, plus each party's unknown tracks, which are
   checked against that party's own aircraft only (the owner of an unknown track cannot be told);
5. raises, updates and clears alerts (with a recommended resolution), sends conflict notices
   (``deconflict.hotline.notices``) and identification requests (``deconflict.identify``) as hotline
   messages, warns of restricted areas ahead, and records incidents (``deconflict.incidents``);
6. hands the tick's events to its sink (``deconflict.engine.events``).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from deconflict.engine.areas import RestrictedArea, area_entries
from deconflict.engine.events import EngineEvent, EventSink, MemorySink
from deconflict.engine.resolution import Advice, turn_away
from deconflict.engine.sources import ReportSource
from deconflict.errors import InputError, NotFoundError
from deconflict.hotline.authorship import (
    KEY_ID_FIELD,
    SIGNATURE_FIELD,
    party_author,
    sign_content,
    signed_content,
)
from deconflict.hotline.delivery import Mailbox
from deconflict.hotline.keys import Signer
from deconflict.hotline.messages import ALL, Message, MessageKind, acknowledgement, make_message
from deconflict.hotline.notices import (
    AircraftState,
    ConflictPrediction,
    NoticePolicy,
    OpenNotice,
    PairKey,
    notice_message,
    update_notices,
)
from deconflict.identify.request import (
    IdentificationRequest,
    Outcome,
    TrackSnapshot,
    evaluate,
    open_request,
    record_answer,
)
from deconflict.incidents.detect import IncidentPolicy, detect_incidents
from deconflict.incidents.geometry import Timeline
from deconflict.incidents.record import Incident, attach_context
from deconflict.predict.detect import COLUMNS as CONFLICT_COLUMNS
from deconflict.predict.detect import detect_states
from deconflict.predict.standards import get_standard
from deconflict.predict.states import States
from deconflict.surveillance.report import empty_reports
from deconflict.tracking.batch import report_batch
from deconflict.tracking.frame import LocalFrame
from deconflict.tracking.tracker import STATUS_NAMES, Tracker
from deconflict.units import FPM, FT, KT

IDENTITIES = ("own", "declared", "pending", "unknown")


Row = dict[str, Any]
Hook = Callable[["Engine", pd.Timestamp, Sequence[EngineEvent]], None]


@dataclass(frozen=True)
class EngineConfig:
    standard: str = "icao-5nm"
    clear_after_s: float = 10.0  # an alert not predicted for this long is cleared
    request_after_s: float = 10.0  # an unknown track this old gets an identification request
    request_timeout_s: float = 120.0
    proximity_horizon_s: float = 120.0
    history_s: float = 3600.0  # the time slider's reach
    history_step_s: float = 5.0
    incident_memory_s: float = 900.0  # track positions kept for incident records
    incident_quiet_s: float = 30.0  # a loss of separation over this long is recorded
    #: who learns an identification's outcome beyond the asking party and the claimants:
    #: ``involved`` nobody, ``declared`` the other parties asked learn that the track is now
    #: declared, not by whom (``Settings.identification_disclosure``)
    identification_disclosure: str = "involved"


@dataclass
class _Alert:
    alert_id: str
    keys: tuple[str, str]
    level: int
    raised_s: float
    last_seen_s: float
    row: dict[str, Any]
    advice: tuple[Advice | None, Advice | None]
    recipients: tuple[str, ...]


@dataclass
class _AreaAlert:
    alert_id: str
    key: str
    area: str
    party: str
    raised_s: float
    last_seen_s: float


@dataclass
class TickStats:
    """Wall-clock cost of each tick (s), split by stage."""

    total: list[float] = field(default_factory=list)
    tracking: list[float] = field(default_factory=list)
    prediction: list[float] = field(default_factory=list)
    reports: int = 0

    def summary(self) -> dict[str, float]:
        def p(a: list[float], q: float) -> float:
            return float(np.percentile(a, q)) if a else float("nan")

        return {
            "ticks": float(len(self.total)),
            "mean_s": float(np.mean(self.total)) if self.total else float("nan"),
            "p50_s": p(self.total, 50),
            "p99_s": p(self.total, 99),
            "max_s": max(self.total, default=float("nan")),
            "tracking_mean_s": float(np.mean(self.tracking)) if self.tracking else float("nan"),
            "prediction_mean_s": float(np.mean(self.prediction))
            if self.prediction
            else float("nan"),
        }


def _digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _str_or_none(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    return text or None


class Engine:
    """The live loop over a set of parties and report sources (see the module docstring)."""

    def __init__(
        self,
        parties: Sequence[str],
        sources: Sequence[ReportSource],
        *,
        fleets: Mapping[str, Iterable[str]] | None = None,
        areas: Sequence[RestrictedArea] = (),
        sink: EventSink | None = None,
        config: EngineConfig | None = None,
        tracker_factory: Callable[[], Tracker] = Tracker,
        hooks: Sequence[Hook] = (),
    ) -> None:
        if not parties:
            raise InputError("the engine needs at least one party")
        self.parties = tuple(parties)
        #: Keys of parties whose crews the engine plays (the demo): what they write is signed
        #: with them (``hotline.authorship``) unless the party's client sent its own signature.
        self.party_signers: dict[str, Signer] = {}
        self.sources = list(sources)
        self.config = config or EngineConfig()
        self.standard = get_standard(self.config.standard)
        self.level_names = self.standard.level_names()  # level -> name, read per alert
        self.event_counts: Counter[str] = Counter()  # kind -> events emitted (summary)
        self.trackers: dict[str, Tracker] = {p: tracker_factory() for p in self.parties}
        self._started: dict[str, bool] = {p: False for p in self.parties}
        self.fleet_owner: dict[str, str] = {}
        for party, names in (fleets or {}).items():
            for name in names:
                self.fleet_owner[str(name).lower()] = party
        self.areas = tuple(areas)
        self.sink: EventSink = sink if sink is not None else MemorySink()
        self.hooks = list(hooks)
        self.mailbox = Mailbox((*self.parties, "host"))
        self.messages: dict[str, Message] = {}
        self.now_s = float("nan")
        self.pictures: dict[str, pd.DataFrame] = {}
        self.scene = pd.DataFrame()
        self._index: dict[str, int] = {}
        self._cols: dict[str, Any] = {}
        self._frame: LocalFrame | None = None
        self._request_of: dict[tuple[str, str], str] = {}
        self.conflicts = pd.DataFrame(columns=list(CONFLICT_COLUMNS))
        self.alerts: dict[tuple[str, str], _Alert] = {}
        self.alert_log: list[dict[str, Any]] = []
        self.area_alerts: dict[tuple[str, str], _AreaAlert] = {}
        self.notices: dict[PairKey, OpenNotice] = {}
        self.requests: dict[str, IdentificationRequest] = {}
        self.request_observer: dict[str, tuple[str, str]] = {}  # request id -> (party, key)
        self.requested: set[tuple[str, str]] = set()
        self.resolved: dict[str, Outcome] = {}
        self.declared: dict[tuple[str, str], tuple[str, str]] = {}  # (party, key) -> owner, ac
        self.first_seen: dict[tuple[str, str], float] = {}
        self.incidents: dict[str, Incident] = {}
        self._los: dict[tuple[str, str], float] = {}  # pair -> last time separation was lost
        self._tracklog: dict[str, deque[tuple[float, float, float, float]]] = {}
        self._key_party: dict[str, str] = {}
        self.history: deque[tuple[float, dict[str, pd.DataFrame]]] = deque(
            maxlen=max(1, int(self.config.history_s / self.config.history_step_s))
        )
        self.stats = TickStats()
        self.tick_count = 0
        self._pending_events: list[EngineEvent] = []

    # -- events -------------------------------------------------------------------------------

    def _event(
        self,
        kind: str,
        payload: Mapping[str, Any],
        recipients: Iterable[str],
        author: str = "host",
    ) -> None:
        self._pending_events.append(
            EngineEvent(kind, dict(payload), tuple(recipients), author, self.now_s)
        )

    def _flush(self) -> list[EngineEvent]:
        events, self._pending_events = self._pending_events, []
        if events:
            self.event_counts.update(e.kind for e in events)
            self.sink.emit(events)
        return events

    # -- the tick -----------------------------------------------------------------------------

    def tick(self, now: Any) -> list[EngineEvent]:
        """One turn of the loop at ``now`` (UTC); returns the events it emitted."""
        t0 = time.perf_counter()
        ts = pd.Timestamp(now)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        self.now_s = ts.value / 1e9
        polled = [s.poll(ts) for s in self.sources]
        frames = [f for f in polled if len(f)]
        reports = pd.concat(frames, ignore_index=True) if frames else empty_reports()
        self.stats.reports += len(reports)
        party_col = reports["party"].to_numpy(dtype=object)
        if len(reports) and self._frame is None:
            # one local frame for every party's tracker: the reports are converted once
            lat = reports["latitude"].to_numpy(dtype=float)
            lon = reports["longitude"].to_numpy(dtype=float)
            self._frame = self.trackers[self.parties[0]].ensure_frame(lat, lon)
            for tracker in self.trackers.values():
                tracker.frame = self._frame
        if self._frame is not None:
            batch = report_batch(reports, self._frame)
            for p in self.parties:
                sel = np.flatnonzero(party_col == p)
                if sel.size or self._started[p]:
                    self.trackers[p].update_batch(batch.take(sel), self.now_s)
                    self._started[p] = True
        t1 = time.perf_counter()
        self.pictures = {p: self._classify(p) for p in self.parties}
        self.scene = self._scene()
        self.conflicts = self._predict(self.scene)
        t2 = time.perf_counter()
        conflict_rows = _records(self.conflicts)  # read by the alerts and the incidents
        self._update_alerts(conflict_rows)
        self._update_notices()
        self._update_requests()
        self._update_areas()
        self._update_incidents(conflict_rows)
        self._record_history()
        self.tick_count += 1
        events = self._flush()
        for hook in self.hooks:
            hook(self, ts, events)
        events += self._flush()
        t3 = time.perf_counter()
        self.stats.total.append(t3 - t0)
        self.stats.tracking.append(t1 - t0)
        self.stats.prediction.append(t2 - t1)
        return events

    def finish(self) -> list[EngineEvent]:
        """Record the incidents still open (end of a run)."""
        for pair in list(self._los):
            self._record_incident(pair)
        self._los.clear()
        return self._flush()

    # -- pictures and identities --------------------------------------------------------------

    def _classify(self, party: str) -> pd.DataFrame:
        if not self._started[party]:
            return _empty_picture()
        tr = self.trackers[party].track_rows(self.now_s)
        n = tr.track_id.size
        if n == 0:
            return _empty_picture()
        icao = np.array([_str_or_none(v) for v in tr.icao24], dtype=object)
        cs = np.array([(_str_or_none(v) or "").strip() or None for v in tr.callsign], dtype=object)
        fo = self.fleet_owner
        by_icao = [fo.get(v.lower(), "") if v else "" for v in icao]
        by_cs = [fo.get(v.lower(), "") if v else "" for v in cs]
        owner = np.array([a or b for a, b in zip(by_icao, by_cs, strict=True)], dtype=object)
        named = np.where(cs != None, cs, icao)  # noqa: E711
        aircraft = np.where(owner != "", named, "").astype(object)
        key = np.array([f"{party}/T{t}" for t in tr.track_id], dtype=object)
        own = owner == party
        key[own] = [f"{party}/{a}" for a in aircraft[own]]
        identity = np.where(own, "own", np.where(owner != "", "declared", "unknown")).astype(object)
        for i in np.flatnonzero(owner == ""):
            k = (party, str(key[i]))
            self.first_seen.setdefault(k, self.now_s)
            if k in self.declared:
                owner[i], aircraft[i] = self.declared[k]
                identity[i] = "declared"
            elif k in self.requested and self._request_open(k):
                identity[i] = "pending"
        label = np.where(aircraft != "", aircraft, np.where(named != None, named, key))  # noqa: E711
        return pd.DataFrame(
            {
                "key": key,
                "track_id": tr.track_id,
                "party": np.full(n, party, dtype=object),
                "owner": owner,
                "identity": identity,
                "aircraft": aircraft,
                "label": label.astype(object),
                "icao24": icao,
                "callsign": cs,
                "status": np.asarray(STATUS_NAMES, dtype=object)[tr.status.astype(np.int64)],
                "latitude": tr.lat_deg,
                "longitude": tr.lon_deg,
                "altitude": tr.alt_ft,
                "groundspeed": tr.gs_kt,
                "track": tr.track_deg,
                "vertical_rate": tr.vrate_fpm,
            }
        )

    def _request_open(self, k: tuple[str, str]) -> bool:
        rid = self._request_of.get(k)
        return rid is not None and rid not in self.resolved

    def _scene(self) -> pd.DataFrame:
        parts = [
            pic[pic["identity"].isin(("own", "unknown", "pending")).to_numpy()]
            for pic in self.pictures.values()
            if len(pic)
        ]
        if not parts:
            scene = _empty_picture()
        else:
            scene = pd.concat(parts, ignore_index=True)
            ok = np.isfinite(
                scene[["latitude", "longitude", "altitude", "groundspeed", "track"]].to_numpy(float)
            ).all(axis=1)
            scene = scene[ok & ~scene["key"].duplicated().to_numpy()].reset_index(drop=True)
            scene["vertical_rate"] = scene["vertical_rate"].fillna(0.0)
        self._index = {str(k): i for i, k in enumerate(scene["key"])}
        self._cols = {str(c): scene[c].to_numpy() for c in scene.columns}
        return scene

    def _row(self, key: str) -> Row:
        i = self._index[key]
        return {c: v[i] for c, v in self._cols.items()}

    def _predict(self, scene: pd.DataFrame) -> pd.DataFrame:
        n = len(scene)
        if n < 2:
            return pd.DataFrame(columns=list(CONFLICT_COLUMNS))
        states = States(
            ids=scene["key"].to_numpy(dtype=object),
            lat_deg=scene["latitude"].to_numpy(float),
            lon_deg=scene["longitude"].to_numpy(float),
            alt_m=scene["altitude"].to_numpy(float) * FT,
            gs_mps=scene["groundspeed"].to_numpy(float) * KT,
            trk_deg=scene["track"].to_numpy(float),
            vs_mps=scene["vertical_rate"].to_numpy(float) * FPM,
            alerter=np.ones(n, dtype=np.int64),
            zone_h_m=np.zeros(n),
            zone_v_m=np.zeros(n),
        )
        pairs = detect_states(states, self.standard)
        if not len(pairs):
            return pairs
        ia = np.array([self._index[str(k)] for k in pairs["a"]], dtype=np.int64)
        ib = np.array([self._index[str(k)] for k in pairs["b"]], dtype=np.int64)
        ident = scene["identity"].to_numpy(dtype=object)
        party = scene["party"].to_numpy(dtype=object)
        own_a, own_b = ident[ia] == "own", ident[ib] == "own"
        cross = own_a & own_b & (party[ia] != party[ib])
        # an unknown track matters to the party that sees it, against its own aircraft
        unknown_own = (own_a ^ own_b) & (party[ia] == party[ib])
        kept: pd.DataFrame = pairs[cross | unknown_own].reset_index(drop=True)
        return kept

    # -- alerts and notices -------------------------------------------------------------------

    def _update_alerts(self, conflict_rows: list[Row]) -> None:
        now = self.now_s
        seen: set[tuple[str, str]] = set()
        for data in conflict_rows:
            if int(data["level"]) <= 0:
                continue
            keys = (str(data["a"]), str(data["b"]))
            seen.add(keys)
            ra, rb = self._row(keys[0]), self._row(keys[1])
            alert = self.alerts.get(keys)
            recipients = tuple(sorted({str(ra["party"]), str(rb["party"])}))
            if alert is None:
                adv_a = turn_away(str(ra["label"]), ra, rb)
                adv_b = turn_away(str(rb["label"]), rb, ra)
                advice = (
                    adv_a if ra["identity"] == "own" else None,
                    adv_b if rb["identity"] == "own" else None,
                )
                alert = _Alert(
                    _digest("alert", keys, now), keys, int(data["level"]), now, now, data, advice,
                    recipients,
                )  # fmt: skip
                self.alerts[keys] = alert
                self._emit_alert("alert.raised", alert, ra, rb)
            else:
                alert.last_seen_s = now
                alert.row = data
                if int(data["level"]) != alert.level:
                    alert.level = int(data["level"])
                    self._emit_alert("alert.updated", alert, ra, rb)
        for keys, alert in list(self.alerts.items()):
            if keys not in seen and now - alert.last_seen_s >= self.config.clear_after_s:
                del self.alerts[keys]
                for party in alert.recipients:
                    payload = {"alert_id": alert.alert_id, "kind": "conflict", "party": party}
                    self._event("alert.cleared", payload, (party,))

    def _emit_alert(self, kind: str, alert: _Alert, ra: Row, rb: Row) -> None:
        names = self.level_names
        for own, other, adv in ((ra, rb, alert.advice[0]), (rb, ra, alert.advice[1])):
            party = str(own["party"])
            if own["identity"] != "own" or party not in alert.recipients:
                continue
            payload = {
                "alert_id": alert.alert_id,
                "kind": "conflict",
                "party": party,
                "level": alert.level,
                "level_name": names.get(alert.level, str(alert.level)),
                "standard": self.standard.name,
                "own_aircraft": str(own["label"]),
                "own_key": str(own["key"]),
                "other": _kinematics(other),
                "other_identity": "unknown" if other["identity"] != "own" else "other party",
                "t_in_s": _num(alert.row["t_in_s"]),
                "tcpa_s": _num(alert.row["tcpa_s"]),
                "dcpa_nm": _num(alert.row["dcpa_nm"]),
                "dalt_cpa_ft": _num(alert.row["dalt_cpa_ft"]),
                "resolution": adv.to_dict() if adv is not None else None,
            }
            self.alert_log.append({**payload, "time_s": self.now_s, "text": kind})
            self._event(kind, payload, (party,))

    def _update_notices(self) -> None:
        predictions = []
        for keys, alert in self.alerts.items():
            if alert.last_seen_s != self.now_s:
                continue
            ra, rb = self._row(keys[0]), self._row(keys[1])
            if ra["identity"] != "own" or rb["identity"] != "own":
                continue
            predictions.append(
                ConflictPrediction(
                    _state(ra),
                    _state(rb),
                    alert.level,
                    _num(alert.row["t_in_s"]) or 0.0,
                    alert.advice[0].text if alert.advice[0] else "",
                    alert.advice[1].text if alert.advice[1] else "",
                )
            )
        self.notices, notices = update_notices(
            self.notices, predictions, self.now_s, NoticePolicy(self.config.clear_after_s)
        )
        for n in notices:  # made at now_s (update_notices stamps them so)
            self._post(notice_message(n))

    # -- hotline ------------------------------------------------------------------------------

    def _post(self, message: Message, signature: tuple[str, str] | None = None) -> None:
        """Post ``message``; ``signature`` is its sender's (signature, key id) when its client
        signed it, else the engine signs a party-authored message with the key it holds."""
        self.messages[message.message_id] = message
        deliveries = self.mailbox.post(message, self.now_s)
        recipients = {d.recipient for d in deliveries} | (
            {message.sender} if message.sender in self.parties else set()
        )
        payload = {**message.to_dict(), "message_id": message.message_id}
        signer = self.party_signers.get(message.sender)
        if signature is None and signer is not None and party_author("hotline.message", payload):
            signature = (sign_content(signer, signed_content(payload)), signer.key_id)
        if signature is not None:
            payload |= {SIGNATURE_FIELD: signature[0], KEY_ID_FIELD: signature[1]}
        self._event("hotline.message", payload, sorted(recipients), author=message.sender)

    def send_message(
        self,
        sender: str,
        to: str | Iterable[str],
        text: str,
        now_s: float | None = None,
        *,
        time_s: float | None = None,
        signature: tuple[str, str] | None = None,
    ) -> Message:
        """A free-text hotline message from ``sender`` (a party) to parties or ``*``; a client
        that signed it passes the ``time_s`` it signed and its (signature, key id)."""
        self._check_party(sender)
        if now_s is not None:
            self.now_s = now_s
        when = self.now_s if time_s is None else float(time_s)
        msg = make_message(MessageKind.FREE_TEXT, sender, to, {"text": text}, time_s=when)
        self._post(msg, signature)
        self._flush()
        return msg

    def fetch_messages(self, party: str, after_seq: int = 0) -> list[dict[str, Any]]:
        """The party's hotline queue after ``after_seq``; marks them delivered."""
        self._check_party(party)
        out = self.mailbox.fetch(party, after_seq, self.now_s)
        for d in out:  # handed out now and not delivered before (fetch confirms only <= after)
            if d.delivered_s is None and d.message.sender in self.parties:
                self._event(
                    "hotline.delivered",
                    {"message_id": d.message.message_id, "party": party},
                    (d.message.sender, party),
                )
        self._flush()
        return [
            {
                "seq": d.seq,
                **d.message.to_dict(),
                "message_id": d.message.message_id,
                "state": d.state.value,
            }
            for d in out
        ]

    def acknowledge(
        self,
        party: str,
        message_id: str,
        *,
        time_s: float | None = None,
        signature: tuple[str, str] | None = None,
    ) -> Message:
        """``party`` acknowledges a message addressed to it; the acknowledgement goes back
        (signed as ``acknowledgement_content`` at ``time_s`` by the client's ``signature``, or
        by the engine)."""
        self._check_party(party)
        msg = self.messages.get(message_id)
        if msg is None:
            raise NotFoundError(f"no hotline message {message_id!r}; list them first")
        self.mailbox.acknowledge(party, message_id, self.now_s)
        ack = acknowledgement(msg, party, time_s=self.now_s if time_s is None else time_s)
        if msg.sender in self.parties:
            self._post(ack, signature)
        recipients = {party} | ({msg.sender} if msg.sender in self.parties else set())
        self._event(
            "hotline.acknowledged", {"message_id": message_id, "party": party}, sorted(recipients)
        )
        self._flush()
        return ack

    def delivery_state(self, message_id: str) -> dict[str, str]:
        """Per recipient: sent, delivered or acknowledged."""
        return {d.recipient: d.state.value for d in self.mailbox.deliveries(message_id)}

    def _check_party(self, party: str) -> None:
        if party not in self.parties:
            raise NotFoundError(f"no party {party!r}; parties are {', '.join(self.parties)}")

    # -- identification -----------------------------------------------------------------------

    def _update_requests(self) -> None:
        now = self.now_s
        for p, pic in self.pictures.items():
            if not len(pic):
                continue
            mask = (
                (pic["identity"].to_numpy(dtype=object) == "unknown")
                & (pic["status"].to_numpy(dtype=object) == "confirmed")
                & pd.isna(pic["icao24"].to_numpy(dtype=object))
            )
            others = [q for q in self.parties if q != p]
            if not others:
                continue
            keys = pic["key"].to_numpy(dtype=object)
            for i in np.flatnonzero(mask):
                k = (p, str(keys[i]))
                if k in self.requested or now - self.first_seen.get(k, now) < (
                    self.config.request_after_s
                ):
                    continue
                row: Row = {c: pic[c].iat[int(i)] for c in pic.columns}
                self.requested.add(k)
                rid = _digest("idreq", k, now)
                snap = TrackSnapshot.from_ground_track(
                    float(row["latitude"]),
                    float(row["longitude"]),
                    float(row["altitude"]) * FT,
                    float(row["groundspeed"]) * KT,
                    float(row["track"]),
                    float(np.nan_to_num(row["vertical_rate"])) * FPM,
                    self._track_history(str(row["key"])),
                )
                req = open_request(
                    rid, str(row["key"]), snap, others, now_s=now,
                    timeout_s=self.config.request_timeout_s,
                )  # fmt: skip
                self.requests[rid] = req
                self.request_observer[rid] = k
                self._request_of[k] = rid
                self._event(
                    "identification.requested",
                    {**req.to_payload(), "observer": p, "parties": list(req.parties)},
                    self.parties,
                )
                self._post(
                    make_message(
                        MessageKind.IDENTIFICATION_REQUEST, p, others, req.to_payload(), time_s=now
                    )
                )
        for rid, req in self.requests.items():
            if rid not in self.resolved:
                self._resolve(rid, req)

    def _track_history(self, key: str) -> tuple[tuple[float, float, float, float], ...]:
        log = self._tracklog.get(key)
        return tuple(list(log)[-30:]) if log else ()

    def answer_identification(
        self,
        party: str,
        request_id: str,
        answer: str,
        aircraft: str = "",
        operation: str = "",
        *,
        time_s: float | None = None,
        signature: tuple[str, str] | None = None,
    ) -> IdentificationRequest:
        """``party`` answers an identification request (``ours`` naming the aircraft, or
        ``not_ours``); the answer goes to the asking party over the hotline (signed as
        ``answer_content`` at ``time_s`` by the client's ``signature``, or the engine)."""
        self._check_party(party)
        req = self.requests.get(request_id)
        if req is None:
            raise NotFoundError(f"no identification request {request_id!r}")
        req = record_answer(
            req, party, answer, now_s=self.now_s, aircraft=aircraft, operation=operation
        )
        self.requests[request_id] = req
        observer = self.request_observer[request_id][0]
        body = {"request_id": request_id, "answer": answer, "aircraft": aircraft,
                "operation": operation}  # fmt: skip
        when = self.now_s if time_s is None else float(time_s)
        self._post(
            make_message(MessageKind.IDENTIFICATION_ANSWER, party, observer, body, time_s=when),
            signature,
        )
        self._event(  # only the asking party and the answerer learn an answer
            "identification.answered",
            {**body, "party": party, "observer": observer},
            sorted({party, observer}),
        )
        if self.resolved.get(request_id, Outcome.UNKNOWN) is Outcome.UNKNOWN:
            # a late claim still declares the track (identify.request)
            self.resolved.pop(request_id, None)
            self._resolve(request_id, req)
        self._flush()
        return req

    def _resolve(self, rid: str, req: IdentificationRequest) -> None:
        res = evaluate(req, self.now_s)
        if res.outcome is Outcome.PENDING:
            return
        self.resolved[rid] = res.outcome
        observer, key = self.request_observer[rid]
        owner = aircraft = ""
        if res.outcome is Outcome.DECLARED:
            owner, aircraft = res.claimants[0].party, res.claimants[0].aircraft
            self.declared[(observer, key)] = (owner, aircraft)
        payload = {
            "request_id": rid,
            "track_id": key,
            "observer": observer,
            "outcome": res.outcome.value,
            "escalate": res.escalate,
            "reason": res.reason,
            "owner": owner,
            "aircraft": aircraft,
        }
        involved = sorted({observer, *(c.party for c in res.claimants)})
        self._event("identification.resolved", payload, involved)
        others = [p for p in req.parties if p not in involved]
        if others and owner and self.config.identification_disclosure == "declared":
            told = {"request_id": rid, "track_id": key, "outcome": Outcome.DECLARED.value}
            self._event("identification.resolved", told, others)
        identity = "declared" if owner else "unknown"
        self._event(  # the identity of a track in the asking party's picture: its own news
            "track.identity",
            {"party": observer, "key": key, "identity": identity, "owner": owner,
             "aircraft": aircraft},
            (observer,),
        )  # fmt: skip

    # -- restricted areas ---------------------------------------------------------------------

    def _update_areas(self) -> None:
        if not self.areas:
            return
        s = self.scene
        entries = area_entries(
            self.areas,
            s["latitude"].to_numpy(float),
            s["longitude"].to_numpy(float),
            s["altitude"].to_numpy(float),
            s["groundspeed"].to_numpy(float),
            s["track"].to_numpy(float),
            s["vertical_rate"].to_numpy(float),
            horizon_s=self.config.proximity_horizon_s,
        )
        now = self.now_s
        seen = set()
        keys = s["key"].to_numpy(dtype=object)
        for i, area_id, t_entry in entries:
            row = self._row(str(keys[i]))
            k = (str(row["key"]), area_id)
            seen.add(k)
            if k in self.area_alerts:
                self.area_alerts[k].last_seen_s = now
                continue
            alert = _AreaAlert(_digest("area", k, now), k[0], area_id, str(row["party"]), now, now)
            self.area_alerts[k] = alert
            area = next(a for a in self.areas if a.id == area_id)
            payload = {
                "alert_id": alert.alert_id,
                "kind": "area",
                "party": alert.party,
                "area": area_id,
                "area_name": area.name,
                "own_aircraft": str(row["label"]),
                "own_key": k[0],
                "time_to_entry_s": t_entry,
                "level": 2 if t_entry == 0 else 1,
            }
            self.alert_log.append({**payload, "time_s": now, "text": "area"})
            self._event("alert.raised", payload, (alert.party,))
        for k, alert in list(self.area_alerts.items()):
            if k not in seen and now - alert.last_seen_s >= self.config.clear_after_s:
                del self.area_alerts[k]
                self._event(
                    "alert.cleared",
                    {"alert_id": alert.alert_id, "kind": "area", "party": alert.party},
                    (alert.party,),
                )

    # -- incidents ----------------------------------------------------------------------------

    def _update_incidents(self, conflict_rows: list[Row]) -> None:
        now = self.now_s
        memory = self.config.incident_memory_s
        s = self.scene
        own = s[(s["identity"] == "own").to_numpy()] if len(s) else s
        for key, party, lat, lon, alt in zip(
            own["key"].tolist(), own["party"].tolist(), own["latitude"].tolist(),
            own["longitude"].tolist(), own["altitude"].tolist(), strict=True,
        ):  # fmt: skip
            log = self._tracklog.setdefault(key, deque())
            if not log or log[-1][0] < now:
                log.append((now, lat, lon, alt * FT))
            while log[0][0] < now - memory:
                log.popleft()
            self._key_party[key] = party
        hmin = self.standard.separation.horizontal_m / 1852.0
        for row in conflict_rows:
            a, b = str(row["a"]), str(row["b"])
            if (
                self._key_party.get(a)
                and self._key_party.get(b)
                and (self._key_party[a] != self._key_party[b])
                and _num(row["t_in_s"]) == 0.0
                and float(row["d_now_nm"]) < hmin
            ):
                self._los[(a, b)] = now
        for pair, last in list(self._los.items()):
            if now - last >= self.config.incident_quiet_s:
                self._record_incident(pair)
                del self._los[pair]

    def _timeline(self, key: str) -> Timeline | None:
        log = self._tracklog.get(key)
        if not log or len(log) < 2:
            return None
        arr = np.array(log)
        return Timeline.from_arrays(self._key_party[key], key.split("/", 1)[-1], *arr.T)

    def _record_incident(self, pair: tuple[str, str]) -> None:
        ta, tb = self._timeline(pair[0]), self._timeline(pair[1])
        if ta is None or tb is None:
            return
        policy = IncidentPolicy.from_standard(self.standard)
        for inc in detect_incidents(ta, tb, policy):
            if inc.incident_id in self.incidents:
                continue
            alerts = [
                a for a in self.alert_log
                if a.get("own_key") in pair and a.get("kind") == "conflict"
            ]  # fmt: skip
            msgs = [
                {"time_s": m.time_s, "sender": m.sender, "kind": m.kind.value,
                 "text": str(m.body.get("text", m.body.get("resolution", "")))}
                for m in self.messages.values()
                if set(m.to) & set(inc.parties) or m.sender in inc.parties
            ]  # fmt: skip
            inc = attach_context(inc, alerts, msgs)
            self.incidents[inc.incident_id] = inc
            self._event(
                "incident.recorded",
                {**inc.summary(), "report": inc.to_dict()},
                sorted(set(inc.parties)),
            )

    # -- history and views --------------------------------------------------------------------

    def _record_history(self) -> None:
        step = self.config.history_step_s
        if self.history and self.now_s - self.history[-1][0] < step - 1e-9:
            return
        cols = ["key", "owner", "identity", "label", "latitude", "longitude", "altitude", "track"]
        self.history.append(
            (self.now_s, {p: pic.loc[:, cols].copy() for p, pic in self.pictures.items()})
        )

    def picture(self, party: str) -> pd.DataFrame:
        """The party's tracks now, classified (columns as ``_empty_picture``)."""
        self._check_party(party)
        return self.pictures.get(party, _empty_picture())

    def picture_at(self, party: str, time_s: float) -> tuple[float, pd.DataFrame]:
        """The party's tracks at the recorded moment nearest before ``time_s`` (time slider)."""
        self._check_party(party)
        best: tuple[float, pd.DataFrame] | None = None
        for t, pics in self.history:
            if t <= time_s + 1e-9:
                best = (t, pics.get(party, _empty_picture()))
        if best is None:
            raise NotFoundError(f"nothing recorded at or before {time_s}; the slider starts later")
        return best

    def active_alerts(self, party: str) -> list[dict[str, Any]]:
        """The party's alerts now, with both aircraft's positions for drawing."""
        out = []
        for alert in self.alerts.values():
            if party not in alert.recipients:
                continue
            if alert.keys[0] not in self._index or alert.keys[1] not in self._index:
                continue
            ra, rb = self._row(alert.keys[0]), self._row(alert.keys[1])
            own, other, adv = (
                (ra, rb, alert.advice[0]) if ra["party"] == party else (rb, ra, alert.advice[1])
            )
            out.append(
                {
                    "alert_id": alert.alert_id,
                    "kind": "conflict",
                    "level": alert.level,
                    "level_name": self.level_names.get(alert.level, ""),
                    "own_aircraft": str(own["label"]),
                    "own_key": str(own["key"]),
                    "own": _kinematics(own),
                    "other": _kinematics(other),
                    "t_in_s": _num(alert.row["t_in_s"]),
                    "tcpa_s": _num(alert.row["tcpa_s"]),
                    "dcpa_nm": _num(alert.row["dcpa_nm"]),
                    "resolution": adv.to_dict() if adv is not None else None,
                    "raised_s": alert.raised_s,
                }
            )
        for a in self.area_alerts.values():
            if a.party == party:
                out.append({"alert_id": a.alert_id, "kind": "area", "area": a.area,
                            "own_key": a.key, "raised_s": a.raised_s, "level": 1})  # fmt: skip
        return out

    def open_requests(
        self, party: str, *, newest: int | None = None, history: bool = True
    ) -> list[dict[str, Any]]:
        """Identification requests the party was asked or made, with their state, oldest first:
        the ``newest`` ones only when given, without the track's ``history`` if not ``history``
        (the map's panel: what is left out is never built)."""
        out: list[dict[str, Any]] = []
        for rid in reversed(self.requests):
            if newest is not None and len(out) >= newest:
                break
            req = self.requests[rid]
            observer = self.request_observer[rid][0]
            if party != observer and party not in req.parties:
                continue
            payload = req.to_payload()
            if not history:
                del payload["history"]
            out.append(
                {
                    **payload,
                    "observer": observer,
                    "outcome": self.outcome_shown(rid, party),
                    "answered": party in req.answers,
                    "can_answer": party in req.parties and party not in req.answers,
                }
            )
        return out[::-1]

    def outcome_shown(self, rid: str, party: str) -> str:
        """A request's outcome as ``party`` may know it: in full for the asking party and the
        claimants; for the others asked only ``pending``, ``declared`` (when the procedures'
        ``identification_disclosure`` says so) or ``closed``."""
        req = self.requests[rid]
        outcome = self.resolved.get(rid, Outcome.PENDING)
        claimed = party in req.answers and req.answers[party].answer == "ours"
        if outcome is Outcome.PENDING or claimed or party == self.request_observer[rid][0]:
            return outcome.value
        if outcome is Outcome.DECLARED and self.config.identification_disclosure == "declared":
            return outcome.value
        return "closed"

    def summary(self) -> dict[str, Any]:
        """What happened so far: counts and the main decisions."""
        return {
            "ticks": self.tick_count,
            "reports": self.stats.reports,
            "events": dict(self.event_counts),
            "alerts": [
                {k: a[k] for k in ("time_s", "party", "own_aircraft", "level", "kind")}
                for a in self.alert_log
                if a["text"] in ("alert.raised", "area")
            ],
            "identification_requests": [
                {
                    "request_id": rid,
                    "observer": self.request_observer[rid][0],
                    "outcome": self.resolved.get(rid, Outcome.PENDING).value,
                    "claimed_by": [a.party for a in req.answers.values() if a.answer == "ours"],
                }
                for rid, req in self.requests.items()
            ],
            "incidents": [i.summary() for i in self.incidents.values()],
            "messages": len(self.messages),
            "tick_s": self.stats.summary(),
        }


def _records(frame: pd.DataFrame) -> list[Row]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _empty_picture() -> pd.DataFrame:
    cols = {
        "key": object, "track_id": np.int64, "party": object, "owner": object,
        "identity": object, "aircraft": object, "label": object, "icao24": object,
        "callsign": object, "status": object, "latitude": float, "longitude": float,
        "altitude": float, "groundspeed": float, "track": float, "vertical_rate": float,
    }  # fmt: skip
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols.items()})


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def _kinematics(row: Row) -> dict[str, Any]:
    return {
        "latitude": float(row["latitude"]),
        "longitude": float(row["longitude"]),
        "altitude_ft": float(row["altitude"]),
        "groundspeed_kt": float(row["groundspeed"]),
        "track_deg": float(row["track"]),
        "vertical_rate_fpm": float(row["vertical_rate"]),
    }


def _state(row: Row) -> AircraftState:
    trk = np.radians(float(row["track"]))
    v = float(row["groundspeed"]) * KT
    return AircraftState(
        str(row["party"]),
        str(row["label"]),
        float(row["latitude"]),
        float(row["longitude"]),
        float(row["altitude"]) * FT,
        v * float(np.sin(trk)),
        v * float(np.cos(trk)),
        float(row["vertical_rate"]) * FPM,
    )


__all__ = ["ALL", "IDENTITIES", "Engine", "EngineConfig", "Hook", "TickStats"]
