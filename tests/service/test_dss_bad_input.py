"""Malformed F3548 bodies: each gets 400 in F3548's shape ``{"message": ...}`` naming the field
and the fix, and nothing is written."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dss_helpers import (
    Issuer,
    assert_message,
    dss_client,
    f3548_volume,
    new_id,
    oir_body,
    register,
)
from fastapi.testclient import TestClient

OIR = "/dss/v1/operational_intent_references"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture()
def dss(db_url: str, tmp_path: Path, issuer: Issuer) -> Iterator[TestClient]:
    with dss_client(db_url, tmp_path, issuer) as c:
        register(c, "uss1")
        yield c


def _volume(change: Any) -> dict[str, Any]:
    v = copy.deepcopy(f3548_volume())
    change(v)
    return v


def _set(path: list[Any], value: Any) -> Any:
    def change(v: dict[str, Any]) -> None:
        node = v
        for p in path[:-1]:
            node = node[p]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return change


BOW_TIE = [
    {"lat": 46.0, "lng": 7.0},
    {"lat": 46.01, "lng": 7.01},
    {"lat": 46.0, "lng": 7.01},
    {"lat": 46.01, "lng": 7.0},
]

CASES = {
    "wrong units": (
        _set(["volume", "altitude_lower", "units"], "FT"),
        ["extents[0].volume.altitude_lower.units", "metres"],
    ),
    "missing reference": (
        _set(["volume", "altitude_upper", "reference"], KeyError),
        ["extents[0].volume.altitude_upper.reference", "W84"],
    ),
    "barometric reference": (
        _set(["volume", "altitude_upper", "reference"], "SFC"),
        ["reference", "W84"],
    ),
    "self-intersecting polygon": (
        _set(["volume", "outline_polygon", "vertices"], BOW_TIE),
        ["extents[0]", "intersect"],
    ),
    "end before start": (
        _set(["time_end"], {"value": "2020-01-01T00:00:00Z", "format": "RFC3339"}),
        ["extents[0]", "time_end", "swap"],
    ),
    "time without zone": (
        _set(["time_start"], {"value": "2030-01-01T00:00:00", "format": "RFC3339"}),
        ["extents[0].time_start.value", "time zone"],
    ),
    "time not a time": (
        _set(["time_start"], {"value": "tomorrow", "format": "RFC3339"}),
        ["extents[0].time_start.value", "RFC 3339"],
    ),
    "latitude out of range": (
        _set(["volume", "outline_polygon", "vertices", 0, "lat"], 146.0),
        ["vertices[0].lat", "swapped"],
    ),
    "two vertices": (
        _set(["volume", "outline_polygon", "vertices"], BOW_TIE[:2]),
        ["outline_polygon.vertices", "at least 3"],
    ),
    "no outline": (
        _set(["volume", "outline_polygon"], KeyError),
        ["extents[0].volume", "outline_polygon"],
    ),
    "lower above upper": (
        _set(["volume", "altitude_lower", "value"], 5000.0),
        ["altitude_lower", "swap"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_volume(dss: TestClient, issuer: Issuer, case: str) -> None:
    change, words = CASES[case]
    oid = new_id()
    r = dss.put(f"{OIR}/{oid}", json=oir_body(_volume(change)), headers=issuer.headers("uss1"))
    assert_message(r, 400, *words)
    assert dss.get(f"{OIR}/{oid}", headers=issuer.headers("uss1")).status_code == 404
    assert not any(e.kind.startswith(("operation.", "dss.")) for e in dss.app.state.store.log())


def test_malformed_bodies(dss: TestClient, issuer: Issuer) -> None:
    h = issuer.headers("uss1")
    assert_message(dss.put(f"{OIR}/not-a-uuid", json=oir_body(), headers=h), 400, "not a UUID")
    assert_message(dss.put(f"{OIR}/{new_id()}", content=b"{", headers=h), 400, "not JSON")
    assert_message(dss.put(f"{OIR}/{new_id()}", json=[1], headers=h), 400, "JSON object")
    assert_message(
        dss.put(f"{OIR}/{new_id()}", json=oir_body(state="Flying"), headers=h),
        400,
        "state 'Flying'",
        "Accepted",
    )
    assert_message(
        dss.put(f"{OIR}/{new_id()}", json={**oir_body(), "key": "abc"}, headers=h), 400, "key"
    )
    assert_message(
        dss.put(f"{OIR}/{new_id()}", json={**oir_body(), "extents": []}, headers=h),
        400,
        "extents",
    )
    assert_message(
        dss.put(f"{OIR}/{new_id()}", json={**oir_body(), "uss_base_url": "ftp://x/"}, headers=h),
        400,
        "uss_base_url",
    )
    assert_message(
        dss.put(
            f"{OIR}/{new_id()}",
            json={**oir_body(), "subscription_id": new_id(), "new_subscription": None},
            headers=h,
        ),
        400,
        "subscription_id",
        "does not exist",
    )
    past = f3548_volume(start_s=1e9)
    assert_message(dss.put(f"{OIR}/{new_id()}", json=oir_body(past), headers=h), 400, "past")
    far = f3548_volume(start_s=4e9)
    assert_message(dss.put(f"{OIR}/{new_id()}", json=oir_body(far), headers=h), 400, "30 days")
    assert_message(dss.post(f"{OIR}/query", json={}, headers=h), 400, "area_of_interest")
    huge = f3548_volume(37.0, -81.0, 1.0)
    assert_message(dss.post(f"{OIR}/query", json={"area_of_interest": huge}, headers=h), 400, "km²")
    assert_message(dss.delete(f"{OIR}/{new_id()}/", headers=h), 400, "OVN", "missing")


def test_malformed_subscriptions(dss: TestClient, issuer: Issuer) -> None:
    h = issuer.headers("uss1")
    base = {"extents": f3548_volume(), "uss_base_url": "https://uss.example"}
    url = f"/dss/v1/subscriptions/{new_id()}"
    assert_message(dss.put(url, json=base, headers=h), 400, "notify_for_operational_intents")
    too_long = {**base, "extents": f3548_volume(minutes=25 * 60)}
    too_long["notify_for_operational_intents"] = True
    assert_message(dss.put(url, json=too_long, headers=h), 400, "24 h")
    past = {**base, "extents": f3548_volume(start_s=1e9), "notify_for_constraints": True}
    assert_message(dss.put(url, json=past, headers=h), 400, "time_end", "past")
    assert_message(dss.get(url, headers=h), 404)
