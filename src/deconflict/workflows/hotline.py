"""The hotline in the shared service: messages, acknowledgements and delivery, kept as entries of
the signed log (times Unix s UTC, passed in); escalation, identification requests and the audit
export are ``workflows.escalation``, ``workflows.identification`` and ``workflows.audit``.

The rules are the hotline and identify rooms' (``hotline.messages``, ``hotline.escalation``,
``identify.request``); this module only reads and writes their records through
``deconflict.store.hotline``. Parties are named by their registered names in messages
(``"host"`` for the host); the log addresses entries to party ids. Every entry is signed by the
host's key (the store's sealer); what a party authors — its messages, acknowledgements and
identification answers — it must also sign with its registered Ed25519 key, over the canonical
JSON of the content ``hotline.authorship`` names, and the signature is kept in the entry, so the
exported log proves it offline (``hotline.log.verify_log``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from deconflict.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from deconflict.hotline.authorship import (
    KEY_ID_FIELD,
    SIGNATURE_FIELD,
    acknowledgement_content,
    signature_verifies,
    signed_content,
)
from deconflict.hotline.canonical import canonical_json
from deconflict.hotline.keys import key_id, public_key_from_b64
from deconflict.hotline.messages import (
    ALL,
    HOST_KINDS,
    Message,
    MessageKind,
    Priority,
    acknowledgement,
    make_message,
)
from deconflict.settings import Settings
from deconflict.store import Event, Party, Store
from deconflict.store import hotline as log

#: Largest difference (s) between a client-signed message's time and the service clock.
MAX_CLOCK_SKEW_S = 300.0
#: Default of the largest message body (``Settings.max_message_chars``, declared there).
MAX_MESSAGE_CHARS: int = Settings().max_message_chars
#: Kinds a party may not post directly: they have their own endpoints.
_OWN_ENDPOINT = {
    MessageKind.ACKNOWLEDGEMENT: "POST /v1/messages/{id}/ack",
    MessageKind.IDENTIFICATION_REQUEST: "POST /v1/identification-requests",
    MessageKind.IDENTIFICATION_ANSWER: "POST /v1/identification-requests/{id}/answer",
}


def party_name(party: Party) -> str:
    return "host" if party.role == "admin" else party.name


def require_party_signature(
    name: str,
    public_key: str,
    content: Mapping[str, Any],
    signature: str | None,
    kid: str | None,
    *,
    what: str,
) -> str:
    """Check that ``signature`` is party ``name``'s registered key's (``public_key``, base64)
    over ``canonical_json(content)``; return that key's id. ``what`` names the signed content
    in the error (e.g. "acknowledgement_content(message_id, party, time_s)")."""
    if not public_key:
        raise PermissionDeniedError(
            f"party {name!r} has no registered Ed25519 key, and what a party writes to the "
            "hotline must be signed by it: ask the host to register your public key"
        )
    key = public_key_from_b64(public_key)
    mine = key_id(key)
    if not signature:
        raise InputError(
            f"unsigned: sign canonical_json({what}) = {canonical_json(dict(content)).decode()} "
            f"with {name!r}'s registered Ed25519 key ({mine}) and send it as 'signature' "
            "(base64), with the 'time_s' you signed (see deconflict.hotline.authorship)"
        )
    if kid and kid != mine:
        raise PermissionDeniedError(
            f"signed by key {kid}, which is not {name!r}'s registered key ({mine}): sign with "
            "the key registered for your party, or ask the host to register the new one"
        )
    if not signature_verifies(key, signature, content):
        raise AuthenticationError(
            f"the signature does not verify with {name!r}'s registered key ({mine}): sign "
            f"canonical_json({what}) with that key"
        )
    return mine


def signed_time(
    now_s: float,
    time_s: float | None,
    signature: str | None,
    *,
    clock: str = "the service clock",
) -> float:
    """The time a party signed with (kept within ``MAX_CLOCK_SKEW_S`` of ``clock``, whose time
    now is ``now_s``; the clock's name goes into the errors)."""
    if signature and time_s is None:
        raise InputError(f"a signed write must carry the time_s it was signed with ({clock})")
    when = now_s if time_s is None else float(time_s)
    if abs(when - now_s) > MAX_CLOCK_SKEW_S:
        raise InputError(
            f"time {when} is {when - now_s:+.0f} s from {clock} (now {now_s}): keep within "
            f"{MAX_CLOCK_SKEW_S:.0f} s (check the sender's clock)"
        )
    return when


def post_message(
    store: Store,
    sender: Party,
    to: str | Iterable[str],
    kind: MessageKind | str,
    body: Mapping[str, Any],
    *,
    now_s: float,
    priority: int | None = None,
    time_s: float | None = None,
    signature: str | None = None,
    signed_key_id: str | None = None,
    allow_own_endpoint_kinds: bool = False,
    max_body_chars: int = MAX_MESSAGE_CHARS,
    copy_to: Iterable[str] = (),
) -> tuple[Message, Event, bool]:
    """Send a message from ``sender``; returns it, its log entry, and whether it is new
    (posting the same message again changes nothing). A party may not send the host's kinds
    (``HOST_KINDS``); a body over ``max_body_chars`` (its canonical JSON) is refused.
    ``copy_to``: parties the entry is also addressed to in the log without being recipients of
    the message (the observer of an identification request the engine opens)."""
    names = log.party_ids(store)
    me = party_name(sender)
    wanted = [to] if isinstance(to, str) else list(to)
    unknown = sorted(p for p in wanted if p != ALL and p not in names)
    if unknown:
        raise NotFoundError(
            f"no party named {', '.join(map(repr, unknown))}: address registered party names "
            f"or '{ALL}' for all"
        )
    if sender.role != "admin" and kind in HOST_KINDS:
        raise PermissionDeniedError(
            f"{kind} messages are the host's own (its engine sends them): a party sends "
            "free_text, acknowledgements and identification answers"
        )
    if not allow_own_endpoint_kinds and kind in _OWN_ENDPOINT:
        raise InputError(f"send {kind} messages with {_OWN_ENDPOINT[MessageKind(kind)]}")
    size = len(canonical_json(dict(body)))
    if size > max_body_chars:
        raise InputError(
            f"the message body is {size} characters (as canonical JSON), over this service's "
            f"limit of {max_body_chars} (setting max_message_chars): shorten it or split it"
        )
    if sender.role == "admin" and signature is not None:
        raise PermissionDeniedError(
            "the host's messages are signed with the service's key: send no signature"
        )
    when = signed_time(now_s, time_s, signature)
    prio = None if priority is None else Priority(priority)
    message = make_message(kind, me, wanted, body, time_s=when, priority=prio)
    everyone = [n for n in names if n != "host"] if message.to_all else list(names)
    recipients = message.recipients(everyone)
    if not recipients:
        raise InputError(f"message {message.message_id} reaches no party other than its sender")
    payload = {**message.to_dict(), "recipients": list(recipients)}
    if sender.role != "admin":
        content = signed_content(message.to_dict())
        what = "message_content(message)"
        if message.kind is MessageKind.IDENTIFICATION_ANSWER:
            what = "answer_content(request_id, party, answer, aircraft, operation, time_s)"
        kid = require_party_signature(
            me, sender.public_key, content, signature, signed_key_id, what=what
        )
        payload |= {SIGNATURE_FIELD: signature, KEY_ID_FIELD: kid}
    ids = [names[r] for r in recipients] + [names[c] for c in copy_to if c in names]
    entry, new = log.append_message(store, sender.id, payload, ids)
    return message, entry, new


def post_host_messages(store: Store, messages: Sequence[Message]) -> list[tuple[Event, bool]]:
    """The host's messages (the engine's conflict notices of one tick) in one write, each as
    ``post_message`` would enter it; returns each entry and whether it is new."""
    names = log.party_ids(store)
    everyone = [n for n in names if n != "host"]
    items = []
    for message in messages:
        if message.sender != "host":
            raise InputError(
                f"post_host_messages posts the host's messages, not {message.sender}'s"
            )
        unknown = sorted(p for p in message.to if p != ALL and p not in names)
        if unknown:
            raise NotFoundError(f"no party named {', '.join(map(repr, unknown))}")
        recipients = message.recipients(everyone if message.to_all else list(names))
        payload = {**message.to_dict(), "recipients": list(recipients)}
        items.append((log.HOST_ID, payload, [names[r] for r in recipients]))
    return log.append_messages(store, items)


def visible_to(entry: Event, party: Party) -> bool:
    """Whether ``party`` may see a hotline entry: the admin every one, a party those it sent, was
    sent, or (an identification request) was the observer of."""
    p = entry.payload
    name = party_name(party)
    return (
        party.role == "admin"
        or p["sender"] == name
        or name in p["recipients"]
        or observer_of(entry) == name
    )


def observer_of(entry: Event) -> str | None:
    """The party an identification request was opened for (the engine's, for the party whose
    picture holds the unknown track), or None."""
    p = entry.payload
    if p.get("kind") != MessageKind.IDENTIFICATION_REQUEST.value or p.get("sender") != "host":
        return None
    observer = p["body"].get("observer")
    return str(observer) if observer else None


def inbox_item(entry: Event) -> dict[str, Any]:
    """One inbox item: a message, or an escalation step repeating one at a raised priority."""
    if entry.kind == log.REPEAT:
        message = dict(entry.payload["message"])
        message["priority"] = entry.payload["priority"]
        return {
            "seq": entry.seq,
            "kind": "repeat",
            "step": entry.payload["step"],
            "message": message,
        }
    message = {k: v for k, v in entry.payload.items() if k not in ("recipients", "by")}
    return {"seq": entry.seq, "kind": "message", "step": 0, "message": message}


def read_inbox(store: Store, party: Party, after: int, limit: int) -> dict[str, Any]:
    """The party's messages after ``after`` in order; the messages up to ``after`` are now
    delivered (the client holds them)."""
    if after >= 0:
        log.confirm_delivery(store, party_name(party), party.id, after)
    items = [inbox_item(e) for e in log.inbox(store, party.id, after, limit)]
    return {"messages": items, "next": items[-1]["seq"] if items else after}


def _message_entry(store: Store, party: Party, message_id: str) -> Event:
    entry = log.find_message(store, message_id)
    if entry is None or not visible_to(entry, party):
        raise NotFoundError(f"no message {message_id} sent by or to you")
    return entry


def acknowledge(
    store: Store,
    party: Party,
    message_id: str,
    *,
    now_s: float,
    time_s: float | None = None,
    signature: str | None = None,
    signed_key_id: str | None = None,
) -> Event:
    """``party`` acknowledges a message addressed to it (once; again returns the first),
    signing ``acknowledgement_content(message_id, party, time_s)`` with its registered key."""
    entry = _message_entry(store, party, message_id)
    name = party_name(party)
    if name not in entry.payload["recipients"]:
        raise PermissionDeniedError(f"message {message_id} is not addressed to {name!r}")
    done = log.acknowledgements(store, [message_id]).get(message_id, {})
    if name in done:
        return done[name]
    message = Message.from_dict(entry.payload)
    if message.kind is MessageKind.ACKNOWLEDGEMENT:
        raise InputError("an acknowledgement is not itself acknowledged")
    when = signed_time(now_s, time_s, signature)
    if time_s is None:
        when = max(when, message.time_s)
    ack = acknowledgement(message, name, time_s=when)
    payload = {**ack.to_dict(), "recipients": [message.sender]}
    if party.role != "admin":
        kid = require_party_signature(
            name,
            party.public_key,
            acknowledgement_content(message_id, name, when),
            signature,
            signed_key_id,
            what="acknowledgement_content(message_id, party, time_s)",
        )
        payload |= {SIGNATURE_FIELD: signature, KEY_ID_FIELD: kid}
    sender_id = log.party_ids(store).get(message.sender, message.sender)
    return log.append_message(store, party.id, payload, [sender_id])[0]


def message_status(store: Store, party: Party, message_id: str) -> dict[str, Any]:
    """The message and its delivery state per recipient: all of them for the sender and the
    host, only its own for an addressee."""
    entry = _message_entry(store, party, message_id)
    p = entry.payload
    name = party_name(party)
    acks = log.acknowledgements(store, [message_id]).get(message_id, {})
    whom = p["recipients"] if party.role == "admin" or p["sender"] == name else [name]
    rows = []
    for r in whom:
        ack = acks.get(r)
        delivered = ack is not None or log.delivered_upto(store, r) >= entry.seq
        state = "acknowledged" if ack else "delivered" if delivered else "sent"
        rows.append(
            {
                "party": r,
                "state": state,
                "acknowledged_s": None if ack is None else ack.payload["time_s"],
            }
        )
    steps = log.entries(store, log.REPEAT, match={"message_id": message_id})
    return {
        "seq": entry.seq,
        "message": inbox_item(entry)["message"],
        "deliveries": rows,
        "escalation_step": max((int(s.payload["step"]) for s in steps), default=0),
    }
