"""The live picture's REST calls, scoped to the calling party (no browser)."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_der_private_key

from deconflict.hotline.authorship import (
    acknowledgement_content,
    answer_content,
    message_content,
    sign_content,
)
from deconflict.hotline.jsonl import read_log_records
from deconflict.hotline.keys import KeyRing, Signer
from deconflict.hotline.log import verify_log
from deconflict.hotline.messages import make_message
from deconflict.service.live import live_app
from deconflict.workflows.hotline import export_log

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


def _signer(c: TestClient, party: str) -> Signer:
    """The party's demo key, as its login link carries it (PKCS#8 DER, base64url)."""
    text = c.app.state.demo_keys[party]  # type: ignore[attr-defined]
    key = load_der_private_key(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), None)
    assert isinstance(key, Ed25519PrivateKey)
    return Signer(party, key)


def _signed(
    c: TestClient, party: str, content: Callable[[float], dict[str, Any]], **body: Any
) -> dict[str, Any]:
    """``body`` with the party's signature of ``content(engine time)``."""
    t = c.get("/v1/live/clock", headers=_auth(c, party)).json()["time_s"]
    signer = _signer(c, party)
    return {**body, "time_s": t, "signature": sign_content(signer, content(t))}


def test_tokens_scope_every_call(client: TestClient) -> None:
    assert client.get("/v1/live/session").status_code == 401
    assert (
        client.get("/v1/live/session", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    scene = client.get("/v1/live/session", headers=_auth(client, "red")).json()
    assert scene["party"] == "red"
    # operations come only from the store's need-to-know layer (GET /v1/live/operations, tested
    # in tests/service/test_service_live_picture.py), never as whole scenario polygons here
    assert "operations" not in scene
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

    def answer(r: str, **body: Any) -> Any:
        def content(t: float) -> dict[str, Any]:
            return answer_content(r, "blue", body["answer"], aircraft=body.get("aircraft", ""),
                                  time_s=t)  # fmt: skip

        return client.post(f"/v1/live/identification/{r}/answer",
                           json=_signed(client, "blue", content, **body),
                           headers=_auth(client, "blue"))  # fmt: skip

    bad = answer(rid, answer="ours")
    assert bad.status_code == 422  # a claim must name the aircraft
    unsigned = client.post(f"/v1/live/identification/{rid}/answer",
                           json={"answer": "ours", "aircraft": "REAPER01"},
                           headers=_auth(client, "blue"))  # fmt: skip
    assert unsigned.status_code == 422 and "answer_content" in unsigned.text
    ok = answer(rid, answer="ours", aircraft="REAPER01")
    assert ok.json()["outcome"] == "declared"
    assert answer("nope", answer="not_ours").status_code == 404
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
    def text(t: float) -> dict[str, Any]:
        return message_content(make_message("free_text", "blue", ["red"], {"text": "hello"},
                                            time_s=t))  # fmt: skip

    unsigned = client.post("/v1/live/messages", json={"to": ["red"], "text": "hello"},
                           headers=_auth(client, "blue"))  # fmt: skip
    assert unsigned.status_code == 422 and "message_content" in unsigned.text
    forged = _signed(client, "red", text, to=["red"], text="hello")  # red's key, blue's message
    r = client.post("/v1/live/messages", json=forged, headers=_auth(client, "blue"))
    assert r.status_code == 401 and "does not verify" in r.text
    mid = client.post("/v1/live/messages", json=_signed(client, "blue", text, to=["red"],
                      text="hello"), headers=_auth(client, "blue")).json()["message_id"]  # fmt: skip
    got = client.get("/v1/live/messages", headers=_auth(client, "red")).json()
    assert any(m["message_id"] == mid for m in got)

    def ack(party: str) -> Any:
        body = _signed(client, party, lambda t: acknowledgement_content(mid, party, t))
        return client.post(f"/v1/live/messages/{mid}/ack", json=body, headers=_auth(client, party))

    assert ack("red").json()["delivery"]["red"] == "acknowledged"
    assert ack("civil").status_code == 404  # not visible to it
    # every decision is in the store's log, addressed to the parties
    store = client.app.state.store  # type: ignore[attr-defined]
    kinds = [e.kind for e in store.log(limit=10_000)]
    assert "identification.requested" in kinds and "identification.resolved" in kinds
    assert "hotline.acknowledged" in kinds


def test_the_exported_live_log_verifies_with_the_parties_signatures(
    client: TestClient, tmp_path: Path
) -> None:
    """The crews the demo plays sign with the demo's keys; a page signs with the key its login
    link carries: the exported log verifies offline, every party's own signature checked."""
    session = client.session  # type: ignore[attr-defined]
    for _ in range(40):
        session.step(1.0)

    def text(t: float) -> dict[str, Any]:
        return message_content(make_message("free_text", "red", "*", {"text": "hi"}, time_s=t))

    r = client.post("/v1/live/messages", json=_signed(client, "red", text, to=["*"], text="hi"),
                    headers=_auth(client, "red"))  # fmt: skip
    assert r.status_code == 200, r.text
    store = client.app.state.store  # type: ignore[attr-defined]
    out, keys = tmp_path / "log.jsonl", tmp_path / "keys.json"
    export_log(store, out, keys)
    records = list(read_log_records(out))
    report = verify_log(records, KeyRing.load(keys))
    assert report.ok, report.first_bad
    signed = [r for r in records if r["kind"] == "hotline.message" and "client_signature" in
              r["payload"]]  # fmt: skip
    assert {r["payload"]["sender"] for r in signed} >= {"red"}
    login = client.app.state.demo_logins["red"]  # type: ignore[attr-defined]
    assert login.startswith("#token=") and "&key=" in login
