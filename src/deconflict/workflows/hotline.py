"""The hotline in the shared service: messages, acknowledgements, delivery, escalation and
identification requests, kept as entries of the signed log (times Unix s UTC, passed in).

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

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from deconflict.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from deconflict.hotline import identity
from deconflict.hotline.authorship import (
    KEY_ID_FIELD,
    SIGNATURE_FIELD,
    acknowledgement_content,
    signature_verifies,
    signed_content,
)
from deconflict.hotline.canonical import canonical_json, sha256_hex
from deconflict.hotline.escalation import ActionKind, EscalationPolicy, escalate
from deconflict.hotline.hostkey import HOST_KEY_ROTATED, rotation_verifies
from deconflict.hotline.jsonl import write_log_jsonl
from deconflict.hotline.keys import KeyRing, key_id, public_key_from_b64, public_key_to_b64
from deconflict.hotline.log import GENESIS_HASH
from deconflict.hotline.messages import (
    ALL,
    HOST_KINDS,
    SAFETY_KINDS,
    Message,
    MessageKind,
    Priority,
    acknowledgement,
    make_message,
)
from deconflict.identify.request import (
    IdentificationRequest,
    Outcome,
    Resolution,
    TrackSnapshot,
    answers_from_messages,
    evaluate,
    open_request,
    record_answer,
)
from deconflict.settings import Settings
from deconflict.store import Event, EventDraft, Party, Store
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


def _visible(entry: Event, party: Party) -> bool:
    p = entry.payload
    name = party_name(party)
    return (
        party.role == "admin"
        or p["sender"] == name
        or name in p["recipients"]
        or _observer(entry) == name
    )


def _observer(entry: Event) -> str | None:
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
    if entry is None or not _visible(entry, party):
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


# -- escalation ---------------------------------------------------------------------------


def current_policy(store: Store) -> EscalationPolicy:
    """The escalation policy the host set last (the hotline's default when none)."""
    entry = log.latest(store, log.POLICY)
    if entry is None:
        return EscalationPolicy()
    p = entry.payload
    return EscalationPolicy(
        float(p["ack_timeout_s"]),
        float(p["repeat_every_s"]),
        int(p["host_after_steps"]),
        Priority(int(p["max_priority"])),
    )


def set_policy(store: Store, policy: EscalationPolicy) -> Event:
    payload = {
        "ack_timeout_s": policy.ack_timeout_s,
        "repeat_every_s": policy.repeat_every_s,
        "host_after_steps": policy.host_after_steps,
        "max_priority": int(policy.max_priority),
    }
    return store.append_events([EventDraft("host", log.POLICY, payload)])[0]


def check_escalations(
    store: Store, now_s: float, policy: EscalationPolicy | None = None
) -> list[Event]:
    """Repeat every unacknowledged safety message that is due, one priority higher, to the
    parties that have not acknowledged it, and show it to the host from the policy's step on.
    Returns the ``message.repeat`` entries written (none when nothing is due)."""
    policy = current_policy(store) if policy is None else policy
    safety = log.messages_of_kinds(store, [k.value for k in SAFETY_KINDS])
    if not safety:
        return []
    acks = log.acknowledgements(store)
    done: dict[str, int] = {}
    for e in log.entries(store, log.REPEAT):
        mid = str(e.payload["message_id"])
        done[mid] = max(done.get(mid, 0), int(e.payload["step"]))
    names = log.party_ids(store)
    drafts = []
    for entry in safety:
        message = Message.from_dict(entry.payload)
        mid = message.message_id
        waiting = set(entry.payload["recipients"]) - set(acks.get(mid, {}))
        result = escalate(message, waiting, now_s, policy, done.get(mid, 0))
        if not result.actions:
            continue
        repeat = result.actions[0]
        host = any(a.kind is ActionKind.NOTIFY_HOST for a in result.actions)
        ids = {names.get(r, r) for r in repeat.recipients} | ({log.HOST_ID} if host else set())
        payload = {
            "message_id": mid,
            "step": result.step,
            "priority": int(repeat.priority),
            "recipients": list(repeat.recipients),
            "host": host,
            "time_s": now_s,
            "message": message.to_dict(),
        }
        drafts.append(EventDraft("host", log.REPEAT, payload, tuple(sorted(ids))))
    return log.append_repeats(store, drafts)  # a step another instance took is skipped


def host_escalations(store: Store, after: int = -1) -> list[dict[str, Any]]:
    """Escalation steps shown to the host, in order."""
    return [
        {"seq": e.seq, **e.payload}
        for e in log.entries_for(store, log.REPEAT, log.HOST_ID)
        if e.seq > after
    ]


# -- identification requests --------------------------------------------------------------


def _request_entry(store: Store, request_id: str) -> Event:
    match = {"kind": "identification_request", "body.request_id": request_id}
    for e in log.entries(store, log.MESSAGE, match=match):
        return e
    raise NotFoundError(f"no identification request {request_id}")


def _request_from_entry(store: Store, entry: Event) -> IdentificationRequest:
    b = entry.payload["body"]
    track = TrackSnapshot.from_dict(b)
    request = open_request(
        str(b["request_id"]),
        str(b["track_id"]),
        track,
        entry.payload["recipients"],
        now_s=float(b["created_s"]),
        timeout_s=float(b["deadline_s"]) - float(b["created_s"]),
    )
    match = {"kind": "identification_answer", "body.request_id": request.request_id}
    answers = [
        {**e.payload["body"], "party": e.payload["sender"], "time_s": e.payload["time_s"]}
        for e in log.entries(store, log.MESSAGE, match=match)
    ]
    return answers_from_messages(request, answers)


def _askable(store: Store, observer: str | None) -> list[str]:
    """The parties an identification request asks: every party but the ``observer`` it is
    opened for, never the host's admin parties (they cannot answer, so waiting for them would
    keep every request pending until its deadline)."""
    return sorted(p.name for p in store.list_parties() if p.role == "party" and p.name != observer)


def open_identification(
    store: Store,
    opener: Party,
    track_id: str,
    track: TrackSnapshot,
    *,
    now_s: float,
    timeout_s: float = 120.0,
    observer: str | None = None,
) -> tuple[IdentificationRequest, Event]:
    """Ask every party whose ``track_id`` is: one ``identification_request`` message to all
    (the engine opens it for the ``observer`` whose picture holds the track: every other party
    is asked, and the observer sees the request and its outcome)."""
    if opener.role != "admin":
        raise PermissionDeniedError("identification requests are opened by the host or engine")
    asked = _askable(store, observer)
    if not asked:
        raise InputError("no party is registered to ask: register the parties first")
    request_id = sha256_hex(canonical_json([track_id, now_s]))[:24]
    request = open_request(request_id, track_id, track, asked, now_s=now_s, timeout_s=timeout_s)
    body = request.to_payload() | ({"observer": observer} if observer else {})
    _, entry, new = post_message(
        store,
        opener,
        asked,
        MessageKind.IDENTIFICATION_REQUEST,
        body,
        now_s=now_s,
        allow_own_endpoint_kinds=True,
        copy_to=[observer] if observer else (),
    )
    if not new:
        raise ConflictError(f"identification request {request_id} is already open")
    return request, entry


def open_identifications(
    store: Store,
    opener: Party,
    tracks: Sequence[tuple[str, TrackSnapshot]],
    *,
    now_s: float,
    timeout_s: float,
    observer: str,
) -> list[IdentificationRequest]:
    """``open_identification`` for many of ``observer``'s tracks (``(track id, snapshot)``) in
    one write: the engine's, when a picture fills with tracks no one has identified. A request
    already in the log is left as it is (and returned)."""
    if opener.role != "admin":
        raise PermissionDeniedError("identification requests are opened by the host or engine")
    names = log.party_ids(store)
    asked = _askable(store, observer)
    requests, items = [], []
    for track_id, track in tracks:
        request_id = sha256_hex(canonical_json([track_id, now_s]))[:24]
        request = open_request(request_id, track_id, track, asked, now_s=now_s, timeout_s=timeout_s)
        body = request.to_payload() | {"observer": observer}
        message = make_message(
            MessageKind.IDENTIFICATION_REQUEST, "host", asked, body, time_s=now_s
        )
        payload = {**message.to_dict(), "recipients": list(message.recipients(asked))}
        ids = [names[r] for r in payload["recipients"]] + [names[observer]]
        requests.append(request)
        items.append((opener.id, payload, ids))
    log.append_messages(store, items)
    return requests


def _resolution_view(r: Resolution) -> dict[str, Any]:
    return {
        "outcome": r.outcome.value,
        "escalate": r.escalate,
        "reason": r.reason,
        "waiting_for": list(r.waiting_for),
        "claimants": [
            {"party": c.party, "aircraft": c.aircraft, "operation": c.operation}
            for c in r.claimants
        ],
    }


def _record_resolution(
    store: Store, request: IdentificationRequest, now_s: float, observer: str | None = None
) -> Resolution:
    """Evaluate ``request``; log an ``identification.resolved`` entry when its outcome changed
    (addressed to the host, the observer it was opened for, and the claimant of a declared
    track)."""
    resolution = evaluate(request, now_s)
    last = log.latest(store, log.ID_RESOLVED, match={"request_id": request.request_id})
    before = Outcome.PENDING if last is None else Outcome(last.payload["outcome"])
    if resolution.outcome is before:
        return resolution
    names = log.party_ids(store)
    to = {log.HOST_ID} | ({names.get(observer, observer)} if observer else set())
    if resolution.outcome is Outcome.DECLARED:
        to |= {names.get(c.party, c.party) for c in resolution.claimants}
    payload = {
        "request_id": request.request_id,
        "track_id": request.track_id,
        "time_s": now_s,
        "latency_s": now_s - request.created_s,
        **_resolution_view(resolution),
    }
    store.append_events([EventDraft("host", log.ID_RESOLVED, payload, tuple(sorted(to)))])
    return resolution


def answer_identification(
    store: Store,
    party: Party,
    request_id: str,
    answer: str,
    *,
    now_s: float,
    aircraft: str = "",
    operation: str = "",
    time_s: float | None = None,
    signature: str | None = None,
    signed_key_id: str | None = None,
) -> Resolution:
    """Record ``party``'s answer (an ``identification_answer`` message to the host, signed by the
    party over ``answer_content(...)``; it also acknowledges the request: its ``body.ref`` is the
    request's message id) and return the request's outcome."""
    entry = _request_entry(store, request_id)
    name = party_name(party)
    if not _visible(entry, party):
        raise NotFoundError(f"no identification request {request_id} sent to you")
    when = signed_time(now_s, time_s, signature)
    request = _request_from_entry(store, entry)
    record_answer(request, name, answer, now_s=when, aircraft=aircraft, operation=operation)
    body = {"request_id": request_id, "answer": answer, "aircraft": aircraft}
    body |= {"operation": operation, "ref": entry.payload["message_id"]}
    post_message(
        store,
        party,
        "host",
        MessageKind.IDENTIFICATION_ANSWER,
        body,
        now_s=now_s,
        time_s=when,
        signature=signature,
        signed_key_id=signed_key_id,
        allow_own_endpoint_kinds=True,
    )
    return _record_resolution(store, _request_from_entry(store, entry), now_s, _observer(entry))


def outcome_shown(resolution: Resolution, name: str, disclosure: str) -> str:
    """A request's outcome as party ``name`` may know it: in full for a party that claimed the
    track; for the others asked only ``pending``, ``declared`` (when ``disclosure``, the
    procedures' ``identification_disclosure``, is ``declared``) or ``closed``."""
    outcome = resolution.outcome
    if outcome is Outcome.PENDING or any(c.party == name for c in resolution.claimants):
        return outcome.value
    if outcome is Outcome.DECLARED and disclosure == "declared":
        return outcome.value
    return "closed"


def identification_state(
    store: Store,
    party: Party,
    request_id: str,
    *,
    now_s: float,
    disclosure: str = "involved",
) -> dict[str, Any]:
    """The request and its outcome at ``now_s``. The host sees every answer; a party its own,
    and the outcome as ``outcome_shown`` lets it know it."""
    entry = _request_entry(store, request_id)
    if not _visible(entry, party):
        raise NotFoundError(f"no identification request {request_id} sent to you")
    request = _request_from_entry(store, entry)
    resolution = evaluate(request, now_s)
    view = _resolution_view(resolution)
    name = party_name(party)
    answers = [
        {
            "party": a.party,
            "answer": a.answer.value,
            "aircraft": a.aircraft,
            "operation": a.operation,
            "time_s": a.time_s,
        }
        for p, a in sorted(request.answers.items())
        if party.role == "admin" or p == name
    ]
    if party.role != "admin" and _observer(entry) != name:
        # the observer the engine asked for sees the outcome as the host does; the others asked
        # as ``outcome_shown`` lets them know it
        claimed = any(c.party == name for c in resolution.claimants)
        view = {
            "outcome": outcome_shown(resolution, name, disclosure),
            "escalate": bool(view["escalate"]) and claimed,
        }
    return {
        "request_id": request.request_id,
        "track_id": request.track_id,
        "message_id": entry.payload["message_id"],
        "created_s": request.created_s,
        "deadline_s": request.deadline_s,
        "parties": list(request.parties) if party.role == "admin" else [name],
        "track": request.track.to_dict(),
        "answers": answers,
        **view,
    }


def check_identifications(store: Store, now_s: float) -> list[Resolution]:
    """Re-evaluate at ``now_s`` the requests still pending whose deadline has passed (time
    changes nothing else; answers are evaluated as they come); log the outcomes that changed."""
    settled = {str(e.payload["request_id"]) for e in log.entries(store, log.ID_RESOLVED)}
    changed = []
    for entry in log.entries(store, log.MESSAGE, match={"kind": "identification_request"}):
        body = entry.payload["body"]
        if body["request_id"] in settled or float(body["deadline_s"]) > now_s:
            continue
        request = _request_from_entry(store, entry)
        resolution = _record_resolution(store, request, now_s, _observer(entry))
        if resolution.outcome is not Outcome.PENDING:
            changed.append(resolution)
    return changed


# -- audit export ---------------------------------------------------------------------------


def authors_key_ring(store: Store) -> KeyRing:
    """The public keys of the log's authors as the log records them: the host's keys
    (``host.key`` entries, and the new key of each ``host.key.rotated`` entry whose signatures
    by an earlier host key and the new one verify) and each party's registered key (never under
    a name that reads as the host's: ``hotline.identity``)."""
    keys: dict[str, list[Ed25519PublicKey]] = {}
    after = -1
    while page := store.log(after=after, limit=5000):
        for e in page:
            if e.kind == "host.key":
                keys.setdefault("host", []).append(public_key_from_b64(e.payload["public_key"]))
            elif e.kind == HOST_KEY_ROTATED:  # a new host key both the old and the new signed
                for old in keys.get("host", []):
                    new = rotation_verifies(e.payload, public_key_to_b64(old))
                    if new is not None:
                        keys["host"].append(public_key_from_b64(new))
                        break
            elif e.kind == "party.registered" and e.payload.get("public_key"):
                if identity.reserved_as(str(e.payload["name"])) is not None:
                    continue  # registered before names were checked: never the host's key
                with contextlib.suppress(InputError):  # a party registered without a real key
                    key = public_key_from_b64(str(e.payload["public_key"]))
                    keys.setdefault(str(e.payload["name"]), []).append(key)
        after = page[-1].seq
    return KeyRing.from_public_keys(dict(keys.items()))


def export_log(store: Store, out: str | Path, keys_out: str | Path) -> tuple[int, str]:
    """Write the whole log to ``out`` as JSON lines and the authors' public keys to
    ``keys_out`` (``KEYS.json`` format), both atomically; returns (entries, head hash)."""

    head = [GENESIS_HASH]

    def entries() -> Iterator[dict[str, Any]]:
        after = -1
        while page := store.log(after=after, limit=5000):
            yield from (e.to_dict() for e in page)
            after, head[0] = page[-1].seq, page[-1].hash

    count = write_log_jsonl(entries(), out)
    ring = authors_key_ring(store)
    target = Path(keys_out)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(ring.to_json() + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count, head[0]
