"""Reading an encounter (ownship, intruders, wind) into ownship-centred ENU arrays, in SI units.

Input states follow the project's edge convention: ``latitude``/``longitude`` (deg) or
``x_nmi``/``y_nmi`` (local east/north, nmi), ``altitude`` (ft), ``groundspeed`` (kt), ``track``
(deg true), ``vertical_rate`` (ft/min), optional ``alerter`` (1, 2 or 3). Inside: m, m/s, rad.
With a wind, every velocity becomes the air velocity (ground velocity − wind), as in DAIDALUS.
States may carry a ``timestamp`` (seconds, or an ISO-8601 string); then every intruder is first
projected to the ownship's time along its ground track (a great circle for lat/lon), as
DAIDALUS's ``addTrafficState(id, pos, vel, time)`` does.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.predict.daidalus.projection import EARTH_RADIUS_M, great_circle_step, project_states
from deconflict.units import FPM, FT, KT, NM, epoch_s

__all__ = ["Encounter", "read_encounter"]

FloatArray = NDArray[np.float64]

_COMMON = ("id", "altitude", "groundspeed", "track", "vertical_rate")
_GEODETIC = ("latitude", "longitude")
_LOCAL = ("x_nmi", "y_nmi")
_OPTIONAL = ("alerter", "icao24", "callsign", "timestamp")
_KNOWN = set(_COMMON) | set(_GEODETIC) | set(_LOCAL) | set(_OPTIONAL)
_TOP = ("ownship", "intruders", "wind")
_WIND = ("to_deg", "speed_kt")


@dataclass(frozen=True)
class Encounter:
    """An encounter projected into the ownship's ENU frame (x east, y north, z up; SI).

    ``own_s``/``own_v`` have shape (3,), ``intr_s``/``intr_v`` shape (n, 3); velocities are air
    velocities when a wind is given (``wind_v`` east/north, m/s), ground velocities otherwise.
    """

    own_id: str
    own_s: FloatArray
    own_v: FloatArray
    intr_ids: tuple[str, ...]
    intr_s: FloatArray
    intr_v: FloatArray
    alerter: NDArray[np.int64]
    wind_v: FloatArray
    geodetic: bool


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check_keys(obj: Mapping[str, Any], path: str, known: set[str] | tuple[str, ...]) -> None:
    for key in obj:
        if key not in known:
            close = difflib.get_close_matches(str(key), list(known), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed: {sorted(known)}"
            raise InputError(f"{_where(path, str(key))}: unknown field; {hint}")


def _number(obj: Mapping[str, Any], key: str, path: str, lo: float, hi: float, unit: str) -> float:
    if key not in obj:
        raise InputError(f"{_where(path, key)}: missing; give it as a number in {unit}")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            f"{_where(path, key)}: {value!r} is not a number; give it as a number in {unit}"
        )
    x = float(value)
    if not math.isfinite(x):
        raise InputError(
            f"{_where(path, key)}: {value!r} is not finite; give a finite {unit} value"
        )
    if not lo <= x <= hi:
        raise InputError(
            f"{_where(path, key)}: {x:g} is out of range; it must lie in [{lo:g}, {hi:g}] {unit}"
        )
    return x


def _state(obj: Any, path: str, geodetic: bool | None) -> tuple[dict[str, Any], bool]:
    if not isinstance(obj, Mapping):
        raise InputError(f"{path}: expected an object with fields {list(_COMMON + _GEODETIC)}")
    _check_keys(obj, path, _KNOWN)
    if "id" not in obj:
        raise InputError(f"{path}.id: missing; give each aircraft a unique string id")
    ident = obj["id"]
    if not isinstance(ident, str | int) or isinstance(ident, bool) or str(ident) == "":
        raise InputError(f"{path}.id: {ident!r} is not a usable id; give a non-empty string")
    has_geo = any(k in obj for k in _GEODETIC)
    has_loc = any(k in obj for k in _LOCAL)
    if has_geo and has_loc:
        raise InputError(f"{path}: give either latitude/longitude or x_nmi/y_nmi, not both")
    is_geo = not has_loc
    if geodetic is not None and is_geo != geodetic:
        raise InputError(
            f"{path}: uses {'latitude/longitude' if is_geo else 'x_nmi/y_nmi'} but the ownship "
            "does not; give every aircraft of an encounter the same kind of position"
        )
    out: dict[str, Any] = {"id": str(ident)}
    if is_geo:
        out["lat"] = _number(obj, "latitude", path, -90.0, 90.0, "degrees")
        out["lon"] = _number(obj, "longitude", path, -180.0, 360.0, "degrees")
    else:
        out["x"] = _number(obj, "x_nmi", path, -1e5, 1e5, "nmi") * NM
        out["y"] = _number(obj, "y_nmi", path, -1e5, 1e5, "nmi") * NM
    out["alt"] = _number(obj, "altitude", path, -2000.0, 1e6, "ft") * FT
    out["gs"] = _number(obj, "groundspeed", path, 0.0, 5000.0, "kt (non-negative)") * KT
    out["trk"] = math.radians(_number(obj, "track", path, -360.0, 360.0, "degrees"))
    out["vs"] = _number(obj, "vertical_rate", path, -1e5, 1e5, "ft/min") * FPM
    alerter = obj.get("alerter", 1)
    if alerter not in (1, 2, 3) or isinstance(alerter, bool):
        raise InputError(
            f"{path}.alerter: {alerter!r} is not an alerter; use 1 (DWC Phase I), "
            "2 (DWC Phase II) or 3 (non-cooperative)"
        )
    out["alerter"] = int(alerter)
    out["time"] = _timestamp(obj, path)
    return out, is_geo


def _timestamp(obj: Mapping[str, Any], path: str) -> float | None:
    """The state's ``timestamp`` in seconds (number, or ISO-8601 string), None if absent."""
    value = obj.get("timestamp")
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            return float(value)
    elif isinstance(value, str):
        try:
            return epoch_s(value)
        except ValueError:
            pass
    raise InputError(
        f"{path}.timestamp: {value!r} is not a time; give seconds (a number) or an ISO-8601 "
        "string such as '2024-05-01T12:00:00Z'"
    )


def _synchronise(states: list[dict[str, Any]], geodetic: bool) -> None:
    """Project every intruder in place to the ownship's timestamp, along its ground track."""
    times = [a["time"] for a in states]
    if all(t is None for t in times):
        return
    if any(t is None for t in times):
        raise InputError(
            "timestamp: given for some aircraft only; give a timestamp for every aircraft or "
            "for none (then all states are taken as simultaneous)"
        )
    own_time = times[0]
    for a, t in zip(states[1:], times[1:], strict=True):
        dt = own_time - t
        if abs(dt) > 3600.0:
            raise InputError(
                f"timestamp of '{a['id']}' is {dt:g} s from the ownship's; states must be "
                "within an hour of each other (check that all timestamps are in seconds)"
            )
        if dt == 0.0:
            continue
        if geodetic:
            lat, lon = great_circle_step(
                np.radians(a["lat"]), np.radians(a["lon"]), a["trk"], a["gs"] * dt / EARTH_RADIUS_M
            )
            a["lat"], a["lon"] = float(np.degrees(lat)), float(np.degrees(lon))
        else:
            a["x"] += a["gs"] * math.sin(a["trk"]) * dt
            a["y"] += a["gs"] * math.cos(a["trk"]) * dt
        a["alt"] += a["vs"] * dt


def read_encounter(encounter: Mapping[str, Any] | str | Path) -> Encounter:
    """Validate an encounter (a dict, or a path to a JSON file) and project it.

    Raises :class:`deconflict.errors.InputError` naming the offending field and the fix.
    """
    if isinstance(encounter, str | Path):
        path = Path(encounter)
        try:
            encounter = json.loads(path.read_text())
        except OSError as exc:
            raise InputError(f"cannot read encounter file {path}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(encounter, Mapping):
        raise InputError(
            "encounter: expected an object with 'ownship', 'intruders' and optional 'wind'"
        )
    _check_keys(encounter, "", _TOP)
    if "ownship" not in encounter:
        raise InputError("ownship: missing; give the ownship's state")
    own, geodetic = _state(encounter["ownship"], "ownship", None)
    raw_intr = encounter.get("intruders", [])
    if not isinstance(raw_intr, list):
        raise InputError("intruders: expected a list of aircraft states")
    intr = [_state(x, f"intruders[{i}]", geodetic)[0] for i, x in enumerate(raw_intr)]
    seen = {own["id"]}
    for i, x in enumerate(intr):
        if x["id"] in seen:
            raise InputError(
                f"intruders[{i}].id: '{x['id']}' is used twice; give every aircraft a unique id"
            )
        seen.add(x["id"])

    wind = np.zeros(2)
    raw_wind = encounter.get("wind")
    if raw_wind is not None:
        if not isinstance(raw_wind, Mapping):
            raise InputError("wind: expected {'to_deg': ..., 'speed_kt': ...} or null")
        _check_keys(raw_wind, "wind", _WIND)
        to = math.radians(_number(raw_wind, "to_deg", "wind", -360.0, 360.0, "degrees"))
        speed = _number(raw_wind, "speed_kt", "wind", 0.0, 500.0, "kt (non-negative)") * KT
        wind = np.array([speed * math.sin(to), speed * math.cos(to)])

    states = [own, *intr]
    _synchronise(states, geodetic)
    gs = np.array([a["gs"] for a in states])
    trk = np.array([a["trk"] for a in states])
    vx = gs * np.sin(trk) - wind[0]
    vy = gs * np.cos(trk) - wind[1]
    vz = np.array([a["vs"] for a in states])
    alt = np.array([a["alt"] for a in states])
    if geodetic:
        s, v = project_states(
            own["lat"],
            own["lon"],
            [a["lat"] for a in states],
            [a["lon"] for a in states],
            alt,
            vx,
            vy,
            vz,
        )
    else:
        s = np.stack([[a["x"] for a in states], [a["y"] for a in states], alt], axis=-1)
        v = np.stack([vx, vy, vz], axis=-1)
    return Encounter(
        own_id=own["id"],
        own_s=s[0],
        own_v=v[0],
        intr_ids=tuple(a["id"] for a in intr),
        intr_s=s[1:].reshape(-1, 3),
        intr_v=v[1:].reshape(-1, 3),
        alerter=np.array([a["alerter"] for a in intr], dtype=np.int64),
        wind_v=wind,
        geodetic=geodetic,
    )
