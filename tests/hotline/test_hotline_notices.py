"""Conflict-notice lifecycle: open, update on a rising level, close when over — no repeats."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.hotline.canonical import canonical_json
from deconflict.hotline.messages import MessageKind
from deconflict.hotline.notices import (
    AircraftState,
    ConflictPrediction,
    NoticePolicy,
    OpenNotice,
    PairKey,
    notice_message,
    update_notices,
)
from deconflict.kinematics import Kinematics

A = AircraftState("alpha", "VIPER11", Kinematics(35.50, 38.90, 9000.0, 220.0, 0.0, 0.0))
B = AircraftState("bravo", "SECRET-MISSION-7", Kinematics(35.52, 39.10, 9100.0, -210.0, 0.0, -2.0))
C = AircraftState("alpha", "VIPER12", Kinematics(35.51, 38.95, 9000.0, 220.0, 0.0, 0.0))


def pred(level: int, tlos: float = 60.0) -> ConflictPrediction:
    return ConflictPrediction(A, B, level, tlos, resolution_a="turn right 30", resolution_b="climb")


def run(levels: list[int | None], policy: NoticePolicy) -> list[tuple[float, str, str, int]]:
    state: dict[PairKey, OpenNotice] = {}
    sent = []
    for t, level in enumerate(levels):
        preds = [] if level is None else [pred(level, 60.0 - t)]
        state, notices = update_notices(state, preds, float(t), policy)
        sent += [(float(t), n.party, n.action.value, n.level) for n in notices]
    return sent


def test_lifecycle_open_update_close() -> None:
    levels = [1, 1, 1, 2, 2, 1, 3, None, 3, 3, None, None, None, None, None]
    sent = run(levels, NoticePolicy(close_after_s=3))
    assert sent == [
        (0.0, "alpha", "open", 1), (0.0, "bravo", "open", 1),
        (3.0, "alpha", "update", 2), (3.0, "bravo", "update", 2),
        (6.0, "alpha", "update", 3), (6.0, "bravo", "update", 3),
        (12.0, "alpha", "close", 3), (12.0, "bravo", "close", 3),
    ]  # fmt: skip


def test_each_party_gets_what_it_needs_and_not_the_other_identity() -> None:
    _state, notices = update_notices({}, [pred(2, 42.0)], 100.0)
    by_party = {n.party: n for n in notices}
    a, b = by_party["alpha"].body, by_party["bravo"].body
    assert a["time_to_los_s"] == 42.0 and a["resolution"] == "turn right 30"
    assert a["own_aircraft"] == "VIPER11"
    # the other aircraft in the edge units: ft, kt, deg true, ft/min (SI inside)
    assert a["other"]["position"] == pytest.approx(
        {"latitude": 35.52, "longitude": 39.10, "altitude": 9100.0 / 0.3048}
    )
    assert a["other"]["velocity"] == pytest.approx(
        {"groundspeed": 210.0 * 3600 / 1852, "track": 270.0, "vertical_rate": -2.0 * 60 / 0.3048}
    )
    assert b"SECRET-MISSION-7" not in canonical_json(dict(a))
    assert b"bravo" not in canonical_json(dict(a))
    assert b["resolution"] == "climb" and b"VIPER11" not in canonical_json(dict(b))
    assert a["notice_id"] == b["notice_id"]
    message = notice_message(by_party["alpha"])
    assert (
        message.safety and message.to == ("alpha",) and message.kind is MessageKind.CONFLICT_NOTICE
    )
    assert message.body == a and message.time_s == 100.0


def test_same_party_pairs_and_level_zero_are_ignored() -> None:
    own = ConflictPrediction(A, C, 3, 10.0)
    state, notices = update_notices({}, [own, pred(0)], 0.0)
    assert state == {} and notices == []


def test_duplicate_prediction_in_one_tick_counts_once() -> None:
    swapped = ConflictPrediction(B, A, 2, 30.0)
    state, notices = update_notices({}, [pred(1), swapped], 0.0)
    assert len(state) == 1 and [n.level for n in notices] == [2, 2]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=1, max_size=30))
def test_never_repeated_at_every_update(levels: list[int | None]) -> None:
    close_after = 2.0
    sent = [
        s for s in run([*levels, None, None, None], NoticePolicy(close_after)) if s[1] == "alpha"
    ]
    # Independent model: episodes separated by >= close_after ticks of absence; inside one,
    # a notice for the first tick and for every new maximum; a close after each episode.
    expected: list[tuple[float, str, str, int]] = []
    top: int | None = None
    last_seen = -1.0
    for t, level in enumerate([*levels, None, None, None]):
        if level is None:
            if top is not None and t - last_seen >= close_after:
                expected.append((float(t), "alpha", "close", top))
                top = None
            continue
        if top is None:
            expected.append((float(t), "alpha", "open", level))
            top = level
        elif level > top:
            expected.append((float(t), "alpha", "update", level))
            top = level
        last_seen = float(t)
    assert sent == expected
    assert sum(1 for s in sent if s[2] == "open") == sum(1 for s in sent if s[2] == "close")
