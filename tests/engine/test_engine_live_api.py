"""One path for every decision: the demo's live engine decides through the store's workflows, and
every client — the map included — reads and writes them through ``/v1``. The scenario runs
in-process; what it did is checked in ``/v1/messages``, ``/v1/identification-requests``,
``/v1/incidents``, ``deconflict incidents list`` and the audit export, and against what another
party must not see or do."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_der_private_key
from typer.testing import CliRunner

from deconflict.cli import app as cli
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
from deconflict.service.live_app import live_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _client(tmp: Path, *, crews_answer: bool) -> Iterator[TestClient]:
    app, session = live_app(db=f"sqlite:///{tmp / 'api.db'}", crews_answer=crews_answer)
    with TestClient(app) as c:
        c.session = session  # type: ignore[attr-defined]
        c.tokens = app.state.demo_tokens  # type: ignore[attr-defined]
        c.db = f"sqlite:///{tmp / 'api.db'}"  # type: ignore[attr-defined]
        yield c


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The scenario with the identification answers left to the parties' clients."""
    yield from _client(tmp_path, crews_answer=False)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole scenario (800 s) with the crews the demo plays answering and acknowledging."""
    for c in _client(tmp_path_factory.mktemp("played"), crews_answer=True):
        for _ in range(800):
            c.session.step(1.0)  # type: ignore[attr-defined]
        with c.session.lock:  # type: ignore[attr-defined]
            c.session.engine.finish()  # type: ignore[attr-defined]
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
    """``body`` with the party's signature of ``content(service time)``, as the page signs."""
    t = c.get("/v1/clock", headers=_auth(c, party)).json()["time_s"]
    return {**body, "time_s": t, "signature": sign_content(_signer(c, party), content(t))}


def _get(c: TestClient, path: str, party: str) -> Any:
    r = c.get(path, headers=_auth(c, party))
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.slow
def test_the_live_engines_decisions_are_in_every_v1_view(played: TestClient) -> None:
    c = played
    # the conflict notices reached Red's and Blue's inboxes, and their crews acknowledged them
    for party in ("red", "blue"):
        inbox = _get(c, "/v1/messages?after=-1", party)["messages"]
        notices = [m["message"] for m in inbox if m["message"]["kind"] == "conflict_notice"]
        assert notices and all(n["sender"] == "host" for n in notices), party
        assert any("turn" in n["body"].get("resolution", "") for n in notices)
        recent = _get(c, "/v1/messages/recent?limit=500", party)
        states = [m["delivery"][party] for m in recent if m["kind"] == "conflict_notice"]
        assert states and set(states) == {"acknowledged"}, (party, states)
    civil_inbox = _get(c, "/v1/messages?after=-1", "civil")["messages"]
    assert not [m for m in civil_inbox if m["message"]["kind"] == "conflict_notice"]
    # the identification request Red's picture raised, answered by Blue's crew
    red_reqs = _get(c, "/v1/identification-requests", "red")
    assert len(red_reqs) == 1
    req = red_reqs[0]
    assert req["observer"] == "red" and req["outcome"] == "declared" and not req["can_answer"]
    assert set(req["parties"]) == {"blue", "civil"}
    blue_req = _get(c, "/v1/identification-requests", "blue")[0]
    assert blue_req["request_id"] == req["request_id"] and blue_req["answered"]
    rid = req["request_id"]
    # the observer learns the answer; the civil party, asked too, learns only that the request
    # is closed (identification_disclosure "involved", the default: tests/security)
    red_state = _get(c, f"/v1/identification-requests/{rid}", "red")
    assert [(x["party"], x["aircraft"]) for x in red_state["claimants"]] == [("blue", "REAPER01")]
    civil_state = _get(c, f"/v1/identification-requests/{rid}", "civil")
    assert "claimants" not in civil_state and civil_state["outcome"] == "closed"
    assert civil_state["answers"] == [a for a in civil_state["answers"] if a["party"] == "civil"]
    # the incident (FALCON23 and the tanker): Red's and Blue's, not the civil party's
    for party in ("red", "blue"):
        incidents = _get(c, "/v1/incidents", party)
        assert [sorted(i["aircraft"]) for i in incidents] == [["FALCON23", "TEXACO51"]]
        iid = incidents[0]["incident_id"]
        html = c.get(f"/v1/incidents/{iid}/report.html", headers=_auth(c, party))
        assert html.status_code == 200 and "FALCON23" in html.text
    assert _get(c, "/v1/incidents", "civil") == []
    assert c.get(f"/v1/incidents/{iid}", headers=_auth(c, "civil")).status_code == 404
    # `deconflict incidents list` reads the same store
    listed = CliRunner().invoke(cli, ["incidents", "list", "--db", c.db, "--json"])  # type: ignore[attr-defined]
    assert listed.exit_code == 0, listed.output
    assert [i["incident_id"] for i in json.loads(listed.stdout)] == [iid]


@pytest.mark.slow
def test_the_audit_export_holds_what_the_live_engine_did(
    played: TestClient, tmp_path: Path
) -> None:
    out, keys = tmp_path / "log.jsonl", tmp_path / "keys.json"
    result = CliRunner().invoke(
        cli,
        ["audit", "export", "--db", played.db, "--out", str(out), "--keys-out", str(keys)],  # type: ignore[attr-defined]
    )
    assert result.exit_code == 0, result.output
    records = list(read_log_records(out))
    assert verify_log(records, KeyRing.load(keys)).ok
    kinds = {r["kind"] for r in records}
    assert {"message", "identification.resolved", "incident", "alert.raised"} <= kinds
    # one vocabulary: none of the live engine's former kinds
    assert not kinds & {"hotline.message", "hotline.acknowledged", "identification.requested",
                        "incident.recorded", "track.identity"}  # fmt: skip
    messages = [r["payload"] for r in records if r["kind"] == "message"]
    by_kind = {m["kind"] for m in messages}
    assert {"conflict_notice", "identification_request", "identification_answer",
            "acknowledgement"} <= by_kind  # fmt: skip
    # what a crew wrote carries its party's own signature, checked by verify
    assert all("client_signature" in m for m in messages if m["sender"] != "host")


def test_a_party_answers_and_writes_through_v1(client: TestClient) -> None:
    session = client.session  # type: ignore[attr-defined]
    for _ in range(40):
        session.step(1.0)
    # the service's clock is the engine's: what a page signs with is what the engine decides at
    assert client.get("/v1/clock", headers=_auth(client, "red")).json()["time_s"] == (
        session.engine.now_s
    )
    red = client.get("/v1/live/picture", headers=_auth(client, "red")).json()
    assert red["party"] == "red" and len(red["tracks"]["key"]) >= 5
    assert all(k.startswith("red/") for k in red["tracks"]["key"])  # only Red's own picture
    req = _get(client, "/v1/identification-requests", "red")[0]
    assert req["observer"] == "red" and not req["can_answer"] and req["outcome"] == "pending"
    rid = req["request_id"]
    i = red["tracks"]["key"].index(req["track_id"])
    assert red["tracks"]["identity"][i] == "pending"

    def answer(party: str, **body: Any) -> Any:
        def content(t: float) -> dict[str, Any]:
            return answer_content(rid, party, body["answer"], aircraft=body.get("aircraft", ""),
                                  time_s=t)  # fmt: skip

        return client.post(f"/v1/identification-requests/{rid}/answer",
                           json=_signed(client, party, content, **body),
                           headers=_auth(client, party))  # fmt: skip

    # the observer was not asked; an unsigned answer is refused with what to sign
    assert answer("red", answer="not_ours").status_code in (403, 422)
    unsigned = client.post(f"/v1/identification-requests/{rid}/answer",
                           json={"answer": "ours", "aircraft": "REAPER01"},
                           headers=_auth(client, "blue"))  # fmt: skip
    assert unsigned.status_code == 422 and "answer_content" in unsigned.text
    ok = answer("blue", answer="ours", aircraft="REAPER01")
    assert ok.status_code == 200, ok.text
    assert ok.json()["outcome"] == "declared"
    session.step(1.0)  # the engine reads the outcome from the log
    red = client.get("/v1/live/picture", headers=_auth(client, "red")).json()
    t = red["tracks"]
    i = t["key"].index(req["track_id"])
    assert (t["identity"][i], t["owner"][i], t["label"][i]) == ("declared", "blue", "REAPER01")
    # the time slider: the picture as it was when the request was made has the drone unknown
    old = client.get(f"/v1/live/picture?at={req['created_s'] + 1}", headers=_auth(client, "red"))
    j = old.json()["tracks"]["key"].index(req["track_id"])
    assert old.json()["tracks"]["identity"][j] in ("unknown", "pending")

    # hotline through /v1: send (signed), read (delivered), acknowledge (signed)
    def text(t: float) -> dict[str, Any]:
        return message_content(make_message("free_text", "blue", ["red"], {"text": "hello"},
                                            time_s=t))  # fmt: skip

    sent = client.post("/v1/messages", headers=_auth(client, "blue"),
                       json=_signed(client, "blue", text, to=["red"], kind="free_text",
                                    body={"text": "hello"}))  # fmt: skip
    assert sent.status_code == 201, sent.text
    mid = sent.json()["message"]["message_id"]
    inbox = _get(client, "/v1/messages?after=-1", "red")
    assert mid in [m["message"]["message_id"] for m in inbox["messages"]]
    _get(client, f"/v1/messages?after={inbox['next']}", "red")  # holds them: delivered
    mine = {m["message_id"]: m for m in _get(client, "/v1/messages/recent", "blue")}
    assert mine[mid]["outgoing"] and mine[mid]["delivery"] == {"red": "delivered"}
    body = _signed(client, "red", lambda t: acknowledgement_content(mid, "red", t))
    assert client.post(f"/v1/messages/{mid}/ack", json=body,
                       headers=_auth(client, "red")).status_code == 200  # fmt: skip
    mine = {m["message_id"]: m for m in _get(client, "/v1/messages/recent", "blue")}
    assert mine[mid]["delivery"] == {"red": "acknowledged"}
    # the civil party sees none of it
    assert mid not in {m["message_id"] for m in _get(client, "/v1/messages/recent", "civil")}
    civil_ack = _signed(client, "civil", lambda t: acknowledgement_content(mid, "civil", t))
    assert client.post(f"/v1/messages/{mid}/ack", json=civil_ack,
                       headers=_auth(client, "civil")).status_code == 404  # fmt: skip


def test_the_live_write_endpoints_are_gone(client: TestClient) -> None:
    """The map writes through /v1 like every client: /v1/live is read-only."""
    session = client.session  # type: ignore[attr-defined]
    session.step(1.0)
    h = _auth(client, "blue")
    for path in ("/v1/live/messages", "/v1/live/identification/abc/answer",
                 "/v1/live/messages/abc/ack"):  # fmt: skip
        assert client.post(path, json={}, headers=h).status_code in (404, 405), path
    assert client.get("/v1/live/messages", headers=h).status_code == 404
    assert client.get("/v1/live/session").status_code == 401
    assert (
        client.get("/v1/live/session", headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    assert client.get("/v1/clock").status_code == 401
    scene = _get(client, "/v1/live/session", "red")
    assert scene["party"] == "red" and "operations" not in scene
    assert {a["kind"] for a in scene["areas"]} == {"shared", "restricted"}
    login = client.app.state.demo_logins["red"]  # type: ignore[attr-defined]
    assert login.startswith("#token=") and "&key=" in login


def test_requests_are_listed_only_to_whom_they_concern(client: TestClient) -> None:
    session = client.session  # type: ignore[attr-defined]
    for _ in range(40):
        session.step(1.0)
    rid = _get(client, "/v1/identification-requests", "red")[0]["request_id"]
    for party in ("blue", "civil"):  # asked: they may answer, and see only themselves asked
        got = _get(client, "/v1/identification-requests", party)
        assert [r["request_id"] for r in got] == [rid]
        assert got[0]["can_answer"] and got[0]["parties"] == [party]
    # its track's observer is told nothing of who was asked beyond itself and the others
    red = _get(client, "/v1/identification-requests", "red")[0]
    assert set(red["parties"]) == {"blue", "civil"} and not red["can_answer"]


def _keys(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, key) of a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, str(k)
            yield from _keys(v, f"{path}.{k}")
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v, f"{path}[]")


@pytest.mark.slow
def test_parties_receive_the_edge_units_only(played: TestClient) -> None:
    """What a party receives (its inbox, identification requests, incidents, live picture) is
    in DESIGN.md's edge units: altitudes in ft, speeds in kt (no ``altitude_m``, no ``*_mps``),
    and the kinematics it is told say what the engine's picture said."""
    c = played
    seen: dict[str, int] = {}
    for party in ("red", "blue", "civil"):
        docs = [
            _get(c, "/v1/messages?after=-1", party),
            _get(c, "/v1/messages/recent?limit=500", party),
            _get(c, "/v1/live/picture", party),
            _get(c, "/v1/events", party),
        ]
        requests = _get(c, "/v1/identification-requests", party)
        docs += [requests]
        docs += [_get(c, f"/v1/identification-requests/{r['request_id']}", party) for r in requests]
        incidents = _get(c, "/v1/incidents", party)
        docs += [incidents]
        docs += [_get(c, f"/v1/incidents/{i['incident_id']}", party) for i in incidents]
        for doc in docs:
            for where, key in _keys(doc):
                seen[key] = seen.get(key, 0) + 1
                assert key != "altitude_m" and not key.endswith("_mps"), (party, where, key)
    # the walk saw the kinematics it checks: positions and velocities in ft, kt, ft/min
    assert seen.get("altitude", 0) > 0 and seen.get("groundspeed", 0) > 0
    # the request Red's picture raised about REAPER01, as Blue (asked, the owner) received it
    rid = _get(c, "/v1/identification-requests", "red")[0]["request_id"]
    inbox = _get(c, "/v1/messages?after=-1", "blue")["messages"]
    request = next(
        m["message"]
        for m in inbox
        if m["message"]["kind"] == "identification_request"
        and m["message"]["body"]["request_id"] == rid
    )
    # REAPER01 flies at 18,000 ft (5,486 m) and 160 kt (82 m/s); a primary-only radar's height
    # is noisy (400 ft sigma) and the track young, so the check is on the unit, not the digit
    assert 12_000 < request["body"]["position"]["altitude"] < 24_000
    assert 110 < request["body"]["velocity"]["groundspeed"] < 220
