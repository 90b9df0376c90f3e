"""One kinematic record: where an aircraft is and how it moves, in SI.

Position in WGS84 degrees and metres of altitude, velocity in east/north/up metres per second.
Shared by every room that hands an aircraft's state to another party (the hotline's conflict
notices, the identification requests), like ``units`` and ``errors``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self

from deconflict.units import edge_kinematics


@dataclass(frozen=True, slots=True)
class Kinematics:
    """Position (degrees, m) and velocity (m/s east, north, up) of one aircraft."""

    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    east_mps: float
    north_mps: float
    up_mps: float

    @classmethod
    def from_ground_track(
        cls,
        latitude_deg: float,
        longitude_deg: float,
        altitude_m: float,
        groundspeed_mps: float,
        track_deg: float,
        vertical_rate_mps: float,
        *more: Any,
        **named: Any,
    ) -> Self:
        """From ground speed (m/s) and track angle (degrees true); ``more`` and ``named``: a
        subclass's further fields (``TrackSnapshot``'s ``history``)."""
        rad = math.radians(track_deg)
        return cls(
            latitude_deg,
            longitude_deg,
            altitude_m,
            groundspeed_mps * math.sin(rad),
            groundspeed_mps * math.cos(rad),
            vertical_rate_mps,
            *more,
            **named,
        )

    def payload(self) -> dict[str, Any]:
        """Position and velocity as a party receives them, in the edge units
        (``units.edge_kinematics``: altitude ft, groundspeed kt, track deg, ft/min)."""
        return edge_kinematics(self)
