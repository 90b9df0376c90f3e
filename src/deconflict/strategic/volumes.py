"""Volumes as arrays, and the exact pairwise conflict test: metres, seconds since the epoch.

``compile_volumes`` turns ``Volume4D`` models into rows of numpy arrays: centre (ECEF and
degrees), a bounding reach around it, circle radius, altitude bounds, time bounds, and the ECEF
vertices of each polygon. ``prefilter`` keeps the rows that may conflict (times, altitudes,
bounding spheres in ECEF); ``horizontal_conflict`` is the exact test: every pair is compared in
the tangent plane at the first volume's centre (``deconflict.strategic.frames``), circles as
points whose radius adds to the horizontal minimum, polygons by shapely's exact distance.
A pair conflicts where

    horizontal gap < horizontal minimum − tolerance   (minimum 0, two polygons: interiors meet)
    and vertical gap < vertical minimum − tolerance   (minimum 0: overlap deeper than tolerance)
    and the time intervals overlap (start of each before the end of the other).

The gap is between the volumes themselves: widening one of them by the minimum (or both by half
of it) makes them overlap. Aircraft anywhere inside each volume are then never closer than the
minimum unless the volumes conflict. Tolerance is 1 cm (InterUSS's intersection precision).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from deconflict.geo import F64, ecef_m, enu_basis
from deconflict.strategic import frames
from deconflict.strategic.model import Buffers, Volume4D

I64 = NDArray[np.int64]
B = NDArray[np.bool_]

#: Slack on bounding reaches: tangent-plane scale (≤ 0.2 % within the size limit) and rounding.
_REACH_SLACK = 1.003
_REACH_PAD_M = 10.0


@dataclass(frozen=True, slots=True)
class VolumeArrays:
    """Rows of compiled volumes (one per volume)."""

    centre_ecef_m: F64  # (n, 3)
    centre_lat_deg: F64
    centre_lon_deg: F64
    reach_m: F64  # every point of the footprint is within this chord of the centre
    radius_m: F64  # circle radius; 0 for polygons
    lower_m: F64
    upper_m: F64
    start_s: F64
    end_s: F64
    vertices_ecef_m: Sequence[F64 | None]  # closed ring of each polygon; None for circles

    def __len__(self) -> int:
        return len(self.reach_m)


def compile_volumes(volumes: Sequence[Volume4D]) -> VolumeArrays:
    """Array rows of volumes (already validated models), vectorised over all their vertices."""
    n = len(volumes)
    is_poly = np.array([v.polygon is not None for v in volumes], dtype=bool)
    radius = np.array([0.0 if v.circle is None else v.circle.radius_m for v in volumes])
    clat = np.array([0.0 if v.circle is None else v.circle.latitude for v in volumes])
    clon = np.array([0.0 if v.circle is None else v.circle.longitude for v in volumes])
    verts: list[F64 | None] = [None] * n
    rings = [np.asarray(v.polygon[0], dtype=np.float64) for v in volumes if v.polygon is not None]
    if rings:
        counts = np.array([len(r) for r in rings])
        ends = np.cumsum(counts)
        starts = ends - counts
        p = ecef_m(*np.concatenate(rings)[:, ::-1].T)
        # centre: direction of the mean of the vertices (the closing one counted once)
        mean = (np.add.reduceat(p, starts, axis=0) - p[ends - 1]) / (counts - 1)[:, None]
        clat[is_poly], clon[is_poly] = frames.direction_deg(mean)
        centre_poly = ecef_m(clat[is_poly], clon[is_poly])
        dist = np.linalg.norm(p - np.repeat(centre_poly, counts, axis=0), axis=1)
        reach_poly = np.maximum.reduceat(dist, starts)
        for k, i in enumerate(np.flatnonzero(is_poly).tolist()):
            verts[i] = p[starts[k] : ends[k]]
    centre = ecef_m(clat, clon)
    reach = radius.copy()
    if rings:
        reach[is_poly] = reach_poly
    return VolumeArrays(
        centre_ecef_m=centre,
        centre_lat_deg=clat,
        centre_lon_deg=clon,
        reach_m=reach * _REACH_SLACK + _REACH_PAD_M,
        radius_m=radius,
        lower_m=np.array([v.altitude_lower.m for v in volumes], dtype=np.float64),
        upper_m=np.array([v.altitude_upper.m for v in volumes], dtype=np.float64),
        start_s=np.array([v.start_s for v in volumes], dtype=np.float64),
        end_s=np.array([v.end_s for v in volumes], dtype=np.float64),
        vertices_ecef_m=verts,
    )


def footprints(
    vertices_ecef_m: Sequence[F64 | None],
    centre_ecef_m: F64,
    lat0_deg: float,
    lon0_deg: float,
) -> NDArray[np.object_]:
    """Shapely footprints in the tangent plane at one centre: polygons, or points for circles."""
    n = len(vertices_ecef_m)
    out = np.empty(n, dtype=object)
    is_poly = np.array([v is not None for v in vertices_ecef_m], dtype=bool)
    if is_poly.any():
        rings = [v for v in vertices_ecef_m if v is not None]
        counts = np.array([len(r) for r in rings])
        xy = frames.project_ecef(np.concatenate(rings), lat0_deg, lon0_deg)
        lr = shapely.linearrings(xy, indices=np.repeat(np.arange(len(rings)), counts))
        out[is_poly] = shapely.polygons(lr)
    if (~is_poly).any():
        xy = frames.project_ecef(centre_ecef_m[~is_poly], lat0_deg, lon0_deg)
        out[~is_poly] = shapely.points(xy)
    return out


def prefilter(a: VolumeArrays, i: int, b: VolumeArrays, buffers: Buffers) -> I64:
    """Rows of ``b`` that may conflict with row ``i`` of ``a``: time, altitude, bounding spheres.

    Staged: the time test runs over every row, the others over the survivors only.
    """
    rows = np.flatnonzero((b.start_s < a.end_s[i]) & (b.end_s > a.start_s[i]))
    lo, hi = b.lower_m[rows], b.upper_m[rows]
    vgap = np.maximum(lo - a.upper_m[i], a.lower_m[i] - hi)
    rows = rows[vgap < buffers.vertical_m - buffers.tolerance_m]
    d = b.centre_ecef_m[rows] - a.centre_ecef_m[i]
    lim = a.reach_m[i] + b.reach_m[rows] + buffers.horizontal_m
    keep = np.einsum("ij,ij->i", d, d) < lim * lim
    return np.asarray(rows[keep], dtype=np.int64)


def horizontal_conflict(a: VolumeArrays, i: int, b: VolumeArrays, rows: I64, buffers: Buffers) -> B:
    """Exact horizontal test of row ``i`` of ``a`` against prefiltered ``rows`` of ``b``."""
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    own, other = shapes_at(a, i, b, rows)
    return shapes_conflict(own, other, a.radius_m[i] + b.radius_m[rows], buffers)


def shapes_at(
    a: VolumeArrays, i: int, b: VolumeArrays, rows: I64
) -> tuple[shapely.Geometry, NDArray[np.object_]]:
    """Footprints of row ``i`` of ``a`` and of ``rows`` of ``b``, in the tangent plane at row
    ``i``'s centre (what ``horizontal_conflict`` compares)."""
    lat0, lon0 = float(a.centre_lat_deg[i]), float(a.centre_lon_deg[i])
    own = footprints(a.vertices_ecef_m[i : i + 1], a.centre_ecef_m[i : i + 1], lat0, lon0)[0]
    other = footprints([b.vertices_ecef_m[j] for j in rows], b.centre_ecef_m[rows], lat0, lon0)
    return own, other


def shapes_conflict(own: Any, other: NDArray[np.object_], reach_m: F64, buffers: Buffers) -> B:
    """The exact horizontal test of footprints in one plane (``own``: one shape, or one per
    ``other``); ``reach_m``: circle radii added up, per pair."""
    dist = shapely.distance(own, other)
    if buffers.horizontal_m > 0:
        return np.asarray(dist < buffers.horizontal_m + reach_m - buffers.tolerance_m)
    out = dist < reach_m - buffers.tolerance_m
    both_poly = reach_m == 0.0
    if both_poly.any():
        mine = own[both_poly] if isinstance(own, np.ndarray) else own
        out[both_poly] = shapely.relate_pattern(mine, other[both_poly], "T********")
    return np.asarray(out)


def _dot(u: F64, v: F64) -> F64:
    return np.asarray(np.einsum("ij,ij->i", u, v), dtype=np.float64)


def _pair_footprints(
    arrays: VolumeArrays, rows: I64, origin: F64, east: F64, north: F64
) -> NDArray[np.object_]:
    """Footprints of ``rows`` of ``arrays``, row k in the tangent plane of frame k (``origin``,
    ``east``, ``north``: one per row): polygons, or points for circles."""
    out = np.empty(len(rows), dtype=object)
    verts = [arrays.vertices_ecef_m[j] for j in rows.tolist()]
    is_poly = np.array([v is not None for v in verts], dtype=bool)
    if is_poly.any():
        k = np.flatnonzero(is_poly)
        rings = [verts[i] for i in k.tolist()]
        counts = np.array([len(r) for r in rings])
        frame = np.repeat(k, counts)
        d = np.concatenate(rings) - origin[frame]
        xy = np.stack((_dot(d, east[frame]), _dot(d, north[frame])), axis=1)
        lr = shapely.linearrings(xy, indices=np.repeat(np.arange(len(rings)), counts))
        out[is_poly] = shapely.polygons(lr)
    if (~is_poly).any():
        k = np.flatnonzero(~is_poly)
        d = arrays.centre_ecef_m[rows[k]] - origin[k]
        out[~is_poly] = shapely.points(_dot(d, east[k]), _dot(d, north[k]))
    return out


def pairwise_conflict(a: VolumeArrays, ia: I64, b: VolumeArrays, ib: I64, buffers: Buffers) -> B:
    """The exact horizontal test of ``horizontal_conflict`` for pairs (row ``ia[k]`` of ``a``,
    row ``ib[k]`` of ``b``), each in the tangent plane at its ``a`` row's centre, vectorised
    over all the pairs (for pairs already prefiltered)."""
    if len(ia) == 0:
        return np.zeros(0, dtype=bool)
    east, north, _ = enu_basis(a.centre_lat_deg[ia], a.centre_lon_deg[ia])
    origin = ecef_m(a.centre_lat_deg[ia], a.centre_lon_deg[ia])
    own = _pair_footprints(a, ia, origin, east, north)
    other = _pair_footprints(b, ib, origin, east, north)
    return shapes_conflict(own, other, a.radius_m[ia] + b.radius_m[ib], buffers)


def conflict_pairs(a: VolumeArrays, b: VolumeArrays, buffers: Buffers) -> tuple[I64, I64]:
    """All conflicting pairs (row of ``a``, row of ``b``), vectorised over ``b``."""
    ia: list[I64] = []
    ib: list[I64] = []
    for i in range(len(a)):
        rows = prefilter(a, i, b, buffers)
        hit = rows[horizontal_conflict(a, i, b, rows, buffers)]
        ia.append(np.full(len(hit), i, dtype=np.int64))
        ib.append(hit)
    if not ia:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(ia), np.concatenate(ib)
