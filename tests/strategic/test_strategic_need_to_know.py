"""Need-to-know: a view holds only the parts inside the viewer's buffered volumes, and contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.geo import ecef_m, geodesic_m
from deconflict.strategic import frames
from deconflict.strategic.index import OperationIndex, brute_force_conflicts
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation, parse_operation
from deconflict.strategic.need_to_know import (
    OperationView,
    ViewPart,
    intersection_view,
    visible_operations,
)
from deconflict.strategic.volumes import compile_volumes, footprints
from deconflict.units import FT

T0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
BUFS = [NO_BUFFERS, Buffers.from_units(horizontal_nm=5, vertical_ft=1000), Buffers(3000.0, 150.0)]
SITES = [(46.0, 7.0), (0.0, 179.98), (89.7, 20.0)]


@st.composite
def volume(draw: st.DrawFn, lat0: float, lon0: float) -> dict[str, Any]:
    x, y = draw(st.floats(-20e3, 20e3)), draw(st.floats(-20e3, 20e3))
    size = draw(st.floats(500.0, 10e3))
    lo = draw(st.sampled_from([0, 20, 40]))
    t0 = draw(st.sampled_from([0, 20, 40]))
    v: dict[str, Any] = {
        "altitude_lower": {"value": lo, "units": "FL"},
        "altitude_upper": {"value": lo + draw(st.sampled_from([10, 30])), "units": "FL"},
        "time_start": (T0 + timedelta(minutes=t0)).isoformat(),
        "time_end": (T0 + timedelta(minutes=t0 + draw(st.sampled_from([10, 40])))).isoformat(),
    }
    if draw(st.booleans()):
        lat, lon = frames.unproject([x, y], lat0, lon0)
        v["circle"] = {"latitude": float(lat), "longitude": float(lon), "radius_m": size}
    else:
        k = draw(st.integers(3, 8))
        ang = np.linspace(0, 2 * np.pi, k, endpoint=False)
        rr = np.array([draw(st.floats(0.3, 1.0)) for _ in range(k)]) * size
        lat, lon = frames.unproject(
            np.stack((x + rr * np.cos(ang), y + rr * np.sin(ang)), 1), lat0, lon0
        )
        v["polygon"] = [[[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]]
    return v


@st.composite
def pair(draw: st.DrawFn) -> tuple[Operation, Operation]:
    lat0, lon0 = draw(st.sampled_from(SITES))
    vols = st.lists(volume(lat0, lon0), min_size=1, max_size=3)
    viewer = parse_operation({"id": "v", "owner": "viewer", "volumes": draw(vols)})
    other = parse_operation(
        {
            "id": "o",
            "owner": "other",
            "contact": "ops desk +41 00 000 00 00",
            "priority": 7,
            "aircraft_ids": ["4b1901", "SECRET1"],
            "volumes": draw(vols),
        }
    )
    return viewer, other


def _local(part: ViewPart, lat0: float, lon0: float) -> shapely.Polygon:
    rings = [np.asarray(r) for r in part.polygon]
    xy = [frames.project_ecef(ecef_m(r[:, 1], r[:, 0]), lat0, lon0) for r in rings]
    return shapely.Polygon(xy[0], xy[1:])


def _footprint(op: Operation, k: int) -> tuple[shapely.Geometry, float, float, float]:
    a = compile_volumes(op.volumes)
    lat0, lon0 = float(a.centre_lat_deg[k]), float(a.centre_lon_deg[k])
    g = footprints(a.vertices_ecef_m[k : k + 1], a.centre_ecef_m[k : k + 1], lat0, lon0)[0]
    return g, float(a.radius_m[k]), lat0, lon0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair(), st.sampled_from(BUFS))
def test_view_never_reaches_outside_the_viewers_buffered_volumes(
    pr: tuple[Operation, Operation], b: Buffers
) -> None:
    viewer, other = pr
    view = intersection_view(other, [viewer], b)
    # the view exists exactly where the two operations conflict
    assert (view is not None) == bool(brute_force_conflicts(viewer, [other], b))
    if view is None:
        return
    assert set(OperationView.model_fields) == {
        "operation_id", "owner", "contact", "version", "token", "parts",
    }  # fmt: skip
    text = view.model_dump_json()
    assert "SECRET1" not in text and "4b1901" not in text and "priority" not in text
    assert view.token == other.token and view.contact == other.contact
    for part in view.parts:
        mine = viewer.volumes[part.viewer_volume]
        own, r_own, lat0, lon0 = _footprint(viewer, part.viewer_volume)
        reach = b.horizontal_m + r_own
        # altitude and time inside the viewer's (widened) and inside the other's
        v_ft = b.vertical_m / FT
        assert part.altitude_lower_ft >= mine.altitude_lower.ft - v_ft - 1e-6
        assert part.altitude_upper_ft <= mine.altitude_upper.ft + v_ft + 1e-6
        assert part.altitude_lower_ft < part.altitude_upper_ft
        assert mine.time_start <= part.time_start < part.time_end <= mine.time_end
        assert any(
            o.time_start <= part.time_start and part.time_end <= o.time_end
            and o.altitude_lower.ft - 1e-6 <= part.altitude_lower_ft
            and part.altitude_upper_ft <= o.altitude_upper.ft + 1e-6
            for o in other.volumes
        )  # fmt: skip
        if not part.polygon:
            continue
        poly = _local(part, lat0, lon0)
        exact_buffer = shapely.buffer(own, reach * 1.0001 + 0.01, quad_segs=256)
        assert shapely.difference(poly, exact_buffer).area < 1e-6
        if mine.circle is not None:  # independent of our frames: geodesic distances
            c = mine.circle
            ring = np.asarray(part.polygon[0])
            d = geodesic_m(c.latitude, c.longitude, ring[:, 1], ring[:, 0])
            assert (d <= (c.radius_m + b.horizontal_m) * 1.002 + 0.01).all()


def test_visible_operations_only_others_intersecting_mine() -> None:
    def op(oid: str, owner: str, lon: float) -> Operation:
        return parse_operation(
            {
                "id": oid,
                "owner": owner,
                "contact": f"{owner}@example.org",
                "aircraft_ids": ["ac-" + oid],
                "volumes": [
                    {
                        "polygon": [[[lon, 46.0], [lon + 0.05, 46.0], [lon + 0.05, 46.05]]],
                        "altitude_lower": {"value": 0},
                        "altitude_upper": {"value": 3000},
                        "time_start": T0.isoformat(),
                        "time_end": (T0 + timedelta(hours=1)).isoformat(),
                    }
                ],
            }
        )

    mine = [op("m1", "me", 7.0)]
    ops = [*mine, op("m2", "me", 7.02), op("x", "them", 7.03), op("far", "them", 9.0)]
    index = OperationIndex(Buffers.from_units(horizontal_nm=1), ops)
    views = visible_operations("me", mine, index)
    assert [v.operation_id for v in views] == ["x"]
    assert views[0].contact == "them@example.org" and "ac-x" not in views[0].model_dump_json()
    # the part lies inside my footprint widened by 1 NM, so smaller than their whole triangle
    whole = shapely.Polygon(ops[2].volumes[0].polygon[0]).area
    part = shapely.Polygon(views[0].parts[0].polygon[0]).area
    assert 0 < part < whole
