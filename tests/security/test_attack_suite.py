"""The attack suite (issue 11): for every endpoint and WebSocket of the service, each of three
parties (Blue, Red, Civil) and the admin tries what it must not do — no token, a bad token,
a party doing the host's things, the host writing as a party, reading or writing another
party's data — and every answer about others' data is checked against a per-endpoint allow-list
of fields (docs/security.md is the threat model). The routes are walked from the app itself: a
new endpoint without an entry in ``routes_access.ACCESS`` fails ``test_every_route_has_an_entry``.

One world per backend (SQLite, PostgreSQL), built once for the module: Blue's operation, Red's
operation meeting it, Civil's far away, a message from Blue to Red, an identification request
Blue claimed, a constraint of the host's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from routes_access import (
    ACCESS,
    ADMIN_ONLY,
    DELIVERY_FIELDS,
    MEMBER,
    OWN_OPERATION_FIELDS,
    PARTY_FIELDS,
    PUBLIC,
    REQUEST_FIELDS_FOR_A_PARTY,
    SECRET_AIRCRAFT,
    SECRET_TEXT,
    SHARED_OPERATION_FIELDS,
    walk,
)
from security_helpers import ADMIN_HEADERS, make_client, register, signed_answer, signed_message
from starlette.websockets import WebSocketDisconnect


def volume(lon0: float, lat0: float, size_deg: float = 0.01) -> dict[str, Any]:
    ring = [
        [lon0, lat0],
        [lon0 + size_deg, lat0],
        [lon0 + size_deg, lat0 + size_deg],
        [lon0, lat0 + size_deg],
    ]
    return {
        "polygon": [ring],
        "altitude_lower": {"value": 0, "units": "ft"},
        "altitude_upper": {"value": 400, "units": "ft"},
        "time_start": "2030-01-01T10:00:00Z",
        "time_end": "2030-01-01T11:00:00Z",
    }


TRACK = {
    "id": "T042",
    "timestamp": "2030-01-01T10:00:30Z",
    "latitude": 47.40,
    "longitude": 8.55,
    "altitude": 12000.0,
    "groundspeed": 300.0,
    "track": 90.0,
    "vertical_rate": -600.0,
}


@dataclass
class World:
    client: TestClient
    parties: dict[str, dict[str, Any]]
    ops: dict[str, dict[str, Any]]
    message_id: str
    request_id: str
    constraint_id: str

    def headers(self, who: str) -> dict[str, str]:
        if who == "admin":
            return ADMIN_HEADERS
        if who == "none":
            return {}
        if who == "bad":
            return {"Authorization": "Bearer not-a-token-of-anyone"}
        return dict(self.parties[who]["headers"])


def _database(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield "sqlite://"
        return
    server = str(request.getfixturevalue("postgres_server_url"))
    name = f"deconflict_attack_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    for url in _database(request):
        with make_client(url, conflict_rule="accept-by-priority") as client:
            yield _build(client)


def _build(client: TestClient) -> World:
    parties = {n: register(client, n) for n in ("blue", "red", "civil")}

    def declare(
        who: str, vol: dict[str, Any], keys: list[str], priority: int = 0
    ) -> dict[str, Any]:
        body = {"volumes": [vol], "keys": keys, "priority": priority}
        r = client.post("/v1/operations", json=body, headers=parties[who]["headers"])
        assert r.status_code == 201, r.text
        return dict(r.json())

    ops = {"blue": declare("blue", volume(8.5, 47.4), [])}
    ops["red"] = declare("red", volume(8.505, 47.405), [ops["blue"]["token"]], priority=10)
    ops["civil"] = declare("civil", volume(10.0, 50.0), [])
    body = {"to": "red", "body": {"text": SECRET_TEXT}}
    r = client.post(
        "/v1/messages",
        json=signed_message(parties["blue"], body),
        headers=parties["blue"]["headers"],
    )
    assert r.status_code == 201, r.text
    mid = r.json()["message"]["message_id"]
    r = client.post("/v1/identification-requests", json={"track": TRACK}, headers=ADMIN_HEADERS)
    rid = r.json()["request_id"]
    answer = {"answer": "ours", "aircraft": SECRET_AIRCRAFT, "operation": ops["blue"]["id"]}
    r = client.post(
        f"/v1/identification-requests/{rid}/answer",
        json=signed_answer(parties["blue"], rid, answer),
        headers=parties["blue"]["headers"],
    )
    assert r.status_code == 200, r.text
    feature = {
        "type": "Feature",
        "properties": {"name": "R-1", "kind": "restricted", "lower": 0, "upper": 100, "units": "FL"},
        "geometry": {"type": "Polygon", "coordinates": [
            [[20.0, 40.0], [20.1, 40.0], [20.1, 40.1], [20.0, 40.1], [20.0, 40.0]]]},
    }  # fmt: skip
    r = client.post("/v1/constraints", json=feature, headers=ADMIN_HEADERS)
    assert r.status_code == 201, r.text
    created = r.json()
    cid = created["constraints"][0]["id"] if "constraints" in created else created["id"]
    return World(client, parties, ops, mid, rid, cid)


def _request(w: World, method: str, path: str, who: str) -> Any:
    """Call one endpoint as ``who`` with Blue's resources in the path and a plausible body."""
    filled = (
        path.replace("{operation_id}", w.ops["blue"]["id"])
        .replace("{message_id}", w.message_id)
        .replace("{request_id}", w.request_id)
        .replace("{constraint_id}", w.constraint_id)
        .replace("{incident_id}", "no-such-incident")
    )
    bodies: dict[str, Any] = {
        "/v1/parties": {"name": f"mallory-{uuid.uuid4().hex[:6]}"},
        "/v1/operations": {"volumes": [volume(30.0, 10.0)]},
        "/v1/admin/hotline/policy": {
            "ack_timeout_s": 60,
            "repeat_every_s": 30,
            "host_after_steps": 2,
        },
        "/v1/identification-requests": {"track": TRACK},
        "/v1/messages": {"to": "red", "body": {"text": "hello"}},
        "/v1/proximity": {"tracks": [TRACK]},
    }
    body = bodies.get(path)
    if path.endswith("/answer"):
        body = {"answer": "not_ours"}
    if path.endswith("/state"):
        body = {"state": "Activated", "token": w.ops["blue"]["token"]}
    if path == "/v1/operations/{operation_id}":
        body = {"token": w.ops["blue"]["token"], "volumes": [volume(8.5, 47.4)]}
    if path == "/v1/constraints" and method == "POST":
        body = {"type": "FeatureCollection", "features": []}
    kwargs: dict[str, Any] = {"headers": w.headers(who)}
    if method in ("POST", "PUT") and body is not None:
        kwargs["json"] = body
    return w.client.request(method, filled, **kwargs)


HTTP_ROUTES = sorted(k for k in ACCESS if k[0] != "WS")


def test_every_route_has_an_entry() -> None:
    """A new endpoint (or WebSocket) must say who may call it, here and in docs/security.md."""
    from deconflict.service import create_app
    from deconflict.settings import Settings

    app = create_app(Settings(database_url="sqlite://"))
    routes = set(walk(app.routes))
    assert routes - set(ACCESS) == set(), "routes without an entry in ACCESS"
    assert set(ACCESS) - routes == set(), "entries of ACCESS that are no route"


@pytest.mark.parametrize(("method", "path"), HTTP_ROUTES)
def test_no_token_and_bad_token_are_refused(world: World, method: str, path: str) -> None:
    if ACCESS[(method, path)] == PUBLIC:
        assert _request(world, method, path, "none").status_code == 200
        return
    for who in ("none", "bad"):
        r = _request(world, method, path, who)
        assert r.status_code == 401, (who, r.status_code, r.text)
        assert r.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("method", "path"), [k for k in HTTP_ROUTES if ACCESS[k] in (ADMIN_ONLY, MEMBER)]
)
def test_roles_are_kept_apart(world: World, method: str, path: str) -> None:
    """A party doing the host's things, and the host acting as a party, are refused (403)."""
    wrong = ["blue", "red", "civil"] if ACCESS[(method, path)] == ADMIN_ONLY else ["admin"]
    for who in wrong:
        r = _request(world, method, path, who)
        assert r.status_code == 403, (who, r.status_code, r.text)
        assert r.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("who", ["red", "civil"])
def test_another_partys_operation_is_not_written(world: World, who: str) -> None:
    blue_op = world.ops["blue"]
    for method, path in (
        ("PUT", "/v1/operations/{operation_id}"),
        ("POST", "/v1/operations/{operation_id}/state"),
    ):
        r = _request(world, method, path, who)
        assert r.status_code == 404, (who, path, r.text)
    r = world.client.get(f"/v1/operations/{blue_op['id']}", headers=world.headers("blue"))
    assert r.json()["version"] == blue_op["version"] and r.json()["token"] == blue_op["token"]


def test_operations_are_shown_need_to_know(world: World) -> None:
    blue_op = world.ops["blue"]
    civil = world.client.get(f"/v1/operations/{blue_op['id']}", headers=world.headers("civil"))
    assert civil.status_code == 404  # Civil's operations meet none of Blue's
    listed = world.client.get("/v1/operations", headers=world.headers("civil")).json()
    assert {o["id"] for o in listed["operations"]} == {world.ops["civil"]["id"]}
    red = world.client.get(f"/v1/operations/{blue_op['id']}", headers=world.headers("red"))
    assert red.status_code == 200
    assert set(red.json()) <= SHARED_OPERATION_FIELDS, set(red.json()) - SHARED_OPERATION_FIELDS
    for op in world.client.get("/v1/operations", headers=world.headers("red")).json()["operations"]:
        allowed = (
            OWN_OPERATION_FIELDS
            if op["id"] == world.ops["red"]["id"]
            else (SHARED_OPERATION_FIELDS)
        )
        assert set(op) <= allowed, (op["id"], set(op) - allowed)


@pytest.mark.parametrize("who", ["blue", "red", "civil", "admin"])
def test_me_is_ones_own_record_without_secrets(world: World, who: str) -> None:
    me = world.client.get("/v1/parties/me", headers=world.headers(who)).json()
    assert set(me) <= PARTY_FIELDS
    assert me["name"] == ("host" if who == "admin" else who)
    assert "token" not in json.dumps(me) and "PRIVATE KEY" not in json.dumps(me)


def test_messages_reach_only_their_addressees(world: World) -> None:
    path = f"/v1/messages/{world.message_id}"
    assert world.client.get(path, headers=world.headers("civil")).status_code == 404
    red = world.client.get(path, headers=world.headers("red")).json()
    assert [set(d) <= DELIVERY_FIELDS for d in red["deliveries"]] == [True]
    assert [d["party"] for d in red["deliveries"]] == ["red"]
    inbox = world.client.get("/v1/messages", headers=world.headers("civil")).json()
    assert SECRET_TEXT not in json.dumps(inbox)
    ack = world.client.post(f"{path}/ack", json={}, headers=world.headers("civil"))
    assert ack.status_code == 404
    forged = signed_message(world.parties["civil"], {"to": "red", "body": {"text": "x"}})
    forged["key_id"] = world.parties["blue"]["public_key"][:16]
    r = world.client.post("/v1/messages", json=forged, headers=world.headers("civil"))
    assert r.status_code in (401, 403)
    # writing as another: Civil's token with Blue's signature is refused
    as_blue = signed_message(world.parties["blue"], {"to": "red", "body": {"text": "x"}})
    r = world.client.post("/v1/messages", json=as_blue, headers=world.headers("civil"))
    assert r.status_code in (401, 403), r.text


@pytest.mark.parametrize("who", ["red", "civil"])
def test_identification_state_shows_only_ones_own(world: World, who: str) -> None:
    r = world.client.get(
        f"/v1/identification-requests/{world.request_id}", headers=world.headers(who)
    )
    view = r.json()
    assert set(view) <= REQUEST_FIELDS_FOR_A_PARTY, set(view) - REQUEST_FIELDS_FOR_A_PARTY
    assert view["parties"] == [who] and view["answers"] == []
    assert SECRET_AIRCRAFT not in r.text and "blue" not in r.text


@pytest.mark.parametrize("who", ["red", "civil"])
def test_events_carry_nothing_of_others_beyond_the_threat_model(world: World, who: str) -> None:
    events = world.client.get(
        "/v1/events", params={"limit": 10_000}, headers=world.headers(who)
    ).json()["events"]
    text = json.dumps(events)
    assert SECRET_AIRCRAFT not in text
    assert (SECRET_TEXT in text) is (who == "red")
    for e in events:  # another's operation appears only as what meets one's own
        if e["kind"] == "operation.written":
            assert e["payload"]["operation"] == world.ops[who]["id"]


@pytest.mark.parametrize("who", ["blue", "civil"])
def test_constraints_are_withdrawn_only_by_their_owner_or_the_host(world: World, who: str) -> None:
    r = world.client.delete(f"/v1/constraints/{world.constraint_id}", headers=world.headers(who))
    assert r.status_code == 403, r.text
    got = world.client.get(f"/v1/constraints/{world.constraint_id}", headers=world.headers(who))
    assert got.status_code == 200


def test_a_party_cannot_close_airspace(world: World) -> None:
    feature = {
        "type": "Feature",
        "properties": {"name": "mine", "kind": "no-fly", "lower": 0, "upper": 100, "units": "FL"},
        "geometry": {"type": "Polygon", "coordinates": [
            [[30.0, 30.0], [30.1, 30.0], [30.1, 30.1], [30.0, 30.1], [30.0, 30.0]]]},
    }  # fmt: skip
    r = world.client.post("/v1/constraints", json=feature, headers=world.headers("civil"))
    assert r.status_code == 403


def test_the_events_websocket_refuses_every_wrong_credential(world: World) -> None:
    client = world.client
    cases = [
        ("header", {"Authorization": "Bearer not-a-token"}, None),
        ("query", {}, world.parties["blue"]["token"]),
        ("first message", {}, None),
    ]
    for name, headers, query_token in cases:
        url = "/v1/events/ws" + (f"?token={query_token}" if query_token else "")
        with (
            pytest.raises(WebSocketDisconnect) as info,
            client.websocket_connect(url, headers=headers) as ws,
        ):
            if name == "first message":
                ws.send_text(json.dumps({"token": "not-a-token"}))
            ws.receive_json()
        assert info.value.code == 1008, name
    with client.websocket_connect("/v1/events/ws") as ws:  # junk instead of a token
        ws.send_text("not json")
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 1008 and "token" in str(info.value.reason)


@pytest.mark.parametrize("who", ["civil", "admin"])
def test_the_events_websocket_pushes_only_what_the_poll_gives(world: World, who: str) -> None:
    polled = world.client.get(
        "/v1/events", params={"limit": 10_000}, headers=world.headers(who)
    ).json()["events"]
    with world.client.websocket_connect("/v1/events/ws") as ws:
        ws.send_text(json.dumps({"token": world.headers(who)["Authorization"].split()[1]}))
        pushed = [ws.receive_json() for _ in polled]
    assert pushed == polled


CONSTRAINT_FIELDS = {"id", "kind", "name", "volume", "owner"}  # owner: issue 11 item 4 (i11a)


@pytest.mark.parametrize("who", ["blue", "civil"])
def test_constraints_show_no_more_than_their_area(world: World, who: str) -> None:
    listed = world.client.get("/v1/constraints", headers=world.headers(who)).json()
    assert listed["constraints"]
    for c in listed["constraints"]:
        assert set(c) <= CONSTRAINT_FIELDS, set(c) - CONSTRAINT_FIELDS


def test_a_party_not_asked_cannot_answer_or_read_a_request(world: World) -> None:
    late = register(world.client, f"late-{uuid.uuid4().hex[:6]}")
    path = f"/v1/identification-requests/{world.request_id}"
    assert world.client.get(path, headers=late["headers"]).status_code == 404
    body = signed_answer(late, world.request_id, {"answer": "ours", "aircraft": "X"})
    r = world.client.post(f"{path}/answer", json=body, headers=late["headers"])
    assert r.status_code == 404, r.text
    host = world.client.get(path, headers=ADMIN_HEADERS).json()
    assert late["name"] not in json.dumps(host)
