"""Conflict notices: one per party per conflict, opened, updated when the level rises, closed
(SI inside: m, m/s, s; latitude/longitude in degrees; the notices carry the edge units).

The predictor says, at every tick, which pairs of different parties' aircraft are in conflict and
at what alert level. This module turns that stream into few messages: a notice is *opened* the
first time a pair is predicted, *updated* only when its level rises above the highest level
already notified, and *closed* once the pair has not been predicted for ``close_after_s``
(a pair that flickers out for one tick is not closed and re-opened). A level that falls changes
nothing. Each party's notice carries what it needs and nothing more: its own aircraft id, the
time to loss of separation, the *other* aircraft's position and velocity (not its identity), and
the resolution recommended to this party. Pure: the state is passed in and returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from deconflict.errors import InputError
from deconflict.hotline.canonical import canonical_json, sha256_hex
from deconflict.hotline.messages import Message, MessageKind, make_message
from deconflict.kinematics import Kinematics


@dataclass(frozen=True, slots=True)
class AircraftState:
    """One party's aircraft in a conflict: who, and its ``Kinematics``."""

    party: str
    aircraft_id: str
    motion: Kinematics

    def kinematics(self) -> dict[str, Any]:
        """Position and velocity only (what the other party is told), in the edge units
        (``Kinematics.payload``: altitude ft, groundspeed kt, track deg, ft/min)."""
        return self.motion.payload()


PairKey = tuple[tuple[str, str], tuple[str, str]]  # ((party, aircraft), (party, aircraft)), sorted


@dataclass(frozen=True, slots=True)
class ConflictPrediction:
    """One predicted conflict between aircraft of two different parties at one tick."""

    a: AircraftState
    b: AircraftState
    level: int  # alert level, higher is more urgent; 0 or less means no conflict
    time_to_los_s: float
    resolution_a: str = ""  # advisory for a's party
    resolution_b: str = ""

    @property
    def pair(self) -> PairKey:
        one = (self.a.party, self.a.aircraft_id)
        two = (self.b.party, self.b.aircraft_id)
        return (one, two) if one <= two else (two, one)


class NoticeAction(StrEnum):
    OPEN = "open"
    UPDATE = "update"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class OpenNotice:
    notice_id: str
    level: int  # highest level notified
    opened_s: float
    last_seen_s: float
    last: ConflictPrediction  # the prediction last notified (what its close names)


@dataclass(frozen=True, slots=True)
class Notice:
    """What to send one party now (the body of a ``conflict_notice`` message)."""

    notice_id: str
    action: NoticeAction
    party: str
    level: int
    time_s: float
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class NoticePolicy:
    close_after_s: float = 10.0  # a pair absent this long is over

    def __post_init__(self) -> None:
        if self.close_after_s < 0:
            raise InputError("close_after_s must be >= 0")


def decide(
    notified_level: int | None, level: int | None, absent_s: float, policy: NoticePolicy
) -> NoticeAction | None:
    """The rule for one pair: ``notified_level`` None when no notice is open, ``level`` None
    when the pair is not predicted now, ``absent_s`` how long it has not been predicted."""
    predicted = level is not None and level > 0
    if notified_level is None:
        return NoticeAction.OPEN if predicted else None
    if predicted:
        assert level is not None
        return NoticeAction.UPDATE if level > notified_level else None
    return NoticeAction.CLOSE if absent_s >= policy.close_after_s else None


def _notices(
    notice_id: str, action: NoticeAction, p: ConflictPrediction, level: int, now_s: float
) -> list[Notice]:
    out = []
    for own, other, advice in ((p.a, p.b, p.resolution_a), (p.b, p.a, p.resolution_b)):
        body: dict[str, Any] = {"notice_id": notice_id, "action": action.value, "level": level}
        if action is not NoticeAction.CLOSE:
            body |= {
                "own_aircraft": own.aircraft_id,
                "time_to_los_s": p.time_to_los_s,
                "other": other.kinematics(),
                "resolution": advice,
            }
        else:
            body["own_aircraft"] = own.aircraft_id
        out.append(Notice(notice_id, action, own.party, level, now_s, body))
    return out


def update_notices(
    open_notices: Mapping[PairKey, OpenNotice],
    predictions: Iterable[ConflictPrediction],
    now_s: float,
    policy: NoticePolicy | None = None,
) -> tuple[dict[PairKey, OpenNotice], list[Notice]]:
    """Advance the notice state by one tick; return the new state and the notices to send.

    Predictions between two aircraft of the same party are ignored (not a cross-party conflict).
    When one pair is predicted twice in a tick, the higher level counts. A notice keeps as
    ``last`` the prediction it last notified: a caller may predict a pair whose level has not
    risen with that one again (nothing is sent for it), sparing the aircraft's states.
    """
    policy = policy or NoticePolicy()
    current: dict[PairKey, ConflictPrediction] = {}
    for p in predictions:
        if p.a.party == p.b.party or p.level <= 0:
            continue
        key = p.pair
        if key not in current or p.level > current[key].level:
            current[key] = p
    state = dict(open_notices)
    acting: list[tuple[PairKey, NoticeAction, OpenNotice]] = []
    for pair, now in current.items():
        was = state.get(pair)
        action = decide(None if was is None else was.level, now.level, 0.0, policy)
        if was is None:
            nid = sha256_hex(canonical_json([list(map(list, pair)), now_s]))[:24]
            state[pair] = OpenNotice(nid, now.level, now_s, now_s, now)
        else:  # the prediction last notified stays the notice's ``last`` until another is
            last = now if action is not None else was.last
            state[pair] = OpenNotice(
                was.notice_id, max(was.level, now.level), was.opened_s, now_s, last
            )
        if action is not None:
            acting.append((pair, action, state[pair]))
    for pair, was in open_notices.items():
        if pair not in current:
            action = decide(was.level, None, now_s - was.last_seen_s, policy)
            if action is not None:  # CLOSE
                del state[pair]
                acting.append((pair, action, was))
    out: list[Notice] = []
    for _pair, action, notice in sorted(acting, key=lambda a: a[0]):  # in the pairs' order
        out += _notices(notice.notice_id, action, notice.last, notice.level, now_s)
    return state, out


def notice_message(notice: Notice, sender: str = "host") -> Message:
    """The hotline ``conflict_notice`` message carrying ``notice`` to its party."""
    return make_message(
        MessageKind.CONFLICT_NOTICE, sender, notice.party, notice.body, time_s=notice.time_s
    )
