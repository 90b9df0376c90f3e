"""Alerts: conflicts between parties' aircraft (with a recommended resolution), restricted
areas ahead, and the conflict notices sent over the hotline (times Unix s; edge units).

State held between ticks is what an open alert needs to be updated or cleared; every change is
an entry of the log written through the engine's desk (``alert.raised`` / ``alert.updated`` /
``alert.cleared`` to the party alerted; a ``conflict_notice`` message to both parties).

An engine that starts on a log an engine wrote before it (a restart after ``kill -9``, a standby
taking over) takes back the alerts and notices still open there (``engine.recovery``): an alert
whose aircraft are in conflict again is carried on under its own id (no second ``alert.raised``,
no second notice), one that is not is cleared once, ``grace_s`` + ``clear_after_s`` after the
first tick (the time the new trackers take to find the aircraft again).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deconflict.engine.areas import RestrictedArea, area_entries, compile_areas
from deconflict.engine.desk import Desk
from deconflict.engine.picture import Row, SceneIndex, aircraft_state, kinematics, num
from deconflict.engine.resolution import Advice, turn_away
from deconflict.hotline.notices import (
    ConflictPrediction,
    NoticePolicy,
    OpenNotice,
    PairKey,
    notice_message,
    update_notices,
)
from deconflict.predict.standards import Standard


def digest(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def match_key(own_keys: Sequence[str], recipients: Sequence[str]) -> tuple[str, ...]:
    """What a conflict alert is about across engines: the track keys of the own aircraft
    (stable: ``party/aircraft``), ``"?"`` for an unknown track (its key is a tracker's), and
    the parties alerted."""
    return (*sorted(own_keys), "|", *sorted(recipients))


@dataclass
class ConflictAlert:
    alert_id: str
    keys: tuple[str, str]
    level: int
    raised_s: float
    last_seen_s: float
    row: dict[str, Any]
    advice: tuple[Advice | None, Advice | None]
    recipients: tuple[str, ...]


@dataclass
class AreaAlert:
    alert_id: str
    key: str
    area: str
    party: str
    raised_s: float
    last_seen_s: float
    inherited: bool = False  # taken from the log, its track not seen again yet


class Alerts:
    """The open alerts and conflict notices, updated once per tick (new conflict alerts may be
    raised between two ticks: ``raise_new``)."""

    def __init__(
        self,
        desk: Desk,
        standard: Standard,
        areas: Sequence[RestrictedArea],
        *,
        clear_after_s: float,
        proximity_horizon_s: float,
    ) -> None:
        self.desk = desk
        self.standard = standard
        self.level_names = standard.level_names()  # level -> name, read per alert
        self.areas = tuple(areas)
        self._compiled_areas = compile_areas(self.areas)
        self.clear_after_s = clear_after_s
        self.proximity_horizon_s = proximity_horizon_s
        self.conflicts: dict[tuple[str, str], ConflictAlert] = {}
        self.area_alerts: dict[tuple[str, str], AreaAlert] = {}
        self.notices: dict[PairKey, OpenNotice] = {}
        #: Conflict alerts taken from the log and not yet seen again, by ``match_key``.
        self.inherited: dict[tuple[str, ...], ConflictAlert] = {}
        self.grace_s = 0.0
        self._graced = True  # whether the inherited state's grace has been anchored
        self.carried_on = 0  # inherited alerts found again (carried on under their id)
        #: Called (party, track_id, key) when a track is found to be the one an inherited area
        #: alert is about: the engine names the track by that key from then on.
        self.on_adopt: Callable[[str, int, str], None] = lambda party, track_id, key: None
        self.cleared_inherited = 0  # inherited alerts not found again, cleared

    def inherit(
        self,
        conflicts: Sequence[ConflictAlert],
        areas: Sequence[AreaAlert],
        notices: Mapping[PairKey, OpenNotice],
        grace_s: float,
    ) -> None:
        """Take back the alerts and notices an engine before this one left open (their
        ``last_seen_s`` is set at the first tick to that tick + ``grace_s``)."""
        self.inherited = {match_key(a.keys, a.recipients): a for a in conflicts}
        self.area_alerts |= {(a.key, a.area): a for a in areas}
        self.notices |= dict(notices)
        self.grace_s = grace_s
        self._graced = False

    def update(self, scene: SceneIndex, conflict_rows: list[Row], now_s: float) -> None:
        if not self._graced:
            self._graced = True
            until = now_s + self.grace_s
            for alert in self.inherited.values():
                alert.last_seen_s = max(alert.last_seen_s, until)
            for area in self.area_alerts.values():
                area.last_seen_s = max(area.last_seen_s, until)
            self.notices = {
                k: dataclasses.replace(n, last_seen_s=max(n.last_seen_s, until))
                for k, n in self.notices.items()
            }
        self._update_conflicts(scene, conflict_rows, now_s)
        self._update_notices(scene, now_s)
        self._update_areas(scene, now_s)

    def _update_conflicts(self, scene: SceneIndex, conflict_rows: list[Row], now: float) -> None:
        seen: set[tuple[str, str]] = set()
        for data in conflict_rows:
            if int(data["level"]) <= 0:
                continue
            keys = (str(data["a"]), str(data["b"]))
            seen.add(keys)
            ra, rb = scene.row(keys[0]), scene.row(keys[1])
            alert = self.conflicts.get(keys)
            if alert is None and keys[::-1] in self.conflicts:  # raised by an intake
                alert = self._turn(keys)
            recipients = tuple(sorted({str(ra["party"]), str(rb["party"])}))
            if alert is None and self.inherited:
                alert = self._adopt(keys, recipients, ra, rb, data, now)
            if alert is None:
                self._raise(keys, recipients, ra, rb, data, now)
            else:
                alert.last_seen_s = now
                alert.row = data
                if int(data["level"]) != alert.level:
                    alert.level = int(data["level"])
                    self._write("alert.updated", alert, ra, rb, now)
        for keys, alert in list(self.conflicts.items()):
            if keys not in seen and now - alert.last_seen_s >= self.clear_after_s:
                del self.conflicts[keys]
                self._clear(alert, now)
        for mk, alert in list(self.inherited.items()):
            if now - alert.last_seen_s >= self.clear_after_s:
                del self.inherited[mk]
                self._clear(alert, now)
                self.cleared_inherited += 1

    def raise_new(self, scene: SceneIndex, conflict_rows: list[Row], now_s: float) -> int:
        """Raise the alerts of the conflicts not alerted yet, as ``update`` raises them (between
        two ticks: ``engine.intake``); updates, clears and notices wait for the tick. Returns
        how many were raised."""
        raised = 0
        for data in conflict_rows:
            keys = (str(data["a"]), str(data["b"]))
            if int(data["level"]) <= 0 or keys in self.conflicts or keys[::-1] in self.conflicts:
                continue
            ra, rb = scene.row(keys[0]), scene.row(keys[1])
            recipients = tuple(sorted({str(ra["party"]), str(rb["party"])}))
            own = tuple(str(r["key"]) if r["identity"] == "own" else "?" for r in (ra, rb))
            if match_key(own, recipients) in self.inherited:
                continue  # the tick carries on the alert an engine before this one raised
            self._raise(keys, recipients, ra, rb, data, now_s)
            raised += 1
        return raised

    def _raise(
        self, keys: tuple[str, str], recipients: tuple[str, ...], ra: Row, rb: Row, data: Row,
        now: float,
    ) -> None:  # fmt: skip
        adv_a = turn_away(str(ra["label"]), ra, rb)
        adv_b = turn_away(str(rb["label"]), rb, ra)
        advice = (
            adv_a if ra["identity"] == "own" else None,
            adv_b if rb["identity"] == "own" else None,
        )
        alert = ConflictAlert(
            digest("alert", keys, now), keys, int(data["level"]), now, now, data, advice,
            recipients,
        )  # fmt: skip
        self.conflicts[keys] = alert
        self._write("alert.raised", alert, ra, rb, now)

    def _turn(self, keys: tuple[str, str]) -> ConflictAlert:
        """The open alert of the pair ``keys`` in the other order (an intake's scene orders its
        rows otherwise than the tick's), stored in this order with its advice swapped."""
        alert = self.conflicts.pop((keys[1], keys[0]))
        alert.keys, alert.advice = keys, (alert.advice[1], alert.advice[0])
        self.conflicts[keys] = alert
        return alert

    def _clear(self, alert: ConflictAlert, now: float) -> None:
        for party in alert.recipients:
            payload = {"alert_id": alert.alert_id, "kind": "conflict", "party": party}
            self.desk.append("alert.cleared", {**payload, "time_s": now}, (party,))

    def _adopt(
        self,
        keys: tuple[str, str],
        recipients: tuple[str, ...],
        ra: Row,
        rb: Row,
        data: Row,
        now: float,
    ) -> ConflictAlert | None:
        """The inherited alert about this pair, carried on under its id (its level as the log
        has it: a change is an ``alert.updated``), or None."""
        own = tuple(str(r["key"]) if r["identity"] == "own" else "?" for r in (ra, rb))
        alert = self.inherited.pop(match_key(own, recipients), None)
        if alert is None:
            return None
        if alert.keys[0] != keys[0]:  # the log's order, not the detector's: swap the advice
            alert.advice = (alert.advice[1], alert.advice[0])
        alert.keys, alert.row, alert.last_seen_s = keys, data, now
        self.conflicts[keys] = alert
        self.carried_on += 1
        if int(data["level"]) != alert.level:
            alert.level = int(data["level"])
            self._write("alert.updated", alert, ra, rb, now)
        return alert

    def _write(self, kind: str, alert: ConflictAlert, ra: Row, rb: Row, now: float) -> None:
        for own, other, adv in ((ra, rb, alert.advice[0]), (rb, ra, alert.advice[1])):
            party = str(own["party"])
            if own["identity"] != "own" or party not in alert.recipients:
                continue
            payload = {
                "alert_id": alert.alert_id,
                "kind": "conflict",
                "party": party,
                "level": alert.level,
                "level_name": self.level_names.get(alert.level, str(alert.level)),
                "standard": self.standard.name,
                "own_aircraft": str(own["label"]),
                "own_key": str(own["key"]),
                "other": kinematics(other),
                "other_identity": "unknown" if other["identity"] != "own" else "other party",
                "t_in_s": num(alert.row["t_in_s"]),
                "tcpa_s": num(alert.row["tcpa_s"]),
                "dcpa_nm": num(alert.row["dcpa_nm"]),
                "dalt_cpa_ft": num(alert.row["dalt_cpa_ft"]),
                "resolution": adv.to_dict() if adv is not None else None,
                "time_s": now,
            }
            self.desk.append(kind, payload, (party,))

    def _update_notices(self, scene: SceneIndex, now: float) -> None:
        predictions = []
        for keys, alert in self.conflicts.items():
            if alert.last_seen_s != now:
                continue
            ra, rb = scene.row(keys[0]), scene.row(keys[1])
            if ra["identity"] != "own" or rb["identity"] != "own":
                continue
            predictions.append(
                ConflictPrediction(
                    aircraft_state(ra),
                    aircraft_state(rb),
                    alert.level,
                    num(alert.row["t_in_s"]) or 0.0,
                    alert.advice[0].text if alert.advice[0] else "",
                    alert.advice[1].text if alert.advice[1] else "",
                )
            )
        self.notices, notices = update_notices(
            self.notices, predictions, now, NoticePolicy(self.clear_after_s)
        )
        for n in notices:  # made at now (update_notices stamps them so)
            self.desk.notify(notice_message(n))

    def _update_areas(self, scene: SceneIndex, now: float) -> None:
        if not self.areas:
            return
        s = scene.scene
        entries = area_entries(
            self._compiled_areas,
            s["latitude"].to_numpy(float),
            s["longitude"].to_numpy(float),
            s["altitude"].to_numpy(float),
            s["groundspeed"].to_numpy(float),
            s["track"].to_numpy(float),
            s["vertical_rate"].to_numpy(float),
            now,
            horizon_s=self.proximity_horizon_s,
        )
        seen = set()
        keys = s["key"].to_numpy(dtype=object)
        # after a restart: the unknown tracks in each (party, area) with no alert yet
        newcomers: Counter[tuple[str, str]] = Counter()
        if any(a.inherited for a in self.area_alerts.values()):
            for i, area_id, _ in entries:
                row = scene.row(str(keys[i]))
                if (str(row["key"]), area_id) not in self.area_alerts and row["identity"] != "own":
                    newcomers[str(row["party"]), area_id] += 1
        for i, area_id, t_entry in entries:
            row = scene.row(str(keys[i]))
            k = (str(row["key"]), area_id)
            seen.add(k)
            if k in self.area_alerts:
                self.area_alerts[k].last_seen_s = now
                self.area_alerts[k].inherited = False
                continue
            adopted = None
            if newcomers[str(row["party"]), area_id] == 1:
                adopted = self._adopt_area(scene, row, area_id, now)
            if adopted is not None:
                seen.add((adopted.key, area_id))
                continue
            alert = AreaAlert(digest("area", k, now), k[0], area_id, str(row["party"]), now, now)
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
                "time_s": now,
            }
            self.desk.append("alert.raised", payload, (alert.party,))
        for k, alert in list(self.area_alerts.items()):
            if k not in seen and now - alert.last_seen_s >= self.clear_after_s:
                del self.area_alerts[k]
                payload = {"alert_id": alert.alert_id, "kind": "area", "party": alert.party}
                self.desk.append("alert.cleared", {**payload, "time_s": now}, (alert.party,))

    def _adopt_area(
        self, scene: SceneIndex, row: Row, area_id: str, now: float
    ) -> AreaAlert | None:
        """The inherited alert of this party and area whose track is gone from the scene (a
        restart renumbered the tracks), carried on for the track ``row`` entering that area,
        which takes the alert's key (``on_adopt``); None if there is none, or more than one (the
        log holds no position to tell them apart: their tracks get new keys, and the alerts are
        cleared and raised again). The caller adopts only where ``row`` is the one unknown track
        of its party in the area without an alert. An own aircraft's key is its name, the same
        across a restart: only an unknown track is adopted."""
        if row["identity"] == "own":
            return None
        party = str(row["party"])
        candidates = [
            a for a in self.area_alerts.values()
            if a.inherited and a.area == area_id and a.party == party and a.key not in scene
            and now <= a.last_seen_s
        ]  # fmt: skip
        if len(candidates) != 1:
            return None
        [alert] = candidates
        alert.inherited, alert.last_seen_s = False, now
        self.carried_on += 1
        self.on_adopt(alert.party, int(row["track_id"]), alert.key)
        return alert

    def active(self, party: str, scene: SceneIndex) -> list[dict[str, Any]]:
        """The party's alerts now, with both aircraft's positions for drawing."""
        out = []
        for alert in self.conflicts.values():
            if party not in alert.recipients:
                continue
            if alert.keys[0] not in scene or alert.keys[1] not in scene:
                continue
            ra, rb = scene.row(alert.keys[0]), scene.row(alert.keys[1])
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
                    "own": kinematics(own),
                    "other": kinematics(other),
                    "t_in_s": num(alert.row["t_in_s"]),
                    "tcpa_s": num(alert.row["tcpa_s"]),
                    "dcpa_nm": num(alert.row["dcpa_nm"]),
                    "resolution": adv.to_dict() if adv is not None else None,
                    "raised_s": alert.raised_s,
                }
            )
        for a in self.area_alerts.values():
            if a.party == party:
                out.append({"alert_id": a.alert_id, "kind": "area", "area": a.area,
                            "own_key": a.key, "raised_s": a.raised_s, "level": 1})  # fmt: skip
        return out

    def in_conflict(self, party: str) -> set[str]:
        """Keys of the tracks an open conflict alert of ``party`` is about (its own and the
        other aircraft): what the ``in_conflict`` track sharing shows of others."""
        out: set[str] = set()
        for alert in self.conflicts.values():
            if party in alert.recipients:
                out.update(alert.keys)
        return out


__all__ = ["Alerts", "AreaAlert", "ConflictAlert", "digest"]
