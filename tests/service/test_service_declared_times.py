"""What a party declares must be real (issue 11, item 8): a zero-area footprint, times before
1970 or more than ten years ahead, negative epoch numbers and numbers that look like
milliseconds are refused with 422 naming the field and the fix; numbers are seconds. On SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import Headers, assert_error, volume

from deconflict.strategic.validate import MAX_YEARS_AHEAD


def post(client: TestClient, who: Headers, vol: dict[str, Any]) -> Any:
    return client.post("/v1/operations", json={"volumes": [vol]}, headers=who)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"polygon": [[[8.5, 47.4], [8.6, 47.4], [8.7, 47.4]]]}, ["volumes.0.polygon"]),
        ({"polygon": [[[8.5, 47.4], [8.5, 47.4], [8.5, 47.4]]]}, ["at least 3"]),
        (
            {"polygon": None, "circle": {"latitude": 47.4, "longitude": 8.5, "radius_m": 1e-9}},
            ["radius_m", "at least 1 m"],
        ),
        ({"time_start": "0001-01-01T00:00:00Z"}, ["volumes.0.time_start", "before 1970"]),
        ({"time_end": "9999-12-31T00:00:00Z"}, ["volumes.0.time_end", "10 years ahead"]),
        ({"time_start": -60}, ["volumes.0.time_start", "negative", "seconds since 1970"]),
        ({"time_start": "-60"}, ["volumes.0.time_start", "negative"]),
        ({"time_start": 1_893_492_000_000}, ["volumes.0.time_start", "milliseconds", "1000"]),
        ({"time_end": float("inf")}, ["volumes.0.time_end"]),
    ],
)
def test_unreal_declarations_are_refused_with_the_fix(
    client: TestClient,
    register: Callable[[str], Headers],
    change: dict[str, Any],
    words: list[str],
) -> None:
    alpha = register("alpha")
    vol = {**volume(8.5, 47.4), **change}
    if change.get("time_end") == float("inf"):  # not JSON: send it as JSON's overflow
        r = client.post(
            "/v1/operations",
            content=b'{"volumes": [' + _json(vol).replace(b'"INF"', b"1e999") + b"]}",
            headers={**alpha, "Content-Type": "application/json"},
        )
    else:
        r = post(client, alpha, vol)
    assert_error(r, 422, "invalid_input", *words)
    assert client.get("/v1/operations", headers=alpha).json()["operations"] == []


def _json(vol: dict[str, Any]) -> bytes:
    import json

    return json.dumps({**vol, "time_end": "INF"}).encode()


def test_numbers_are_seconds(client: TestClient, register: Callable[[str], Headers]) -> None:
    alpha = register("alpha")
    start = datetime(2030, 1, 1, 10, tzinfo=UTC)
    vol = volume(8.5, 47.4) | {
        "time_start": start.timestamp(),
        "time_end": str(int((start + timedelta(hours=1)).timestamp())),
    }
    r = post(client, alpha, vol)
    assert r.status_code == 201, r.text
    (stored,) = r.json()["volumes"]
    assert stored["time_start"] == "2030-01-01T10:00:00Z"
    assert stored["time_end"] == "2030-01-01T11:00:00Z"


def test_the_bounds_hold_at_their_edges(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha = register("alpha")
    now = datetime.now(UTC)
    inside = now.replace(year=now.year + MAX_YEARS_AHEAD) - timedelta(days=1)
    vol = volume(8.5, 47.4, start=(inside - timedelta(hours=1)).isoformat(), end=inside.isoformat())
    assert post(client, alpha, vol).status_code == 201
    beyond = now.replace(year=now.year + MAX_YEARS_AHEAD) + timedelta(days=1)
    vol = volume(8.5, 47.4, start=inside.isoformat(), end=beyond.isoformat())
    assert_error(post(client, alpha, vol), 422, "invalid_input", "time_end")
    old = volume(8.5, 47.4, start="1970-01-01T00:00:00Z", end="1970-01-01T01:00:00Z")
    assert post(client, alpha, old).status_code == 201
