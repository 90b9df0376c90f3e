"""The views a hotline panel reads — ``GET /v1/messages/recent``, ``GET /v1/identification-
requests``, ``GET /v1/clock`` — and the requests the engine opens for an observing party: each
party sees its own share only, on SQLite and PostgreSQL, and what it must not see or do is
refused."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hotline_helpers import ADMIN_HEADERS, signed_answer, signed_message

from deconflict.engine.desk import HOST
from deconflict.identify.request import TrackSnapshot
from deconflict.workflows.identification import open_identification

Register = Callable[..., dict[str, Any]]


def _get(client: TestClient, path: str, who: dict[str, Any]) -> Any:
    r = client.get(path, headers=who["headers"])
    assert r.status_code == 200, r.text
    return r.json()


def test_recent_messages_are_ones_own_with_their_delivery(
    client: TestClient, register: Register
) -> None:
    alpha, bravo, charlie = (register(n) for n in ("alpha", "bravo", "charlie"))
    sent = client.post(
        "/v1/messages",
        json=signed_message(alpha, {"to": "bravo", "body": {"text": "for bravo"}}),
        headers=alpha["headers"],
    )
    assert sent.status_code == 201, sent.text
    mid = sent.json()["message"]["message_id"]
    [mine] = _get(client, "/v1/messages/recent", alpha)
    assert mine["outgoing"] and mine["delivery"] == {"bravo": "sent"}
    [theirs] = _get(client, "/v1/messages/recent", bravo)
    assert not theirs["outgoing"] and theirs["delivery"] == {"bravo": "sent"}
    # reading the panel confirms nothing; reading the inbox past it does
    assert _get(client, "/v1/messages/recent", alpha)[0]["delivery"] == {"bravo": "sent"}
    held = _get(client, "/v1/messages?after=-1", bravo)["next"]
    _get(client, f"/v1/messages?after={held}", bravo)
    assert _get(client, "/v1/messages/recent", alpha)[0]["delivery"] == {"bravo": "delivered"}
    # a third party sees none of it; the host sees it with every delivery
    assert _get(client, "/v1/messages/recent", charlie) == []
    host = client.get("/v1/messages/recent", headers=ADMIN_HEADERS).json()
    assert [m["message_id"] for m in host] == [mid]
    assert client.get("/v1/messages/recent").status_code == 401
    for bad in (0, 501, -1):
        r = client.get(f"/v1/messages/recent?limit={bad}", headers=alpha["headers"])
        assert r.status_code == 422, bad


def test_a_request_opened_for_an_observer_is_its_and_the_asked_parties_only(
    client: TestClient, register: Register
) -> None:
    alpha, bravo, charlie = (register(n) for n in ("alpha", "bravo", "charlie"))
    store = client.app.state.store  # type: ignore[attr-defined]
    now = time.time()
    track = TrackSnapshot.from_ground_track(47.4, 8.55, 3000.0, 150.0, 90.0, 0.0, ())
    request, entry = open_identification(
        store, HOST, "alpha/T7", track, now_s=now, timeout_s=120.0, observer="alpha"
    )
    rid = request.request_id
    assert set(entry.payload["recipients"]) == {"bravo", "charlie"}  # the observer not asked
    [seen] = _get(client, "/v1/identification-requests", alpha)
    assert seen["observer"] == "alpha" and not seen["can_answer"]
    assert set(seen["parties"]) == {"bravo", "charlie"}
    for who in (bravo, charlie):
        [asked] = _get(client, "/v1/identification-requests", who)
        assert asked["can_answer"] and asked["parties"] == [who["name"]]
    # the observer cannot answer its own request
    r = client.post(
        f"/v1/identification-requests/{rid}/answer",
        json=signed_answer(alpha, rid, {"answer": "not_ours"}),
        headers=alpha["headers"],
    )
    assert r.status_code in (403, 422), r.text
    r = client.post(
        f"/v1/identification-requests/{rid}/answer",
        json=signed_answer(bravo, rid, {"answer": "ours", "aircraft": "B1"}),
        headers=bravo["headers"],
    )
    assert r.status_code == 200 and r.json()["outcome"] == "declared", r.text
    # the observer and the claimant learn who; the other party asked learns only that the
    # request is closed (identification_disclosure "involved", the default: tests/security)
    state = _get(client, f"/v1/identification-requests/{rid}", alpha)
    assert [(c["party"], c["aircraft"]) for c in state["claimants"]] == [("bravo", "B1")]
    assert _get(client, "/v1/identification-requests", alpha)[0]["outcome"] == "declared"
    other = _get(client, f"/v1/identification-requests/{rid}", charlie)
    assert other["outcome"] == "closed" and "claimants" not in other
    assert _get(client, "/v1/identification-requests", charlie)[0]["outcome"] == "closed"
    assert other["answers"] == [] and other["parties"] == ["charlie"]
    # ... and its event stream carries no resolution naming the claimant
    kinds = {e["kind"] for e in _get(client, "/v1/events", charlie)["events"]}
    assert "identification.resolved" not in kinds
    resolved = [e for e in _get(client, "/v1/events", alpha)["events"]
                if e["kind"] == "identification.resolved"]  # fmt: skip
    assert resolved and resolved[0]["payload"]["claimants"][0]["party"] == "bravo"
    assert client.get("/v1/identification-requests").status_code == 401
    host = client.get("/v1/identification-requests", headers=ADMIN_HEADERS).json()
    assert [r["request_id"] for r in host] == [rid]


def test_the_clock_is_the_services_and_needs_a_token(
    client: TestClient, register: Register
) -> None:
    alpha = register("alpha")
    assert client.get("/v1/clock").status_code == 401
    got = _get(client, "/v1/clock", alpha)["time_s"]
    assert abs(got - time.time()) < 5.0


def test_the_engines_batched_writes_enter_each_request_and_notice_once(
    client: TestClient, register: Register
) -> None:
    """A tick's requests and notices go in one write each; written again (a resumed run at the
    same time), nothing is entered twice."""
    from deconflict.hotline.messages import MessageKind, make_message
    from deconflict.store import hotline as log
    from deconflict.workflows.hotline import post_host_messages
    from deconflict.workflows.identification import open_identifications

    _, bravo, _ = (register(name) for name in ("alpha", "bravo", "charlie"))
    store = client.app.state.store  # type: ignore[attr-defined]
    now = time.time()
    tracks = [
        (f"alpha/T{i}", TrackSnapshot.from_ground_track(47.0 + i, 8.0, 3000.0, 150.0, 0.0, 0.0, ()))
        for i in range(3)
    ]
    first = open_identifications(store, HOST, tracks, now_s=now, timeout_s=60.0, observer="alpha")
    again = open_identifications(store, HOST, tracks, now_s=now, timeout_s=60.0, observer="alpha")
    assert [r.request_id for r in first] == [r.request_id for r in again]
    entries = log.entries(store, log.MESSAGE, match={"kind": "identification_request"})
    assert len(entries) == 3
    assert all(set(e.payload["recipients"]) == {"bravo", "charlie"} for e in entries)
    notice = make_message(MessageKind.FREE_TEXT, "host", "bravo", {"text": "notice"}, time_s=now)
    assert [new for _, new in post_host_messages(store, [notice, notice])] == [True, False]
    assert [new for _, new in post_host_messages(store, [notice])] == [False]
    inbox = _get(client, "/v1/messages?after=-1", bravo)["messages"]
    texts = [m["message"]["body"].get("text") for m in inbox]
    assert texts.count("notice") == 1 and len(inbox) == 4  # three requests and the notice
