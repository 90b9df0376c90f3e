"""Hotline messages between parties: kinds, addressing, priority and who may see them (time in s).

A message is addressed to one party, several, or all (``ALL``). ``time_s`` is Unix seconds UTC,
passed in. The message id is derived from the content (SHA-256 of its canonical JSON), so posting
the same message twice is idempotent. Disclosure rule: a party sees a message only if it sent it
or is among its recipients (``visible_to``); "all" means every registered party.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Final

from deconflict.errors import InputError
from deconflict.hotline.canonical import canonical_json, sha256_hex

ALL: Final = "*"


class MessageKind(StrEnum):
    FREE_TEXT = "free_text"
    IDENTIFICATION_REQUEST = "identification_request"
    IDENTIFICATION_ANSWER = "identification_answer"
    CONFLICT_NOTICE = "conflict_notice"
    OPERATION_CHANGE = "operation_change"
    INCIDENT_REPORT = "incident_report"
    ACKNOWLEDGEMENT = "acknowledgement"


class Priority(IntEnum):
    ROUTINE = 0
    PRIORITY = 1
    IMMEDIATE = 2
    FLASH = 3


#: Kinds that are safety messages: they must be acknowledged and escalate when they are not.
SAFETY_KINDS: Final = frozenset(
    {
        MessageKind.IDENTIFICATION_REQUEST,
        MessageKind.CONFLICT_NOTICE,
        MessageKind.OPERATION_CHANGE,
        MessageKind.INCIDENT_REPORT,
    }
)

#: Kinds only the host (and its engine) sends: a party's message of one of these kinds would
#: show on the others' pages as the service's own safety notice.
HOST_KINDS: Final = frozenset(
    {
        MessageKind.IDENTIFICATION_REQUEST,
        MessageKind.CONFLICT_NOTICE,
        MessageKind.OPERATION_CHANGE,
        MessageKind.INCIDENT_REPORT,
    }
)

#: Body fields each kind must carry (more are allowed).
REQUIRED_BODY: Final[Mapping[MessageKind, tuple[str, ...]]] = {
    MessageKind.FREE_TEXT: ("text",),
    MessageKind.IDENTIFICATION_REQUEST: ("request_id", "track_id", "position", "velocity"),
    MessageKind.IDENTIFICATION_ANSWER: ("request_id", "answer"),
    MessageKind.CONFLICT_NOTICE: ("notice_id", "action", "level"),
    MessageKind.OPERATION_CHANGE: ("operation_id", "change"),
    MessageKind.INCIDENT_REPORT: ("incident_id", "severity"),
    MessageKind.ACKNOWLEDGEMENT: ("ref",),
}

DEFAULT_PRIORITY: Final[Mapping[MessageKind, Priority]] = {
    MessageKind.FREE_TEXT: Priority.ROUTINE,
    MessageKind.IDENTIFICATION_REQUEST: Priority.IMMEDIATE,
    MessageKind.IDENTIFICATION_ANSWER: Priority.IMMEDIATE,
    MessageKind.CONFLICT_NOTICE: Priority.IMMEDIATE,
    MessageKind.OPERATION_CHANGE: Priority.PRIORITY,
    MessageKind.INCIDENT_REPORT: Priority.PRIORITY,
    MessageKind.ACKNOWLEDGEMENT: Priority.ROUTINE,
}


@dataclass(frozen=True, slots=True)
class Message:
    """One hotline message. Build it with ``make_message``, which checks and names it."""

    message_id: str
    sender: str
    to: tuple[str, ...]  # sorted party names, or (ALL,)
    kind: MessageKind
    body: Mapping[str, Any]
    time_s: float
    priority: Priority
    safety: bool = field(default=False)

    @property
    def to_all(self) -> bool:
        return self.to == (ALL,)

    def recipients(self, parties: Iterable[str]) -> tuple[str, ...]:
        """The parties this message is delivered to (never its sender), in sorted order."""
        registered = set(parties)
        wanted = registered if self.to_all else set(self.to) & registered
        return tuple(sorted(wanted - {self.sender}))

    def addressed_to(self, party: str) -> bool:
        return party != self.sender and (self.to_all or party in self.to)

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "sender": self.sender,
            "to": list(self.to),
            "kind": self.kind.value,
            "body": dict(self.body),
            "time_s": self.time_s,
            "priority": int(self.priority),
            "safety": self.safety,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        try:
            message = make_message(
                MessageKind(data["kind"]),
                data["sender"],
                data["to"],
                data["body"],
                time_s=data["time_s"],
                priority=Priority(data["priority"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"not a hotline message ({exc}): see Message.to_dict") from exc
        if "message_id" in data and data["message_id"] != message.message_id:
            raise InputError(
                f"message id {data['message_id']} does not match its content "
                f"({message.message_id}): the message was altered"
            )
        return message


def make_message(
    kind: MessageKind | str,
    sender: str,
    to: str | Iterable[str],
    body: Mapping[str, Any],
    *,
    time_s: float,
    priority: Priority | None = None,
) -> Message:
    """A checked message: known kind, non-empty addressing, required body fields present.

    ``to`` is a party, a list of parties, or ``ALL`` ("*").
    """
    try:
        kind = MessageKind(kind)
    except ValueError as exc:
        known = ", ".join(k.value for k in MessageKind)
        raise InputError(f"unknown message kind {kind!r}: use one of {known}") from exc
    if not sender:
        raise InputError("message has no sender: name the sending party")
    parties = (to,) if isinstance(to, str) else tuple(to)
    if not parties or any(not p for p in parties):
        raise InputError("message has no recipient: address one party, several, or '*' for all")
    addressed = (ALL,) if ALL in parties else tuple(sorted(set(parties)))
    if addressed == (sender,):
        raise InputError(f"message from {sender!r} is addressed only to itself")
    missing = [f for f in REQUIRED_BODY[kind] if f not in body]
    if missing:
        raise InputError(f"{kind.value} message lacks body field(s) {', '.join(missing)}")
    prio = DEFAULT_PRIORITY[kind] if priority is None else Priority(priority)
    content = {
        "sender": sender,
        "to": list(addressed),
        "kind": kind.value,
        "body": dict(body),
        "time_s": float(time_s),
        "priority": int(prio),
    }
    return Message(
        message_id=sha256_hex(canonical_json(content))[:32],
        sender=sender,
        to=addressed,
        kind=kind,
        body=dict(body),
        time_s=float(time_s),
        priority=prio,
        safety=kind in SAFETY_KINDS,
    )


def acknowledgement(message: Message, by: str, *, time_s: float) -> Message:
    """The acknowledgement ``by`` sends back to the sender of ``message``."""
    if not message.addressed_to(by):
        raise InputError(f"{by!r} cannot acknowledge message {message.message_id}: not addressed")
    return make_message(
        MessageKind.ACKNOWLEDGEMENT, by, message.sender, {"ref": message.message_id}, time_s=time_s
    )


def visible_to(message: Message, party: str) -> bool:
    """Disclosure rule: only the sender and the addressees (or everyone, for ALL) see it."""
    return party == message.sender or message.addressed_to(party)
