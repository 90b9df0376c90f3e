"""Alerts: conflicts between parties' aircraft (with a recommended resolution), restricted
areas ahead, and the conflict notices sent over the hotline (times Unix s; edge units).

State held between ticks is what an open alert needs to be updated or cleared; every change is
an entry of the log written through the engine's desk (``alert.raised`` / ``alert.updated`` /
``alert.cleared`` to the party alerted; a ``conflict_notice`` message to both parties).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
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


class Alerts:
    """The open alerts and conflict notices, updated once per tick."""

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

    def update(self, scene: SceneIndex, conflict_rows: list[Row], now_s: float) -> None:
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
            recipients = tuple(sorted({str(ra["party"]), str(rb["party"])}))
            if alert is None:
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
            else:
                alert.last_seen_s = now
                alert.row = data
                if int(data["level"]) != alert.level:
                    alert.level = int(data["level"])
                    self._write("alert.updated", alert, ra, rb, now)
        for keys, alert in list(self.conflicts.items()):
            if keys not in seen and now - alert.last_seen_s >= self.clear_after_s:
                del self.conflicts[keys]
                for party in alert.recipients:
                    payload = {"alert_id": alert.alert_id, "kind": "conflict", "party": party}
                    self.desk.append("alert.cleared", {**payload, "time_s": now}, (party,))

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
        for i, area_id, t_entry in entries:
            row = scene.row(str(keys[i]))
            k = (str(row["key"]), area_id)
            seen.add(k)
            if k in self.area_alerts:
                self.area_alerts[k].last_seen_s = now
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
