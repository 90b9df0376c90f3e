"""The attack suite on the live map (the demo and ``deconflict serve --replay``): the service's
app plus ``/v1/live``. Its own routes are in ``routes_access.LIVE_ACCESS``; a new one without an
entry fails ``test_every_live_route_has_an_entry``. SQLite file store (the demo's)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from routes_access import ACCESS, LIVE_ACCESS, PUBLIC, walk
from starlette.websockets import WebSocketDisconnect


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from deconflict.service.live import live_app

    db = tmp_path_factory.mktemp("live") / "live.db"
    app, session = live_app(db=f"sqlite:///{db}", crews_answer=False)
    with TestClient(app) as client:
        for _ in range(5):
            session.step(1.0)
        client.tokens = app.state.demo_tokens  # type: ignore[attr-defined]
        yield client


def test_every_live_route_has_an_entry(live: TestClient) -> None:
    routes = set(walk(live.app.routes))  # type: ignore[attr-defined]
    assert routes - set(ACCESS) - set(LIVE_ACCESS) == set()
    assert set(LIVE_ACCESS) - routes == set()


@pytest.mark.parametrize(
    ("method", "path"), sorted(k for k in LIVE_ACCESS if k[0] in ("GET", "POST"))
)
def test_the_live_map_refuses_no_token_bad_token_and_the_host(
    live: TestClient, method: str, path: str
) -> None:
    filled = path.replace("{request_id}", "0" * 16).replace("{message_id}", "0" * 32)
    filled = filled.replace("{incident_id}", "no-such-incident")
    body = {"answer": "not_ours"} if "answer" in path else {"to": ["red"], "text": "x"}
    if LIVE_ACCESS[(method, path)] == PUBLIC:
        assert live.request(method, filled).status_code == 200
        return
    admin = live.app.state.settings.admin_token or "no-admin-token"  # type: ignore[attr-defined]
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {admin}"},
    ):
        kwargs: dict[str, Any] = {"headers": headers}
        if method == "POST":
            kwargs["json"] = body
        r = live.request(method, filled, **kwargs)
        assert r.status_code == 401, (headers, r.status_code, r.text)


def test_the_live_socket_takes_the_token_only_as_its_first_message(live: TestClient) -> None:
    token = live.tokens["red"]  # type: ignore[attr-defined]
    with (
        pytest.raises(WebSocketDisconnect) as info,
        live.websocket_connect(f"/v1/live/ws?token={token}") as ws,
    ):
        ws.receive_bytes()
    assert info.value.code == 1008 and "URL" in str(info.value.reason)
    with live.websocket_connect("/v1/live/ws") as ws:
        ws.send_text(json.dumps({"token": "not-a-token"}))
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_bytes()
    assert info.value.code == 1008
    with live.websocket_connect("/v1/live/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
        assert ws.receive_bytes()[:4] == b"DCPZ"


def test_the_live_picture_is_ones_own(live: TestClient) -> None:
    for party in ("blue", "red", "civil"):
        headers = {"Authorization": f"Bearer {live.tokens[party]}"}  # type: ignore[attr-defined]
        picture = live.get("/v1/live/picture", headers=headers).json()
        assert all(k.startswith(f"{party}/") for k in picture["tracks"].get("key", []))
        for request in picture["requests"]:
            if request["observer"] != party and not request["answered"]:
                assert request["outcome"] in ("pending", "declared", "closed")


def test_the_live_maps_messages_are_capped(live: TestClient) -> None:
    headers = {"Authorization": f"Bearer {live.tokens['blue']}"}  # type: ignore[attr-defined]
    limit = live.app.state.settings.max_message_chars  # type: ignore[attr-defined]
    r = live.post("/v1/live/messages", json={"to": ["red"], "text": "x" * limit}, headers=headers)
    assert r.status_code == 422 and f"limit of {limit}" in r.text
