"""The live loop: reports in, tracks, identities, conflicts, alerts, messages and incidents out.

Time is passed in (``tick(now)``, UTC) and never read from the clock; the edge units are those of
DESIGN.md (degrees, ft, kt, ft/min), times inside are Unix seconds. At each tick the engine

1. pulls the reports of every source up to ``now``;
2. updates one tracker per party with that party's own reports: each party's picture is what its
   own sensors see (nothing a party has not shared leaks into another's picture);
3. classifies every track of each picture for its party (``engine.picture``, with ``identify``);
4. predicts conflicts with the configured separation standard (``deconflict.predict.detect``) in
   the shared scene: every party's own aircraft, plus each party's unknown tracks, which are
   checked against that party's own aircraft only (the owner of an unknown track cannot be told);
5. raises, updates and clears alerts and sends conflict notices (``engine.alerts``), opens
   identification requests (``engine.identification``), warns of restricted areas ahead and
   records incidents (``engine.incidents``) — every decision written to the store through the
   workflows the REST API uses (``engine.desk``);
6. reads the log's new entries (its own and every client's: answers, acknowledgements) and hands
   them to its hooks (the scripted crews of the demo), which may write in turn.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic_settings import SettingsConfigDict

from deconflict.engine.alerts import Alerts
from deconflict.engine.areas import RestrictedArea
from deconflict.engine.conflicts import no_conflicts, scene_conflicts
from deconflict.engine.desk import Desk
from deconflict.engine.history import History
from deconflict.engine.identification import Identification
from deconflict.engine.incidents import IncidentWatch
from deconflict.engine.intake import Intake
from deconflict.engine.picture import (
    IDENTITIES,
    OwnerCache,
    SceneIndex,
    classify_picture,
    empty_picture,
    records,
    shared_scene,
)
from deconflict.engine.recovery import recover
from deconflict.engine.sharing import shared_view
from deconflict.engine.sources import ReportSource, polled_between_ticks
from deconflict.engine.stats import TickStats
from deconflict.errors import InputError, NotFoundError
from deconflict.hotline.messages import ALL, MessageKind
from deconflict.identify.registry import Registry
from deconflict.incidents.record import Incident
from deconflict.predict.standards import get_standard
from deconflict.settings import Declared, Settings, same_as, setting
from deconflict.store import Event
from deconflict.store import hotline as log
from deconflict.surveillance.report import empty_reports
from deconflict.tracking.batch import report_batch
from deconflict.tracking.frame import LocalFrame
from deconflict.tracking.tracker import Tracker

Hook = Callable[["Engine", pd.Timestamp, Sequence[Event]], None]


class EngineConfig(Declared):
    """How the live engine decides: its standard, alert and request times, memory."""

    model_config = SettingsConfigDict(env_prefix="DECONFLICT_ENGINE_")

    standard: str = setting(
        "icao-5nm",
        "Separation standard of the engine's conflict prediction (`deconflict serve` and "
        "`deconflict engine` pass the service's `separation_standard` or the scenario's).",
    )
    clear_after_s: float = setting(10.0, "An alert not predicted for this long is cleared (s).")
    request_after_s: float = setting(
        10.0, "An unknown track this old gets an identification request (s)."
    )
    request_timeout_s: float = setting(
        120.0, "An identification request unanswered this long is settled as unanswered (s)."
    )
    proximity_horizon_s: float = same_as(Settings, "proximity_horizon_s")
    history_s: float = setting(3600.0, "How far back the map's time slider reaches (s).")
    history_step_s: float = setting(5.0, "Time between two pictures kept for the slider (s).")
    incident_memory_s: float = setting(
        900.0, "How long track positions are kept for incident records (s)."
    )
    incident_quiet_s: float = setting(
        30.0, "A loss of separation that lasts longer than this is recorded as an incident (s)."
    )
    track_sharing: str = same_as(Settings, "track_sharing")
    intake_every_s: float = setting(
        0.25,
        "How often (engine s) the real-time loop takes the reports that arrived since the "
        "tick and alerts the conflicts of the tracks they confirmed, between two ticks "
        "(`engine.intake`); 0: only at the ticks. Fast-time runs never do.",
    )
    hotline_check_every_s: float = setting(
        5.0,
        "How often (engine s) the engine escalates unacknowledged safety messages and settles "
        "requests past their deadline; 0 when the service does (`deconflict serve`).",
    )


class Engine:
    """The live loop over a set of parties and report sources (see the module docstring).

    ``desk`` is its place at the store (``engine.desk``); without one it works on a fresh
    in-memory store with new keys for the parties (fast-time runs, tests).
    """

    def __init__(
        self,
        parties: Sequence[str],
        sources: Sequence[ReportSource],
        *,
        fleets: Mapping[str, Iterable[str]] | None = None,
        areas: Sequence[RestrictedArea] = (),
        desk: Desk | None = None,
        config: EngineConfig | None = None,
        tracker_factory: Callable[[], Tracker] = Tracker,
        hooks: Sequence[Hook] = (),
    ) -> None:
        if not parties:
            raise InputError("the engine needs at least one party")
        self.parties = tuple(parties)
        self.sources = list(sources)
        self.config = config or EngineConfig()
        self.standard = get_standard(self.config.standard)
        self.desk = desk if desk is not None else Desk.in_memory(self.parties)
        missing = [p for p in self.parties if p not in self.desk.parties]
        if missing:
            raise InputError(f"parties {missing} are not registered in the engine's store")
        self.registry = Registry.from_fleets(fleets or {})
        self._owners = {p: OwnerCache(self.registry) for p in self.parties}
        self.hooks = list(hooks)
        self.trackers: dict[str, Tracker] = {p: tracker_factory() for p in self.parties}
        self._started: dict[str, bool] = {p: False for p in self.parties}
        self._frame: LocalFrame | None = None
        self.now_s = float("nan")
        self.pictures: dict[str, pd.DataFrame] = {}
        self.scene = empty_picture()
        self.index = SceneIndex(self.scene)
        self.conflicts = no_conflicts()
        cfg = self.config
        self.alerts = Alerts(
            self.desk, self.standard, areas, clear_after_s=cfg.clear_after_s,
            proximity_horizon_s=cfg.proximity_horizon_s,
        )  # fmt: skip
        self.identification = Identification(
            self.desk, request_after_s=cfg.request_after_s, timeout_s=cfg.request_timeout_s
        )
        self.incidents = IncidentWatch(
            self.desk, self.standard, memory_s=cfg.incident_memory_s, quiet_s=cfg.incident_quiet_s
        )
        # an inherited area alert's track, found again, keeps the key the log has for it
        self.alerts.on_adopt = lambda p, track_id, key: self._owners[p].adopt(p, track_id, key)
        # a restart or a new leader carries on what an engine before it left open in the log
        self.recovered = recover(self)
        self.history = History(cfg.history_s, cfg.history_step_s)
        self.sharing_secret = secrets.token_bytes(32)
        self.event_counts: Counter[str] = Counter()  # kind -> log entries seen (summary)
        self.stats = TickStats()
        self.tick_count = 0
        self._checked_s = float("-inf")
        self.intakes = Intake()

    @property
    def areas(self) -> tuple[RestrictedArea, ...]:
        return self.alerts.areas

    # -- the tick -----------------------------------------------------------------------------

    def tick(self, now: Any) -> list[Event]:
        """One turn of the loop at ``now`` (UTC); returns the log entries written since the
        last tick (the engine's and every client's), in order."""
        t0 = time.perf_counter()
        lap = self.stats.lap()
        ts = pd.Timestamp(now)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        self.now_s = ts.value / 1e9
        earlier = self._news()  # what clients wrote since the last tick (answers, messages)
        lap("store")
        self._track(ts)
        lap("tracking")
        t1 = time.perf_counter()
        ident = self.identification
        self.pictures = {
            p: classify_picture(
                p, self.trackers[p].track_rows(self.now_s), self.registry, self.now_s,
                declared=ident.declared_for(p), pending=ident.pending(p), owners=self._owners[p],
            )
            if self._started[p]
            else empty_picture()
            for p in self.parties
        }  # fmt: skip
        self.scene = shared_scene(self.pictures)
        self.index = SceneIndex(self.scene)
        lap("classification")
        self.conflicts = scene_conflicts(self.scene, self.index, self.standard)
        lap("prediction")
        t2 = time.perf_counter()
        conflict_rows = records(self.conflicts)  # read by the alerts and the incidents
        self.alerts.update(self.index, conflict_rows, self.now_s)
        lap("alerts")
        ident.update(self.pictures, self.incidents.history, self.now_s)
        lap("identification")
        self.incidents.update(self.scene, conflict_rows, self.now_s)
        lap("incidents")
        self.history.record(self.now_s, self.pictures)
        lap("history")
        events = earlier + self._news()  # the tick's own entries, read once (the checks too)
        every = self.config.hotline_check_every_s
        if every > 0 and (self.now_s - self._checked_s >= every or ident.due(self.now_s)):
            self._checked_s = self.now_s
            self.desk.check(self.now_s)
            events += self._news()
        self.tick_count += 1
        lap("store")
        for hook in self.hooks:
            hook(self, ts, events)
        events += self._news()
        lap("hooks")
        t3 = time.perf_counter()
        self.stats.total.append(t3 - t0)
        self.stats.tracking.append(t1 - t0)
        self.stats.prediction.append(t2 - t1)
        return events

    def _news(self) -> list[Event]:
        self.desk.flush()
        after = self.desk.cursor
        news = self.desk.news()
        self.identification.learn(news)
        self.incidents.learn(after, news)
        self.event_counts.update(e.kind for e in news)
        return news

    def intake(self, now: Any) -> int:
        """Between two ticks (the real-time loop): take the reports up to ``now`` (UTC) and
        raise the conflict alerts of the tracks they confirmed (``engine.intake``); returns
        how many alerts were raised. Everything else waits for the next tick."""
        ts = pd.Timestamp(now)
        return self.intakes.step(self, ts.tz_localize("UTC") if ts.tzinfo is None else ts)

    def _track(self, ts: pd.Timestamp, between_ticks: bool = False) -> int:
        """Poll the sources up to ``ts`` and feed the reports to the trackers; how many.
        ``between_ticks`` (an intake): only the sources whose reports arrive on their own
        (``engine.sources``), and only the trackers with reports (aging waits for the tick)."""
        now_s = ts.value / 1e9
        sources = [s for s in self.sources if not between_ticks or polled_between_ticks(s)]
        polled = [s.poll(ts) for s in sources]
        frames = [f for f in polled if len(f)]
        reports = pd.concat(frames, ignore_index=True) if frames else empty_reports()
        self.stats.reports += len(reports)
        if between_ticks and not len(reports):
            return 0
        # each report's party as a code (one hash pass; no text compared per party)
        party_code, party_names = pd.factorize(reports["party"])
        code_of = {str(name): k for k, name in enumerate(party_names.tolist())}
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
                sel = np.flatnonzero(party_code == code_of.get(p, -2))
                if sel.size or (self._started[p] and not between_ticks):
                    self.trackers[p].ingest(batch.take(sel), now_s)
                    self._started[p] = True
        return len(reports)

    def finish(self) -> list[Event]:
        """Record the incidents still open (end of a run)."""
        self.incidents.finish()
        return self._news()

    # -- what the crews the engine plays do (the demo) ------------------------------------------

    def send_message(self, sender: str, to: str | Iterable[str], text: str) -> Event:
        """A free-text hotline message from ``sender``'s crew, signed with its key."""
        return self.desk.post(sender, to, MessageKind.FREE_TEXT, {"text": text}, now_s=self._now())

    def fetch_messages(self, party: str, after_seq: int = 0) -> list[dict[str, Any]]:
        """The party's hotline messages after log seq ``after_seq`` (those up to it are now
        delivered), each with its ``seq``."""
        return self.desk.inbox(party, after_seq)

    def acknowledge(self, party: str, message_id: str) -> Event:
        """``party``'s crew acknowledges a message addressed to it, signed with its key."""
        return self.desk.acknowledge(party, message_id, now_s=self._now())

    def answer_identification(
        self, party: str, request_id: str, answer: str, aircraft: str = "", operation: str = ""
    ) -> str:
        """``party``'s crew answers an identification request; the request's outcome now."""
        return self.desk.answer(
            party, request_id, answer, now_s=self._now(), aircraft=aircraft, operation=operation
        )

    def _now(self) -> float:
        if not np.isfinite(self.now_s):
            raise InputError("the engine has not ticked yet: it has no time to write at")
        return self.now_s

    # -- views --------------------------------------------------------------------------------

    def _check_party(self, party: str) -> None:
        if party not in self.parties:
            raise NotFoundError(f"no party {party!r}; parties are {', '.join(self.parties)}")

    def picture(self, party: str) -> pd.DataFrame:
        """The party's tracks now, classified (columns as ``engine.picture.empty_picture``):
        its own view, before the procedures' track sharing (``view``)."""
        self._check_party(party)
        pic = self.pictures.get(party)
        return pic if pic is not None else empty_picture()

    def view(self, party: str, picture: pd.DataFrame | None = None) -> pd.DataFrame:
        """What ``party`` may see of its picture (now, or ``picture`` from the history) under
        the procedures' track sharing (``engine.sharing``)."""
        pic = self.picture(party) if picture is None else picture
        in_conflict = set()
        if self.config.track_sharing == "in_conflict":
            for key in self.alerts.in_conflict(party):
                if key in self.index:
                    row = self.index.row(key)
                    in_conflict.add((str(row["party"]), str(row["label"])))
        return shared_view(
            pic, party, self.config.track_sharing, secret=self.sharing_secret,
            in_conflict=in_conflict,
        )  # fmt: skip

    def picture_at(self, party: str, time_s: float) -> tuple[float, pd.DataFrame]:
        """What the party saw at the recorded moment nearest before ``time_s`` (time slider),
        under the track sharing."""
        self._check_party(party)
        t, pic = self.history.at(party, time_s)
        if self.config.track_sharing == "full":
            return t, pic
        full = pic.assign(aircraft=pic["label"], icao24=None, callsign=None)
        return t, self.view(party, full).drop(columns=["aircraft", "icao24", "callsign"])

    def active_alerts(self, party: str, digits: int | None = None) -> list[dict[str, Any]]:
        """The party's alerts now, with both aircraft's positions for drawing (numbers rounded
        to ``digits`` decimals and None where not finite when given: JSON-safe)."""
        return self.alerts.active(party, self.index, digits)

    def summary(self) -> dict[str, Any]:
        """What happened so far, read back from the log: counts and the main decisions."""
        desk = self.desk
        alerts = [
            {k: e.payload.get(k) for k in ("time_s", "party", "own_aircraft", "level", "kind")}
            for e in desk.entries_since_start("alert.raised")
        ]
        requests = []
        resolved = {
            str(e.payload["request_id"]): e.payload
            for e in desk.entries_since_start(log.ID_RESOLVED)
        }
        for e in desk.entries_since_start(log.MESSAGE):
            if e.payload["kind"] != MessageKind.IDENTIFICATION_REQUEST.value:
                continue
            body = e.payload["body"]
            got = resolved.get(str(body["request_id"]), {})
            requests.append(
                {
                    "request_id": body["request_id"],
                    "observer": body.get("observer", "host"),
                    "outcome": got.get("outcome", "pending"),
                    "claimed_by": [c["party"] for c in got.get("claimants", [])],
                }
            )
        incidents = [
            Incident.from_dict({k: v for k, v in e.payload.items() if k != "by"}).summary()
            for e in desk.entries_since_start(log.INCIDENT)
        ]
        return {
            "ticks": self.tick_count,
            "reports": self.stats.reports,
            "events": dict(self.event_counts),
            "alerts": alerts,
            "identification_requests": requests,
            "incidents": incidents,
            "messages": len(desk.entries_since_start(log.MESSAGE)),
            "tick_s": self.stats.summary(),
        }


__all__ = ["ALL", "IDENTITIES", "Engine", "EngineConfig", "Hook", "TickStats"]
