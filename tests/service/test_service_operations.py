"""Operations through the API: proof of awareness, conflict rules, buffers, states, search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from service_helpers import ADMIN, Headers, assert_error, make_client, volume


def declare(client: TestClient, who: Headers, *volumes: dict[str, Any], **extra: Any) -> Any:
    return client.post("/v1/operations", json={"volumes": list(volumes), **extra}, headers=who)


def test_proof_of_awareness(client: TestClient, register: Callable[[str], Headers]) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    a = declare(client, alpha, volume(8.50, 47.40), priority=5, aircraft_ids=["4b1801"])
    assert a.status_code == 201
    op_a = a.json()
    assert op_a["state"] == "Accepted" and op_a["version"] == 1 and op_a["token"]
    # bravo overlaps alpha's volume: 409 listing alpha's operation, need-to-know only
    b = declare(client, bravo, volume(8.505, 47.405))
    err = assert_error(b, 409, "awareness_required", op_a["id"])
    (missing,) = err["missing"]
    assert missing["id"] == op_a["id"] and missing["token"] == op_a["token"]
    assert missing["owner"] == "alpha" and missing["contact"] == "ops@alpha"
    assert set(missing) == {"shared", "id", "version", "token", "owner", "contact", "parts"}
    assert "4b1801" not in b.text and '"priority"' not in b.text
    # a stale token is as good as none
    stale = declare(client, bravo, volume(8.505, 47.405), keys=["0" * 32])
    assert_error(stale, 409, "awareness_required")
    # aware now; the procedures' default rule rejects the conflict, both parties are told
    aware = declare(client, bravo, volume(8.505, 47.405), keys=[op_a["token"]])
    assert_error(aware, 409, "conflict", "reject")
    kinds_a = [e["kind"] for e in client.get("/v1/events", headers=alpha).json()["events"]]
    kinds_b = [e["kind"] for e in client.get("/v1/events", headers=bravo).json()["events"]]
    assert "operation.conflict" in kinds_a and "operation.conflict" in kinds_b
    # elsewhere is fine without any key
    assert declare(client, bravo, volume(8.60, 47.40)).status_code == 201


def test_accept_by_priority(db_url: str) -> None:
    with make_client(db_url, conflict_rule="accept-by-priority") as client:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        heads = []
        for name in ("alpha", "bravo"):
            tok = client.post("/v1/parties", json={"name": name}, headers=admin).json()["token"]
            heads.append({"Authorization": f"Bearer {tok}"})
        alpha, bravo = heads
        op_a = declare(client, alpha, volume(8.50, 47.40), priority=5).json()
        low = declare(client, bravo, volume(8.505, 47.405), priority=5, keys=[op_a["token"]])
        assert_error(low, 409, "conflict", "priority")
        high = declare(client, bravo, volume(8.505, 47.405), priority=6, keys=[op_a["token"]])
        assert high.status_code == 201, high.text
        assert high.json()["flags"] == [{"kind": "conflict", "operations": [op_a["id"]]}]
        told = client.get("/v1/events", headers=alpha).json()["events"]
        conflict = [e for e in told if e["kind"] == "operation.conflict"]
        assert conflict and conflict[-1]["payload"]["outcome"] == "accepted"
        assert conflict[-1]["payload"]["other"]["id"] == high.json()["id"]


def test_buffers_widen_the_check(db_url: str) -> None:
    """2 km apart: no conflict for InterUSS's rule, a conflict under 5 NM separation."""
    for standard, expect in (("none", 201), ("icao-5nm", 409)):
        with make_client(db_url, separation_standard=standard) as client:
            admin = {"Authorization": f"Bearer {ADMIN}"}
            heads = []
            for name in ("alpha", "bravo"):
                r = client.post("/v1/parties", json={"name": f"{name}-{standard}"}, headers=admin)
                heads.append({"Authorization": f"Bearer {r.json()['token']}"})
            declare(client, heads[0], volume(8.50, 47.40))
            # 0.01° of latitude is 1.1 km; this square starts 0.03° (3.3 km) further north
            r = declare(client, heads[1], volume(8.50, 47.44))
            assert r.status_code == expect, (standard, r.text)


def test_adjacent_flight_levels_do_not_conflict(db_url: str) -> None:
    with make_client(db_url, separation_standard="icao-5nm") as client:
        admin = {"Authorization": f"Bearer {ADMIN}"}
        heads = []
        for name in ("alpha", "bravo"):
            r = client.post("/v1/parties", json={"name": name}, headers=admin)
            heads.append({"Authorization": f"Bearer {r.json()['token']}"})
        low = volume(8.5, 47.4, lower_ft=20000, upper_ft=30000)
        declare(client, heads[0], low)
        level = dict(
            volume(8.5, 47.4),
            altitude_lower={"value": 310, "units": "FL"},
            altitude_upper={"value": 350, "units": "FL"},
        )
        assert declare(client, heads[1], level).status_code == 201
        closer = dict(level, altitude_lower={"value": 305, "units": "FL"})
        assert_error(declare(client, heads[1], closer), 409, "awareness_required")


def test_revise_needs_the_current_token(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha = register("alpha")
    op = declare(client, alpha, volume(8.5, 47.4)).json()
    body = {"token": op["token"], "volumes": [volume(8.51, 47.4)], "state": "Accepted"}
    r = client.put(f"/v1/operations/{op['id']}", json=body, headers=alpha)
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["token"] != op["token"]
    again = client.put(f"/v1/operations/{op['id']}", json=body, headers=alpha)
    assert_error(again, 409, "conflict", "version 2")


def test_states_follow_astm_f3548(client: TestClient, register: Callable[[str], Headers]) -> None:
    alpha = register("alpha")
    op = declare(client, alpha, volume(8.5, 47.4)).json()
    url = f"/v1/operations/{op['id']}/state"
    bad = client.post(url, json={"token": op["token"], "state": "Contingent"}, headers=alpha)
    assert_error(bad, 409, "conflict", "Accepted", "Contingent")
    token = op["token"]
    for state in ("Activated", "Nonconforming", "Activated", "Contingent", "Ended"):
        r = client.post(url, json={"token": token, "state": state}, headers=alpha)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == state
        token = r.json()["token"]
    # ended is kept as a record, and nothing leaves it
    kept = client.get(f"/v1/operations/{op['id']}", headers=alpha).json()
    assert kept["state"] == "Ended" and kept["version"] == 6
    r = client.post(url, json={"token": token, "state": "Activated"}, headers=alpha)
    assert_error(r, 409, "conflict", "Ended")
    # and it no longer blocks anyone
    bravo = register("bravo")
    assert declare(client, bravo, volume(8.5, 47.4)).status_code == 201


def test_search_by_box_and_time(client: TestClient, register: Callable[[str], Headers]) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    near = declare(client, alpha, volume(8.50, 47.40)).json()
    far = declare(client, alpha, volume(9.50, 47.40)).json()
    later = declare(
        client, alpha, volume(8.50, 47.40, start="2030-01-02T10:00:00Z", end="2030-01-02T11:00:00Z")
    ).json()
    got = client.get(
        "/v1/operations",
        params={
            "bbox": "8.4,47.3,8.6,47.5",
            "start": "2030-01-01T09:00:00Z",
            "end": "2030-01-01T12:00:00Z",
        },
        headers=alpha,
    ).json()["operations"]
    assert [o["id"] for o in got] == [near["id"]]
    everything = client.get("/v1/operations", headers=alpha).json()["operations"]
    assert {o["id"] for o in everything} == {near["id"], far["id"], later["id"]}
    # bravo owns nothing: sees nothing
    assert client.get("/v1/operations", headers=bravo).json()["operations"] == []
    assert_error(
        client.get("/v1/operations", params={"bbox": "1,2,3"}, headers=alpha),
        422,
        "invalid_input",
        "bbox",
    )
    assert_error(
        client.get("/v1/operations", params={"bbox": "9,47,8,48"}, headers=alpha),
        422,
        "invalid_input",
        "order",
    )
