"""Hotline messages between parties: send, read one's inbox in order, acknowledge, see delivery;
the host sets the escalation policy and sees what escalated (times Unix s UTC).

Every message, acknowledgement, delivery receipt and escalation is an entry of the signed log
(``deconflict.store.hotline``); new ones are pushed on the party's ``/v1/events/ws`` too. While
the app runs, a background task repeats unacknowledged safety messages as the policy says
(every ``app.state.hotline_check_every_s`` seconds, 5 by default) and re-evaluates the
deadlines of identification requests.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from deconflict.hotline.escalation import EscalationPolicy
from deconflict.hotline.messages import MessageKind, Priority
from deconflict.service import periodic
from deconflict.service.auth import AdminDep, PartyDep, StoreDep
from deconflict.service.routes.clock import service_now
from deconflict.service.schemas import SignedIn
from deconflict.store import Store
from deconflict.workflows import escalation, hotline, identification, views

log = logging.getLogger("deconflict.workflows.hotline")

MessageId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]+$")]
After = Annotated[int, Query(ge=-1, le=2**62, description="Seq of the last message held")]
Limit = Annotated[int, Query(ge=1, le=10_000)]
RecentLimit = Annotated[int, Query(ge=1, le=views.MAX_ITEMS)]
PartyName = Annotated[str, Field(min_length=1, max_length=200)]


class MessageIn(SignedIn):
    to: PartyName | list[PartyName] = Field(
        description="A party's name, a list of them, or '*' for every party"
    )
    kind: MessageKind = MessageKind.FREE_TEXT
    body: dict[str, Any] = Field(description="Free text: {'text': ...}; see hotline.messages")
    priority: Priority | None = Field(None, description="0 routine .. 3 flash; default by kind")


class AckIn(SignedIn):
    """An acknowledgement: the party signs acknowledgement_content(message_id, party, time_s)."""


class MessageOut(BaseModel):
    message: dict[str, Any]
    seq: int = Field(description="Seq of the message's entry in the log")
    created: bool = Field(description="False when the same message had been sent already")


class InboxItem(BaseModel):
    seq: int
    kind: Literal["message", "repeat"]
    step: int = Field(description="Escalation step of a repeat (0 for the message itself)")
    message: dict[str, Any]


class Inbox(BaseModel):
    messages: list[InboxItem]
    next: int = Field(description="Pass as `after` next time: confirms delivery and resumes")


class Delivery(BaseModel):
    party: str
    state: Literal["sent", "delivered", "acknowledged"]
    acknowledged_s: float | None


class MessageStatus(BaseModel):
    seq: int
    message: dict[str, Any]
    deliveries: list[Delivery]
    escalation_step: int


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ack_timeout_s: float = Field(gt=0, le=86_400)
    repeat_every_s: float = Field(gt=0, le=86_400)
    host_after_steps: int = Field(ge=1, le=100)
    max_priority: Priority = Priority.FLASH


def _check(store: Store, now: float) -> None:
    escalation.check_escalations(store, now)
    identification.check_identifications(store, now)


def _escalation_loop(app: FastAPI) -> contextlib.AbstractAsyncContextManager[None]:
    """Run the periodic hotline check while the app runs (the store is open by now)."""
    return periodic.every(
        lambda: float(getattr(app.state, "hotline_check_every_s", 5.0)),
        lambda: _check(app.state.store, service_now(app)),
        log,
        "hotline check",
        after=lambda: app.state.notifier.wake(),
    )


router = APIRouter(prefix="/v1", tags=["hotline"], lifespan=_escalation_loop)


@router.post("/messages", status_code=201)
def send_message(body: MessageIn, party: PartyDep, store: StoreDep, request: Request) -> MessageOut:
    """Send a message to one party, several, or all ('*'). It is entered in the signed log,
    sealed by the host's key and carrying your ``signature`` (required from a party)."""
    _message, entry, new = hotline.post_message(
        store,
        party,
        body.to,
        body.kind,
        body.body,
        now_s=service_now(request.app),
        priority=body.priority,
        time_s=body.time_s,
        signature=body.signature,
        signed_key_id=body.key_id,
        max_body_chars=request.app.state.settings.max_message_chars,
    )
    request.app.state.notifier.wake()
    return MessageOut(message=hotline.inbox_item(entry)["message"], seq=entry.seq, created=new)


@router.get("/messages")
def inbox(party: PartyDep, store: StoreDep, after: After = -1, limit: Limit = 500) -> Inbox:
    """Your messages after ``after`` (the seq of the last one your client holds), in order.
    Passing ``after`` confirms you hold everything up to it: those become delivered."""
    page = hotline.read_inbox(store, party, after, limit)
    return Inbox(messages=[InboxItem(**m) for m in page["messages"]], next=page["next"])


@router.get("/messages/recent")
def recent_messages(
    party: PartyDep, store: StoreDep, limit: RecentLimit = 100
) -> list[dict[str, Any]]:
    """Your newest messages, sent and received, oldest first, each with its delivery state
    (every recipient's for what you sent, yours for what you received): what a hotline panel
    shows. Reading it confirms no delivery (``GET /v1/messages?after=`` does)."""
    return views.recent_messages(store, party, limit)


@router.get("/messages/{message_id}")
def message_status(message_id: MessageId, party: PartyDep, store: StoreDep) -> MessageStatus:
    """A message you sent (with every recipient's delivery state) or received (with yours)."""
    return MessageStatus(**hotline.message_status(store, party, message_id))


@router.post("/messages/{message_id}/ack")
def acknowledge(
    message_id: MessageId,
    party: PartyDep,
    store: StoreDep,
    request: Request,
    body: AckIn | None = None,
) -> MessageOut:
    """Acknowledge a message addressed to you: an acknowledgement message to its sender, signed
    by your registered key (``signature`` over ``acknowledgement_content``)."""
    body = body or AckIn()
    entry = hotline.acknowledge(
        store,
        party,
        message_id,
        now_s=service_now(request.app),
        time_s=body.time_s,
        signature=body.signature,
        signed_key_id=body.key_id,
    )
    request.app.state.notifier.wake()
    return MessageOut(message=hotline.inbox_item(entry)["message"], seq=entry.seq, created=True)


@router.get("/admin/hotline/policy")
def get_policy(_admin: AdminDep, store: StoreDep) -> PolicyIn:
    """The escalation policy of unacknowledged safety messages."""
    p = escalation.current_policy(store)
    return PolicyIn(
        ack_timeout_s=p.ack_timeout_s,
        repeat_every_s=p.repeat_every_s,
        host_after_steps=p.host_after_steps,
        max_priority=p.max_priority,
    )


@router.put("/admin/hotline/policy")
def set_policy(body: PolicyIn, _admin: AdminDep, store: StoreDep) -> PolicyIn:
    """Set the escalation policy (logged as a ``hotline.policy`` entry)."""
    escalation.set_policy(
        store,
        EscalationPolicy(
            body.ack_timeout_s, body.repeat_every_s, body.host_after_steps, body.max_priority
        ),
    )
    return body


@router.get("/admin/escalations")
def escalations(_admin: AdminDep, store: StoreDep, after: After = -1) -> list[dict[str, Any]]:
    """Unacknowledged safety messages shown to the host, with the parties still silent."""
    return escalation.host_escalations(store, after)
