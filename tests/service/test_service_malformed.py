"""Malformed geometry gets a clear 4xx naming the problem and the fix; valid geometry is kept."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from service_helpers import Headers, assert_error, volume


@pytest.fixture()
def db_url() -> str:
    """Validation does not depend on the backend: SQLite only, to keep the suite fast."""
    return "sqlite://"


def post(client: TestClient, who: Headers, vol: object) -> object:
    return client.post("/v1/operations", json={"volumes": [vol]}, headers=who)


def test_malformed_volumes_are_named(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha = register("alpha")
    bow = volume(8.5, 47.4)
    bow["polygon"] = [[[8.50, 47.40], [8.52, 47.42], [8.52, 47.40], [8.50, 47.42]]]
    assert_error(post(client, alpha, bow), 422, "invalid_input", "self-intersection", "latitude")

    huge = volume(8.5, 47.4)
    huge["polygon"] = [[[8.5 + 1e-7 * i, 47.4 + 1e-9 * i * i] for i in range(12_000)]]
    assert_error(post(client, alpha, huge), 422, "invalid_input", "12,000 vertices", "10,000")
    # (a body over max_body_bytes, 1 MiB, is refused before it is read: tests/security)

    backwards = volume(8.5, 47.4, start="2030-01-01T11:00:00Z", end="2030-01-01T10:00:00Z")
    assert_error(post(client, alpha, backwards), 422, "invalid_input", "time_end", "not after")

    swapped = volume(47.4, 8.5)
    swapped["polygon"] = [[[lat, lon] for lon, lat in swapped["polygon"][0]]]
    swapped["polygon"][0][1][1] = 95.0
    assert_error(post(client, alpha, swapped), 422, "invalid_input", "latitude")

    no_tz = volume(8.5, 47.4, start="2030-01-01T10:00:00", end="2030-01-01T11:00:00")
    assert_error(post(client, alpha, no_tz), 422, "invalid_input", "time_start")

    upside_down = volume(8.5, 47.4, lower_ft=500, upper_ft=100)
    assert_error(post(client, alpha, upside_down), 422, "invalid_input", "altitude_lower")

    # NaN is not JSON, but Python's parser reads it: it must still be refused by name
    text = json.dumps({"volumes": [volume(8.5, 47.4)]}).replace("47.41", "NaN", 1)
    assert "NaN" in text
    r = client.post(
        "/v1/operations", content=text, headers={**alpha, "Content-Type": "application/json"}
    )
    assert_error(r, 422, "invalid_input", "finite")


def test_clockwise_ring_is_refused_with_the_fix(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    """RFC 7946 §3.1.6: a declared exterior ring is counter-clockwise; a clockwise one is refused
    (not silently reversed), and reversing it as the message says is accepted and stored so."""
    alpha = register("alpha")
    cw = volume(8.5, 47.4)
    cw["polygon"] = [list(reversed(cw["polygon"][0]))]
    assert_error(post(client, alpha, cw), 422, "invalid_input", "clockwise", "reverse order")
    r = post(client, alpha, volume(8.5, 47.4))
    assert r.status_code == 201, r.text
    ring = r.json()["volumes"][0]["polygon"][0]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
    assert area2 > 0  # shoelace: positive is counter-clockwise


@pytest.mark.parametrize(
    "ring",
    [
        [[179.99, -17.0], [-179.99, -17.0], [-179.99, -16.99], [179.99, -16.99]],
        [[179.99, -17.0], [180.01, -17.0], [180.01, -16.99], [179.99, -16.99]],
    ],
    ids=["wrapped", "beyond-180"],
)
def test_antimeridian_crossing_polygon_is_refused_with_the_fix(
    client: TestClient, register: Callable[[str], Headers], ring: list[list[float]]
) -> None:
    """RFC 7946 §3.1.9: a polygon crossing 180° is cut in two; both spellings are refused."""
    alpha = register("alpha")
    across = volume(179.99, -17.0)
    across["polygon"] = [ring]
    assert_error(post(client, alpha, across), 422, "invalid_input", "antimeridian", "cut")
    assert client.get("/v1/operations", headers=alpha).json()["operations"] == []


def test_area_cut_at_the_antimeridian_conflicts_on_both_sides(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    """The same area cut at 180° into two volumes is one operation that conflicts with a square
    on either side of the line (about 1 km away), not with one elsewhere."""
    alpha, bravo = register("alpha"), register("bravo")
    west_half = volume(179.99, -17.0)
    west_half["polygon"] = [[[179.99, -17.0], [180.0, -17.0], [180.0, -16.99], [179.99, -16.99]]]
    east_half = volume(-180.0, -17.0)
    east_half["polygon"] = [
        [[-180.0, -17.0], [-179.99, -17.0], [-179.99, -16.99], [-180.0, -16.99]]
    ]
    r = client.post("/v1/operations", json={"volumes": [west_half, east_half]}, headers=alpha)
    assert r.status_code == 201, r.text
    east = volume(-179.995, -16.998, 0.002)
    west = volume(179.993, -16.998, 0.002)
    elsewhere = volume(0.0, -17.0)
    for vol in (east, west):
        assert_error(post(client, bravo, vol), 409, "awareness_required", r.json()["id"])
    assert post(client, bravo, elsewhere).status_code == 201
    found = client.get(
        "/v1/operations", params={"bbox": "-180,-17.5,-179.9,-16.5"}, headers=alpha
    ).json()["operations"]
    assert [o["id"] for o in found] == [r.json()["id"]]
