"""The resolution the engine recommends for a predicted conflict; degrees and NM at this edge.

A turn away from the other aircraft, the manoeuvre that needs no knowledge of the other's intent
and gains distance fastest at the ranges where the alert comes (minutes before the loss): each
aircraft turns ``turn_deg`` (30°) by the rule of ``deconflict.predict.resolution`` (away from the
side on which the other would pass; right on a collision course within ``head_on_nm``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from deconflict.geo import relative_enu_m
from deconflict.predict.resolution import turn_away_sign
from deconflict.units import KT, NM


@dataclass(frozen=True, slots=True)
class Advice:
    """What one aircraft is recommended to do."""

    aircraft: str
    manoeuvre: str  # "turn right" or "turn left"
    heading_deg: float

    @property
    def text(self) -> str:
        return f"{self.manoeuvre} heading {round(self.heading_deg) % 360:03d}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "aircraft": self.aircraft,
            "manoeuvre": self.manoeuvre,
            "heading_deg": float(self.heading_deg),
            "text": self.text,
        }


def turn_away(
    aircraft: str,
    own: dict[str, float],
    other: dict[str, float],
    turn_deg: float = 30.0,
    head_on_nm: float = 0.5,
) -> Advice:
    """Advice for ``aircraft`` (``own``) against ``other``; both dicts of ``latitude``,
    ``longitude`` (deg), ``groundspeed`` (kt) and ``track`` (deg)."""
    east, north = relative_enu_m(own["latitude"], own["longitude"], other["latitude"],
                                 other["longitude"])  # fmt: skip
    rx, ry = float(east), float(north)

    def vel(s: dict[str, float]) -> tuple[float, float]:
        t = math.radians(s["track"])
        return s["groundspeed"] * KT * math.sin(t), s["groundspeed"] * KT * math.cos(t)

    (ox, oy), (tx, ty) = vel(own), vel(other)
    track = math.radians(own["track"])
    if turn_away_sign(rx, ry, tx - ox, ty - oy, track, head_on_nm * NM) > 0:
        return Advice(aircraft, "turn right", (own["track"] + turn_deg) % 360.0)
    return Advice(aircraft, "turn left", (own["track"] - turn_deg) % 360.0)
