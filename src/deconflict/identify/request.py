"""The identification-request workflow: "whose is that track?" (SI: m, m/s, s).

When a track becomes unknown, every party gets a request carrying the track's position
(latitude, longitude in degrees, altitude in ft), velocity (groundspeed kt, track deg, vertical
rate ft/min: the edge units; SI inside) and recent history. Each party answers ``ours``
(naming the aircraft and operation) or ``not_ours``.
Outcome, re-evaluated after every answer and at every tick:

* one claim → ``declared`` (the claiming party owns the track);
* two or more claims → ``disputed`` (escalated: at most one claim can be true);
* every party denied → ``unknown``, escalated at once;
* the deadline passed with no claim → ``unknown``, escalated;
* otherwise ``pending``.

Answers are accepted after the deadline too (a late claim still declares the track). A party
answers once. Nothing here reads a clock: times are Unix seconds UTC, passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from deconflict.errors import ConflictError, InputError, PermissionDeniedError
from deconflict.kinematics import Kinematics
from deconflict.units import FT, si_kinematics


class Answer(StrEnum):
    OURS = "ours"
    NOT_OURS = "not_ours"


class Outcome(StrEnum):
    PENDING = "pending"
    DECLARED = "declared"
    DISPUTED = "disputed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TrackSnapshot(Kinematics):
    """Where the unknown track is and where it has been (SI, degrees for latitude/longitude)."""

    history: tuple[tuple[float, float, float, float], ...] = ()  # (time_s, lat, lon, alt_m)

    def __post_init__(self) -> None:
        object.__setattr__(self, "history", tuple(self.history))

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as parties receive it, in the edge units (``Kinematics.payload``:
        altitude ft, groundspeed kt, track deg, vertical rate ft/min); ``history`` rows are
        ``[time_s, latitude, longitude, altitude_ft]``."""
        return {
            **self.payload(),
            "history": [[t, lat, lon, alt_m / FT] for t, lat, lon, alt_m in self.history],
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> TrackSnapshot:
        """A snapshot from ``to_dict``'s payload (or one written in SI before)."""
        old = "altitude_m" in body["position"]
        scale = 1.0 if old else FT
        return cls(
            *si_kinematics(body["position"], body["velocity"]),
            tuple(
                (float(h[0]), float(h[1]), float(h[2]), float(h[3]) * scale)
                for h in body.get("history", [])
            ),
        )


@dataclass(frozen=True, slots=True)
class PartyAnswer:
    party: str
    answer: Answer
    time_s: float
    aircraft: str = ""  # callsign / tail / mission id, for a claim
    operation: str = ""  # operation id, for a claim


@dataclass(frozen=True, slots=True)
class IdentificationRequest:
    """One request about one track, with the answers received so far (immutable)."""

    request_id: str
    track_id: str
    created_s: float  # when the track became unknown and the request was made
    deadline_s: float
    parties: tuple[str, ...]  # who is asked (sorted)
    track: TrackSnapshot
    answers: Mapping[str, PartyAnswer] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        """The body of the hotline ``identification_request`` message."""
        return {
            "request_id": self.request_id,
            "track_id": self.track_id,
            "created_s": self.created_s,
            "deadline_s": self.deadline_s,
            **self.track.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    escalate: bool
    claimants: tuple[PartyAnswer, ...]
    waiting_for: tuple[str, ...]  # parties that have not answered
    reason: str


def open_request(
    request_id: str,
    track_id: str,
    track: TrackSnapshot,
    parties: Iterable[str],
    *,
    now_s: float,
    timeout_s: float = 120.0,
) -> IdentificationRequest:
    """A new request to every party in ``parties``, due ``timeout_s`` after ``now_s``."""
    asked = tuple(sorted(set(parties)))
    if not asked:
        raise InputError("identification request needs at least one party to ask")
    if timeout_s <= 0:
        raise InputError(f"timeout_s must be positive, got {timeout_s}")
    return IdentificationRequest(request_id, track_id, now_s, now_s + timeout_s, asked, track)


def record_answer(
    request: IdentificationRequest,
    party: str,
    answer: Answer | str,
    *,
    now_s: float,
    aircraft: str = "",
    operation: str = "",
) -> IdentificationRequest:
    """The request with ``party``'s answer added. A claim must name the aircraft."""
    if party not in request.parties:
        raise PermissionDeniedError(
            f"{party!r} was not asked about track {request.track_id} (request {request.request_id})"
        )
    if party in request.answers:
        raise ConflictError(
            f"{party!r} already answered request {request.request_id}: answers are final"
        )
    try:
        value = Answer(answer)
    except ValueError as exc:
        raise InputError(f"answer {answer!r} is not 'ours' or 'not_ours'") from exc
    if value is Answer.OURS and not aircraft:
        raise InputError("an 'ours' answer must name the aircraft (and its operation if any)")
    entry = PartyAnswer(party, value, now_s, aircraft, operation)
    return replace(request, answers={**request.answers, party: entry})


def evaluate(request: IdentificationRequest, now_s: float) -> Resolution:
    """The outcome of ``request`` at ``now_s`` (see the module docstring for the rules)."""
    claims = tuple(a for _, a in sorted(request.answers.items()) if a.answer is Answer.OURS)
    waiting = tuple(p for p in request.parties if p not in request.answers)
    if len(claims) >= 2:
        names = ", ".join(c.party for c in claims)
        return Resolution(
            Outcome.DISPUTED, True, claims, waiting, f"claimed by {len(claims)} parties: {names}"
        )
    if len(claims) == 1:
        c = claims[0]
        return Resolution(
            Outcome.DECLARED, False, claims, waiting, f"claimed by {c.party} as {c.aircraft}"
        )
    if not waiting:
        return Resolution(Outcome.UNKNOWN, True, (), (), "every party answered 'not ours'")
    if now_s >= request.deadline_s:
        return Resolution(
            Outcome.UNKNOWN,
            True,
            (),
            waiting,
            f"deadline passed without a claim; no answer from {', '.join(waiting)}",
        )
    return Resolution(Outcome.PENDING, False, (), waiting, f"waiting for {', '.join(waiting)}")


def answers_from_messages(
    request: IdentificationRequest, answers: Sequence[Mapping[str, Any]]
) -> IdentificationRequest:
    """Apply identification-answer message bodies (``request_id``, ``answer``, ``aircraft``,
    ``operation``, plus ``party`` and ``time_s`` of the message) in order; others are skipped."""
    for body in answers:
        if body.get("request_id") != request.request_id:
            continue
        request = record_answer(
            request,
            str(body["party"]),
            str(body["answer"]),
            now_s=float(body["time_s"]),
            aircraft=str(body.get("aircraft", "")),
            operation=str(body.get("operation", "")),
        )
    return request
