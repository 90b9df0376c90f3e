"""The live picture's REST calls, scoped to the calling party (no browser)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from deconflict.service.live import live_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture()
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    app, session = live_app(db=f"sqlite:///{tmp_path / 'api.db'}", crews_answer=False)
    with TestClient(app) as c:
        c.session = session  # type: ignore[attr-defined]
        c.tokens = app.state.demo_tokens  # type: ignore[attr-defined]
        yield c


def _auth(c: TestClient, party: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.tokens[party]}"}  # type: ignore[attr-defined]


def test_tokens_scope_every_call(client: TestClient) -> None:
    assert client.get("/v1/live/session").status_code == 401
    assert (
        client.get("/v1/live/session", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    scene = client.get("/v1/live/session", headers=_auth(client, "red")).json()
    assert scene["party"] == "red"
    # need-to-know: Red sees its own operation and Blue's that intersect it, not Blue's drone box
    ops = {o["id"] for o in scene["operations"]}
    assert "RED-STRIKE-1" in ops and "BLUE-CAP-1" in ops and "BLUE-ISR-1" not in ops
    assert {a["kind"] for a in scene["areas"]} == {"shared", "restricted"}


def test_picture_history_request_answer_and_hotline(client: TestClient) -> None:
    session = client.session  # type: ignore[attr-defined]
    for _ in range(40):
        session.step(1.0)
    red = client.get("/v1/live/picture", headers=_auth(client, "red")).json()
    assert red["party"] == "red" and len(red["tracks"]["key"]) >= 5
    assert all(k.startswith("red/") for k in red["tracks"]["key"])  # only Red's own picture
    req = red["requests"][0]
    assert req["observer"] == "red" and not req["can_answer"]
    # a party that was not asked cannot answer; Blue can, and the track becomes declared
    rid = req["request_id"]
    bad = client.post(f"/v1/live/identification/{rid}/answer", json={"answer": "ours"},
                      headers=_auth(client, "blue"))  # fmt: skip
    assert bad.status_code == 422  # a claim must name the aircraft
    ok = client.post(f"/v1/live/identification/{rid}/answer",
                     json={"answer": "ours", "aircraft": "REAPER01"}, headers=_auth(client, "blue"))  # fmt: skip
    assert ok.json()["outcome"] == "declared"
    assert client.post("/v1/live/identification/nope/answer", json={"answer": "not_ours"},
                       headers=_auth(client, "blue")).status_code == 404  # fmt: skip
    session.step(1.0)
    red = client.get("/v1/live/picture", headers=_auth(client, "red")).json()
    t = red["tracks"]
    i = t["key"].index(req["track_id"])
    assert (t["identity"][i], t["owner"][i]) == ("declared", "blue")
    # the time slider: the picture as it was when the request was made has the drone unknown
    at = req["created_s"] + 1
    old = client.get(f"/v1/live/picture?at={at}", headers=_auth(client, "red")).json()
    assert old["type"] == "history" and old["time_s"] <= at
    j = old["tracks"]["key"].index(req["track_id"])
    assert old["tracks"]["identity"][j] in ("unknown", "pending")
    assert client.get("/v1/live/picture?at=0", headers=_auth(client, "red")).status_code == 404
    # hotline: send, fetch (delivered), acknowledge
    mid = client.post("/v1/live/messages", json={"to": ["red"], "text": "hello"},
                      headers=_auth(client, "blue")).json()["message_id"]  # fmt: skip
    got = client.get("/v1/live/messages", headers=_auth(client, "red")).json()
    assert any(m["message_id"] == mid for m in got)
    ack = client.post(f"/v1/live/messages/{mid}/ack", headers=_auth(client, "red")).json()
    assert ack["delivery"]["red"] == "acknowledged"
    assert (
        client.post(f"/v1/live/messages/{mid}/ack", headers=_auth(client, "civil")).status_code
        == 404
    )  # not visible to it
    # every decision is in the store's log, addressed to the parties
    store = client.app.state.store  # type: ignore[attr-defined]
    kinds = [e.kind for e in store.log(limit=10_000)]
    assert "identification.requested" in kinds and "identification.resolved" in kinds
    assert "hotline.acknowledged" in kinds
