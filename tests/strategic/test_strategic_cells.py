"""The blind check's cells: no false negatives against the exact check (hypothesis, poles and
antimeridian included), volumes just inside the minima, the grid at the poles and across the
antimeridian, and the parts exchanged after the intersection keeping every conflict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deconflict.errors import InputError
from deconflict.strategic import cells, frames
from deconflict.strategic.index import brute_force_conflicts
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation, parse_operation
from deconflict.strategic.parts import clip_parts
from deconflict.units import FT, NM

T0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
FIVE_NM = Buffers.from_units(horizontal_nm=5, vertical_ft=1000)
SITES = [(46.0, 7.0), (0.0, 179.97), (-40.0, -179.99), (89.6, 20.0), (-89.7, -100.0), (90.0, 0.0)]
GRIDS = [cells.Grid(2_000.0, 152.4, 300.0), cells.Grid(5_000.0), cells.Grid(20_000.0, 609.6, 1800)]


def volume(
    fp: dict[str, Any], lo_ft: float, hi_ft: float, t0_s: float, t1_s: float
) -> dict[str, Any]:
    return {
        **fp,
        "altitude_lower": {"value": lo_ft, "units": "ft"},
        "altitude_upper": {"value": hi_ft, "units": "ft"},
        "time_start": (T0 + timedelta(seconds=t0_s)).isoformat(),
        "time_end": (T0 + timedelta(seconds=t1_s)).isoformat(),
    }


def footprint(
    draw: st.DrawFn, lat0: float, lon0: float, x: float, y: float, size: float
) -> dict[str, Any]:
    if draw(st.booleans()):
        lat, lon = frames.unproject([x, y], lat0, lon0)
        return {"circle": {"latitude": float(lat), "longitude": float(lon), "radius_m": size}}
    k = draw(st.integers(3, 8))
    ang = np.linspace(0, 2 * np.pi, k, endpoint=False) + draw(st.floats(0, 1))
    rr = np.array([draw(st.floats(0.4, 1.0)) for _ in range(k)]) * size
    xy = np.stack((x + rr * np.cos(ang), y + rr * np.sin(ang)), axis=1)
    lat, lon = frames.unproject(xy, lat0, lon0)
    return {"polygon": [[[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]]}


def op(oid: str, *vols: dict[str, Any]) -> Operation:
    return parse_operation({"id": oid, "owner": "p-" + oid, "volumes": list(vols)})


@st.composite
def pair(draw: st.DrawFn) -> tuple[Operation, Operation]:
    """Two operations near an awkward place, often within a few minima of each other."""
    lat0, lon0 = draw(st.sampled_from(SITES))

    def one(oid: str) -> Operation:
        vols = []
        for _ in range(draw(st.integers(1, 2))):
            x, y = draw(st.floats(-25e3, 25e3)), draw(st.floats(-25e3, 25e3))
            fp = footprint(draw, lat0, lon0, x, y, draw(st.floats(200.0, 8e3)))
            lo = draw(st.sampled_from([0.0, 1000.0, 2000.0, 2500.0]))
            hi = lo + draw(st.sampled_from([300.0, 999.0, 1000.0, 3000.0]))
            t0 = draw(st.sampled_from([0.0, 900.0, 1799.0, 3600.0]))
            t1 = t0 + draw(st.sampled_from([1.0, 600.0, 1800.0, 3600.0]))
            vols.append(volume(fp, lo, hi, t0, t1))
        return op(oid, *vols)

    return one("a"), one("b")


def _meets(a: Operation, b: Operation, buffers: Buffers, grid: cells.Grid) -> set[tuple[int, int]]:
    """(volume of a, volume of b) pairs whose covers intersect."""
    ca = cells.cover(a.volumes, buffers, grid)
    cb = cells.cover(b.volumes, buffers, grid)
    return {(i, j) for i, x in enumerate(ca) for j, y in enumerate(cb) if x & y}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair(), st.sampled_from(GRIDS), st.sampled_from([FIVE_NM, NO_BUFFERS]))
def test_no_false_negatives(
    ab: tuple[Operation, Operation], grid: cells.Grid, buffers: Buffers
) -> None:
    a, b = ab
    exact = {(c.candidate_volume, c.other_volume) for c in brute_force_conflicts(a, [b], buffers)}
    assert exact <= _meets(a, b, buffers, grid)


@st.composite
def just_inside(draw: st.DrawFn) -> tuple[Operation, Operation]:
    """Two volumes whose gap is just under the horizontal minimum (vertically and in time just
    within too), in a random direction: the cases where a cover too small would be caught."""
    lat0, lon0 = draw(st.sampled_from(SITES))
    r_a = draw(st.floats(200.0, 6e3))
    r_b = draw(st.floats(200.0, 6e3))
    bearing = draw(st.floats(0, 2 * np.pi))
    short = draw(st.floats(0.05, 30.0))  # metres under the minimum
    d = r_a + r_b + FIVE_NM.horizontal_m - short
    a = {"circle": {"latitude": lat0, "longitude": lon0, "radius_m": r_a}}
    lat, lon = frames.unproject([d * np.sin(bearing), d * np.cos(bearing)], lat0, lon0)
    if draw(st.booleans()):
        b = {"circle": {"latitude": float(lat), "longitude": float(lon), "radius_m": r_b}}
    else:  # a square whose nearest side faces a
        cx, cy = (d + r_b * 0.0) * np.sin(bearing), (d + r_b * 0.0) * np.cos(bearing)
        ux, uy = np.sin(bearing), np.cos(bearing)
        px, py = -uy, ux
        pts = [
            (cx + s * r_b * px + f * 2 * r_b * ux, cy + s * r_b * py + f * 2 * r_b * uy)
            for s, f in ((-1, 0), (1, 0), (1, 1), (-1, 1))
        ]
        la, lo = frames.unproject(np.array(pts), lat0, lon0)
        ring = [[float(x), float(y)] for x, y in zip(lo, la, strict=True)]
        b = {"polygon": [ring]}
    lo_ft = draw(st.floats(0, 5000))
    gap_ft = draw(st.floats(0, 999.9))
    t_overlap = draw(st.floats(0.5, 600))
    va = volume(a, lo_ft, lo_ft + 500, 0, 1800)
    vb = volume(b, lo_ft + 500 + gap_ft, lo_ft + 2000 + gap_ft, 1800 - t_overlap, 3600)
    return op("a", va), op("b", vb)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(just_inside(), st.sampled_from(GRIDS))
def test_no_false_negatives_at_the_minima(
    ab: tuple[Operation, Operation], grid: cells.Grid
) -> None:
    a, b = ab
    conflict = bool(brute_force_conflicts(a, [b], FIVE_NM))
    assume(conflict)
    assert _meets(a, b, FIVE_NM, grid) == {(0, 0)}
    # both orders: the exact check's frame is the candidate's
    assert bool(brute_force_conflicts(b, [a], FIVE_NM))
    assert _meets(b, a, FIVE_NM, grid) == {(0, 0)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair(), st.sampled_from(GRIDS[:2]))
def test_parts_keep_every_conflict(ab: tuple[Operation, Operation], grid: cells.Grid) -> None:
    """After the intersection, the exact check of the parts inside the meeting cells finds the
    same operations in conflict as the exact check of the whole operations."""
    a, b = ab
    ca = set().union(*cells.cover(a.volumes, FIVE_NM, grid))
    cb = set().union(*cells.cover(b.volumes, FIVE_NM, grid))
    meet = ca & cb
    pa = clip_parts(a.volumes, meet, FIVE_NM, grid)
    pb = clip_parts(b.volumes, meet, FIVE_NM, grid)
    whole = bool(brute_force_conflicts(a, [b], FIVE_NM))
    parts = bool(pa and pb and brute_force_conflicts(op("pa", *pa), [op("pb", *pb)], FIVE_NM))
    assert whole == parts
    if not meet:
        assert pa == [] and pb == []


def test_grid_at_the_poles_and_across_the_antimeridian() -> None:
    g = cells.Grid(5_000.0)
    # the polar rows are single caps; every other row has at least three sectors
    assert g.sectors(np.array([0, g.rows - 1])).tolist() == [1, 1]
    assert int(g.sectors(np.arange(1, g.rows - 1)).min()) >= 3
    assert g.cell_of(90.0, 0.0) == g.cell_of(89.99, 123.0)
    # across the antimeridian: neighbouring sectors, the last and the first of the row
    r, c_east = g.cell_of(0.0, 179.999)
    r2, c_west = g.cell_of(0.0, -179.999)
    assert r == r2 and c_east == int(g.sectors(np.array([r]))[0]) - 1 and c_west == 0
    # a volume on the antimeridian covers cells on both sides, one at the pole the cap
    v = op(
        "x",
        volume({"circle": {"latitude": 0.0, "longitude": 180.0, "radius_m": 1000}}, 0, 100, 0, 60),
    )
    secs = {c for _, c in cells.horizontal_cover(v.volumes[0], FIVE_NM, g)}
    assert 0 in secs and c_east in secs
    p = op(
        "p",
        volume({"circle": {"latitude": 89.99, "longitude": 0.0, "radius_m": 1000}}, 0, 100, 0, 60),
    )
    assert (g.rows - 1, 0) in cells.horizontal_cover(p.volumes[0], FIVE_NM, g)


def test_bands_and_slots_hold_the_half_minima() -> None:
    g = cells.Grid(5_000.0, band_m=1000 * FT, slot_s=600)
    v = op(
        "x",
        volume({"circle": {"latitude": 0.0, "longitude": 0.0, "radius_m": 10}}, 2000, 2400, 0, 600),
    )
    vv = v.volumes[0]
    assert list(cells.bands(vv, FIVE_NM, g)) == [1, 2]  # 1,500 to 2,900 ft
    assert len(cells.slots(vv, g)) == 1  # [10:00, 10:10): one slot, not two
    assert cells.cell_of_item(cells.items([(1, 2, 3, 4)], g)[0]) == (1, 2, 3, 4)
    with pytest.raises(InputError, match="cell_m"):
        cells.Grid(cell_m=0.0)
    with pytest.raises(InputError, match="not a cell item"):
        cells.cell_of_item("g|a|b")


def test_far_apart_operations_share_no_cell() -> None:
    g = cells.Grid(5_000.0)
    a = op(
        "a",
        volume({"circle": {"latitude": 46.0, "longitude": 7.0, "radius_m": 2000}}, 0, 400, 0, 3600),
    )
    b_lat, b_lon = frames.unproject([0.0, 2000 + 2000 + 5 * NM + 25_000.0], 46.0, 7.0)
    b = op(
        "b",
        volume(
            {"circle": {"latitude": float(b_lat), "longitude": float(b_lon), "radius_m": 2000}},
            0,
            400,
            0,
            3600,
        ),
    )
    assert not brute_force_conflicts(a, [b], FIVE_NM)
    assert _meets(a, b, FIVE_NM, g) == set()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SITES),
    st.floats(-20e3, 20e3),
    st.floats(-20e3, 20e3),
    st.floats(100.0, 20e3),
    st.sampled_from(GRIDS),
    st.data(),
)
def test_every_point_within_half_the_minimum_is_in_a_covered_cell(
    site: tuple[float, float],
    x: float,
    y: float,
    size: float,
    grid: cells.Grid,
    data: st.DataObject,
) -> None:
    """The cover's own property, tested point by point: points at h/2 (less up to 1 m) from the
    footprint, all around it, fall in covered cells."""
    lat0, lon0 = site
    fp = footprint(data.draw, lat0, lon0, x, y, size)
    v = op("v", volume(fp, 0, 400, 0, 600)).volumes[0]
    a = cells.vol.compile_volumes([v])
    clat, clon = float(a.centre_lat_deg[0]), float(a.centre_lon_deg[0])
    shape = cells.outline(v, a.centre_ecef_m[0], a.vertices_ecef_m[0], clat, clon)
    if v.circle is not None:  # the true circle, not its circumscribed polygon
        import shapely

        shape = shapely.Point(cells.frames.project_ecef(a.centre_ecef_m[0], clat, clon)).buffer(
            v.circle.radius_m, quad_segs=64
        )
    d = FIVE_NM.horizontal_m / 2 - data.draw(st.floats(0.0, 1.0))
    ring = np.asarray(shape.buffer(d, quad_segs=32).exterior.coords)
    lat, lon = frames.unproject(ring, clat, clon)
    covered = set(cells.horizontal_cover(v, FIVE_NM, grid))
    missing = {grid.cell_of(float(p), float(q)) for p, q in zip(lat, lon, strict=True)} - covered
    assert not missing


@st.composite
def large_pair(draw: st.DrawFn) -> tuple[Operation, Operation]:
    """Volumes of 30-250 km with long edges, within reach of each other: where the frame of the
    other volume bends straight edges most."""
    lat0, lon0 = draw(st.sampled_from(SITES))

    def one(oid: str) -> Operation:
        x, y = draw(st.floats(-200e3, 200e3)), draw(st.floats(-200e3, 200e3))
        fp = footprint(draw, lat0, lon0, x, y, draw(st.floats(30e3, 250e3)))
        return op(oid, volume(fp, 0.0, 3000.0, 0.0, 3600.0))

    return one("a"), one("b")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(large_pair(), st.sampled_from([FIVE_NM, NO_BUFFERS]))
def test_no_false_negatives_for_large_volumes(
    ab: tuple[Operation, Operation], buffers: Buffers
) -> None:
    a, b = ab
    grid = cells.Grid(20_000.0, 609.6, 3600.0)
    exact = {(c.candidate_volume, c.other_volume) for c in brute_force_conflicts(a, [b], buffers)}
    assert exact <= _meets(a, b, buffers, grid)
