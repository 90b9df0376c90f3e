"""Escalation of unacknowledged safety messages, a pure function of time (time in s).

Policy: a safety message not acknowledged by every recipient ``ack_timeout_s`` after it was sent
reaches escalation step 1; every ``repeat_every_s`` after that is one more step. At each step it
is repeated to the recipients that have not acknowledged, one priority higher (capped at
``max_priority``); from step ``host_after_steps`` on, the host is notified (once). The caller
keeps how many steps it has carried out (``steps_done``) so nothing is repeated twice.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from deconflict.errors import InputError
from deconflict.hotline.messages import Message, Priority


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    ack_timeout_s: float = 120.0
    repeat_every_s: float = 60.0
    host_after_steps: int = 2
    max_priority: Priority = Priority.FLASH

    def __post_init__(self) -> None:
        if self.ack_timeout_s <= 0 or self.repeat_every_s <= 0 or self.host_after_steps < 1:
            raise InputError(
                "escalation policy needs ack_timeout_s > 0, repeat_every_s > 0, "
                "host_after_steps >= 1"
            )


class ActionKind(StrEnum):
    REPEAT = "repeat"
    RAISE_PRIORITY = "raise_priority"
    NOTIFY_HOST = "notify_host"


@dataclass(frozen=True, slots=True)
class EscalationAction:
    kind: ActionKind
    message_id: str
    step: int
    priority: Priority
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Escalation:
    step: int  # the step the message has reached at ``now_s``
    actions: tuple[EscalationAction, ...]


def escalation_step(sent_s: float, now_s: float, policy: EscalationPolicy) -> int:
    """How many escalation steps a message sent at ``sent_s`` has reached at ``now_s``."""
    late = now_s - sent_s - policy.ack_timeout_s
    if late < 0:
        return 0
    return 1 + math.floor(late / policy.repeat_every_s)


def escalate(
    message: Message,
    unacknowledged: Collection[str],
    now_s: float,
    policy: EscalationPolicy,
    steps_done: int = 0,
) -> Escalation:
    """What to do now about ``message``; empty when acknowledged, not safety, or nothing new."""
    if not message.safety or not unacknowledged:
        return Escalation(0, ())
    step = escalation_step(message.time_s, now_s, policy)
    if step <= steps_done:
        return Escalation(step, ())
    old = Priority(min(message.priority + steps_done, policy.max_priority))
    new = Priority(min(message.priority + step, policy.max_priority))
    who = tuple(sorted(unacknowledged))
    mid = message.message_id
    actions = [EscalationAction(ActionKind.REPEAT, mid, step, new, who)]
    if new > old:
        actions.append(EscalationAction(ActionKind.RAISE_PRIORITY, mid, step, new, who))
    if steps_done < policy.host_after_steps <= step:
        actions.append(EscalationAction(ActionKind.NOTIFY_HOST, mid, step, new, who))
    return Escalation(step, tuple(actions))
