"""Delivery of hotline messages: sent → delivered → acknowledged, per recipient (time in s).

``Mailbox`` is the in-memory reference model the store and service reproduce. Every recipient
has its own queue numbered 1, 2, 3, ... in posting order. A client keeps the number of the last
message it holds (its cursor); on (re)connection it calls ``fetch(party, after_seq=cursor)`` and
receives every later message, in order, once. A message counts as *delivered* to a party when the
party's cursor has passed it (the client's fetch says so), and *acknowledged* when the party
acknowledges it explicitly. "All" is resolved to the parties registered when the message is
posted. Nothing here reads a clock: ``now_s`` (Unix seconds UTC) is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from deconflict.errors import InputError, NotFoundError, PermissionDeniedError
from deconflict.hotline.messages import Message, visible_to


class DeliveryState(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"


@dataclass(slots=True)
class Delivery:
    """One message on its way to one recipient."""

    message: Message
    recipient: str
    seq: int  # position in the recipient's queue, from 1
    sent_s: float
    delivered_s: float | None = None
    acknowledged_s: float | None = None

    @property
    def state(self) -> DeliveryState:
        if self.acknowledged_s is not None:
            return DeliveryState.ACKNOWLEDGED
        if self.delivered_s is not None:
            return DeliveryState.DELIVERED
        return DeliveryState.SENT


class Mailbox:
    """Per-recipient ordered queues with cursors, delivery and acknowledgement state."""

    def __init__(self, parties: Iterable[str] = ()) -> None:
        self._queues: dict[str, list[Delivery]] = {}
        self._by_message: dict[str, dict[str, Delivery]] = {}
        self._messages: dict[str, Message] = {}
        for party in parties:
            self.add_party(party)

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(sorted(self._queues))

    def add_party(self, party: str) -> None:
        if not party:
            raise InputError("party name is empty")
        self._queues.setdefault(party, [])

    def _queue(self, party: str) -> list[Delivery]:
        try:
            return self._queues[party]
        except KeyError:
            raise NotFoundError(f"party {party!r} is not registered: add it first") from None

    def post(self, message: Message, now_s: float) -> tuple[Delivery, ...]:
        """Queue ``message`` for each of its recipients; posting it again changes nothing."""
        if message.sender not in self._queues:
            raise PermissionDeniedError(f"sender {message.sender!r} is not a registered party")
        if message.message_id in self._by_message:
            return tuple(self._by_message[message.message_id].values())
        recipients = message.recipients(self._queues)
        if not recipients:
            raise InputError(
                f"message {message.message_id} reaches no registered party: check its addressing"
            )
        made: dict[str, Delivery] = {}
        for party in recipients:
            queue = self._queues[party]
            made[party] = Delivery(message, party, len(queue) + 1, now_s)
            queue.append(made[party])
        self._by_message[message.message_id] = made
        self._messages[message.message_id] = message
        return tuple(made.values())

    def last_seq(self, party: str) -> int:
        return len(self._queue(party))

    def pending(self, party: str, after_seq: int = 0) -> list[Delivery]:
        """Every delivery to ``party`` numbered above ``after_seq``, in order (changes nothing)."""
        queue = self._queue(party)
        if after_seq < 0 or after_seq > len(queue):
            raise InputError(
                f"cursor {after_seq} of {party!r} is outside 0..{len(queue)}: send the number of "
                "the last message the client holds"
            )
        return queue[after_seq:]

    def confirm(self, party: str, upto_seq: int, now_s: float) -> None:
        """The client of ``party`` holds everything up to ``upto_seq``: mark those delivered."""
        queue = self._queue(party)
        if upto_seq > len(queue):
            raise InputError(
                f"cursor {upto_seq} of {party!r} is beyond its last message ({len(queue)})"
            )
        for delivery in queue[: max(upto_seq, 0)]:
            if delivery.delivered_s is None:
                delivery.delivered_s = now_s

    def fetch(self, party: str, after_seq: int, now_s: float) -> list[Delivery]:
        """Reconnection: confirm what the client holds, hand it everything after, in order."""
        self.confirm(party, after_seq, now_s)
        return self.pending(party, after_seq)

    def acknowledge(self, party: str, message_id: str, now_s: float) -> Delivery:
        """``party`` acknowledges ``message_id`` (which implies it was delivered)."""
        delivery = self._by_message.get(message_id, {}).get(party)
        if delivery is None:
            raise NotFoundError(f"message {message_id} was not sent to {party!r}")
        if delivery.delivered_s is None:
            delivery.delivered_s = now_s
        if delivery.acknowledged_s is None:
            delivery.acknowledged_s = now_s
        return delivery

    def deliveries(self, message_id: str) -> tuple[Delivery, ...]:
        if message_id not in self._by_message:
            raise NotFoundError(f"no message {message_id}")
        return tuple(self._by_message[message_id].values())

    def unacknowledged(self, message_id: str) -> tuple[str, ...]:
        """Recipients of ``message_id`` that have not acknowledged it."""
        return tuple(d.recipient for d in self.deliveries(message_id) if d.acknowledged_s is None)

    def messages_seen_by(self, party: str) -> list[Message]:
        """Every message ``party`` may read (sent by it or addressed to it), in posting order."""
        self._queue(party)
        return [m for m in self._messages.values() if visible_to(m, party)]

    def messages(self) -> list[Message]:
        """Every posted message, in posting order (the host's view)."""
        return list(self._messages.values())
