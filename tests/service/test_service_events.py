"""Notifications: the poll endpoint resumes after a seq; the WebSocket pushes the same events;
the host's log verifies with the hotline's verifier."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from service_helpers import ADMIN, Headers, assert_error, volume

from deconflict.hotline.keys import KeyRing, public_key_from_b64
from deconflict.hotline.log import verify_log


def test_poll_resumes_and_socket_pushes(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    first = client.post("/v1/operations", json={"volumes": [volume(8.5, 47.4)]}, headers=alpha)
    page = client.get("/v1/events", headers=alpha).json()
    assert [e["kind"] for e in page["events"]] == ["operation.written"]
    assert page["next"] == page["events"][-1]["seq"]
    assert client.get("/v1/events", params={"after": page["next"]}, headers=alpha).json() == {
        "events": [],
        "next": page["next"],
    }
    token = alpha["Authorization"].split()[1]
    with client.websocket_connect(
        f"/v1/events/ws?after={page['next']}", headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        # bravo's conflicting attempt makes an event for alpha, pushed without polling
        client.post(
            "/v1/operations",
            json={"volumes": [volume(8.505, 47.405)], "keys": [first.json()["token"]]},
            headers=bravo,
        )
        pushed = ws.receive_json()
    assert pushed["kind"] == "operation.conflict"
    assert pushed["payload"]["operation"] == first.json()["id"]
    polled = client.get("/v1/events", params={"after": page["next"]}, headers=alpha).json()
    assert polled["events"][0] == pushed
    assert_error(
        client.get("/v1/events", params={"after": -5}, headers=alpha), 422, "invalid_input", "after"
    )


def test_socket_refuses_unknown_tokens(client: TestClient) -> None:
    import pytest
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as info,
        client.websocket_connect("/v1/events/ws", headers={"Authorization": "Bearer nope"}) as ws,
    ):
        ws.receive_json()
    assert info.value.code == 1008
    with client.websocket_connect("/v1/events/ws") as ws:  # the token as the first message
        ws.send_json({"token": "nope"})
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()
    assert info.value.code == 1008 and "not known" in str(info.value.reason)


def test_the_log_is_signed_by_the_host_and_verifies(
    client: TestClient, register: Callable[[str], Headers]
) -> None:
    alpha = register("alpha")
    client.post("/v1/operations", json={"volumes": [volume(8.5, 47.4)]}, headers=alpha)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    entries = client.get("/v1/log", headers=admin).json()["events"]
    assert entries[0]["seq"] == 0 and entries[0]["kind"] == "host.key"
    host_key = public_key_from_b64(entries[0]["payload"]["public_key"])
    (registered,) = [e for e in entries if e["kind"] == "party.registered"]
    alpha_key = public_key_from_b64(registered["payload"]["public_key"])
    ring = KeyRing.from_public_keys({"host": host_key, "alpha": alpha_key})
    report = verify_log(entries, ring)
    assert report.ok, report.first_bad
    assert report.entries == len(entries) >= 3
    # altering any entry is caught
    tampered = [dict(e) for e in entries]
    tampered[1]["payload"] = {**tampered[1]["payload"], "name": "mallory"}
    assert not verify_log(tampered, ring).ok
    assert_error(client.get("/v1/log", headers=alpha), 403, "forbidden")


def test_poll_pages_through_with_the_hosts_limit(db_url: str) -> None:
    from service_helpers import make_client

    with make_client(db_url, poll_limit=2) as client:
        r = client.post(
            "/v1/parties", json={"name": "alpha"}, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        alpha = {"Authorization": f"Bearer {r.json()['token']}"}
        for k in range(5):
            vol = volume(8.5 + 0.1 * k, 47.4)
            assert client.post("/v1/operations", json={"volumes": [vol]}, headers=alpha).is_success
        seen, after = [], -1
        while True:
            page = client.get(
                "/v1/events", params={"after": after, "limit": 100}, headers=alpha
            ).json()
            assert len(page["events"]) <= 2
            if not page["events"]:
                break
            seen += [e["payload"]["operation"] for e in page["events"]]
            after = page["next"]
        assert len(seen) == len(set(seen)) == 5
