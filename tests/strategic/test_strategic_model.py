"""Operations, volumes, states: validation messages, normalisation, F3548 transitions."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import shapely
from pydantic import ValidationError
from pyproj import Geod

from deconflict.errors import ConflictError, InputError, PermissionDeniedError
from deconflict.strategic.model import (
    Buffers,
    DeclaredVolume,
    Operation,
    OperationDraft,
    OperationState,
    build_operation,
    parse_operation,
    parse_volume,
)
from deconflict.strategic.states import (
    TRANSITIONS,
    IllegalTransitionError,
    check_transition,
    requires_awareness,
)
from deconflict.strategic.volumes import compile_volumes, footprints
from deconflict.units import FT, NM

S = OperationState


def vol(**over: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "polygon": [[[7.0, 46.0], [7.1, 46.0], [7.1, 46.1], [7.0, 46.1]]],
        "altitude_lower": {"value": 0},
        "altitude_upper": {"value": 50, "units": "FL"},
        "time_start": "2026-06-01T10:00:00Z",
        "time_end": "2026-06-01T11:00:00Z",
    }
    v.update(over)
    return v


def error_of(**over: Any) -> str:
    with pytest.raises(InputError) as exc:
        parse_volume(vol(**over))
    return str(exc.value)


def test_valid_volume_is_closed_ccw_and_in_utc() -> None:
    v = parse_volume(vol(time_end="2026-06-01T13:00:00+02:00"))
    assert v.polygon is not None
    ring = np.array(v.polygon[0])
    assert (ring[0] == ring[-1]).all() and len(ring) == 5
    assert shapely.LinearRing(ring).is_ccw
    assert v.time_end.utcoffset() is not None and v.time_end.hour == 11
    assert v.altitude_upper.ft == 5000.0
    assert v.altitude_upper.m == pytest.approx(5000 * 0.3048)


def test_clockwise_ring_is_reversed_when_read_and_refused_when_declared() -> None:
    """Data files are read leniently (RFC 7946 readers); a party's declaration is held to the
    right-hand rule, so what was declared is exactly what is stored."""
    cw = [[7.0, 46.0], [7.0, 46.1], [7.1, 46.1], [7.1, 46.0], [7.0, 46.0]]
    assert not shapely.LinearRing(cw).is_ccw
    v = parse_volume(vol(polygon=[cw]))
    assert v.polygon is not None
    assert shapely.LinearRing(v.polygon[0]).is_ccw
    assert {tuple(p) for p in cw} == set(v.polygon[0])
    with pytest.raises(ValidationError, match=r"clockwise.*reverse order"):
        DeclaredVolume.model_validate(vol(polygon=[cw]))
    declared = DeclaredVolume.model_validate(vol(polygon=[cw[::-1]]))
    assert declared.polygon is not None
    assert declared.polygon[0] == tuple((float(x), float(y)) for x, y in cw[::-1])


@pytest.mark.parametrize(
    ("ring", "words"),
    [
        ([[179.9, -16.0], [-179.9, -16.0], [-179.9, -15.8], [179.9, -15.8]], "edge from vertex 0"),
        (
            [[179.9, -16.0], [180.1, -16.0], [180.1, -15.8], [179.9, -15.8]],
            "vertex 1 has longitude",
        ),
        ([[-179.9, -16.0], [-179.9, -15.8], [179.9, -15.8], [179.9, -16.0]], "edge from vertex 1"),
    ],
)
def test_declared_polygon_crossing_the_antimeridian_is_refused(
    ring: list[list[float]], words: str
) -> None:
    with pytest.raises(ValidationError, match=rf"{words}.*antimeridian.*RFC 7946"):
        DeclaredVolume.model_validate(vol(polygon=[ring]))
    # degenerate rings are named as such, not as crossings (found by the service fuzz test)
    for few in (
        [[179.9, -16.0]],
        [[179.9, -16.0], [179.9, -16.0]],
        [[179.9, -16.0], [-179.9, -16.0]],
    ):
        with pytest.raises(ValidationError, match="distinct vertices"):
            DeclaredVolume.model_validate(vol(polygon=[few]))
    # touching 180° from one side is not crossing it
    east = [[179.9, -16.0], [180.0, -16.0], [180.0, -15.8], [179.9, -15.8]]
    assert DeclaredVolume.model_validate(vol(polygon=[east])).n_vertices == 4


def test_self_intersecting_polygon_is_named_and_located() -> None:
    msg = error_of(polygon=[[[7.0, 46.0], [7.1, 46.1], [7.1, 46.0], [7.0, 46.1]]])
    assert "Self-intersection" in msg and "polygon" in msg
    # the bow tie crosses itself at its middle
    lat = float(msg.split("latitude ")[1].split(",")[0])
    lon = float(msg.split("longitude ")[1].split(";")[0])
    assert abs(lat - 46.05) < 0.01 and abs(lon - 7.05) < 0.01


def test_hundred_thousand_vertices_rejected_quickly_with_the_limit() -> None:
    ring = [[7.0 + 1e-6 * i, 46.0 + 1e-3 * np.sin(i)] for i in range(100_000)]
    t = time.perf_counter()
    msg = error_of(polygon=[ring])
    assert time.perf_counter() - t < 1.0
    assert "100,000 vertices" in msg and "10,000" in msg


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"polygon": [[[7.0, 46.0], [7.1, float("nan")], [7.1, 46.1]]]}, "not a finite"),
        ({"polygon": [[[7.0, 46.0], [7.1, float("inf")], [7.1, 46.1]]]}, "not a finite"),
        ({"polygon": [[[46.0, 97.0], [46.1, 97.0], [46.1, 97.1]]]}, "swapped"),
        ({"polygon": [[[7.0, 46.0], [7.1, 46.0], [7.0, 46.0]]]}, "at least 3"),
        ({"polygon": [[[7.0, 46.0], [7.0, 46.0], [7.0, 46.0], [7.0, 46.0]]]}, "at least 3"),
        ({"polygon": [[[0, 0], [10, 0], [10, 10], [0, 10]]]}, "split"),
        (
            {
                "polygon": [
                    [[7.0, 46.0], [7.1, 46.0], [7.1, 46.1], [7.0, 46.1]],
                    [[7.02, 46.02], [7.03, 46.02], [7.03, 46.03]],
                ]
            },
            "hole",
        ),
        ({"time_end": "2026-06-01T09:00:00Z"}, "time_end"),
        ({"time_start": "2026-06-01T10:00:00"}, "time_start"),
        ({"altitude_lower": {"value": 60, "units": "FL"}}, "swap"),
        ({"altitude_upper": {"value": 5000, "units": "FL"}}, "units"),
        ({"altitude_upper": {"value": float("nan")}}, "finite"),
        ({"circle": {"latitude": 46.0, "longitude": 7.0, "radius_m": 100.0}}, "exactly one"),
        ({"polygon": None}, "exactly one"),
        (
            {"polygon": None, "circle": {"latitude": 46.0, "longitude": 7.0, "radius_m": -5.0}},
            "positive",
        ),
        (
            {"polygon": None, "circle": {"latitude": 46.0, "longitude": 7.0, "radius_m": 1e9}},
            "split",
        ),
        ({"polygon": [[[7.0, 46.0, 1.0, 2.0], [7.1, 46.0], [7.1, 46.1]]]}, "[longitude, latitude]"),
    ],
)
def test_malformed_volumes_are_named(over: dict[str, Any], words: str) -> None:
    assert words in error_of(**over)


def test_antimeridian_polygon_both_spellings_are_one_polygon_of_the_right_area() -> None:
    wrapped = [[179.9, -16.0], [-179.9, -16.0], [-179.9, -15.8], [179.9, -15.8]]
    unwrapped = [[179.9, -16.0], [180.1, -16.0], [180.1, -15.8], [179.9, -15.8]]
    areas = []
    for ring in (wrapped, unwrapped):
        v = parse_volume(vol(polygon=[ring]))
        a = compile_volumes([v])
        g = footprints(
            a.vertices_ecef_m, a.centre_ecef_m, float(a.centre_lat_deg[0]), a.centre_lon_deg[0]
        )[0]
        areas.append(g.area)
    lons = [p[0] for p in unwrapped]
    lats = [p[1] for p in unwrapped]
    exact, _ = Geod(ellps="WGS84").polygon_area_perimeter(lons, lats)
    # straight edges in the tangent plane vs geodesic edges: same area to 0.1 %
    assert areas[0] == pytest.approx(abs(exact), rel=1e-3)
    assert areas[1] == pytest.approx(areas[0], rel=1e-9)
    assert abs(exact) > 4e8  # ~21 km x 22 km, not the whole band around the Earth


def test_operation_total_vertex_cap_and_revision() -> None:
    ring = [[7.0 + 0.1 * np.cos(t), 46.0 + 0.1 * np.sin(t)] for t in np.linspace(0, 6.2, 9000)]
    with pytest.raises(InputError, match="20,000"):
        parse_operation({"id": "a", "owner": "p", "volumes": [vol(polygon=[ring])] * 3})
    op = parse_operation({"id": "a", "owner": "p", "volumes": [vol()]})
    assert op.state is S.ACCEPTED and op.version == 1
    nxt = op.revised(state="Activated")
    assert nxt.version == 2 and nxt.token != op.token and nxt.state is S.ACTIVATED
    with pytest.raises(IllegalTransitionError):
        nxt.revised(state="Accepted")
    with pytest.raises(InputError, match="invalid operation"):
        op.revised(volumes=[])


def test_models_are_frozen() -> None:
    op = Operation.model_validate({"id": "a", "owner": "p", "volumes": [vol()]})
    with pytest.raises(Exception, match="frozen"):
        op.priority = 3  # type: ignore[misc]


# ASTM F3548-21 state diagram, written out independently of the table under test
F3548_EDGES = {
    (None, S.ACCEPTED), (None, S.ACTIVATED),
    (S.ACCEPTED, S.ACTIVATED), (S.ACCEPTED, S.ENDED),
    (S.ACTIVATED, S.NONCONFORMING), (S.ACTIVATED, S.CONTINGENT), (S.ACTIVATED, S.ENDED),
    (S.NONCONFORMING, S.ACTIVATED), (S.NONCONFORMING, S.CONTINGENT), (S.NONCONFORMING, S.ENDED),
    (S.CONTINGENT, S.ENDED),
}  # fmt: skip


@pytest.mark.parametrize("current", [None, *S])
@pytest.mark.parametrize("new", list(S))
def test_transitions_are_f3548(current: S | None, new: S) -> None:
    allowed = (current, new) in F3548_EDGES or (current == new and new is not S.ENDED)
    assert (new in TRANSITIONS[current]) == allowed
    if allowed:
        check_transition(current, new)
    else:
        with pytest.raises(IllegalTransitionError) as exc:
            check_transition(current, new)
        assert isinstance(exc.value, ConflictError) and new.value in str(exc.value)


def test_awareness_only_for_accepted_and_activated() -> None:
    assert [s for s in S if requires_awareness(s)] == [S.ACCEPTED, S.ACTIVATED]


def test_buffers() -> None:
    b = Buffers.from_units(horizontal_nm=5, vertical_ft=1000)
    assert b.horizontal_m == 5 * NM and b.vertical_m == 1000 * FT
    with pytest.raises(InputError):
        Buffers(horizontal_m=float("nan"))
    with pytest.raises(InputError):
        Buffers(vertical_m=-1.0)


def test_build_operation_from_draft() -> None:
    draft = OperationDraft.model_validate({"volumes": [vol()], "priority": 2, "contact": "desk"})
    first = build_operation(draft, "op-1", "alpha")
    assert (first.id, first.owner, first.version, first.priority) == ("op-1", "alpha", 1, 2)
    second = build_operation(
        draft.model_copy(update={"state": S.ACTIVATED}), "op-1", "alpha", first
    )
    assert second.version == 2 and second.token != first.token
    with pytest.raises(PermissionDeniedError):
        build_operation(draft, "op-1", "bravo", first)
    with pytest.raises(IllegalTransitionError):
        build_operation(draft.model_copy(update={"state": S.CONTINGENT}), "op-2", "alpha")
    with pytest.raises(Exception, match="extra"):
        OperationDraft.model_validate({"volumes": [vol()], "token": "forged"})


def test_buffers_from_the_predict_standards() -> None:
    from deconflict.predict.standards import get_standard

    b = Buffers.from_standard(get_standard("icao-5nm"))
    assert b.horizontal_m == pytest.approx(5 * NM) and b.vertical_m == pytest.approx(1000 * FT)
    b3 = Buffers.from_standard(get_standard("icao-3nm"))
    assert b3.horizontal_m == pytest.approx(3 * NM)


def test_bare_ring_and_json_round_trip() -> None:
    ring = [[7.0, 46.0], [7.1, 46.0], [7.1, 46.1], [7.0, 46.1]]
    assert "wrap the ring" in error_of(polygon=ring)
    assert "wrap the ring" in error_of(polygon=[[7.0, 46.0]] * 100_000)
    op = parse_operation({"id": "a", "owner": "p", "aircraft_ids": ["x"], "volumes": [vol()]})
    assert Operation.model_validate_json(op.model_dump_json()) == op
