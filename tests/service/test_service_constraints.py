"""Airspace constraints: operations entering them are rejected or flagged; live tracks about to
enter one within 2 minutes raise an area proximity alert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pyproj import Geod
from service_helpers import ADMIN, Headers, assert_error, volume

from deconflict.units import KT

SQUARE = [[8.50, 47.40], [8.55, 47.40], [8.55, 47.45], [8.50, 47.45], [8.50, 47.40]]


def area(kind: str, name: str, lower: float = 0, upper: float = 5000) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"name": name, "kind": kind, "lower": lower, "upper": upper, "units": "ft"},
        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
    }


def test_operations_entering_constraints(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha = register("alpha")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    r = client.post("/v1/constraints", json=area("no-fly", "Stadium"), headers=admin)
    assert r.status_code == 201, r.text
    (no_fly,) = r.json()["constraints"]
    inside = client.post("/v1/operations", json={"volumes": [volume(8.52, 47.42)]}, headers=alpha)
    assert_error(inside, 409, "conflict", "Stadium", no_fly["id"])
    # above the area's ceiling: fine
    above = volume(8.52, 47.42, lower_ft=6000, upper_ft=7000)
    assert (
        client.post("/v1/operations", json={"volumes": [above]}, headers=alpha).status_code == 201
    )
    # a restricted area flags instead (the default rule)
    r = client.post(
        "/v1/constraints",
        json={"type": "FeatureCollection", "features": [area("restricted", "Range", 6500, 9000)]},
        headers=admin,
    )
    (restricted,) = r.json()["constraints"]
    flagged = client.post(
        "/v1/operations",
        json={
            "volumes": [
                volume(8.6, 47.42, lower_ft=6000, upper_ft=7000),
                volume(8.52, 47.42, lower_ft=8000, upper_ft=8500),
            ]
        },
        headers=alpha,
    )
    assert flagged.status_code == 201, flagged.text
    assert flagged.json()["flags"] == [{"kind": "constraint", "constraints": [restricted["id"]]}]
    kinds = [e["kind"] for e in client.get("/v1/events", headers=alpha).json()["events"]]
    assert kinds.count("constraint.added") == 2  # every party is told of each area
    assert "operation.constraint" in kinds
    listed = client.get("/v1/constraints", headers=alpha).json()["constraints"]
    assert {c["id"] for c in listed} == {no_fly["id"], restricted["id"]}
    bravo = register("bravo")
    assert_error(
        client.delete(f"/v1/constraints/{restricted['id']}", headers=bravo), 403, "forbidden"
    )
    assert client.delete(f"/v1/constraints/{restricted['id']}", headers=admin).status_code == 204
    assert_error(client.get(f"/v1/constraints/{restricted['id']}", headers=alpha), 404, "not_found")
    bad = area("no-fly", "Bent")
    bad["geometry"]["coordinates"] = [[[8.5, 47.4], [8.55, 47.45], [8.55, 47.4], [8.5, 47.45]]]
    assert_error(
        client.post("/v1/constraints", json=bad, headers=admin), 422, "invalid_input", "invalid"
    )


def test_a_party_cannot_close_anothers_airspace(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    """Issue 11, item 4: a party's POST /v1/constraints over another's area is refused (403,
    saying constraints are the host's), nothing is stored or announced, and the other party's
    declarations there go on; the host's constraints show that the host made them."""
    alpha, bravo = register("alpha"), register("bravo")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    before = len(client.get("/v1/events", headers=alpha).json()["events"])
    r = client.post("/v1/constraints", json=area("no-fly", "Closed by bravo"), headers=bravo)
    assert_error(r, 403, "forbidden", "constraints are the host's", "ask the host")
    assert client.get("/v1/constraints", headers=alpha).json()["constraints"] == []
    assert len(client.get("/v1/events", headers=alpha).json()["events"]) == before
    inside = client.post("/v1/operations", json={"volumes": [volume(8.52, 47.42)]}, headers=alpha)
    assert inside.status_code == 201, inside.text
    # the host's constraint shows its maker, in the answer, the list and every party's event
    r = client.post("/v1/constraints", json=area("restricted", "Range"), headers=admin)
    (made,) = r.json()["constraints"]
    assert made["owner"] == "host"
    assert [
        c["owner"] for c in client.get("/v1/constraints", headers=bravo).json()["constraints"]
    ] == ["host"]
    assert client.get(f"/v1/constraints/{made['id']}", headers=bravo).json()["owner"] == "host"
    (told,) = [
        e
        for e in client.get("/v1/events", headers=bravo).json()["events"]
        if e["kind"] == "constraint.added"
    ]
    assert told["payload"]["owner"] == "host"
    # an admin party is the host too, and is named
    r = client.post("/v1/parties", json={"name": "duty-host", "role": "admin"}, headers=admin)
    second = {"Authorization": f"Bearer {r.json()['token']}"}
    r = client.post("/v1/constraints", json=area("no-fly", "Stadium"), headers=second)
    assert r.status_code == 201, r.text
    assert r.json()["constraints"][0]["owner"] == "duty-host"
    # a party withdraws none, not even to undo the host's
    assert_error(
        client.delete(f"/v1/constraints/{made['id']}", headers=alpha), 403, "forbidden", "host"
    )
    assert client.get(f"/v1/constraints/{made['id']}", headers=alpha).status_code == 200


def test_area_proximity_warning(client: TestClient, register: Callable[[str], Headers]) -> None:
    alpha = register("alpha")
    client.post(
        "/v1/constraints",
        json=area("no-fly", "Stadium"),
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    geod = Geod(ellps="WGS84")
    speed = 300 * KT

    def state(track_id: str, lat: float, heading: float) -> dict[str, Any]:
        return {
            "id": track_id,
            "timestamp": "2030-01-01T10:00:00Z",
            "latitude": lat,
            "longitude": 8.525,
            "altitude": 3000,
            "groundspeed": 300,
            "track": heading,
        }

    # 10 km south heading north: enters after its distance to the southern edge / speed
    _, lat_10km, _ = geod.fwd(8.525, 47.40, 180.0, 10_000.0)
    # 25 km south: 162 s away, beyond the 2-minute horizon
    _, lat_25km, _ = geod.fwd(8.525, 47.40, 180.0, 25_000.0)
    body = {
        "tracks": [
            state("near", lat_10km, 0.0),
            state("away", lat_10km, 180.0),
            state("far", lat_25km, 0.0),
        ]
    }
    r = client.post("/v1/proximity", json=body, headers=alpha)
    assert r.status_code == 200, r.text
    alerts = r.json()["alerts"]
    assert [a["track"] for a in alerts] == ["near"]
    expected_s = 10_000.0 / speed
    assert expected_s <= alerts[0]["time_to_entry_s"] + 1e-6 <= expected_s + 1.5
    events = client.get("/v1/events", headers=alpha).json()["events"]
    assert [e["payload"]["track"] for e in events if e["kind"] == "area.proximity"] == ["near"]
