"""Area proximity: which aircraft are in, or predicted within a horizon to enter, a restricted
area (degrees, ft at the edge; seconds).

Each aircraft is extrapolated in a straight line at its ground velocity and vertical rate, at
``step_s`` intervals up to ``horizon_s``; an area is entered at the first sample inside its
polygon and between its floor and ceiling. Polygons are tested in longitude/latitude (fine for
areas of a few hundred km away from the poles and the antimeridian).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

F64 = npt.NDArray[np.float64]
EARTH_R_M = 6_371_008.8


@dataclass(frozen=True)
class RestrictedArea:
    id: str
    name: str
    polygon: tuple[tuple[float, float], ...]  # (lat, lon)
    floor_ft: float
    ceiling_ft: float


def area_entries(
    areas: Sequence[RestrictedArea],
    lat_deg: F64,
    lon_deg: F64,
    alt_ft: F64,
    gs_kt: F64,
    track_deg: F64,
    vrate_fpm: F64,
    horizon_s: float = 120.0,
    step_s: float = 10.0,
) -> list[tuple[int, str, float]]:
    """(aircraft index, area id, time to entry s — 0 if inside now) for each aircraft and area."""
    if not areas or lat_deg.size == 0:
        return []
    t = np.arange(0.0, horizon_s + 1e-9, step_s)
    v = np.nan_to_num(gs_kt) * 1852.0 / 3600.0
    trk = np.radians(np.nan_to_num(track_deg))
    north = (v * np.cos(trk))[:, None] * t[None, :]
    east = (v * np.sin(trk))[:, None] * t[None, :]
    lat = lat_deg[:, None] + np.degrees(north / EARTH_R_M)
    lon = lon_deg[:, None] + np.degrees(east / (EARTH_R_M * np.cos(np.radians(lat_deg))[:, None]))
    alt = alt_ft[:, None] + np.nan_to_num(vrate_fpm)[:, None] * t[None, :] / 60.0
    out: list[tuple[int, str, float]] = []
    for area in areas:
        poly = shapely.Polygon([(lo, la) for la, lo in area.polygon])
        shapely.prepare(poly)
        inside = (
            shapely.contains_xy(poly, lon, lat) & (alt >= area.floor_ft) & (alt <= area.ceiling_ft)
        )
        hit = inside.any(axis=1)
        first = np.argmax(inside, axis=1)
        for i in np.flatnonzero(hit):
            out.append((int(i), area.id, float(t[first[i]])))
    return out
