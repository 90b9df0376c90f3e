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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from deconflict.engine.area_alerts import AreaAlert, AreaAlerts, digest
from deconflict.engine.areas import RestrictedArea
from deconflict.engine.desk import Desk
from deconflict.engine.picture import (
    KINEMATICS,
    Row,
    SceneIndex,
    aircraft_state,
    kinematics,
    num,
    rounded,
)
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
        self.clear_after_s = clear_after_s
        #: The restricted areas' alerts (``engine.area_alerts``).
        self.area = AreaAlerts(
            desk, areas, clear_after_s=clear_after_s, proximity_horizon_s=proximity_horizon_s
        )
        self.conflicts: dict[tuple[str, str], ConflictAlert] = {}
        self.notices: dict[PairKey, OpenNotice] = {}
        #: Conflict alerts taken from the log and not yet seen again, by ``match_key``.
        self.inherited: dict[tuple[str, ...], ConflictAlert] = {}
        self.grace_s = 0.0
        self._graced = True  # whether the inherited state's grace has been anchored
        self._carried_on = 0  # inherited conflict alerts found again
        self.cleared_inherited = 0  # inherited alerts not found again, cleared

    @property
    def areas(self) -> tuple[RestrictedArea, ...]:
        return self.area.areas

    @property
    def area_alerts(self) -> dict[tuple[str, str], AreaAlert]:
        """The open area alerts by (track key, area id)."""
        return self.area.alerts

    @property
    def carried_on(self) -> int:
        """Inherited alerts (conflicts and areas) found again, carried on under their id."""
        return self._carried_on + self.area.carried_on

    @property
    def on_adopt(self) -> Callable[[str, int, str], None]:
        """Called (party, track_id, key) when a track is found to be the one an inherited area
        alert is about: the engine names the track by that key from then on."""
        return self.area.on_adopt

    @on_adopt.setter
    def on_adopt(self, fn: Callable[[str, int, str], None]) -> None:
        self.area.on_adopt = fn

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
        self.area.alerts |= {(a.key, a.area): a for a in areas}
        self.notices |= dict(notices)
        self.grace_s = grace_s
        self._graced = False

    def update(self, scene: SceneIndex, conflict_rows: list[Row], now_s: float) -> None:
        if not self._graced:
            self._graced = True
            until = now_s + self.grace_s
            for alert in self.inherited.values():
                alert.last_seen_s = max(alert.last_seen_s, until)
            for area in self.area.alerts.values():
                area.last_seen_s = max(area.last_seen_s, until)
            self.notices = {
                k: dataclasses.replace(n, last_seen_s=max(n.last_seen_s, until))
                for k, n in self.notices.items()
            }
        self._update_conflicts(scene, conflict_rows, now_s)
        self._update_notices(scene, now_s)
        self.area.update(scene, now_s)

    def _update_conflicts(self, scene: SceneIndex, conflict_rows: list[Row], now: float) -> None:
        seen: set[tuple[str, str]] = set()
        for data in conflict_rows:
            level = int(data["level"])
            if level <= 0:
                continue
            keys = (str(data["a"]), str(data["b"]))
            seen.add(keys)
            alert = self.conflicts.get(keys)
            if alert is not None and level == alert.level:  # the usual case: nothing to write
                alert.last_seen_s, alert.row = now, data
                continue
            ra, rb = scene.row(keys[0]), scene.row(keys[1])
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
                if level != alert.level:
                    alert.level = level
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
        self._carried_on += 1
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
        """The notices of the conflicts seen now between own aircraft of two parties. A pair
        whose notice is open at this level or above is predicted with the notice's last
        prediction (``update_notices`` sends nothing for it): the aircraft's states are made
        only for the pairs with something to send."""
        index, identity = scene.index, scene.cols["identity"]
        party, label = scene.cols["party"], scene.cols["label"]
        predictions = []
        for keys, alert in self.conflicts.items():
            if alert.last_seen_s != now:
                continue
            ia, ib = index[keys[0]], index[keys[1]]
            if identity[ia] != "own" or identity[ib] != "own":
                continue
            one, two = (str(party[ia]), str(label[ia])), (str(party[ib]), str(label[ib]))
            was = self.notices.get((one, two) if one <= two else (two, one))
            if was is not None and alert.level <= was.level:
                predictions.append(was.last)
                continue
            ra, rb = scene.row(keys[0]), scene.row(keys[1])
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

    def active(
        self, party: str, scene: SceneIndex, digits: int | None = None
    ) -> list[dict[str, Any]]:
        """The party's alerts now, with both aircraft's positions for drawing. ``digits``: every
        number rounded to that many decimals and None where it is not finite (the picture
        message's JSON-safe form), made for all the alerts at once (``rounded``)."""
        shown = [
            a
            for a in self.conflicts.values()
            if party in a.recipients and a.keys[0] in scene and a.keys[1] in scene
        ]
        out: list[dict[str, Any]] = []
        if shown:
            ia = scene.rows([a.keys[0] for a in shown])
            ib = scene.rows([a.keys[1] for a in shown])
            first = scene.cols["party"][ia] == party
            own, other = np.where(first, ia, ib), np.where(first, ib, ia)
            cols = [scene.cols[c] for c in KINEMATICS.values()]
            own_kin = rounded(np.column_stack([c[own] for c in cols]), digits)
            other_kin = rounded(np.column_stack([c[other] for c in cols]), digits)
            times = rounded(
                [[a.row["t_in_s"], a.row["tcpa_s"], a.row["dcpa_nm"], a.raised_s] for a in shown],
                digits,
            )
            advice = [a.advice[0] if f else a.advice[1] for a, f in zip(shown, first, strict=True)]
            heading = rounded([[adv.heading_deg if adv else np.nan] for adv in advice], digits)
            labels = scene.cols["label"][own].tolist()
            keys = scene.cols["key"][own].tolist()
            for j, alert in enumerate(shown):
                adv = advice[j]
                t_in, tcpa, dcpa, raised = times[j]
                out.append(
                    {
                        "alert_id": alert.alert_id,
                        "kind": "conflict",
                        "level": alert.level,
                        "level_name": self.level_names.get(alert.level, ""),
                        "own_aircraft": str(labels[j]),
                        "own_key": str(keys[j]),
                        "own": dict(zip(KINEMATICS, own_kin[j], strict=True)),
                        "other": dict(zip(KINEMATICS, other_kin[j], strict=True)),
                        "t_in_s": t_in,
                        "tcpa_s": tcpa,
                        "dcpa_nm": dcpa,
                        "resolution": None
                        if adv is None
                        else {**adv.to_dict(), "heading_deg": heading[j][0]},
                        "raised_s": raised,
                    }
                )
        return out + self.area.active(party, digits)

    def in_conflict(self, party: str) -> set[str]:
        """Keys of the tracks an open conflict alert of ``party`` is about (its own and the
        other aircraft): what the ``in_conflict`` track sharing shows of others."""
        out: set[str] = set()
        for alert in self.conflicts.values():
            if party in alert.recipients:
                out.update(alert.keys)
        return out


__all__ = ["Alerts", "ConflictAlert"]
