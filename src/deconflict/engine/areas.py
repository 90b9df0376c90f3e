"""Area proximity for the live engine: which aircraft are in, or predicted within a horizon to
enter, a restricted area (degrees, ft, kt and ft/min at the edge, as the scene holds them;
seconds).

The check is ``strategic.constraints.area_proximity`` — the one used for operations and the
REST API: each aircraft flies straight at its ground velocity and vertical rate, sampled every
second in each area's own tangent plane, so it holds across the antimeridian and near the poles.
An area is a ``Constraint`` of kind ``restricted``, always active, from its floor (included) to
its ceiling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deconflict.strategic.constraints import (
    ALWAYS_END,
    ALWAYS_START,
    Constraint,
    ConstraintKind,
    ConstraintSet,
    area_proximity,
)
from deconflict.strategic.model import parse_volume
from deconflict.units import FPM, FT, KT

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RestrictedArea:
    id: str
    name: str
    polygon: tuple[tuple[float, float], ...]  # (lat, lon)
    floor_ft: float
    ceiling_ft: float

    def constraint(self) -> Constraint:
        """The area as an always-active restricted ``Constraint``."""
        volume = parse_volume(
            {
                "polygon": [[[lon, lat] for lat, lon in self.polygon]],
                "altitude_lower": {"value": self.floor_ft, "units": "ft"},
                "altitude_upper": {"value": self.ceiling_ft, "units": "ft"},
                "time_start": ALWAYS_START,
                "time_end": ALWAYS_END,
            }
        )
        return Constraint(id=self.id, name=self.name, kind=ConstraintKind.RESTRICTED, volume=volume)


def compile_areas(areas: Sequence[RestrictedArea]) -> ConstraintSet:
    """The areas compiled once, for ``area_entries`` at every tick."""
    return ConstraintSet(a.constraint() for a in areas)


def area_entries(
    areas: ConstraintSet,
    lat_deg: F64,
    lon_deg: F64,
    alt_ft: F64,
    gs_kt: F64,
    track_deg: F64,
    vrate_fpm: F64,
    now_s: float,
    horizon_s: float = 120.0,
) -> list[tuple[int, str, float]]:
    """(aircraft index, area id, time to entry s — 0 if inside now) for each aircraft and area
    it is in or will enter within ``horizon_s``; ``now_s`` seconds since the epoch."""
    if len(areas) == 0 or lat_deg.size == 0:
        return []
    found = area_proximity(
        lat_deg,
        lon_deg,
        alt_ft * FT,
        gs_kt * KT,
        track_deg,
        vrate_fpm * FPM,
        now_s,
        areas,
        horizon_s=horizon_s,
    )
    ids = [c.id for c in areas.constraints]
    return [
        (int(i), ids[int(c)], float(t))
        for i, c, t in zip(found.track, found.constraint, found.time_to_entry_s, strict=True)
    ]
