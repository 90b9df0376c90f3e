"""The incident record: closest approach, severity, both tracks ±5 min, alerts and messages
(SI: m, s; latitude/longitude in degrees; times Unix s UTC).

``Incident.to_dict`` / ``from_dict`` give its JSON form (``save_incident`` / ``load_incident``),
which the CLI renders and the store keeps. Alerts and messages are plain mappings with at least a
``time_s`` key; an alert usually has ``level`` and ``text``, a message ``sender``, ``kind`` and
``text``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np

from deconflict.errors import InputError
from deconflict.incidents.geometry import Separation, Timeline
from deconflict.incidents.severity import Severity
from deconflict.units import FT

#: How far (s) from its closest approach an incident record cites the messages sent (before and
#: after) and the alerts raised (before).
CONTEXT_WINDOW_S: Final = 300.0


@dataclass(frozen=True, eq=False)
class Incident:
    incident_id: str
    kind: str  # "loss_of_separation" or "close_approach"
    time_s: float  # time of closest approach
    horizontal_m: float  # at closest approach
    vertical_m: float
    slant_m: float
    los_start_s: float | None  # first and last time separation was lost, if it was
    los_end_s: float | None
    severity: Severity
    severity_reason: str
    standard: str
    horizontal_min_m: float
    vertical_min_m: float
    close_approach_m: float
    tracks: tuple[Timeline, Timeline]  # both aircraft, ±window around the closest approach
    separation: Separation  # the pair's separation over the same window
    alerts: tuple[Mapping[str, Any], ...] = field(default=())
    messages: tuple[Mapping[str, Any], ...] = field(default=())

    @property
    def parties(self) -> tuple[str, str]:
        return self.tracks[0].party, self.tracks[1].party

    @property
    def aircraft(self) -> tuple[str, str]:
        return self.tracks[0].aircraft_id, self.tracks[1].aircraft_id

    @property
    def warning_time_s(self) -> float | None:
        """From the first alert to the loss of separation (or the closest approach)."""
        if not self.alerts:
            return None
        first = min(float(a["time_s"]) for a in self.alerts)
        end = self.los_start_s if self.los_start_s is not None else self.time_s
        return end - first

    def summary(self) -> dict[str, Any]:
        """One line of an incident list."""
        return {
            "incident_id": self.incident_id,
            "time_s": self.time_s,
            "kind": self.kind,
            "severity": self.severity.value,
            "parties": list(self.parties),
            "aircraft": list(self.aircraft),
            "horizontal_m": round(self.horizontal_m, 1),
            "vertical_m": round(self.vertical_m, 1),
        }

    def to_dict(self) -> dict[str, Any]:
        def track(t: Timeline) -> dict[str, Any]:
            return {
                "party": t.party,
                "aircraft_id": t.aircraft_id,
                "t_s": t.t_s.tolist(),
                "latitude_deg": t.latitude_deg.tolist(),
                "longitude_deg": t.longitude_deg.tolist(),
                "altitude": (t.altitude_m / FT).tolist(),  # ft: the parties' edge unit
            }

        return {
            "incident_id": self.incident_id,
            "kind": self.kind,
            "time_s": self.time_s,
            "horizontal_m": self.horizontal_m,
            "vertical_m": self.vertical_m,
            "slant_m": self.slant_m,
            "los_start_s": self.los_start_s,
            "los_end_s": self.los_end_s,
            "severity": self.severity.value,
            "severity_reason": self.severity_reason,
            "standard": self.standard,
            "horizontal_min_m": self.horizontal_min_m,
            "vertical_min_m": self.vertical_min_m,
            "close_approach_m": self.close_approach_m,
            "tracks": [track(t) for t in self.tracks],
            "separation": {
                "t_s": self.separation.t_s.tolist(),
                "horizontal_m": self.separation.horizontal_m.tolist(),
                "vertical_m": self.separation.vertical_m.tolist(),
            },
            "alerts": [dict(a) for a in self.alerts],
            "messages": [dict(m) for m in self.messages],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        try:
            tracks = tuple(
                Timeline.from_arrays(
                    t["party"],
                    t["aircraft_id"],
                    t["t_s"],
                    t["latitude_deg"],
                    t["longitude_deg"],
                    _altitude_m(t),
                )
                for t in data["tracks"]
            )
            if len(tracks) != 2:
                raise InputError(f"an incident has two tracks, this one has {len(tracks)}")
            sep = data["separation"]
            return cls(
                incident_id=str(data["incident_id"]),
                kind=str(data["kind"]),
                time_s=float(data["time_s"]),
                horizontal_m=float(data["horizontal_m"]),
                vertical_m=float(data["vertical_m"]),
                slant_m=float(data["slant_m"]),
                los_start_s=_opt(data.get("los_start_s")),
                los_end_s=_opt(data.get("los_end_s")),
                severity=Severity(data["severity"]),
                severity_reason=str(data["severity_reason"]),
                standard=str(data["standard"]),
                horizontal_min_m=float(data["horizontal_min_m"]),
                vertical_min_m=float(data["vertical_min_m"]),
                close_approach_m=float(data["close_approach_m"]),
                tracks=(tracks[0], tracks[1]),
                separation=Separation(
                    np.asarray(sep["t_s"], dtype=np.float64),
                    np.asarray(sep["horizontal_m"], dtype=np.float64),
                    np.asarray(sep["vertical_m"], dtype=np.float64),
                ),
                alerts=tuple(data.get("alerts", ())),
                messages=tuple(data.get("messages", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"not an incident record ({type(exc).__name__}: {exc}); "
                "write it with save_incident / Incident.to_dict"
            ) from exc


def _altitude_m(track: Mapping[str, Any]) -> Any:
    """A track's altitudes in m: ``altitude`` (ft), or ``altitude_m`` in records written before."""
    if "altitude_m" in track:
        return track["altitude_m"]
    return np.asarray(track["altitude"], dtype=np.float64) * FT


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def _timed(
    items: Iterable[Mapping[str, Any]], start_s: float, end_s: float
) -> tuple[Mapping[str, Any], ...]:
    keep = []
    for item in items:
        if "time_s" not in item:
            raise InputError(f"alert or message {dict(item)!r} has no time_s")
        if start_s <= float(item["time_s"]) <= end_s:
            keep.append(dict(item))
    return tuple(sorted(keep, key=lambda i: float(i["time_s"])))


def attach_context(
    incident: Incident,
    alerts: Iterable[Mapping[str, Any]] = (),
    messages: Iterable[Mapping[str, Any]] = (),
    *,
    window_s: float = CONTEXT_WINDOW_S,
) -> Incident:
    """The incident with the alerts raised in the ``window_s`` before its closest approach and
    the messages exchanged within ±``window_s`` of it, in time order."""
    t = incident.time_s
    return replace(
        incident,
        alerts=_timed(alerts, t - window_s, t),
        messages=_timed(messages, t - window_s, t + window_s),
    )


def save_incident(incident: Incident, path: str | Path) -> None:
    Path(path).write_text(json.dumps(incident.to_dict(), allow_nan=False), encoding="utf-8")


def load_incident(path: str | Path) -> Incident:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read incident file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path} does not hold one incident object")
    return Incident.from_dict(data)
