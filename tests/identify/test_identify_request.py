"""The identification-request workflow through every outcome, and through the hotline."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import ConflictError, InputError, PermissionDeniedError
from deconflict.hotline.delivery import Mailbox
from deconflict.hotline.messages import ALL, MessageKind, make_message
from deconflict.identify.request import (
    Answer,
    Outcome,
    TrackSnapshot,
    answers_from_messages,
    evaluate,
    open_request,
    record_answer,
)

PARTIES = ("alpha", "bravo", "charlie")
TRACK = TrackSnapshot(
    35.5,
    38.9,
    9000.0,
    220.0,
    -15.0,
    0.0,
    history=((990.0, 35.49, 38.88, 9000.0), (995.0, 35.495, 38.89, 9000.0)),
)


def fresh(now: float = 1000.0):  # type: ignore[no-untyped-def]
    return open_request("r1", "T42", TRACK, PARTIES, now_s=now, timeout_s=120)


def test_claimed_once_is_declared() -> None:
    req = record_answer(fresh(), "bravo", Answer.NOT_OURS, now_s=1001)
    assert evaluate(req, 1001).outcome is Outcome.PENDING
    req = record_answer(req, "alpha", "ours", now_s=1002, aircraft="VIPER11", operation="op-7")
    res = evaluate(req, 1002)
    assert res.outcome is Outcome.DECLARED and not res.escalate
    assert [(c.party, c.aircraft, c.operation) for c in res.claimants] == [
        ("alpha", "VIPER11", "op-7")
    ]
    assert res.waiting_for == ("charlie",)
    assert evaluate(req, 5000).outcome is Outcome.DECLARED  # the deadline does not undo a claim


def test_two_claims_are_disputed_and_escalate() -> None:
    req = record_answer(fresh(), "alpha", "ours", now_s=1001, aircraft="VIPER11")
    req = record_answer(req, "charlie", "ours", now_s=1003, aircraft="FALCON2")
    res = evaluate(req, 1003)
    assert res.outcome is Outcome.DISPUTED and res.escalate
    assert {c.party for c in res.claimants} == {"alpha", "charlie"}


def test_all_denied_is_unknown_and_escalates_before_the_deadline() -> None:
    req = fresh()
    for i, p in enumerate(PARTIES):
        req = record_answer(req, p, "not_ours", now_s=1001 + i)
    res = evaluate(req, 1004)
    assert res.outcome is Outcome.UNKNOWN and res.escalate and "not ours" in res.reason


def test_deadline_without_claim_is_unknown_and_escalates() -> None:
    req = record_answer(fresh(), "alpha", "not_ours", now_s=1010)
    assert evaluate(req, 1119.9).outcome is Outcome.PENDING
    res = evaluate(req, 1120.0)
    assert res.outcome is Outcome.UNKNOWN and res.escalate
    assert res.waiting_for == ("bravo", "charlie")
    late = record_answer(req, "bravo", "ours", now_s=1200, aircraft="HAWK3")
    assert evaluate(late, 1200).outcome is Outcome.DECLARED


def test_answers_are_checked() -> None:
    with pytest.raises(PermissionDeniedError):
        record_answer(fresh(), "zulu", "ours", now_s=1001, aircraft="X")
    req = record_answer(fresh(), "alpha", "not_ours", now_s=1001)
    with pytest.raises(ConflictError):
        record_answer(req, "alpha", "ours", now_s=1002, aircraft="X")
    with pytest.raises(InputError, match="name the aircraft"):
        record_answer(fresh(), "alpha", "ours", now_s=1001)
    with pytest.raises(InputError):
        record_answer(fresh(), "alpha", "maybe", now_s=1001)
    with pytest.raises(InputError):
        open_request("r", "T", TRACK, [], now_s=0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from([None, "ours", "not_ours"]), min_size=3, max_size=3),
    st.floats(0, 300),
)
def test_outcome_rule(answers: list[str | None], elapsed: float) -> None:
    req = fresh()
    for party, answer in zip(PARTIES, answers, strict=True):
        if answer is not None:
            req = record_answer(req, party, answer, now_s=1000, aircraft="A1")
    claims = answers.count("ours")
    denials = answers.count("not_ours")
    if claims >= 2:
        expected = Outcome.DISPUTED
    elif claims == 1:
        expected = Outcome.DECLARED
    elif denials == 3 or elapsed >= 120:
        expected = Outcome.UNKNOWN
    else:
        expected = Outcome.PENDING
    res = evaluate(req, 1000 + elapsed)
    assert res.outcome is expected
    assert res.escalate == (expected in (Outcome.DISPUTED, Outcome.UNKNOWN))


def test_request_reaches_every_party_and_answers_come_back() -> None:
    """End to end through the hotline model: one request to all, answers, outcome."""
    box = Mailbox(["host", *PARTIES])
    req = fresh()
    msg = make_message(
        MessageKind.IDENTIFICATION_REQUEST, "host", ALL, req.to_payload(), time_s=1000
    )
    box.post(msg, 1000)
    for party in PARTIES:
        got = box.fetch(party, 0, 1000.5)
        assert [d.message.body["track_id"] for d in got] == ["T42"]
        assert got[0].message.body["position"]["altitude"] == pytest.approx(9000.0 / 0.3048)
        assert len(got[0].message.body["history"]) == 2
    replies = []
    for t, (party, answer) in enumerate([("alpha", "not_ours"), ("bravo", "ours")]):
        body = {
            "request_id": "r1",
            "answer": answer,
            "aircraft": "RUSSIAN1" if answer == "ours" else "",
        }
        reply = make_message(
            MessageKind.IDENTIFICATION_ANSWER, party, "host", body, time_s=1001 + t
        )
        box.post(reply, 1001 + t)
        replies.append({**reply.body, "party": reply.sender, "time_s": reply.time_s})
    host_inbox = [d.message for d in box.fetch("host", 0, 1003)]
    assert [m.sender for m in host_inbox] == ["alpha", "bravo"]
    done = answers_from_messages(req, replies)
    res = evaluate(done, 1003)
    assert res.outcome is Outcome.DECLARED and res.claimants[0].aircraft == "RUSSIAN1"


def test_identification_and_conflict_notices_share_one_kinematic_record() -> None:
    """A track's snapshot and a notice's aircraft state are the same record: the same velocity
    from ground speed and track, the same position and velocity in what the parties are told."""
    from deconflict.hotline.notices import AircraftState
    from deconflict.kinematics import Kinematics

    args = (47.4, 8.55, 3000.0, 150.0, 120.0, -2.5)
    snapshot = TrackSnapshot.from_ground_track(*args, history=((0.0, 47.3, 8.5, 3000.0),))
    motion = Kinematics.from_ground_track(*args)
    assert isinstance(snapshot, Kinematics)
    # 120 degrees true: east = gs sin(120), north = gs cos(120)
    assert snapshot.east_mps == pytest.approx(150.0 * math.sqrt(3) / 2)
    assert snapshot.north_mps == pytest.approx(-75.0)
    told_notice = AircraftState("alpha", "VIPER11", motion).kinematics()
    told_request = snapshot.to_dict()
    assert told_request.pop("history") == [[0.0, 47.3, 8.5, pytest.approx(3000.0 / 0.3048)]]
    assert told_request == told_notice


def test_snapshot_payload_is_in_edge_units_and_reads_back() -> None:
    """Parties receive ft, kt, deg and ft/min; the workflow reads its own payload back in SI, and
    the SI payloads written before this change too."""
    body = TRACK.to_dict()
    assert body["position"]["altitude"] == pytest.approx(TRACK.altitude_m / 0.3048)
    speed_mps = (TRACK.east_mps**2 + TRACK.north_mps**2) ** 0.5
    assert body["velocity"]["groundspeed"] == pytest.approx(speed_mps * 3600 / 1852)
    assert body["velocity"]["vertical_rate"] == pytest.approx(TRACK.up_mps * 60 / 0.3048)
    assert [h[3] for h in body["history"]] == pytest.approx([h[3] / 0.3048 for h in TRACK.history])
    back = TrackSnapshot.from_dict(body)
    for name in ("latitude_deg", "longitude_deg", "altitude_m", "east_mps", "north_mps", "up_mps"):
        assert getattr(back, name) == pytest.approx(getattr(TRACK, name), abs=1e-9), name
    for got, sent in zip(back.history, TRACK.history, strict=True):
        assert got == pytest.approx(sent)
    old = {
        "position": {"latitude": 35.5, "longitude": 39.1, "altitude_m": 9000.0},
        "velocity": {"east_mps": -210.0, "north_mps": 0.0, "up_mps": -2.0},
        "history": [[990.0, 35.5, 39.2, 9000.0]],
    }
    assert TrackSnapshot.from_dict(old) == TrackSnapshot(
        35.5, 39.1, 9000.0, -210.0, 0.0, -2.0, ((990.0, 35.5, 39.2, 9000.0),)
    )
