"""Need-to-know views of other parties' operations: degrees, feet and UTC at the edge.

A party sees another party's operation only where it intersects one of its own: for every pair
of volumes (the other's, the viewer's) whose times overlap and whose altitude ranges come within
the vertical minimum, the part of the other's footprint inside the viewer's footprint widened by
the horizontal minimum, the part of the other's altitude range inside the viewer's widened by the
vertical minimum, and the overlap of their times. Beside these parts the view holds only the
operation's id, version and token (needed for proof of awareness) and how to reach its owner:
no aircraft, no priority, no state, no full volume.

The view exists exactly where the two operations conflict (``OperationIndex.query``). The
widened footprint is shapely's polygonal buffer (256 segments per circle), which lies inside the
exact one (by at most 0.008 % of the buffer: 0.7 m at 5 NM), so a part never reaches outside the
viewer's buffered volume; a conflict closer than that to the edge of the minimum gets a part with
an empty polygon (its altitude and time bounds still given), so the token is still disclosed.

What a view is computed against is bounded (``DisclosureBound``): a party's accepted operations
whatever their size, but a declaration not yet accepted only while its footprints add up to at
most a given area and it lasts at most a given time, so a party cannot map everyone's
operations with one huge probe (ASTM F3548 answers 413 to an area too large, as here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import shapely
from pydantic import AwareDatetime, BaseModel, ConfigDict

from deconflict.strategic import frames
from deconflict.strategic import volumes as vol
from deconflict.strategic.index import OperationIndex
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation
from deconflict.strategic.rules import AwarenessGap
from deconflict.units import FT

_QUAD_SEGS = 64


def footprint_area_m2(op: Operation) -> float:
    """The areas (m²) of an operation's footprints added up (each in the tangent plane at its
    own centre; overlapping volumes count twice: an upper bound of the area covered)."""
    a = vol.compile_volumes(op.volumes)
    total = 0.0
    for i in range(len(a)):
        if a.vertices_ecef_m[i] is None:
            total += float(np.pi * a.radius_m[i] ** 2)
            continue
        lat0, lon0 = float(a.centre_lat_deg[i]), float(a.centre_lon_deg[i])
        poly = vol.footprints(a.vertices_ecef_m[i : i + 1], a.centre_ecef_m[i : i + 1], lat0, lon0)
        total += float(shapely.area(poly[0]))
    return total


@dataclass(frozen=True, slots=True)
class DisclosureBound:
    """The largest declaration others' operations are shown to (m², s); see the module."""

    max_area_m2: float
    max_duration_s: float

    def excess(self, op: Operation) -> str | None:
        """What of ``op`` is beyond the bound, in words (None: within it)."""
        area = footprint_area_m2(op)
        duration = op.time_end.timestamp() - op.time_start.timestamp()
        over = []
        if area > self.max_area_m2:
            over.append(
                f"its footprints cover {area / 1e6:,.0f} km² (the bound is "
                f"{self.max_area_m2 / 1e6:,.0f} km², setting disclosure_max_area_km2)"
            )
        if duration > self.max_duration_s:
            over.append(
                f"it lasts {duration / 3600:,.0f} h (the bound is {self.max_duration_s / 3600:,.0f}"
                " h, setting disclosure_max_duration_s)"
            )
        return "; ".join(over) or None


class ViewPart(BaseModel):
    """One intersecting part: a GeoJSON polygon (exterior ring, then any holes; ``[lon, lat]``;
    empty where the conflict is at the very edge of the minimum), altitude bounds in feet, a time
    interval, and which of the viewer's volumes it lies in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    polygon: tuple[tuple[tuple[float, float], ...], ...]
    altitude_lower_ft: float
    altitude_upper_ft: float
    time_start: AwareDatetime
    time_end: AwareDatetime
    viewer_operation_id: str
    viewer_volume: int


class OperationView(BaseModel):
    """What a viewer may know of another party's operation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operation_id: str
    owner: str
    contact: str
    version: int
    token: str
    parts: tuple[ViewPart, ...]


def _rings(
    poly: shapely.Polygon, lat0: float, lon0: float
) -> tuple[tuple[tuple[float, float], ...], ...]:
    out = []
    for ring in (poly.exterior, *poly.interiors):
        lat, lon = frames.unproject(np.asarray(ring.coords), lat0, lon0)
        out.append(tuple((float(x), float(y)) for x, y in zip(lon, lat, strict=True)))
    return tuple(out)


def _time(s: float) -> datetime:
    return datetime.fromtimestamp(s, tz=UTC)


def intersection_view(
    other: Operation, viewer_ops: Sequence[Operation], buffers: Buffers = NO_BUFFERS
) -> OperationView | None:
    """The viewer's view of ``other``, or ``None`` where it intersects none of ``viewer_ops``."""
    b = vol.compile_volumes(other.volumes)
    parts: list[ViewPart] = []
    for vop in viewer_ops:
        a = vol.compile_volumes(vop.volumes)
        for i in range(len(a)):
            rows = vol.prefilter(a, i, b, buffers)
            if len(rows) == 0:
                continue
            own, theirs = vol.shapes_at(a, i, b, rows)  # the same shapes the test compares
            hit = vol.shapes_conflict(own, theirs, a.radius_m[i] + b.radius_m[rows], buffers)
            rows, theirs = rows[hit], theirs[hit]
            if len(rows) == 0:
                continue
            lat0, lon0 = float(a.centre_lat_deg[i]), float(a.centre_lon_deg[i])
            reach = buffers.horizontal_m + a.radius_m[i]
            widened = shapely.buffer(own, reach, quad_segs=_QUAD_SEGS) if reach > 0 else own
            theirs = np.where(
                b.radius_m[rows] > 0,
                shapely.buffer(theirs, b.radius_m[rows], quad_segs=_QUAD_SEGS),
                theirs,
            )
            cut = shapely.intersection(widened, theirs)
            lo_m = a.lower_m[i] - buffers.vertical_m
            hi_m = a.upper_m[i] + buffers.vertical_m
            for j, geom in zip(rows.tolist(), cut, strict=True):
                polys = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon)]
                polys = [p for p in polys if p.area > 0.0]
                z0, z1 = max(b.lower_m[j], lo_m), min(b.upper_m[j], hi_m)
                t0, t1 = max(b.start_s[j], a.start_s[i]), min(b.end_s[j], a.end_s[i])
                for rings in [_rings(p, lat0, lon0) for p in polys] or [()]:
                    parts.append(
                        ViewPart(
                            polygon=rings,
                            altitude_lower_ft=float(z0) / FT,
                            altitude_upper_ft=float(z1) / FT,
                            time_start=_time(float(t0)),
                            time_end=_time(float(t1)),
                            viewer_operation_id=vop.id,
                            viewer_volume=i,
                        )
                    )
    if not parts:
        return None
    return OperationView(
        operation_id=other.id,
        owner=other.owner,
        contact=other.contact,
        version=other.version,
        token=other.token,
        parts=tuple(parts),
    )


def visible_operations(
    viewer: str, viewer_ops: Iterable[Operation], index: OperationIndex
) -> list[OperationView]:
    """Views of every other party's indexed operation that intersects one of ``viewer_ops``
    (with the index's buffers), sorted by operation id."""
    mine = [op for op in viewer_ops if op.owner == viewer]
    ids: set[str] = set()
    for op in mine:
        ids.update(c.operation_id for c in index.query(op))
    views = []
    for oid in sorted(ids):
        other = index.get(oid)
        if other.owner == viewer:
            continue
        view = intersection_view(other, mine, index.buffers)
        if view is not None:
            views.append(view)
    return views


def missing_views(
    gaps: Iterable[AwarenessGap], candidate: Operation, index: OperationIndex
) -> list[OperationView]:
    """The body of a 409 for missing proof of awareness: for each operation whose token is
    missing or stale, what the candidate's owner may see of it (its intersection with the
    candidate, its owner's contact, its current version and token), as InterUSS returns the
    missing references with their OVNs."""
    views = []
    for gap in gaps:
        view = intersection_view(index.get(gap.operation_id), [candidate], index.buffers)
        if view is not None:
            views.append(view)
    return views
