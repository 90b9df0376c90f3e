"""Operation states and the allowed transitions, as ASTM F3548-21 has them (no units here).

States: ``Accepted`` (planned, conflict-free as far as its owner was aware), ``Activated``
(flying), ``Nonconforming`` (flying outside its volumes, but expected to come back),
``Contingent`` (flying outside, not expected to come back), and ``Ended``, which F3548 expresses
by deleting the operational intent; we keep it as a record instead, and nothing leaves it.

Transitions follow the F3548-21 state diagram as the InterUSS DSS and its test suite exercise it:
an operation is created ``Accepted`` or ``Activated``; a state may always be kept (a modification
of the volumes); ``Contingent`` can only end. Proof of awareness (version tokens of every
conflicting operation) is required to enter ``Accepted`` or ``Activated`` only, as in the DSS
(``RequiresKey``): an aircraft already off its plan must be able to say so without negotiating.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from deconflict.errors import ConflictError


class OperationState(StrEnum):
    """State of an operation (ASTM F3548 spelling)."""

    ACCEPTED = "Accepted"
    ACTIVATED = "Activated"
    NONCONFORMING = "Nonconforming"
    CONTINGENT = "Contingent"
    ENDED = "Ended"


class IllegalTransitionError(ConflictError):
    """A state change that ASTM F3548 does not allow (HTTP 409: the current state forbids it)."""


_S = OperationState

#: Allowed next states; the key ``None`` is the creation of a new operation.
TRANSITIONS: Final[dict[OperationState | None, frozenset[OperationState]]] = {
    None: frozenset({_S.ACCEPTED, _S.ACTIVATED}),
    _S.ACCEPTED: frozenset({_S.ACCEPTED, _S.ACTIVATED, _S.ENDED}),
    _S.ACTIVATED: frozenset({_S.ACTIVATED, _S.NONCONFORMING, _S.CONTINGENT, _S.ENDED}),
    _S.NONCONFORMING: frozenset({_S.NONCONFORMING, _S.ACTIVATED, _S.CONTINGENT, _S.ENDED}),
    _S.CONTINGENT: frozenset({_S.CONTINGENT, _S.ENDED}),
    _S.ENDED: frozenset(),
}

#: States whose operations take part in conflict checks (an ended one is only a record).
LIVE_STATES: Final = frozenset({_S.ACCEPTED, _S.ACTIVATED, _S.NONCONFORMING, _S.CONTINGENT})


def _names(states: frozenset[OperationState]) -> str:
    order = list(OperationState)
    return ", ".join(s.value for s in sorted(states, key=order.index)) or "nothing (terminal)"


def check_transition(current: OperationState | None, new: OperationState) -> None:
    """Raise ``IllegalTransitionError`` unless ``current`` → ``new`` is allowed.

    ``current`` is ``None`` for the creation of a new operation.
    """
    allowed = TRANSITIONS[current]
    if new not in allowed:
        where = "a new operation" if current is None else f"an operation in state {current.value}"
        raise IllegalTransitionError(
            f"{where} cannot go to {new.value}; allowed: {_names(allowed)} (ASTM F3548 states)"
        )


def requires_awareness(state: OperationState) -> bool:
    """Whether writing an operation in this state needs proof of awareness of its conflicts."""
    return state in (_S.ACCEPTED, _S.ACTIVATED)
