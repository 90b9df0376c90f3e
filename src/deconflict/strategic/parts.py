"""The parts of an operation inside the cells two parties meet in: metres, seconds, degrees.

After the private set intersection, each party may show the other the exact geometry of its
volumes *inside the meeting cells only*, so both can run the exact check and drop the cells'
false positives. ``clip_parts`` cuts each volume to the meeting cells it covers: its footprint
to those cells widened by what its cover was widened by (``strategic.cells``), its altitudes to
their bands widened by half the vertical minimum, its times to their slots.

Why no conflict is lost: where the exact check finds points x of A and y of B closer than the
minima, the cell of their midpoint (and common altitude and time) is a meeting cell covered by
both volumes (``strategic.cells``), and x is within the widening of that cell, y likewise; so x
stays in A's part and y in B's. Every part is inside its volume (a footprint is cut, never
grown, except that a circle becomes its circumscribed polygon where it is cut), so the parts
never show more than the volume.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely

from deconflict.geo import ecef_m
from deconflict.strategic import cells as cl
from deconflict.strategic import frames
from deconflict.strategic import volumes as vol
from deconflict.strategic.model import Buffers, Volume4D, parse_volume
from deconflict.units import FT

_MAX_PART_VERTICES = 2_000


def _ring(geom: Any, lat0: float, lon0: float) -> list[list[float]]:
    xy = np.asarray(shapely.get_coordinates(geom.exterior))
    lat, lon = frames.unproject(xy, lat0, lon0)
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]


def clip_parts(
    volumes: Sequence[Volume4D], meet: Set[cl.Cell], buffers: Buffers, grid: cl.Grid
) -> list[Volume4D]:
    """The parts of ``volumes`` inside the meeting cells (none where a volume meets none)."""
    if not meet or not volumes:
        return []
    a = vol.compile_volumes(volumes)
    out: list[Volume4D] = []
    half_v = buffers.vertical_m / 2.0
    for i, v in enumerate(volumes):
        mine = cl.volume_cover(v, buffers, grid, a, i) & meet
        if not mine:
            continue
        hz = sorted({(r, c) for r, c, _, _ in mine})
        b_lo = min(b for _, _, b, _ in mine)
        b_hi = max(b for _, _, b, _ in mine)
        s_lo = min(s for _, _, _, s in mine)
        s_hi = max(s for _, _, _, s in mine)
        lo, hi = v.altitude_lower.m, v.altitude_upper.m
        lo2 = max(lo, b_lo * grid.band_m - half_v)
        hi2 = min(hi, (b_hi + 1) * grid.band_m + half_v)
        if lo2 >= hi2:
            lo2, hi2 = lo, hi
        t0, t1 = v.start_s, v.end_s
        t0b = max(t0, s_lo * grid.slot_s)
        t1b = min(t1, (s_hi + 1) * grid.slot_s)
        if t0b >= t1b:
            t0b, t1b = t0, t1
        lat0, lon0 = float(a.centre_lat_deg[i]), float(a.centre_lon_deg[i])
        verts = a.vertices_ecef_m[i]
        outline = cl.outline(v, a.centre_ecef_m[i], verts, lat0, lon0)
        rows = np.array([r for r, _ in hz], dtype=np.int64)
        secs = np.array([c for _, c in hz], dtype=np.int64)
        pts, sag = cl.cell_rings(grid, rows, secs)
        xy = frames.project_ecef(ecef_m(pts[0], pts[1]), lat0, lon0)
        k, m = xy.shape[:2]
        cellp = shapely.polygons(
            shapely.linearrings(xy.reshape(-1, 2), indices=np.repeat(np.arange(k), m))
        )
        dist = cl.widening_m(verts, float(a.reach_m[i]), buffers)
        region = shapely.buffer(
            shapely.union_all(cellp), (dist + float(sag.max())) * cl.ROUND, quad_segs=16
        )
        if v.circle is not None and shapely.contains(region, outline):
            pieces: list[Any] = []
            footprints: list[dict[str, Any]] = [{"circle": v.circle.model_dump()}]
        else:
            clipped = shapely.intersection(outline, region)
            if shapely.get_num_coordinates(clipped) > _MAX_PART_VERTICES:
                clipped = shapely.intersection(outline, shapely.convex_hull(region))
            pieces = [g for g in shapely.get_parts(clipped) if g.geom_type == "Polygon"]
            footprints = [{"polygon": [_ring(g, lat0, lon0)]} for g in pieces if g.area > 0]
        for fp in footprints:
            out.append(
                parse_volume(
                    {
                        **fp,
                        "altitude_lower": {"value": lo2 / FT, "units": "ft"},
                        "altitude_upper": {"value": hi2 / FT, "units": "ft"},
                        "time_start": _iso(t0b),
                        "time_end": _iso(t1b),
                    }
                )
            )
    return out


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat()
