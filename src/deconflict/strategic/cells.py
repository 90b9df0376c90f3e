"""The blind check's space-time cells: metres, seconds since the epoch, degrees at the edge.

**The grid.** Horizontally, rows of latitude of equal height ``dlat = cell_m / 111,320 m``
degrees, counted from the south pole; row ``r`` is cut into ``n_r`` equal sectors of longitude,
``n_r = max(3, floor(360 · cos(φ_r) · 111,320 / cell_m))`` where ``φ_r`` is the row's edge nearer
the equator (so a cell is about ``cell_m`` wide where it is widest), except the two polar rows,
which are one cell each (caps around the poles). Cells are numbered from longitude -180°, so the
antimeridian is an ordinary cell edge and nothing wraps. Vertically, bands of ``band_m`` from
0 m (negative altitudes get negative bands); in time, slots of ``slot_s`` from the Unix epoch,
half-open ``[k·slot_s, (k+1)·slot_s)``. A cell is (row, sector, band, slot); its item for the
private set intersection is ``"grid-id|row|sector|band|slot"`` (``Grid.ident`` names the
parameters, so two parties with different grids never match by accident).

**The cover** of a volume is every cell that meets the volume widened by half the minima: the
footprint buffered by ``h/2`` (horizontal minimum), altitudes widened by ``v/2`` (vertical),
time as it is (the exact check has no time buffer: intervals conflict where they overlap).

**No false negatives, by construction.** The exact check (``strategic.volumes``) says volumes A
and B conflict when, in the tangent plane at A's centre, some point ``x`` of A and ``y`` of B are
closer than ``h``, their altitude ranges are closer than ``v`` and their time intervals overlap.
Then the midpoint ``m = (x + y)/2`` is within ``h/2`` of both footprints; a common altitude ``z``
lies in both ranges widened by ``v/2``; a common time ``t`` lies inside both intervals. The cell
holding (m, z, t) meets both widened volumes, so it is in both covers: the covers intersect. The
cover is computed so that it can only be larger than that argument needs:

* the footprint and ``m`` are handled in the tangent plane at the volume's own centre, the frame
  the exact check uses for the candidate (``strategic.frames``). For the other volume the exact
  check uses the candidate's frame; the two frames differ in scale by less than 1 % (both
  centres lie within 900 km of ``m``: volumes are at most 300 km in radius) and a straight edge
  of length L in one frame is off a straight edge of the other by less than ``L²·D/(4R²)``
  (D: distance to the farther centre). The buffer is ``(h/2)·1.02 + L_max²·D_max/(4R²) + 10 m``:
  the 2 % and the edge term cover both;
* a cell is tested as the polygon through 8 points per edge, projected into the plane; the true
  cell edge is an arc (a parallel or a meridian) within the arc's sagitta of that polygon, and
  orthographic projection never lengthens a distance, so the buffer is widened by the largest
  sagitta;
* a buffered outline is a polygon inscribed in the true rounded outline (shapely's buffer): the
  distance is divided by ``cos(π/64)`` (16 segments per quarter circle), and a circle footprint
  is a circumscribed polygon.

Cells are candidates only within the latitude and longitude range of the buffered outline
(densified to a quarter cell) plus one cell, all longitudes where a pole is within reach.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.geo import F64, WGS84_A_M, WGS84_E2, ecef_m
from deconflict.strategic import frames
from deconflict.strategic import volumes as vol
from deconflict.strategic.model import Buffers, Volume4D

M_PER_DEG = 111_320.0
_SCALE = 1.02  # frame-to-frame scale slack (see the module docstring)
_PAD_M = 10.0
_QUAD_SEGS = 16
ROUND = 1.0 / math.cos(math.pi / (4 * _QUAD_SEGS))
_EDGE_POINTS = 8
_R_M = 6_371_000.0
_MAX_OTHER_REACH_M = 300_000.0  # strategic.validate.MAX_VOLUME_RADIUS_M


@dataclass(frozen=True, slots=True)
class Grid:
    """A space-time grid: horizontal cells of about ``cell_m``, bands of ``band_m``, slots of
    ``slot_s``."""

    cell_m: float = 5_000.0
    band_m: float = 609.6
    slot_s: float = 3600.0

    def __post_init__(self) -> None:
        for name, lo in (("cell_m", 100.0), ("band_m", 10.0), ("slot_s", 10.0)):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= lo):
                raise InputError(f"grid {name} is {v}; give a finite number ≥ {lo:g}")

    @property
    def ident(self) -> str:
        return f"g{self.cell_m:g}/{self.band_m:g}/{self.slot_s:g}"

    @property
    def dlat_deg(self) -> float:
        return self.cell_m / M_PER_DEG

    @property
    def rows(self) -> int:
        return math.ceil(180.0 / self.dlat_deg)

    def sectors(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """Number of longitude sectors of each row."""
        d = self.dlat_deg
        lo = -90.0 + rows * d
        hi = np.minimum(lo + d, 90.0)
        near = np.where(lo > 0, lo, np.where(hi < 0, -hi, 0.0))  # |latitude| nearest the equator
        n = np.floor(360.0 * np.cos(np.radians(near)) * M_PER_DEG / self.cell_m).astype(np.int64)
        n = np.maximum(n, 3)
        return np.where((rows == 0) | (rows == self.rows - 1), 1, n)

    def cell_of(self, lat_deg: float, lon_deg: float) -> tuple[int, int]:
        """(row, sector) of a point."""
        r = min(int((lat_deg + 90.0) // self.dlat_deg), self.rows - 1)
        n = int(self.sectors(np.array([r]))[0])
        c = min(int(((lon_deg + 180.0) % 360.0) // (360.0 / n)), n - 1)
        return r, c


Cell = tuple[int, int, int, int]  # row, sector, band, slot


def outline(v: Volume4D, centre: F64, verts: F64 | None, lat0: float, lon0: float) -> Any:
    """The footprint in the tangent plane at (lat0, lon0); a circle as its circumscribed
    polygon."""
    if verts is None:
        assert v.circle is not None
        xy = frames.project_ecef(centre, lat0, lon0)
        return shapely.Point(xy).buffer(v.circle.radius_m * ROUND, quad_segs=_QUAD_SEGS)
    return shapely.Polygon(frames.project_ecef(verts, lat0, lon0))


def widening_m(verts: F64 | None, reach_m: float, buffers: Buffers) -> float:
    """How far a footprint is widened for its cover: ``(h/2)·1.02``, the edge term, 10 m."""
    h = buffers.horizontal_m
    pad = 0.0
    if verts is not None:
        longest = float(np.max(np.linalg.norm(np.diff(verts, axis=0), axis=1)))
        far = reach_m + _MAX_OTHER_REACH_M + h
        pad = longest * longest * far / (4.0 * _R_M * _R_M)
    return (h / 2.0) * _SCALE + pad + _PAD_M


def cell_rings(grid: Grid, rows: NDArray[np.int64], secs: NDArray[np.int64]) -> tuple[F64, F64]:
    """Boundary points (lat, lon), shape (k, 4·E), of cells; and each cell's largest sagitta."""
    d = grid.dlat_deg
    n = grid.sectors(rows)
    lat0 = -90.0 + rows * d
    lat1 = np.minimum(lat0 + d, 90.0)
    w = 360.0 / n
    lon0 = -180.0 + secs * w
    lon1 = lon0 + w
    f = np.linspace(0.0, 1.0, _EDGE_POINTS, endpoint=False)[None, :]
    lon_b = lon0[:, None] + (lon1 - lon0)[:, None] * f
    lat_r = lat0[:, None] + (lat1 - lat0)[:, None] * f
    lats = np.concatenate(
        [
            np.broadcast_to(lat0[:, None], lon_b.shape),
            lat_r,
            np.broadcast_to(lat1[:, None], lon_b.shape),
            lat1[:, None] - (lat1 - lat0)[:, None] * f,
        ],
        axis=1,
    )
    lon_t = lon_b[:, ::-1] + (lon1 - lon0)[:, None] / _EDGE_POINTS
    lons = np.concatenate(
        [
            lon_b,
            np.broadcast_to(lon1[:, None], lon_b.shape),
            lon_t,
            np.broadcast_to(lon0[:, None], lon_b.shape),
        ],
        axis=1,
    )
    # sagitta of a parallel segment (radius R·cos φ) and of a meridian segment (radius ≥ b²/a)
    rho = WGS84_A_M * np.cos(np.radians(np.minimum(np.abs(lat0), np.abs(lat1))))
    step = np.radians(w) / _EDGE_POINTS
    sag_par = rho * (1.0 - np.cos(step / 2.0))
    mer_step_m = np.radians(d) / _EDGE_POINTS * WGS84_A_M
    sag_mer = mer_step_m**2 / (8.0 * WGS84_A_M * (1.0 - WGS84_E2))
    return np.stack((lats, lons)), np.maximum(sag_par, sag_mer)


def horizontal_cover(
    v: Volume4D, buffers: Buffers, grid: Grid, arrays: vol.VolumeArrays | None = None, i: int = 0
) -> list[tuple[int, int]]:
    """(row, sector) of every horizontal cell meeting the footprint buffered by ``h/2``."""
    a = vol.compile_volumes([v]) if arrays is None else arrays
    lat0, lon0 = float(a.centre_lat_deg[i]), float(a.centre_lon_deg[i])
    verts = a.vertices_ecef_m[i]
    shape = outline(v, a.centre_ecef_m[i], verts, lat0, lon0)
    dist = widening_m(verts, float(a.reach_m[i]), buffers)
    # candidate rows and sectors from the buffered outline (densified), one cell of margin
    wide = shapely.segmentize(shapely.buffer(shape, dist * ROUND + grid.cell_m), grid.cell_m / 4)
    ring = np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(wide)))
    blat, blon = frames.unproject(ring, lat0, lon0)
    dlat = grid.dlat_deg
    r_lo = max(int((float(blat.min()) + 90.0) // dlat) - 1, 0)
    r_hi = min(int((float(blat.max()) + 90.0) // dlat) + 1, grid.rows - 1)
    dlon = (blon - lon0 + 180.0) % 360.0 - 180.0
    # a pole within the outline's bounding circle: every sector, rows up to that pole
    centre = ecef_m(lat0, lon0)
    radius = float(np.max(np.hypot(ring[:, 0], ring[:, 1]))) * 1.05 + grid.cell_m
    north = float(np.linalg.norm(ecef_m(90.0, 0.0) - centre)) <= radius
    south = float(np.linalg.norm(ecef_m(-90.0, 0.0) - centre)) <= radius
    r_hi = grid.rows - 1 if north else r_hi
    r_lo = 0 if south else r_lo
    rows_l: list[NDArray[np.int64]] = []
    secs_l: list[NDArray[np.int64]] = []
    rows = np.arange(r_lo, r_hi + 1, dtype=np.int64)
    span = float(dlon.max() - dlon.min())
    first = (lon0 + float(dlon.min()) + 180.0) % 360.0
    for r, n in zip(rows.tolist(), grid.sectors(rows).tolist(), strict=True):
        w = 360.0 / n
        count = math.ceil(span / w) + 3
        if north or south or count >= n:
            secs = np.arange(n, dtype=np.int64)
        else:
            secs = np.unique((math.floor(first / w) - 1 + np.arange(count, dtype=np.int64)) % n)
        rows_l.append(np.full(len(secs), r, dtype=np.int64))
        secs_l.append(secs)
    cand_r = np.concatenate(rows_l)
    cand_s = np.concatenate(secs_l)
    pts, sag = cell_rings(grid, cand_r, cand_s)
    xyz = ecef_m(pts[0], pts[1])
    # only cells on the plane's side of the Earth project without folding; far ones never meet
    up = ecef_m(lat0, lon0) / np.linalg.norm(ecef_m(lat0, lon0))
    near = (xyz @ up).min(axis=1) > 0.0
    cand_r, cand_s, xyz, sag = cand_r[near], cand_s[near], xyz[near], sag[near]
    if len(cand_r) == 0:
        return []
    xy = frames.project_ecef(xyz, lat0, lon0)
    k, m = xy.shape[:2]
    polys = shapely.polygons(
        shapely.linearrings(xy.reshape(-1, 2), indices=np.repeat(np.arange(k), m))
    )
    reach = (dist + sag) * ROUND
    hit = shapely.dwithin(shape, polys, reach)
    return sorted(zip(cand_r[hit].tolist(), cand_s[hit].tolist(), strict=True))


def bands(v: Volume4D, buffers: Buffers, grid: Grid) -> range:
    """Altitude bands meeting the volume's altitudes widened by ``v/2``."""
    half = buffers.vertical_m / 2.0
    lo = math.floor((v.altitude_lower.m - half) / grid.band_m)
    hi = math.floor((v.altitude_upper.m + half) / grid.band_m)
    return range(lo, hi + 1)


def slots(v: Volume4D, grid: Grid) -> range:
    """Time slots meeting the half-open interval [start, end)."""
    lo = math.floor(v.start_s / grid.slot_s)
    hi = math.ceil(v.end_s / grid.slot_s) - 1
    return range(lo, max(hi, lo) + 1)


def volume_cover(
    v: Volume4D, buffers: Buffers, grid: Grid, arrays: vol.VolumeArrays | None = None, i: int = 0
) -> set[Cell]:
    """The 4D cells of one volume."""
    hz = horizontal_cover(v, buffers, grid, arrays, i)
    return {(r, c, b, s) for r, c in hz for b in bands(v, buffers, grid) for s in slots(v, grid)}


def cover(volumes: Sequence[Volume4D], buffers: Buffers, grid: Grid) -> list[set[Cell]]:
    """The cells of each volume (the cover of an operation is their union)."""
    a = vol.compile_volumes(volumes)
    return [volume_cover(v, buffers, grid, a, i) for i, v in enumerate(volumes)]


def items(cells: Iterable[Cell], grid: Grid) -> list[str]:
    """The PSI items of cells (sorted), naming the grid."""
    g = grid.ident
    return sorted(f"{g}|{r}|{c}|{b}|{s}" for r, c, b, s in cells)


def cell_of_item(item: str) -> Cell:
    """The cell an item names (``InputError`` if it is not one)."""
    parts = item.split("|")
    try:
        r, c, b, s = (int(p) for p in parts[1:])
    except ValueError:
        raise InputError(f"{item!r} is not a cell item 'grid|row|sector|band|slot'") from None
    return r, c, b, s
