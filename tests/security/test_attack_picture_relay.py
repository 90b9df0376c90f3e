"""Attacks on a service instance's picture relay (``picture_relay``: ``WS /v1/live/ws`` of a
``deconflict serve`` beside an engine process, issue 12): no token, a bad token, a token in the
URL, the host's token and junk are refused (1008); a party's socket carries its own party's
frames only, whatever the engine published for the others; no party name can reach another's
NATS subject. The frames travel through the real PostgreSQL bus (table row + NOTIFY)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from routes_access import ACCESS, LIVE_ACCESS, walk
from security_helpers import ADMIN_HEADERS, make_client, register
from starlette.websockets import WebSocketDisconnect

from deconflict.service.picture_bus import party_of_token, subject_token
from deconflict.service.picture_publisher import PostgresPublisher
from deconflict.service.picture_wire import compress_frame, decode_frame, encode_frame

pytestmark = pytest.mark.postgres


def _frame(party: str, seq: int) -> bytes:
    tracks = pd.DataFrame({"key": [f"{party}-1"], "owner": [party], "latitude": [47.0 + seq],
                           "longitude": [8.0], "altitude": [3000.0]})  # fmt: skip
    head = {"type": "picture", "seq": seq, "tick_wall_s": 1.0e9 + seq, "party": party}
    return compress_frame(encode_frame(head, tracks), head)


@pytest.fixture()
def relay(postgres_url: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], str]]:
    with make_client(postgres_url, picture_bus="postgres") as client:
        headers = {n: register(client, n)["headers"] for n in ("alpha", "bravo")}
        yield client, headers, postgres_url


def test_the_relay_routes_are_in_the_table(
    relay: tuple[TestClient, dict[str, dict[str, str]], str],
) -> None:
    client, _, _ = relay
    routes = set(walk(client.app.routes))  # type: ignore[attr-defined]
    assert ("WS", "/v1/live/ws") in routes
    assert routes - set(ACCESS) - set(LIVE_ACCESS) == set()


def test_a_partys_socket_gets_only_its_own_frames(
    relay: tuple[TestClient, dict[str, dict[str, str]], str],
) -> None:
    client, headers, db = relay
    publisher = PostgresPublisher(db)
    rounds = [
        {"alpha": _frame("alpha", 1), "bravo": _frame("bravo", 1)},
        {"bravo": _frame("bravo", 2)},  # bravo's only: alpha's socket must not move
        {"alpha": _frame("alpha", 3), "bravo": _frame("bravo", 3)},
    ]
    try:
        with (
            client.websocket_connect("/v1/live/ws", headers=headers["alpha"]) as a,
            client.websocket_connect("/v1/live/ws") as b,
        ):
            b.send_text(json.dumps({"token": headers["bravo"]["Authorization"].split()[1]}))
            publisher.publish(rounds[0])
            assert a.receive_bytes() == rounds[0]["alpha"]
            assert b.receive_bytes() == rounds[0]["bravo"]
            publisher.publish(rounds[1])
            assert b.receive_bytes() == rounds[1]["bravo"]
            publisher.publish(rounds[2])
            got = a.receive_bytes()
            assert got == rounds[2]["alpha"]  # the next alpha received is alpha's, not bravo's 2
            assert decode_frame(got)["tracks"]["owner"] == ["alpha"]
            assert b.receive_bytes() == rounds[2]["bravo"]
        # a socket opened later gets the newest picture of its own party at once
        with client.websocket_connect("/v1/live/ws", headers=headers["bravo"]) as late:
            assert late.receive_bytes() == rounds[2]["bravo"]
    finally:
        publisher.close()


@pytest.mark.parametrize(
    ("name", "url", "headers"),
    [
        ("no token, junk first message", "/v1/live/ws", {}),
        ("bad token", "/v1/live/ws", {"Authorization": "Bearer not-a-token"}),
        ("the host's token", "/v1/live/ws", ADMIN_HEADERS),
        ("token in the URL", "/v1/live/ws?token=whatever", {}),
    ],
)
def test_the_relay_refuses_who_is_no_party(
    relay: tuple[TestClient, dict[str, dict[str, str]], str],
    name: str,
    url: str,
    headers: dict[str, str],
) -> None:
    client, _, _ = relay
    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect(url, headers=headers) as ws,
    ):
        if not headers:
            ws.send_text("not json")
        ws.receive_bytes()
    assert info.value.code == 1008, name
    assert info.value.reason, name  # the reason says what to do


@pytest.mark.parametrize(
    "party", ["blue", "a.b", "*", ">", "blue.>", "x y", "_x626c7565", "Éole", "", "a\tb"]
)
def test_no_party_name_reaches_another_partys_subject(party: str) -> None:
    token = subject_token(party)
    assert token and not set(token) & set(".*> \t\r\n")  # one subject token, no wildcard
    assert party_of_token(token) == party
    others = ["blue", "a.b", "*", "_x626c7565", "Éole"]
    assert sum(subject_token(o) == token for o in others if o != party) == 0


def _timed(party: str, seq: int, time_s: float) -> bytes:
    tracks = pd.DataFrame({"key": [f"{party}-{seq}"], "owner": [party], "latitude": [47.5],
                           "longitude": [8.25], "altitude": [3000.0]})  # fmt: skip
    head = {"type": "picture", "seq": seq, "tick_wall_s": 1.0e9 + seq, "party": party,
            "time_s": time_s, "alerts": []}  # fmt: skip
    small = {k: head[k] for k in ("type", "seq", "tick_wall_s", "party")}
    return compress_frame(encode_frame(head, tracks), small)


def _scene(party: str) -> bytes:
    body = {"party": party, "parties": [{"id": "alpha"}, {"id": "bravo"}], "areas": [],
            "bases": [{"id": f"{party}-base", "party": party}], "history_s": 60.0,
            "history_step_s": 5.0}  # fmt: skip
    return json.dumps(body).encode()


def _until(get: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        r = get()
        if r.status_code == 200:
            return r.json()
        time.sleep(0.05)
    raise AssertionError(f"no answer within {timeout_s} s: {r.status_code} {r.text}")


def test_the_maps_calls_answer_each_party_its_own_entries_only(
    relay: tuple[TestClient, dict[str, dict[str, str]], str],
) -> None:
    """``/v1/live/session``, ``/picture`` (now and ``?at=``), ``/history`` and ``/track`` on a
    relay: a party reads its own scene, frames and tracks; another party's track key is 404 to
    it; no token, a bad token and the host's token are 401; a party the engine publishes
    nothing for gets 404 and an empty history."""
    client, headers, db = relay
    charlie = register(client, "charlie")["headers"]  # the engine has no picture for it
    publisher = PostgresPublisher(db)
    try:
        publisher.publish({"alpha": _scene("alpha"), "bravo": _scene("bravo")}, scene=True)
        a, b = headers["alpha"], headers["bravo"]
        assert _until(lambda: client.get("/v1/live/session", headers=a))["bases"][0]["party"] == (
            "alpha"
        )
        # engine times 1000..1030 s at 1 s a tick: the ring keeps one per 5 s
        for k in range(31):  # each one relayed before the next (the bus keeps the newest only)
            publisher.publish({p: _timed(p, k, 1000.0 + k) for p in ("alpha", "bravo")})
            for h in (a, b):
                while _until(lambda h=h: client.get("/v1/live/picture", headers=h))["seq"] < k:
                    time.sleep(0.02)
        for party, h in (("alpha", a), ("bravo", b)):
            assert client.get("/v1/live/session", headers=h).json()["party"] == party
            now = client.get("/v1/live/picture", headers=h).json()
            assert (now["party"], now["time_s"], now["tracks"]["key"]) == (
                party, 1030.0, [f"{party}-30"])  # fmt: skip
            assert now["tracks"]["latitude"] == [47.5]
            span = client.get("/v1/live/history", headers=h).json()
            assert span == {"first_s": 1000.0, "last_s": 1030.0, "step_s": 5.0}
            then = client.get("/v1/live/picture?at=1012.5", headers=h).json()
            assert (then["party"], then["time_s"], then["tracks"]["key"]) == (
                party, 1010.0, [f"{party}-10"])  # fmt: skip
            assert client.get("/v1/live/picture?at=999", headers=h).status_code == 404
            track = client.get(f"/v1/live/track?key={party}-30", headers=h).json()
            assert (track["owner"], track["altitude"], track["flight_level"]) == (party, 3000, 30)
        # another party's track is not in the caller's picture: 404, nothing of it shown
        r = client.get("/v1/live/track?key=bravo-30", headers=a)
        assert r.status_code == 404 and "bravo-30" in r.json()["error"]["message"]
        for path in ("/v1/live/session", "/v1/live/picture", "/v1/live/history",
                     "/v1/live/track?key=alpha-30"):  # fmt: skip
            for bad in ({}, {"Authorization": "Bearer not-a-token"}, ADMIN_HEADERS):
                assert client.get(path, headers=bad).status_code == 401, (path, bad)
        for path in ("/v1/live/session", "/v1/live/picture", "/v1/live/track?key=alpha-30"):
            assert client.get(path, headers=charlie).status_code == 404, path
        assert client.get("/v1/live/history", headers=charlie).json()["first_s"] is None
    finally:
        publisher.close()
