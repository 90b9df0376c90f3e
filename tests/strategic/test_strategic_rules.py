"""Conflict rule (reject | accept-by-priority) and proof of awareness."""

from __future__ import annotations

import pytest

from deconflict.errors import ConflictError
from deconflict.strategic.index import OperationIndex
from deconflict.strategic.model import Buffers, Operation, parse_operation
from deconflict.strategic.need_to_know import missing_views
from deconflict.strategic.rules import (
    AwarenessGap,
    ConflictPolicy,
    ConflictRejectedError,
    ConflictRule,
    MissingAwarenessError,
    check_awareness,
    evaluate,
)

BUF = Buffers.from_units(horizontal_nm=5, vertical_ft=1000)
REJECT = ConflictRule(ConflictPolicy.REJECT)
BY_PRIORITY = ConflictRule(ConflictPolicy.ACCEPT_BY_PRIORITY)


def op(oid: str, owner: str, lon: float, priority: int = 0, state: str = "Accepted") -> Operation:
    return parse_operation(
        {
            "id": oid,
            "owner": owner,
            "priority": priority,
            "state": state,
            "volumes": [
                {
                    "circle": {"latitude": 46.0, "longitude": lon, "radius_m": 1000.0},
                    "altitude_lower": {"value": 0},
                    "altitude_upper": {"value": 3000},
                    "time_start": "2026-06-01T10:00:00Z",
                    "time_end": "2026-06-01T11:00:00Z",
                }
            ],
        }
    )


@pytest.fixture()
def index() -> OperationIndex:
    # a and b sit near 7.0 E; c is 40 km away (no conflict)
    return OperationIndex(
        BUF, [op("a", "alpha", 7.0, 1), op("b", "bravo", 7.05, 2), op("c", "charlie", 7.5)]
    )


def test_check_awareness_missing_and_stale(index: OperationIndex) -> None:
    a, b = index.get("a"), index.get("b")
    assert check_awareness([a, b], {"a": a.token, "b": b.token}) == []
    assert check_awareness([a, b], {"a": a.token}) == [AwarenessGap("b", "bravo", "missing")]
    newer_b = b.revised(priority=3)
    assert check_awareness([a, newer_b], {"a": a.token, "b": b.token}) == [
        AwarenessGap("b", "bravo", "stale")
    ]
    assert check_awareness([a, b], [b.token, "junk"]) == [AwarenessGap("a", "alpha", "missing")]


def test_missing_token_is_a_409_listing_what_is_missing(index: OperationIndex) -> None:
    cand = op("n", "november", 7.02, priority=5)
    d = evaluate(cand, index, BY_PRIORITY, {"a": index.get("a").token})
    assert not d.accepted and d.conflicting_ids == ("a", "b")
    assert [g.operation_id for g in d.gaps] == ["b"]
    with pytest.raises(MissingAwarenessError) as exc:
        d.raise_if_refused()
    assert isinstance(exc.value, ConflictError) and "b (missing)" in str(exc.value)
    assert "charlie" not in str(exc.value) and "c " not in str(exc.value)


def test_reject_rule_refuses_any_conflict_and_notifies_both(index: OperationIndex) -> None:
    cand = op("n", "november", 7.02, priority=5)
    tokens = {o.id: o.token for o in index}
    d = evaluate(cand, index, REJECT, tokens)
    assert not d.accepted and d.gaps == ()
    assert d.notify == ("alpha", "bravo", "november")
    with pytest.raises(ConflictRejectedError, match="reject"):
        d.raise_if_refused()
    assert evaluate(op("m", "mike", 8.0), index, REJECT).accepted  # far away: no conflict


@pytest.mark.parametrize(
    ("priority", "equal_ok", "accepted"),
    [(3, False, True), (2, False, False), (2, True, True), (1, True, False), (0, False, False)],
)
def test_accept_by_priority(
    index: OperationIndex, priority: int, equal_ok: bool, accepted: bool
) -> None:
    cand = op("n", "november", 7.02, priority=priority)
    rule = ConflictRule(ConflictPolicy.ACCEPT_BY_PRIORITY, allow_equal_priority=equal_ok)
    d = evaluate(cand, index, rule, {o.id: o.token for o in index})
    assert d.accepted is accepted
    assert d.notify == ("alpha", "bravo", "november")  # notified either way
    assert {c.operation_id for c in d.conflicts} == {"a", "b"}


def test_off_nominal_states_need_no_proof_and_are_not_refused(index: OperationIndex) -> None:
    flying = op("n", "november", 7.02, state="Activated")
    assert not evaluate(flying, index, REJECT).accepted
    for state in ("Nonconforming", "Contingent"):
        d = evaluate(flying.revised(state=state), index, REJECT)
        assert d.accepted and d.conflicting_ids == ("a", "b") and "november" in d.notify


def test_missing_views_disclose_only_the_intersection(index: OperationIndex) -> None:
    cand = op("n", "november", 7.02, priority=5)
    d = evaluate(cand, index, BY_PRIORITY, {"a": index.get("a").token})
    views = missing_views(d.gaps, cand, index)
    assert [v.operation_id for v in views] == ["b"]
    assert views[0].token == index.get("b").token and views[0].owner == "bravo"
    assert all(p.viewer_operation_id == "n" for p in views[0].parts)
