"""Unit constants. Everything inside Deconflict is SI (m, m/s, s, rad); these convert at the edges.

Multiply a value in the named unit by the constant to get SI: ``altitude_ft * FT`` is metres.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Protocol

FT: Final = 0.3048  # m per foot
NM: Final = 1852.0  # m per nautical mile
KT: Final = NM / 3600.0  # m/s per knot
FPM: Final = FT / 60.0  # m/s per foot per minute
G0: Final = 9.80665  # m/s², standard gravity


def epoch_s(value: datetime | str) -> float:
    """Seconds since 1970-01-01 UTC of a datetime or an ISO-8601 string; a time without a zone
    is UTC (the convention of DESIGN.md's edges), never the machine's local time. A string that is
    not ISO-8601 raises ValueError."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


class Kinematics(Protocol):
    """An aircraft's position and velocity in SI (a conflict notice's ``AircraftState``, an
    identification request's ``TrackSnapshot``)."""

    @property
    def latitude_deg(self) -> float: ...
    @property
    def longitude_deg(self) -> float: ...
    @property
    def altitude_m(self) -> float: ...
    @property
    def east_mps(self) -> float: ...
    @property
    def north_mps(self) -> float: ...
    @property
    def up_mps(self) -> float: ...


def edge_kinematics(state: Kinematics) -> dict[str, dict[str, float]]:
    """An aircraft's position and velocity as a party receives them, in DESIGN.md's edge units:
    ``position`` {``latitude``, ``longitude`` (deg), ``altitude`` (ft)}, ``velocity``
    {``groundspeed`` (kt), ``track`` (deg true), ``vertical_rate`` (ft/min)}."""
    east, north = state.east_mps, state.north_mps
    return {
        "position": {
            "latitude": state.latitude_deg,
            "longitude": state.longitude_deg,
            "altitude": state.altitude_m / FT,
        },
        "velocity": {
            "groundspeed": math.hypot(east, north) / KT,
            "track": math.degrees(math.atan2(east, north)) % 360.0,
            "vertical_rate": state.up_mps / FPM,
        },
    }


def si_kinematics(
    position: Mapping[str, Any], velocity: Mapping[str, Any]
) -> tuple[float, float, float, float, float, float]:
    """``edge_kinematics`` read back in SI: latitude, longitude (deg), altitude (m), east, north,
    up (m/s). Also reads the SI payloads written before (``altitude_m``, ``east_mps``, ...)."""
    lat, lon = float(position["latitude"]), float(position["longitude"])
    if "altitude_m" in position:
        alt_m = float(position["altitude_m"])
    else:
        alt_m = float(position["altitude"]) * FT
    if "east_mps" in velocity:
        east, north = float(velocity["east_mps"]), float(velocity["north_mps"])
        return lat, lon, alt_m, east, north, float(velocity["up_mps"])
    speed = float(velocity["groundspeed"]) * KT
    rad = math.radians(float(velocity["track"]))
    up = float(velocity["vertical_rate"]) * FPM
    return lat, lon, alt_m, speed * math.sin(rad), speed * math.cos(rad), up
