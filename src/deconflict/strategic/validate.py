"""Checks of volume geometry, with messages that name the problem and the fix (degrees, metres).

Polygons are GeoJSON-like: one exterior ring of ``[longitude, latitude]`` vertices, closed or not.
The rules (each broken one raises ``InputError``):

- at most ``MAX_POLYGON_VERTICES`` vertices per polygon (checked before anything else is parsed);
- every coordinate finite; latitude within ±90°; longitude within ±360° (so a ring crossing the
  antimeridian may be written 179.9 → 180.1 as well as 179.9 → −179.9: both are the same points);
- at least three distinct vertices, a non-zero area (with ``strict``, also as longitude/latitude
  pairs: three points on one parallel are a sliver in the tangent plane, yet no area as
  declared), no
  crossing or touching edges (shapely's ``is_valid_reason``, located in degrees);
- no holes (ASTM F3548 polygons have none): split the volume instead;
- no vertex farther than ``MAX_VOLUME_RADIUS_M`` from the polygon's centre (split bigger ones).
- circles of at least ``MIN_CIRCLE_RADIUS_M``.

Declared times (``epoch_seconds``, ``check_declared_time``): a number is seconds since the
Unix epoch (a negative one, or one that looks like milliseconds, is refused), and a time lies
between 1970 and ``MAX_YEARS_AHEAD`` years after the service's clock.

Winding and the antimeridian, two contracts. RFC 7946 makes writers give counter-clockwise
exterior rings (§3.1.6) and cut any geometry crossing the antimeridian in two (§3.1.9), but tells
readers not to reject clockwise rings. ``strict=True`` is the contract for what a party declares
through the API: a clockwise ring, an edge crossing ±180°, or a longitude beyond ±180° is refused
with the fix, so what was declared is exactly what is stored. The default (lenient) reads data
files (airspace constraints from GeoJSON or ``traffic``): a clockwise ring is reversed, and a ring
crossing the antimeridian is one polygon across it. Either way every stored ring is
counter-clockwise and closed (first vertex repeated at the end).
Edges are straight lines in the tangent plane at the polygon's centre (close to great circles).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import shapely

from deconflict.errors import InputError
from deconflict.geo import ecef_m
from deconflict.strategic import frames

MAX_POLYGON_VERTICES: Final = 10_000
MAX_OPERATION_VERTICES: Final = 20_000
MAX_VOLUMES: Final = 200
MAX_VOLUME_RADIUS_M: Final = 300_000.0
MIN_CIRCLE_RADIUS_M: Final = 1.0
#: Declared times lie between the Unix epoch and this many years after the service's clock.
MAX_YEARS_AHEAD: Final = 10
#: A time given as a number at or above this (year 5138 in seconds) is taken for milliseconds.
MILLISECONDS_FROM: Final = 1e11

Ring = tuple[tuple[float, float], ...]

_LOCATION = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\]")


def count_raw_vertices(value: Any) -> int:
    """Number of vertices in a raw (unparsed) GeoJSON polygon ``coordinates`` list; 0 if unsure.

    Raises ``InputError`` for a bare ring (a list of positions not wrapped in a list of rings).
    """
    if not isinstance(value, list | tuple) or not value:
        return 0
    first = value[0]
    if isinstance(first, list | tuple) and first and isinstance(first[0], int | float):
        raise InputError(
            "polygon is a bare list of positions; GeoJSON Polygon coordinates are a list of "
            "rings: wrap the ring in one more list, [[[lon, lat], ...]]"
        )
    return sum(len(r) for r in value if isinstance(r, list | tuple))


def check_vertex_count(n: int, where: str = "polygon") -> None:
    if n > MAX_POLYGON_VERTICES:
        raise InputError(
            f"{where} has {n:,} vertices; the limit is {MAX_POLYGON_VERTICES:,} per polygon: "
            "simplify the outline or split it into several volumes"
        )


def _located(reason: str, lat0: float, lon0: float) -> str:
    m = _LOCATION.search(reason)
    if m is None:
        return reason
    lat, lon = frames.unproject([float(m.group(1)), float(m.group(2))], lat0, lon0)
    return (
        f"{reason[: m.start()].strip()} near latitude {float(lat):.6f}, longitude {float(lon):.6f}"
    )


def _check_no_crossing(lon: np.ndarray) -> None:
    """RFC 7946 §3.1.9: no longitude beyond ±180° and no edge crossing the antimeridian."""
    beyond = np.flatnonzero(np.abs(lon) > 180.0)
    if beyond.size:
        i = int(beyond[0])
        raise InputError(
            f"polygon vertex {i} has longitude {lon[i]} beyond ±180°, so the polygon crosses the "
            "antimeridian: give longitudes within ±180° and cut the polygon at 180° into two "
            "volumes, one on each side (RFC 7946 §3.1.9)"
        )
    jump = np.flatnonzero(np.abs(np.diff(np.append(lon, lon[0]))) > 180.0)
    if jump.size:
        i = int(jump[0])
        j = (i + 1) % len(lon)
        raise InputError(
            f"polygon edge from vertex {i} (longitude {lon[i]}) to vertex {j} (longitude "
            f"{lon[j]}) crosses the antimeridian: cut the polygon at 180° into two volumes, one "
            "on each side (RFC 7946 §3.1.9)"
        )


def normalise_ring(rings: Sequence[Sequence[Sequence[float]]], *, strict: bool = False) -> Ring:
    """Check a GeoJSON polygon (list of rings) and return its exterior ring, closed and CCW.

    ``strict``: refuse clockwise rings and antimeridian crossings instead of handling them
    (see the module's docstring)."""
    if len(rings) == 0:
        raise InputError("polygon has no ring: give one ring of [longitude, latitude] vertices")
    if len(rings) > 1:
        raise InputError(
            f"polygon has {len(rings) - 1} hole(s); operation and constraint polygons must be a "
            "single exterior ring: split the volume around the hole"
        )
    ring = rings[0]
    check_vertex_count(len(ring))
    for i, v in enumerate(ring):
        if len(v) not in (2, 3):
            raise InputError(
                f"polygon vertex {i} has {len(v)} numbers; give [longitude, latitude] "
                "(GeoJSON order)"
            )
    xy = np.array([[float(v[0]), float(v[1])] for v in ring], dtype=np.float64).reshape(-1, 2)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"polygon vertex {i} is not a finite number ({ring[i]!r}): NaN and infinity are not "
            "coordinates"
        )
    lon, lat = xy[:, 0], xy[:, 1]
    if (np.abs(lat) > 90.0).any():
        i = int(np.flatnonzero(np.abs(lat) > 90.0)[0])
        raise InputError(
            f"polygon vertex {i} has latitude {lat[i]} beyond ±90°; GeoJSON order is "
            "[longitude, latitude]: check that they are not swapped"
        )
    if (np.abs(lon) > 360.0).any():
        i = int(np.flatnonzero(np.abs(lon) > 360.0)[0])
        raise InputError(f"polygon vertex {i} has longitude {lon[i]} beyond ±360°")
    if len(xy) > 1 and np.array_equal(xy[0], xy[-1]):
        xy = xy[:-1]
    p = ecef_m(xy[:, 1], xy[:, 0])
    n_distinct = len(set(map(tuple, np.round(p, 3).tolist())))  # 10× faster than np.unique
    if n_distinct < 3:
        raise InputError(f"polygon has {n_distinct} distinct vertices; a polygon needs at least 3")
    if strict:
        _check_no_crossing(xy[:, 0])
    lat0, lon0 = frames.centre_deg(xy[:, 1], xy[:, 0])
    local = frames.project_ecef(p, lat0, lon0)
    radius = float(np.hypot(local[:, 0], local[:, 1]).max())
    if radius > MAX_VOLUME_RADIUS_M:
        raise InputError(
            f"polygon reaches {radius / 1000:.0f} km from its centre; the limit is "
            f"{MAX_VOLUME_RADIUS_M / 1000:.0f} km: split it into several volumes"
        )
    poly = shapely.Polygon(local)
    reason = shapely.is_valid_reason(poly)
    if reason != "Valid Geometry":
        raise InputError(
            f"polygon is invalid: {_located(reason, lat0, lon0)}; give the vertices in order "
            "around the boundary, with no edge crossing or touching another"
        )
    if poly.area <= 1.0 or (strict and _flat_in_degrees(xy, lat0)):
        raise InputError(
            "polygon has no area: its vertices lie on one line (as longitude/latitude "
            "pairs); give at least three vertices that are not in a line"
        )
    if not shapely.is_ccw(poly.exterior):
        if strict:
            raise InputError(
                "polygon ring is clockwise; exterior rings are counter-clockwise (the right-hand "
                "rule, RFC 7946 §3.1.6): give the vertices in the reverse order"
            )
        xy = xy[::-1]
    closed = np.vstack((xy, xy[:1]))
    return tuple((float(a), float(b)) for a, b in closed)


def _flat_in_degrees(xy: np.ndarray, lat0: float) -> bool:
    """Whether a ring has no area as GeoJSON draws it (longitude/latitude as a plane, near the
    ring): collinear pairs along a parallel are a sliver in the tangent plane, yet no area."""
    lon = (xy[:, 0] - xy[0, 0] + 180.0) % 360.0 - 180.0
    x = lon * math.cos(math.radians(lat0))
    extent = max(float(np.ptp(x)), float(np.ptp(xy[:, 1])))
    area = abs(float(shapely.Polygon(np.column_stack((x, xy[:, 1]))).area))
    return area <= 1e-9 * extent * extent


def check_circle(lat_deg: float, lon_deg: float, radius_m: float) -> None:
    for name, value in (("latitude", lat_deg), ("longitude", lon_deg), ("radius_m", radius_m)):
        if not math.isfinite(value):
            raise InputError(f"circle {name} is {value}: give a finite number")
    if abs(lat_deg) > 90.0:
        raise InputError(f"circle latitude {lat_deg} is beyond ±90°")
    if abs(lon_deg) > 360.0:
        raise InputError(f"circle longitude {lon_deg} is beyond ±360°")
    if radius_m < MIN_CIRCLE_RADIUS_M:
        raise InputError(
            f"circle radius_m is {radius_m}; give a positive radius of at least "
            f"{MIN_CIRCLE_RADIUS_M:g} m (a circle "
            "with no area holds no aircraft)"
        )
    if radius_m > MAX_VOLUME_RADIUS_M:
        raise InputError(
            f"circle radius is {radius_m / 1000:.0f} km; the limit is "
            f"{MAX_VOLUME_RADIUS_M / 1000:.0f} km: split it into several volumes"
        )


_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def epoch_seconds(value: Any, field: str) -> Any:
    """A declared time given as a number (or a numeric string) as a UTC datetime, read as
    seconds since 1970-01-01 UTC; anything else unchanged (ISO 8601 is parsed by the model).

    Refused with the fix: a negative number, a number that looks like milliseconds (at or above
    ``MILLISECONDS_FROM``), NaN or infinity."""
    if isinstance(value, bool) or not (
        isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value))
    ):
        return value
    x = float(value)
    if not math.isfinite(x):
        raise InputError(f"{field} is {value!r}: give seconds since 1970-01-01 UTC or ISO 8601")
    if x < 0:
        raise InputError(
            f"{field} is {value!r}, a negative number of seconds (before 1970): give seconds "
            "since 1970-01-01 UTC, or an ISO 8601 time with a time zone"
        )
    if x >= MILLISECONDS_FROM:
        raise InputError(
            f"{field} is {value!r}, which looks like milliseconds: numbers are seconds since "
            f"1970-01-01 UTC; divide by 1000 ({x / 1000:.0f}) or give an ISO 8601 time"
        )
    return datetime.fromtimestamp(x, tz=UTC)


def check_declared_time(t: datetime, field: str, now: datetime | None = None) -> datetime:
    """A declared time within [1970-01-01, ``now`` + ``MAX_YEARS_AHEAD`` years] (``now``: the
    clock's UTC time), else ``InputError`` naming the field and the bound."""
    now = datetime.now(UTC) if now is None else now
    if t < datetime(1970, 1, 1, tzinfo=UTC):
        raise InputError(
            f"{field} {t.isoformat()} is before 1970: give the operation's real time (ISO 8601 "
            "with a time zone, or seconds since 1970-01-01 UTC)"
        )
    try:
        limit = now.replace(year=now.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        limit = now.replace(year=now.year + MAX_YEARS_AHEAD, day=28)
    if t > limit:
        raise InputError(
            f"{field} {t.isoformat()} is more than {MAX_YEARS_AHEAD} years ahead (after "
            f"{limit.date().isoformat()}): declare operations with their real times, and "
            "check the year and the units"
        )
    return t
