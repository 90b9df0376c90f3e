"""Airspace constraints: GeoJSON and airspace loading, operations entering, area proximity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from deconflict.errors import InputError
from deconflict.strategic.constraints import (
    Constraint,
    ConstraintKind,
    ConstraintRule,
    ConstraintSet,
    area_proximity,
    area_proximity_frame,
    check_operation,
    constraints_from_airspace,
    constraints_from_geojson,
)
from deconflict.strategic.model import parse_operation, parse_volume
from deconflict.units import FT

GEOD = Geod(ellps="WGS84")


def feature(geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    base = {"name": "R1", "lower": 0, "upper": 50, "units": "FL"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [[[7, 46], [7.1, 46], [7.1, 46.1], [7, 46.1], [7, 46]]]}


def test_geojson_feature_collection() -> None:
    multi = {
        "type": "MultiPolygon",
        "coordinates": [SQUARE["coordinates"], [[[8, 46], [8.1, 46], [8.1, 46.1], [8, 46]]]],
    }
    fc = {
        "type": "FeatureCollection",
        "features": [
            feature(SQUARE, kind="no-fly", start="2026-06-01T10:00:00Z", end="2026-06-01T12:00Z"),
            {**feature(multi, name="R2", lower=1000, upper=3000, units="ft"), "id": "r2"},
        ],
    }
    cs = constraints_from_geojson(fc)
    assert [c.id for c in cs] == ["R1", "r2#0", "r2#1"]
    assert cs[0].kind is ConstraintKind.NO_FLY and cs[1].kind is ConstraintKind.RESTRICTED
    assert cs[0].volume.altitude_upper.ft == 5000 and cs[1].volume.altitude_lower.ft == 1000
    assert cs[0].volume.time_end.hour == 12 and cs[1].volume.time_start.year == 1970


@pytest.mark.parametrize(
    ("feat", "words"),
    [
        (feature({"type": "Point", "coordinates": [7, 46]}), "Polygon or MultiPolygon"),
        ({"type": "Feature", "properties": {"name": "x", "upper": 5}, "geometry": SQUARE}, "lower"),
        (feature(SQUARE, kind="forbidden"), "no-fly"),
        (feature(SQUARE, lower=60), "swap"),
        (
            feature(
                {"type": "Polygon", "coordinates": [[[7, 46], [7.1, 46.1], [7.1, 46], [7, 46.1]]]}
            ),
            "Self-intersection",
        ),
    ],
)
def test_geojson_errors_name_the_feature(feat: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError) as exc:
        constraints_from_geojson({"type": "FeatureCollection", "features": [feat]})
    assert words in str(exc.value) and "feature 0" in str(exc.value)


@pytest.fixture(scope="module")
def lfbo(real_data: Path) -> tuple[dict[str, Any], ConstraintSet]:
    raw = json.loads((real_data / "traffic" / "LFBOTMA.json").read_text())
    return raw, ConstraintSet(constraints_from_airspace(raw))


def test_lfbotma_three_layers(lfbo: tuple[dict[str, Any], ConstraintSet]) -> None:
    raw, cs = lfbo
    assert len(cs) == len(raw["shapes"]) == 3
    for c, shape in zip(cs.constraints, raw["shapes"], strict=True):
        assert c.name == "SIV TOULOUSE"
        assert c.volume.altitude_lower.ft == shape["lower"] * 100
        assert c.volume.altitude_upper.ft == shape["upper"] * 100
        ring = np.asarray(shape["polygon"]["coordinates"][0])
        exact, _ = GEOD.polygon_area_perimeter(ring[:, 0], ring[:, 1])
        mine = shapely.area(cs._shapes[cs.constraints.index(c)])
        assert mine == pytest.approx(abs(exact), rel=5e-3)  # ~20,000 km², tangent plane


def _op(lon: float, lat: float, lower_fl: float, upper_fl: float) -> Any:
    return parse_operation(
        {
            "id": "op",
            "owner": "p",
            "volumes": [
                {
                    "circle": {"latitude": lat, "longitude": lon, "radius_m": 2000.0},
                    "altitude_lower": {"value": lower_fl, "units": "FL"},
                    "altitude_upper": {"value": upper_fl, "units": "FL"},
                    "time_start": "2026-06-01T10:00:00Z",
                    "time_end": "2026-06-01T11:00:00Z",
                }
            ],
        }
    )


def test_operations_entering_layers(lfbo: tuple[dict[str, Any], ConstraintSet]) -> None:
    _, cs = lfbo
    inside_lon, inside_lat = 2.0, 43.5
    assert shapely.Polygon(cs.constraints[1].volume.polygon[0]).contains(  # type: ignore[index]
        shapely.Point(inside_lon, inside_lat)
    )
    hits = check_operation(_op(inside_lon, inside_lat, 70, 90), cs)
    assert [h.constraint_id for h in hits] == ["SIV TOULOUSE#1"]
    assert [h.constraint_id for h in check_operation(_op(inside_lon, inside_lat, 60, 120), cs)] == [
        "SIV TOULOUSE#0", "SIV TOULOUSE#1", "SIV TOULOUSE#2",
    ]  # fmt: skip
    assert check_operation(_op(inside_lon, inside_lat, 150, 200), cs) == []
    assert check_operation(_op(5.0, 43.5, 70, 90), cs) == []  # Provence: outside
    assert ConstraintRule().rejects(hits) == []  # restricted: flagged only
    assert ConstraintRule(restricted="reject").rejects(hits) == hits


def _approach(cs: ConstraintSet, distance_m: float) -> tuple[float, float, float, float]:
    """A start point ``distance_m`` outside the middle of the polygon's longest edge, and the
    azimuth back to that midpoint, computed with pyproj geodesics."""
    ring = np.asarray(cs.constraints[1].volume.polygon[0])  # type: ignore[index]
    az, _, length = GEOD.inv(ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1])
    k = int(np.argmax(length))
    mlon, mlat, _ = GEOD.fwd(ring[k, 0], ring[k, 1], az[k], length[k] / 2)
    back = GEOD.inv(mlon, mlat, ring[k + 1, 0], ring[k + 1, 1])[0]
    slon, slat, _ = GEOD.fwd(mlon, mlat, back + 90.0, distance_m)  # CCW ring: outside is right
    heading = GEOD.inv(slon, slat, mlon, mlat)[0] % 360.0
    return float(slat), float(slon), float(heading), float(length[k])


def test_area_proximity_time_to_entry(lfbo: tuple[dict[str, Any], ConstraintSet]) -> None:
    _, cs = lfbo
    lat, lon, heading, edge = _approach(cs, 15_000.0)
    assert edge > 20_000.0
    gs = 250.0
    out = area_proximity(
        [lat, lat, lat, lat], [lon, lon, lon, lon],
        np.array([10_000, 12_000, 20_000, 10_000]) * FT,
        [gs, gs, gs, 100.0], [heading] * 4, [0.0] * 4, 0.0, cs,
    )  # fmt: skip
    # FL100 and FL120 enter layers 1 and 2 after 15 km / 250 m/s = 60 s; FL200 is above all
    # layers; at 100 m/s the edge is 150 s away: beyond the 2-minute horizon
    assert out.track.tolist() == [0, 1] and out.constraint.tolist() == [1, 2]
    assert np.allclose(out.time_to_entry_s, 60.0, atol=1.0)
    # a track inside is at 0; one flying away gets nothing
    inside = area_proximity(43.5, 2.0, 3000 * FT, 200.0, 0.0, 0.0, 0.0, cs)
    assert inside.constraint.tolist() == [0] and inside.time_to_entry_s.tolist() == [0.0]
    away = area_proximity(lat, lon, 10_000 * FT, gs, (heading + 180) % 360, 0.0, 0.0, cs)
    assert len(away.track) == 0


def test_area_proximity_climb_and_activation_time() -> None:
    cs = ConstraintSet(
        constraints_from_geojson(
            {
                "type": "FeatureCollection",
                "features": [
                    feature(SQUARE, lower=100, upper=200, start="1970-01-01T00:01:30Z"),
                ],
            }
        )
    )
    # 10 km south of the square at FL90 climbing 1,000 ft/min, 200 m/s north: edge at ~50 s,
    # FL100 at 60 s, the area active from 90 s
    lat = 46.0 - 10_000 / 111_150
    one = area_proximity(lat, 7.05, 9000 * FT, 200.0, 0.0, 1000 * FT / 60, 0.0, cs)
    assert one.time_to_entry_s.tolist() == [90.0]
    two = area_proximity(lat, 7.05, 9000 * FT, 200.0, 0.0, 1000 * FT / 60, 60.0, cs)
    assert two.time_to_entry_s.tolist() == [60.0]
    assert abs(two.time_to_entry_s[0] - 60.0) <= 1.0


@pytest.mark.real_data
def test_real_track_entering_an_area_is_announced(real_data: Path) -> None:
    df = pd.read_parquet(real_data / "traffic" / "quickstart.parquet")
    df = df[~df["onground"].astype(bool)].dropna(subset=["groundspeed", "track", "altitude"])
    chosen = None
    for _, g in df.sort_values("timestamp").groupby("callsign", sort=True):
        g = g.reset_index(drop=True)
        t = (g["timestamp"] - g["timestamp"].iloc[0]).dt.total_seconds().to_numpy()
        for k in range(0, len(g) - 400, 100):  # a straight, level, fast 4-minute stretch
            w = (t >= t[k]) & (t <= t[k] + 240)
            trk = g["track"].to_numpy(dtype=float)[w]
            if (
                w.sum() > 200
                and np.ptp(trk) < 2.0
                and g["altitude"][w].astype(float).std() < 100
                and g["groundspeed"][w].astype(float).min() > 250
            ):
                chosen = (g, t, k)
                break
        if chosen:
            break
    assert chosen is not None
    g, t, k = chosen
    # a restricted square of 6 km around where the aircraft really was 150 s later
    j = int(np.searchsorted(t, t[k] + 150))
    c_lat, c_lon = float(g["latitude"][j]), float(g["longitude"][j])
    corners = [GEOD.fwd(c_lon, c_lat, az, 3000 * np.sqrt(2))[:2] for az in (45, 135, 225, 315)]
    alt = float(g["altitude"][k])
    cs = ConstraintSet(
        constraints_from_geojson(
            feature(
                {"type": "Polygon", "coordinates": [[list(p) for p in corners]]},
                lower=alt - 1500,
                upper=alt + 1500,
                units="ft",
            )
        )
    )
    square = shapely.Polygon(corners)
    inside = shapely.contains_xy(
        square, g["longitude"].to_numpy(float), g["latitude"].to_numpy(float)
    )
    entry = t[np.flatnonzero(inside & (t > t[k]))[0]]  # the recorded entry
    states = g.iloc[[k, *np.flatnonzero((t > entry - 100) & (t < entry - 20))]]
    alerts = area_proximity_frame(states, cs)
    predicted = dict(zip(alerts["row"], alerts["time_to_entry_s"], strict=True))
    assert 0 not in predicted  # 2.5 minutes out: no alert yet
    t_states = t[states.index.to_numpy()]
    for row in range(1, len(states)):
        truth = entry - t_states[row]
        assert row in predicted, (row, truth)
        assert abs(predicted[row] - truth) <= 2.0 + 0.03 * truth
    assert set(alerts["callsign"]) == {g["callsign"].iloc[0]}


SITES = [(46.0, 7.0), (-10.0, 179.99), (88.0, 45.0)]


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(SITES),
    st.floats(0, 360),
    st.floats(2_000, 40_000),
    st.floats(-40, 40),
    st.floats(60, 300),
    st.floats(1_000, 8_000),
)
def test_area_proximity_matches_geodesic_sampling(
    site: tuple[float, float], bearing: float, dist: float, off: float, gs: float, r: float
) -> None:
    """Entry times against an independent reference: the track flown along its geodesic
    (pyproj), sampled every second, against the geodesic distance to the circle's centre."""
    lat0, lon0 = site
    cs = ConstraintSet(
        [
            Constraint(
                id="c",
                name="c",
                volume=parse_volume(
                    {
                        "circle": {"latitude": lat0, "longitude": lon0, "radius_m": r},
                        "altitude_lower": {"value": 0},
                        "altitude_upper": {"value": 10_000},
                        "time_start": "1970-01-01T00:00:00Z",
                        "time_end": "2100-01-01T00:00:00Z",
                    }
                ),
            )
        ]
    )
    lon, lat, _ = GEOD.fwd(lon0, lat0, bearing, dist)
    trk = (GEOD.inv(lon, lat, lon0, lat0)[0] + off) % 360.0  # roughly towards the area
    out = area_proximity(lat, lon, 1000.0, gs, trk, 0.0, 0.0, cs)
    steps = np.arange(0.0, 121.0)
    plon, plat, _ = GEOD.fwd(np.full(121, lon), np.full(121, lat), np.full(121, trk), gs * steps)
    _, _, d = GEOD.inv(np.full(121, lon0), np.full(121, lat0), plon, plat)
    inside = d < r
    # the two paths differ by centimetres over 36 km: allow one sample at the boundary
    margin = np.abs(d - r) < 0.002 * r + gs
    if inside.any():
        truth = steps[np.argmax(inside)]
        if len(out.track):
            assert abs(out.time_to_entry_s[0] - truth) <= 1.0
        else:
            assert margin[inside].all()
    elif len(out.track):
        assert margin[int(out.time_to_entry_s[0])]


def test_area_proximity_in_chunks_equals_one_track_at_a_time() -> None:
    rng = np.random.default_rng(5)
    n_c, n_t = 2500, 500  # 2,500 constraints: tracks go 400 at a time
    lon_c, lat_c, _ = GEOD.fwd(
        np.full(n_c, 7.0), np.full(n_c, 46.0), rng.uniform(0, 360, n_c), rng.uniform(0, 2e5, n_c)
    )
    cs = ConstraintSet(
        Constraint(
            id=f"c{k}",
            name="c",
            volume=parse_volume(
                {
                    "circle": {"latitude": la, "longitude": lo, "radius_m": 2000.0},
                    "altitude_lower": {"value": 0},
                    "altitude_upper": {"value": 20_000},
                    "time_start": "1970-01-01T00:00:00Z",
                    "time_end": "2100-01-01T00:00:00Z",
                }
            ),
        )
        for k, (la, lo) in enumerate(zip(lat_c, lon_c, strict=True))
    )
    lon_t, lat_t, _ = GEOD.fwd(
        np.full(n_t, 7.0), np.full(n_t, 46.0), rng.uniform(0, 360, n_t), rng.uniform(0, 2e5, n_t)
    )
    trk = rng.uniform(0, 360, n_t)
    args = (np.full(n_t, 3000.0), np.full(n_t, 200.0), trk, np.zeros(n_t), 0.0)
    together = area_proximity(lat_t, lon_t, *args, cs)
    assert len(together.track) > 50
    for k in range(n_t):
        alone = area_proximity(
            lat_t[k], lon_t[k], *(np.atleast_1d(x)[k % np.size(x)] for x in args), cs
        )
        mine = together.track == k
        assert together.constraint[mine].tolist() == alone.constraint.tolist()
        assert together.time_to_entry_s[mine].tolist() == alone.time_to_entry_s.tolist()
