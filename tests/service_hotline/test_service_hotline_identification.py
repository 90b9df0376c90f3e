"""Identification requests through the API: every party gets the track, and the request runs
through every outcome (claimed, disputed, all denied, timed out)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hotline_helpers import ADMIN_HEADERS, signed_answer

from deconflict.store import hotline as log
from deconflict.workflows.escalation import check_escalations
from deconflict.workflows.identification import check_identifications

Register = Callable[..., dict[str, Any]]

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
HISTORY = [
    {**TRACK, "timestamp": f"2030-01-01T10:00:{s:02d}Z", "longitude": 8.55 - (30 - s) * 1e-4}
    for s in (0, 10, 20)
]


def open_request(client: TestClient, timeout_s: float = 120.0) -> dict[str, Any]:
    r = client.post(
        "/v1/identification-requests",
        json={"track": TRACK, "history": HISTORY, "timeout_s": timeout_s},
        headers=ADMIN_HEADERS,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def answer(client: TestClient, who: dict[str, Any], rid: str, **body: Any) -> Any:
    return client.post(
        f"/v1/identification-requests/{rid}/answer",
        json=signed_answer(who, rid, body),
        headers=who["headers"],
    )


def test_every_party_gets_the_track(client: TestClient, register: Register) -> None:
    parties = [register(n) for n in ("alpha", "bravo", "charlie")]
    r = client.post(
        "/v1/identification-requests", json={"track": TRACK}, headers=parties[0]["headers"]
    )
    assert r.status_code == 403
    opened = open_request(client)
    assert opened["outcome"] == "pending" and opened["parties"] == ["alpha", "bravo", "charlie"]
    for p in parties:
        items = client.get("/v1/messages", headers=p["headers"]).json()["messages"]
        assert len(items) == 1
        m = items[0]["message"]
        assert m["kind"] == "identification_request" and m["sender"] == "host"
        body = m["body"]
        assert body["request_id"] == opened["request_id"] and body["track_id"] == "T042"
        # the edge units it was posted in (ft, kt, deg, ft/min), not the SI kept inside
        assert body["position"]["altitude"] == pytest.approx(12000)
        assert body["velocity"]["groundspeed"] == pytest.approx(300)
        assert body["velocity"]["track"] == pytest.approx(90)
        assert body["velocity"]["vertical_rate"] == pytest.approx(-600)
        assert [h[2] for h in body["history"]] == pytest.approx([8.547, 8.548, 8.549])
        assert math.isclose(body["deadline_s"] - body["created_s"], 120.0)


@pytest.mark.parametrize(
    ("answers", "outcome", "escalates"),
    [
        ([("alpha", "ours")], "declared", False),
        ([("alpha", "ours"), ("bravo", "ours")], "disputed", True),
        ([("alpha", "not_ours"), ("bravo", "not_ours"), ("charlie", "not_ours")], "unknown", True),
    ],
    ids=["claimed", "disputed", "denied"],
)
def test_outcomes_of_answers(
    client: TestClient,
    register: Register,
    answers: list[tuple[str, str]],
    outcome: str,
    escalates: bool,
) -> None:
    who = {n: register(n) for n in ("alpha", "bravo", "charlie")}
    rid = open_request(client)["request_id"]
    last: dict[str, Any] = {}
    for name, said in answers:
        extra = {"aircraft": f"{name.upper()}01", "operation": "op-7"} if said == "ours" else {}
        r = answer(client, who[name], rid, answer=said, **extra)
        assert r.status_code == 200, r.text
        last = r.json()
    # the last answerer learns the outcome in full only when it claimed the track (issue 11)
    claimant = answers[-1][1] == "ours"
    expected = (outcome, escalates) if claimant else ("closed", False)
    assert (last["outcome"], last["escalate"]) == expected
    state = client.get(f"/v1/identification-requests/{rid}", headers=ADMIN_HEADERS).json()
    assert state["outcome"] == outcome
    claimed = [(c["party"], c["aircraft"]) for c in state["claimants"]]
    assert claimed == [(n, f"{n.upper()}01") for n, said in answers if said == "ours"]
    # a party sees only its own answer, and the outcome in full when it claimed the track
    mine = client.get(f"/v1/identification-requests/{rid}", headers=who["alpha"]["headers"]).json()
    alpha_claimed = answers[0] == ("alpha", "ours")
    assert mine["outcome"] == (outcome if alpha_claimed else "closed")
    assert [a["party"] for a in mine["answers"]] == ["alpha"]
    assert "claimants" not in mine
    store = client.app.state.store  # type: ignore[attr-defined]
    resolved = log.entries(store, log.ID_RESOLVED, match={"request_id": rid})
    assert resolved[-1].payload["outcome"] == outcome
    assert resolved[-1].payload["escalate"] is escalates
    answered = {n for n, _ in answers}
    req_id = state["message_id"]
    acked = {
        d["party"]
        for d in client.get(f"/v1/messages/{req_id}", headers=ADMIN_HEADERS).json()["deliveries"]
        if d["state"] == "acknowledged"
    }
    assert acked == answered  # answering acknowledges the request
    r = answer(client, who["alpha"], rid, answer="not_ours")
    assert r.status_code == 409  # answers are final


def test_deadline_passing_leaves_it_unknown_and_escalates(
    client: TestClient, register: Register
) -> None:
    alpha, bravo = register("alpha"), register("bravo")
    opened = open_request(client, timeout_s=30.0)
    rid = opened["request_id"]
    assert answer(client, alpha, rid, answer="not_ours").json()["outcome"] == "pending"
    store = client.app.state.store  # type: ignore[attr-defined]
    assert check_identifications(store, opened["deadline_s"] - 1) == []
    changed = check_identifications(store, opened["deadline_s"] + 1)
    assert [(c.outcome.value, c.escalate, c.waiting_for) for c in changed] == [
        ("unknown", True, ("bravo",))
    ]
    assert check_identifications(store, opened["deadline_s"] + 2) == []  # logged once
    # bravo's silence also escalates the request message itself (a safety message)
    repeats = check_escalations(store, opened["created_s"] + 10_000)
    assert [e.payload["recipients"] for e in repeats] == [["bravo"]]
    # a late claim still declares the track
    r = answer(client, bravo, rid, answer="ours", aircraft="B77", operation="op-1")
    assert r.json() == {"request_id": rid, "outcome": "declared", "escalate": False}
    outcomes = [e.payload["outcome"] for e in log.entries(store, log.ID_RESOLVED)]
    assert outcomes == ["unknown", "declared"]


def test_answers_are_checked(client: TestClient, register: Register) -> None:
    alpha = register("alpha")
    rid = open_request(client)["request_id"]
    late = register("latecomer")  # registered after the request: not asked
    r = answer(client, late, rid, answer="not_ours")
    assert r.status_code == 404, r.text
    r = answer(client, alpha, rid, answer="ours")
    assert r.status_code == 422 and "aircraft" in r.json()["error"]["message"]
    r = answer(client, alpha, "0" * 24, answer="not_ours")
    assert r.status_code == 404
    r = answer(client, alpha, rid, answer="maybe")
    assert r.status_code == 422
