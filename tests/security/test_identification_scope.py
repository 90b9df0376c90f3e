"""Identification answers reach only the asking party and the answerer (issue 11, item 3).

Three parties: Blue claims a track ("ours, REAPER01"), Red denies it, Civil has not answered.
Civil and Red must not learn Blue's answer through any carrier — the events poll, the events
WebSocket, the request's state, the live engine's entries in the log (the answers,
``identification.resolved``) and the panels' request list (``GET /v1/identification-requests``) — beyond, where
the procedures' ``identification_disclosure`` says ``declared``, that the track is declared.
The host's admin parties are not asked (they cannot answer), so ``waiting_for`` empties."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from security_helpers import ADMIN_HEADERS, Cast, make_client, register, signed_answer

from deconflict.engine.engine import Engine
from deconflict.engine.session import Session
from deconflict.sim.scenario import load_scenario
from deconflict.store import hotline as log
from deconflict.workflows import identification, views

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
SECRET = "REAPER01"


def _answer(client: TestClient, who: dict[str, Any], rid: str, **body: Any) -> dict[str, Any]:
    r = client.post(
        f"/v1/identification-requests/{rid}/answer",
        json=signed_answer(who, rid, body),
        headers=who["headers"],
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _claimed(client: TestClient, cast: Cast) -> str:
    """The host asks; Blue claims the track, Red denies it; returns the request id."""
    r = client.post("/v1/identification-requests", json={"track": TRACK}, headers=ADMIN_HEADERS)
    assert r.status_code == 201, r.text
    rid = str(r.json()["request_id"])
    assert _answer(client, cast["blue"], rid, answer="ours", aircraft=SECRET, operation="op-7")[
        "outcome"
    ] == ("declared")
    assert _answer(client, cast["red"], rid, answer="not_ours") == {
        "request_id": rid,
        "outcome": "closed",
        "escalate": False,
    }
    return rid


def _events_of(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list(
        client.get("/v1/events", params={"limit": 10_000}, headers=headers).json()["events"]
    )


def test_only_the_asker_and_the_answerer_learn_the_answer(client: TestClient, cast: Cast) -> None:
    rid = _claimed(client, cast)
    for name in ("red", "civil"):
        events = _events_of(client, cast.headers(name))
        assert events, name
        assert SECRET not in json.dumps(events), name
        assert not [e for e in events if e["kind"] == "identification.resolved"], name
        answers = [e for e in events if e["payload"].get("kind") == "identification_answer"]
        assert answers == []  # answers are addressed to the host that asked
        # the same entries on the events WebSocket
        with client.websocket_connect("/v1/events/ws", headers=cast.headers(name)) as ws:
            pushed = [json.loads(ws.receive_text()) for _ in events]
        assert [e["seq"] for e in pushed] == [e["seq"] for e in events]
        state = client.get(f"/v1/identification-requests/{rid}", headers=cast.headers(name))
        assert state.status_code == 200
        view = state.json()
        assert SECRET not in state.text and "blue" not in state.text, view
        assert view["outcome"] == "closed" and view["escalate"] is False
        assert view["parties"] == [name]
    blue = client.get(f"/v1/identification-requests/{rid}", headers=cast.headers("blue")).json()
    assert blue["outcome"] == "declared" and blue["answers"][0]["aircraft"] == SECRET
    assert SECRET in json.dumps(_events_of(client, cast.headers("blue")))
    host = client.get(f"/v1/identification-requests/{rid}", headers=ADMIN_HEADERS).json()
    assert [c["party"] for c in host["claimants"]] == ["blue"]


@pytest.mark.parametrize("disclosure", ["involved", "declared"])
def test_others_learn_at_most_that_the_track_is_declared(db_url: str, disclosure: str) -> None:
    with make_client(db_url, identification_disclosure=disclosure) as client:
        cast = Cast({n: register(client, n) for n in ("blue", "red", "civil")})
        r = client.post("/v1/identification-requests", json={"track": TRACK}, headers=ADMIN_HEADERS)
        rid = r.json()["request_id"]
        pending = client.get(f"/v1/identification-requests/{rid}", headers=cast.headers("civil"))
        assert pending.json()["outcome"] == "pending"
        _answer(client, cast["blue"], rid, answer="ours", aircraft=SECRET)
        view = client.get(f"/v1/identification-requests/{rid}", headers=cast.headers("civil"))
        expected = "declared" if disclosure == "declared" else "closed"
        assert view.json()["outcome"] == expected
        assert SECRET not in view.text and "blue" not in view.text


def test_the_hosts_admin_parties_are_not_waited_for(client: TestClient, cast: Cast) -> None:
    register(client, "duty-desk", role="admin")
    r = client.post("/v1/identification-requests", json={"track": TRACK}, headers=ADMIN_HEADERS)
    assert r.json()["parties"] == ["blue", "civil", "red"]
    rid = r.json()["request_id"]
    for name in ("blue", "red", "civil"):
        _answer(client, cast[name], rid, answer="not_ours")
    host = client.get(f"/v1/identification-requests/{rid}", headers=ADMIN_HEADERS).json()
    assert host["waiting_for"] == [] and host["outcome"] == "unknown"


# -- the live engine: three parties on the built-in scenario --------------------------------
# The engine decides through the store's workflows (engine.desk): what a party learns of its
# requests is what the log addresses to it and what the panels' views (workflows.views) show it.


@pytest.fixture(scope="module", params=["involved", "declared"])
def engine_run(request: pytest.FixtureRequest) -> tuple[Engine, str]:
    """The built-in scenario until Red's unknown drone is declared Blue's (about 70 s)."""
    session = Session.from_scenario(load_scenario())
    store = session.engine.desk.store
    for _ in range(1, 200):
        session.step()
        resolved = log.entries(store, log.ID_RESOLVED)
        if any(e.payload["outcome"] == "declared" for e in resolved):
            break
    return session.engine, str(request.param)


def test_the_engine_tells_the_answer_to_the_asker_and_the_answerer_only(
    engine_run: tuple[Engine, str],
) -> None:
    engine, disclosure = engine_run
    store, parties = engine.desk.store, engine.desk.parties
    answers = log.entries(store, log.MESSAGE, match={"kind": "identification_answer"})
    claims = [e for e in answers if e.payload["body"]["aircraft"] == SECRET]
    assert claims and claims[0].payload["sender"] == "blue"  # Blue claimed Red's track
    requests = log.entries(store, log.MESSAGE, match={"kind": "identification_request"})
    rid = claims[0].payload["body"]["request_id"]
    [asked] = [e for e in requests if e.payload["body"]["request_id"] == rid]
    assert asked.payload["body"]["observer"] == "red"
    # what civil may read of the log (its events poll) names neither the aircraft nor Blue's claim
    civil = parties["civil"]
    seen = store.events_for(civil.id, limit=100_000)
    assert SECRET not in json.dumps([e.payload for e in seen])
    assert not [e for e in seen if e.kind == log.ID_RESOLVED]
    # the resolution is addressed to the host, the observer and the claimant only
    full = [e for e in log.entries(store, log.ID_RESOLVED) if e.payload["request_id"] == rid]
    assert full and SECRET in json.dumps(full[-1].payload)
    for name, party in parties.items():
        mine = {e.seq for e in store.events_for(party.id, limit=100_000)}
        assert (full[-1].seq in mine) == (name in ("blue", "red")), name
    # the panels: civil learns at most that the track is declared; red, the observer, in full
    panel = {
        r["request_id"]: r
        for r in views.identification_requests(
            store, civil, now_s=engine.now_s, limit=500, disclosure=disclosure
        )
    }
    expected = "declared" if disclosure == "declared" else "closed"
    assert panel[rid]["outcome"] == expected
    assert SECRET not in json.dumps(panel)
    state = identification.identification_state(
        store, civil, rid, now_s=engine.now_s, disclosure=disclosure
    )
    assert state["outcome"] == expected and SECRET not in json.dumps(state)
    red = {
        r["request_id"]: r
        for r in views.identification_requests(
            store, parties["red"], now_s=engine.now_s, limit=500, disclosure=disclosure
        )
    }
    assert red[rid]["outcome"] == "declared"
    observer = identification.identification_state(
        store, parties["red"], rid, now_s=engine.now_s, disclosure=disclosure
    )
    assert [c["aircraft"] for c in observer["claimants"]] == [SECRET]
