"""Attacks on a service instance's picture relay (``picture_relay``: ``WS /v1/live/ws`` of a
``deconflict serve`` beside an engine process, issue 12): no token, a bad token, a token in the
URL, the host's token and junk are refused (1008); a party's socket carries its own party's
frames only, whatever the engine published for the others; no party name can reach another's
NATS subject. The frames travel through the real PostgreSQL bus (table row + NOTIFY)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from routes_access import ACCESS, LIVE_ACCESS, walk
from security_helpers import ADMIN_HEADERS, make_client, register
from starlette.websockets import WebSocketDisconnect

from deconflict.service.picture_bus import PostgresPublisher, party_of_token, subject_token
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
