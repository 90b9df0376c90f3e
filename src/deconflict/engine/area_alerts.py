"""The restricted areas' alerts of the live engine: an aircraft in, or predicted within a
horizon to enter, a restricted area (``engine.areas``) raises an ``alert.raised`` of kind
``area`` to its party, carried on while it stays and cleared ``clear_after_s`` after it left
(times Unix s). After a restart the alerts the log left open are carried on under their id;
an unknown track's key is a tracker's, so the one unknown track of its party entering the
area of the one such alert takes that alert's key back (``on_adopt``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from deconflict.engine.areas import RestrictedArea, area_entries, compile_areas
from deconflict.engine.desk import Desk
from deconflict.engine.picture import Row, SceneIndex


def digest(*parts: Any) -> str:
    """An alert's id: the first 16 hex digits of the SHA-256 of what it is about and when."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@dataclass
class AreaAlert:
    alert_id: str
    key: str
    area: str
    party: str
    raised_s: float
    last_seen_s: float
    inherited: bool = False  # taken from the log, its track not seen again yet


class AreaAlerts:
    """The open area alerts, by (track key, area id), updated once per tick."""

    def __init__(
        self,
        desk: Desk,
        areas: Sequence[RestrictedArea],
        *,
        clear_after_s: float,
        proximity_horizon_s: float,
    ) -> None:
        self.desk = desk
        self.areas = tuple(areas)
        self._compiled = compile_areas(self.areas)
        self.clear_after_s = clear_after_s
        self.proximity_horizon_s = proximity_horizon_s
        self.alerts: dict[tuple[str, str], AreaAlert] = {}
        self.carried_on = 0  # inherited alerts found again
        self.on_adopt: Callable[[str, int, str], None] = lambda party, track_id, key: None

    def update(self, scene: SceneIndex, now: float) -> None:
        """Raise, carry on and clear the area alerts of the scene at ``now``."""
        if not self.areas:
            return
        s = scene.scene
        entries = area_entries(
            self._compiled,
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
        if any(a.inherited for a in self.alerts.values()):
            for i, area_id, _ in entries:
                row = scene.row(str(keys[i]))
                if (str(row["key"]), area_id) not in self.alerts and row["identity"] != "own":
                    newcomers[str(row["party"]), area_id] += 1
        for i, area_id, t_entry in entries:
            row = scene.row(str(keys[i]))
            k = (str(row["key"]), area_id)
            seen.add(k)
            if k in self.alerts:
                self.alerts[k].last_seen_s = now
                self.alerts[k].inherited = False
                continue
            adopted = None
            if newcomers[str(row["party"]), area_id] == 1:
                adopted = self._adopt(scene, row, area_id, now)
            if adopted is not None:
                seen.add((adopted.key, area_id))
                continue
            alert = AreaAlert(digest("area", k, now), k[0], area_id, str(row["party"]), now, now)
            self.alerts[k] = alert
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
        for k, alert in list(self.alerts.items()):
            if k not in seen and now - alert.last_seen_s >= self.clear_after_s:
                del self.alerts[k]
                payload = {"alert_id": alert.alert_id, "kind": "area", "party": alert.party}
                self.desk.append("alert.cleared", {**payload, "time_s": now}, (alert.party,))

    def _adopt(self, scene: SceneIndex, row: Row, area_id: str, now: float) -> AreaAlert | None:
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
            a for a in self.alerts.values()
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

    def active(self, party: str, digits: int | None = None) -> list[dict[str, Any]]:
        """The party's area alerts now, as the picture message shows them (``raised_s``
        rounded to ``digits`` decimals when given)."""
        return [
            {"alert_id": a.alert_id, "kind": "area", "area": a.area, "own_key": a.key,
             "raised_s": a.raised_s if digits is None else round(a.raised_s, digits),
             "level": 1}
            for a in self.alerts.values() if a.party == party
        ]  # fmt: skip


__all__ = ["AreaAlert", "AreaAlerts", "digest"]
