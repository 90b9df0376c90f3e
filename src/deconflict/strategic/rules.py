"""What happens to a conflicting operation, and proof of awareness (no units: ids and tokens).

The procedures choose the rule (``ConflictRule``): ``reject`` refuses any operation in conflict;
``accept-by-priority`` accepts it as conflicting where its priority is higher than that of every
operation it conflicts with (or equal, if the procedures allow equal priority), as ASTM F3548
lets a higher-priority operation be planned over lower ones. Either way the owners of both sides
are to be notified (``Decision.notify``).

Proof of awareness (F3548, InterUSS's "key"): writing an operation in a state that requires it
(``Accepted``, ``Activated``) needs the current version token of every live operation it
conflicts with. ``check_awareness`` lists what is missing or stale; the store runs it in the same
transaction as the write, against the tokens it holds then. Operations going ``Nonconforming`` or
``Contingent`` need no proof and are never refused for conflicts: their aircraft are already off
plan, and saying so must not wait.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from deconflict.errors import ConflictError
from deconflict.strategic.index import OperationIndex, VolumeConflict
from deconflict.strategic.model import Buffers, Operation
from deconflict.strategic.states import OperationState, requires_awareness


class Ranked(Protocol):
    """What the rules read of an operation (an ``Operation``, or a blind one: no geometry)."""

    @property
    def id(self) -> str: ...
    @property
    def owner(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def state(self) -> OperationState: ...
    @property
    def token(self) -> str: ...


class ConflictPolicy(StrEnum):
    REJECT = "reject"
    ACCEPT_BY_PRIORITY = "accept-by-priority"


@dataclass(frozen=True, slots=True)
class ConflictRule:
    """The procedures' rule for operations in conflict."""

    policy: ConflictPolicy = ConflictPolicy.REJECT
    allow_equal_priority: bool = False


@dataclass(frozen=True, slots=True)
class AwarenessGap:
    """An operation whose current token was not presented: ``missing`` (nothing presented for
    it) or ``stale`` (an older token was presented)."""

    operation_id: str
    owner: str
    reason: Literal["missing", "stale"]


class MissingAwarenessError(ConflictError):
    """A write without the current token of every operation it conflicts with (HTTP 409)."""

    def __init__(self, gaps: Collection[AwarenessGap]) -> None:
        self.gaps = tuple(gaps)
        listed = ", ".join(f"{g.operation_id} ({g.reason})" for g in self.gaps)
        super().__init__(
            f"proof of awareness failed: present the current version token of {listed}; "
            "read them from the intersecting operations and retry"
        )


class ConflictRejectedError(ConflictError):
    """A write refused by the conflict rule (HTTP 409)."""

    def __init__(self, operation_ids: Collection[str], reason: str) -> None:
        self.operation_ids = tuple(operation_ids)
        super().__init__(reason)


def check_awareness(
    conflicting: Iterable[Ranked], presented: Mapping[str, str] | Collection[str]
) -> list[AwarenessGap]:
    """Operations among ``conflicting`` whose current token is not among those presented.

    ``presented`` is either a mapping operation id → token (so a stale token can be told from a
    missing one) or a plain collection of tokens, as InterUSS's ``key`` is. Sorted by id.
    """
    gaps = []
    if isinstance(presented, Mapping):
        for op in conflicting:
            got = presented.get(op.id)
            if got != op.token:
                gaps.append(AwarenessGap(op.id, op.owner, "missing" if got is None else "stale"))
    else:
        tokens = set(presented)
        gaps = [
            AwarenessGap(op.id, op.owner, "missing") for op in conflicting if op.token not in tokens
        ]
    return sorted(gaps, key=lambda g: g.operation_id)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of checking one operation write.

    ``accepted``: the write may be committed. ``conflicts``: the volume pairs in conflict;
    ``gaps``: missing proof of awareness; ``notify``: the parties to tell (the candidate's owner
    and the owners of the operations in conflict), whatever the outcome.
    """

    accepted: bool
    reason: str
    conflicts: tuple[VolumeConflict, ...] = ()
    conflicting_ids: tuple[str, ...] = ()
    gaps: tuple[AwarenessGap, ...] = ()
    notify: tuple[str, ...] = field(default=())

    def raise_if_refused(self) -> None:
        """``MissingAwarenessError`` or ``ConflictRejectedError`` unless accepted."""
        if self.accepted:
            return
        if self.gaps:
            raise MissingAwarenessError(self.gaps)
        raise ConflictRejectedError(self.conflicting_ids, self.reason)


def decide(
    candidate: Ranked,
    conflicting: Collection[Ranked],
    rule: ConflictRule,
    presented: Mapping[str, str] | Collection[str] = (),
    conflicts: Iterable[VolumeConflict] = (),
) -> Decision:
    """Apply proof of awareness, then the conflict rule, to a candidate and its conflicts."""
    ids = tuple(sorted(op.id for op in conflicting))
    notify = tuple(sorted({candidate.owner} | {op.owner for op in conflicting})) if ids else ()
    pairs = tuple(conflicts)

    def done(accepted: bool, reason: str, gaps: tuple[AwarenessGap, ...] = ()) -> Decision:
        return Decision(accepted, reason, pairs, ids, gaps, notify)

    if not requires_awareness(candidate.state):
        return done(True, f"{candidate.state.value}: no proof of awareness needed")
    gaps = tuple(check_awareness(conflicting, presented))
    if gaps:
        return done(False, "proof of awareness missing", gaps)
    if not ids:
        return done(True, "no conflict")
    if rule.policy is ConflictPolicy.REJECT:
        return done(False, f"in conflict with {', '.join(ids)} (rule: reject)")
    blocking = sorted(
        op.id
        for op in conflicting
        if op.priority > candidate.priority
        or (op.priority == candidate.priority and not rule.allow_equal_priority)
    )
    if blocking:
        return done(
            False,
            f"priority {candidate.priority} does not allow a conflict with "
            f"{', '.join(blocking)} (rule: accept-by-priority)",
        )
    return done(True, f"accepted in conflict with {', '.join(ids)} by priority")


def evaluate(
    candidate: Operation,
    index: OperationIndex,
    rule: ConflictRule,
    presented: Mapping[str, str] | Collection[str] = (),
    buffers: Buffers | None = None,
) -> Decision:
    """Query the index for the candidate's conflicts and ``decide``."""
    conflicts = index.query(candidate, buffers)
    ops = [index.get(i) for i in sorted({c.operation_id for c in conflicts})]
    return decide(candidate, ops, rule, presented, conflicts)
