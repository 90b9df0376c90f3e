"""Identification answers reach only the asking party and the answerer (issue 11, item 3).

Three parties: Blue claims a track ("ours, REAPER01"), Red denies it, Civil has not answered.
Civil and Red must not learn Blue's answer through any carrier — the events poll, the events
WebSocket, the request's state, the live engine's events (``identification.answered``,
``identification.resolved``, ``track.identity``) and the map's request panel — beyond, where
the procedures' ``identification_disclosure`` says ``declared``, that the track is declared.
The host's admin parties are not asked (they cannot answer), so ``waiting_for`` empties."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from security_helpers import ADMIN_HEADERS, Cast, make_client, register, signed_answer

from deconflict.engine.engine import Engine, EngineConfig
from deconflict.engine.events import EngineEvent, MemorySink
from deconflict.sim.crews import Crews
from deconflict.sim.scenario import load_scenario
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource

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


@pytest.fixture(scope="module", params=["involved", "declared"])
def engine_run(request: pytest.FixtureRequest) -> tuple[Engine, list[EngineEvent]]:
    """The built-in scenario until Red's unknown drone is declared Blue's (about 70 s)."""
    sc = load_scenario()
    sim = Simulator(sc)
    source = SimSource(sim)
    sink = MemorySink()
    config = EngineConfig(standard=sc.standard, identification_disclosure=request.param)
    engine = Engine(
        [p.id for p in sc.parties],
        [source],
        fleets=source.fleets(),
        sink=sink,
        config=config,
        hooks=[Crews(sim)],
    )
    for t in range(1, 200):
        engine.tick(sc.time(t))
        if any(e.kind == "track.identity" for e in sink.events):
            break
    return engine, sink.events


def test_the_engine_tells_the_answer_to_the_asker_and_the_answerer_only(
    engine_run: tuple[Engine, list[EngineEvent]],
) -> None:
    engine, events = engine_run
    answered = [e for e in events if e.kind == "identification.answered"]
    assert answered and answered[0].payload["aircraft"] == SECRET  # Blue claimed Red's track
    assert {e.payload["observer"] for e in answered} == {"red"}
    for e in events:
        if SECRET in json.dumps(e.payload):
            assert "civil" not in e.recipients, e
    identity = [e for e in events if e.kind == "track.identity"]
    assert [e.recipients for e in identity] == [("red",)]
    resolved = [e for e in events if e.kind == "identification.resolved"]
    full = [e for e in resolved if "owner" in e.payload]
    assert [e.recipients for e in full] == [("blue", "red")]
    told = [e for e in resolved if "owner" not in e.payload]
    if engine.config.identification_disclosure == "declared":
        assert [(e.recipients, dict(e.payload)["outcome"]) for e in told] == [
            (("civil",), "declared")
        ]
        assert set(told[0].payload) == {"request_id", "track_id", "outcome"}
    else:
        assert told == []
    panel = {r["observer"]: r for r in engine.open_requests("civil", history=False)}
    expected = "declared" if engine.config.identification_disclosure == "declared" else "closed"
    assert panel["red"]["outcome"] == expected
    assert SECRET not in json.dumps(engine.open_requests("civil"))
    assert engine.open_requests("red", history=False)[-1]["outcome"] == "declared"
    assert dataclasses.asdict(engine.config)["identification_disclosure"] in (
        "involved",
        "declared",
    )
