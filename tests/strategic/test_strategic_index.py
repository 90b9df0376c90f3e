"""OperationIndex: equal to brute force, buffers against exact geodesic gaps, time, antimeridian."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.geo import destination_deg, geodesic_m
from deconflict.strategic import frames
from deconflict.strategic.index import OperationIndex, brute_force_conflicts, conflicting_ids
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation, parse_operation
from deconflict.units import FT, NM

T0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
FIVE_NM = Buffers.from_units(horizontal_nm=5, vertical_ft=1000)


def volume(
    footprint: dict[str, Any], lower_fl: float = 0, upper_fl: float = 50, t0_min: float = 0,
    t1_min: float = 60,
) -> dict[str, Any]:  # fmt: skip
    return {
        **footprint,
        "altitude_lower": {"value": lower_fl, "units": "FL"},
        "altitude_upper": {"value": upper_fl, "units": "FL"},
        "time_start": (T0 + timedelta(minutes=t0_min)).isoformat(),
        "time_end": (T0 + timedelta(minutes=t1_min)).isoformat(),
    }


def circle(lat: float, lon: float, r: float) -> dict[str, Any]:
    return {"circle": {"latitude": lat, "longitude": lon, "radius_m": r}}


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return {"polygon": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1]]]}


def op(oid: str, *vols: dict[str, Any], **kw: Any) -> Operation:
    return parse_operation({"id": oid, "owner": "p-" + oid, "volumes": list(vols), **kw})


# -- hypothesis: random scenes near awkward places ----------------------------------------------
SITES = [(46.0, 7.0), (0.0, 179.97), (-40.0, -179.99), (89.6, 20.0), (-89.7, -100.0)]


@st.composite
def scene(draw: st.DrawFn) -> tuple[Operation, list[Operation]]:
    lat0, lon0 = draw(st.sampled_from(SITES))

    def one_volume() -> dict[str, Any]:
        x, y = draw(st.floats(-30e3, 30e3)), draw(st.floats(-30e3, 30e3))
        size = draw(st.floats(300.0, 12e3))
        lo = draw(st.sampled_from([0, 30, 60, 90]))
        hi = lo + draw(st.sampled_from([10, 20, 40]))
        t0 = draw(st.sampled_from([0, 30, 60, 90]))
        t1 = t0 + draw(st.sampled_from([15, 30, 60]))
        if draw(st.booleans()):
            lat, lon = frames.unproject([x, y], lat0, lon0)
            fp = circle(float(lat), float(lon), size)
        else:
            k = draw(st.integers(3, 9))
            ang = np.linspace(0, 2 * np.pi, k, endpoint=False) + draw(st.floats(0, 1))
            rr = np.array([draw(st.floats(0.5, 1.0)) for _ in range(k)]) * size
            xy = np.stack((x + rr * np.cos(ang), y + rr * np.sin(ang)), axis=1)
            lat, lon = frames.unproject(xy, lat0, lon0)
            fp = {"polygon": [[[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]]}
        return volume(fp, lo, hi, t0, t1)

    n = draw(st.integers(1, 12))
    ops = [op(f"o{i}", *[one_volume() for _ in range(draw(st.integers(1, 3)))]) for i in range(n)]
    cand = op("cand", *[one_volume() for _ in range(draw(st.integers(1, 3)))])
    return cand, ops


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene(), st.sampled_from([NO_BUFFERS, FIVE_NM, Buffers(horizontal_m=2000.0)]))
def test_index_equals_brute_force(sc: tuple[Operation, list[Operation]], b: Buffers) -> None:
    cand, ops = sc
    index = OperationIndex(b, ops)
    assert index.query(cand) == brute_force_conflicts(cand, ops, b)
    # after removing and re-adding half of them, still the same
    for o in ops[::2]:
        index.remove(o.id)
    assert index.query(cand) == brute_force_conflicts(cand, ops[1::2], b)
    for o in ops[::2]:
        index.replace(o)
    assert sorted(index.query(cand)) == brute_force_conflicts(cand, ops, b)


@settings(max_examples=60, deadline=None)
@given(scene())
def test_time_disjoint_volumes_never_conflict(sc: tuple[Operation, list[Operation]]) -> None:
    cand, ops = sc
    late = [
        o.revised(
            volumes=[
                v.model_copy(
                    update={
                        "time_start": v.time_start + timedelta(days=1),
                        "time_end": v.time_end + timedelta(days=1),
                    }
                )
                for v in o.volumes
            ]
        )
        for o in ops
    ]
    assert OperationIndex(FIVE_NM, late).query(cand) == []


def test_many_operations_compaction_keeps_answers() -> None:
    rng = np.random.default_rng(3)
    ops = []
    for i in range(3000):
        lat, lon = destination_deg(46.0, 7.0, rng.uniform(0, 360), rng.uniform(0, 50e3))
        ops.append(op(f"o{i}", volume(circle(float(lat), float(lon), 500.0))))
    cand = op("cand", volume(circle(46.0, 7.0, 5000.0)))
    index = OperationIndex(FIVE_NM, ops)
    for o in ops[:2000]:
        index.remove(o.id)
    assert len(index) == 1000
    assert index.query(cand) == brute_force_conflicts(cand, ops[2000:], FIVE_NM)
    assert 0 < len(index.query(cand)) < 1000


# -- buffers against exact geodesic gaps --------------------------------------------------------
SPOTS = [(46.0, 7.0, 0.0), (-33.9, 151.2, 63.0), (0.0, 179.95, 90.0), (80.0, -40.0, 200.0)]


@pytest.mark.parametrize(("lat", "lon", "az"), SPOTS)
@pytest.mark.parametrize("r", [200.0, 3000.0])
def test_circle_buffer_threshold_matches_geodesic_gap(
    lat: float, lon: float, az: float, r: float
) -> None:
    h = FIVE_NM.horizontal_m
    index = OperationIndex(FIVE_NM, [op("a", volume(circle(lat, lon, r)))])
    for factor, expect in ((0.997, True), (1.003, False)):
        # place B so that the exact (geodesic) gap between the circles is factor * h
        lat2, lon2 = destination_deg(lat, lon, az, 2 * r + factor * h)
        gap = float(geodesic_m(lat, lon, lat2, lon2)) - 2 * r
        assert gap == pytest.approx(factor * h, rel=1e-9)
        cand = op("b", volume(circle(float(lat2), float(lon2), r)))
        assert bool(index.query(cand)) is expect, (factor, gap)
        assert bool(index.query(cand, NO_BUFFERS)) is False


@pytest.mark.parametrize("lat", [46.0, -60.0])
def test_polygon_buffer_threshold_matches_geodesic_gap(lat: float) -> None:
    h = FIVE_NM.horizontal_m
    # A: a 2 km square; B: same latitudes, to the east; the exact gap between the facing edges
    # is the shortest geodesic between them, found by sampling both edges densely
    d_lon = 2000.0 / (111_320.0 * np.cos(np.radians(lat)))
    d_lat = 2000.0 / 111_320.0
    a = op("a", volume(box(10.0, lat, 10.0 + d_lon, lat + d_lat)))
    index = OperationIndex(FIVE_NM, [a])
    lats = np.linspace(lat, lat + d_lat, 41)
    for factor, expect in ((0.99, True), (1.01, False)):
        lo, hi = 0.0, 1.0
        for _ in range(32):  # bisect the eastward offset giving gap = factor * h
            mid = (lo + hi) / 2
            gap = geodesic_m(lats[:, None], 10.0 + d_lon, lats[None, :], 10.0 + d_lon + mid).min()
            lo, hi = (mid, hi) if gap < factor * h else (lo, mid)
        west = 10.0 + d_lon + lo
        cand = op("b", volume(box(west, lat, west + d_lon, lat + d_lat)))
        assert bool(index.query(cand)) is expect


@pytest.mark.parametrize(
    ("b", "other_fl", "expect"),
    [
        (FIVE_NM, (60, 100), False),  # exactly 1000 ft above FL50: separated
        (FIVE_NM, (59, 100), True),  # 900 ft: in conflict
        (NO_BUFFERS, (50, 100), False),  # touching: no overlap
        (NO_BUFFERS, (49, 100), True),
    ],
)
def test_vertical_minimum(b: Buffers, other_fl: tuple[int, int], expect: bool) -> None:
    fp = box(7.0, 46.0, 7.01, 46.01)
    index = OperationIndex(b, [op("a", volume(fp, 0, 50))])
    assert bool(index.query(op("b", volume(fp, *other_fl)))) is expect
    assert FIVE_NM.vertical_m == pytest.approx(1000 * FT)


def test_touching_time_intervals_do_not_conflict() -> None:
    fp = box(7.0, 46.0, 7.01, 46.01)
    index = OperationIndex(FIVE_NM, [op("a", volume(fp, t0_min=0, t1_min=60))])
    assert index.query(op("b", volume(fp, t0_min=60, t1_min=90))) == []
    assert index.query(op("b", volume(fp, t0_min=59, t1_min=90))) != []


def test_antimeridian_neighbours_conflict_in_both_spellings() -> None:
    west = op("w", volume(box(179.95, -17.0, 179.99, -16.96)))
    for east_lon0 in (-179.99, 180.01):  # ~2.1 km east of the west box, across the antimeridian
        east = op("e", volume(box(east_lon0, -17.0, east_lon0 + 0.04, -16.96)))
        index = OperationIndex(FIVE_NM, [west])
        assert conflicting_ids(index.query(east)) == ["w"]
        assert index.query(east, NO_BUFFERS) == []
        assert index.query(east, Buffers(horizontal_m=2000.0)) == []  # gap is 2.13 km
    spanning = op("s", volume(box(179.98, -17.0, -179.98, -16.98)))
    assert conflicting_ids(OperationIndex(NO_BUFFERS, [west]).query(spanning)) == ["w"]
    far = op("f", volume(box(-179.0, -17.0, -178.96, -16.96)))
    assert OperationIndex(FIVE_NM, [west, spanning]).query(far) == []


def test_polar_volumes() -> None:
    ring = [[float(lon), 89.9] for lon in range(0, 360, 30)]  # around the north pole
    cap = op("cap", volume({"polygon": [ring]}))
    index = OperationIndex(NO_BUFFERS, [cap])
    assert conflicting_ids(index.query(op("p", volume(circle(90.0, 0.0, 100.0))))) == ["cap"]
    assert index.query(op("q", volume(circle(89.0, 123.0, 100.0)))) == []


def test_ended_operations_are_not_indexed_and_own_id_is_skipped() -> None:
    fp = box(7.0, 46.0, 7.01, 46.01)
    a = op("a", volume(fp))
    index = OperationIndex(FIVE_NM, [a])
    assert index.query(a) == []  # its own earlier version is not a conflict
    index.add(a.revised(state="Ended"))
    assert "a" not in index and index.query(op("b", volume(fp))) == []
    assert NM == 1852.0


def test_prune_removes_finished_operations() -> None:
    fp = box(7.0, 46.0, 7.01, 46.01)
    early, late = op("early", volume(fp, t1_min=30)), op("late", volume(fp, t1_min=90))
    index = OperationIndex(FIVE_NM, [early, late])
    assert index.prune((T0 + timedelta(minutes=29)).timestamp()) == []
    assert index.prune((T0 + timedelta(minutes=30)).timestamp()) == ["early"]
    assert [o.id for o in index] == ["late"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(scene(), min_size=3, max_size=3), st.lists(st.integers(0, 40), max_size=40))
def test_random_writes_keep_index_equal_to_brute_force(
    scenes: list[tuple[Operation, list[Operation]]], script: list[int]
) -> None:
    """Adds, replacements (new versions), removals and ends in any order."""
    pool = [o for _, ops in scenes for o in ops]
    live: dict[str, Operation] = {}
    index = OperationIndex(FIVE_NM)
    for k in script:
        o = pool[k % len(pool)]
        if k % 4 == 3 and o.id in live:
            index.remove(o.id)
            del live[o.id]
        elif k % 4 == 2 and o.id in live:
            ended = live.pop(o.id).revised(state="Ended")
            index.add(ended)
        else:
            index.replace(o)
            live[o.id] = o
    assert {x.id for x in index} == set(live)
    for cand, _ in scenes:
        assert index.query(cand) == brute_force_conflicts(cand, list(live.values()), FIVE_NM)


# -- many operations at once (a party's need-to-know listing) -----------------------------------
def _per_query(index: OperationIndex, mine: list[Operation]) -> list[tuple[str, Any]]:
    ids = {o.id for o in mine}
    return sorted((o.id, c) for o in mine for c in index.query(o) if c.operation_id not in ids)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(scene(), min_size=2, max_size=2),
    st.sampled_from([NO_BUFFERS, FIVE_NM, Buffers(horizontal_m=2000.0)]),
)
def test_conflicts_among_equals_one_query_each(
    scenes: list[tuple[Operation, list[Operation]]], b: Buffers
) -> None:
    """``conflicts_among`` (one pass, k-d tree) gives exactly the pairs of ``query`` run for
    each of the given operations, leaving out pairs among them; removals are followed."""
    (c1, ops1), (c2, ops2) = scenes
    mine = [o.model_copy(update={"id": "m-" + o.id}) for o in (c1, *ops1[:3])]
    others = [*ops1[3:], *(o.model_copy(update={"id": "y-" + o.id}) for o in (c2, *ops2))]
    index = OperationIndex(b, [*mine, *others])
    assert index.conflicts_among([o.id for o in mine]) == _per_query(index, mine)
    for o in others[::2]:
        index.remove(o.id)
    assert index.conflicts_among([o.id for o in mine]) == _per_query(index, mine)
    assert index.conflicts_among([]) == []


def test_conflicts_among_thousands() -> None:
    rng = np.random.default_rng(11)
    ops = []
    for i in range(3000):
        lat, lon = destination_deg(46.0, 7.0, rng.uniform(0, 360), rng.uniform(0, 80e3))
        ops.append(op(f"o{i}", volume(circle(float(lat), float(lon), 800.0))))
    index = OperationIndex(FIVE_NM, ops)
    mine = ops[:300]
    got = index.conflicts_among([o.id for o in mine])
    assert got == _per_query(index, mine)
    assert len(got) > 100  # not vacuous: many of the 300 meet others
