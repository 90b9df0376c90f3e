"""Identification requests in the shared service: opened by the engine or a party, answered by
parties (signed), settled at their deadline, shown per party (``identify.request``'s rules over
the log's entries; times Unix s UTC, passed in)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from deconflict.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from deconflict.hotline.canonical import canonical_json, sha256_hex
from deconflict.hotline.messages import (
    MessageKind,
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
from deconflict.store import Event, EventDraft, Party, Store, follow
from deconflict.store import hotline as log
from deconflict.workflows.hotline import (
    observer_of,
    party_name,
    post_message,
    signed_time,
    visible_to,
)


def _request_entry(store: Store, request_id: str) -> Event:
    """The entry that opened ``request_id`` (found through the followed requests, not a query
    by a payload field over every message)."""
    rows = follow.followed_by_key(store, _REQUESTS, _request_head, request_id)
    for e in log.entries_at(store, [int(rows[0][0])]) if rows else []:
        return e
    raise NotFoundError(f"no identification request {request_id}")


def request_from_entry(
    store: Store, entry: Event, answers: Sequence[Event] | None = None
) -> IdentificationRequest:
    """The identification request an entry opened, with the answers logged since (``answers``:
    their entries, when the caller has read them already)."""
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
    if answers is None:  # found through the followed answers, not a query over every message
        seqs = [
            r[0] for r in follow.followed_by_key(store, _ANSWERS, _answer_head, request.request_id)
        ]
        answers = log.entries_at(store, seqs) if seqs else []
    return answers_from_messages(
        request,
        [
            {**e.payload["body"], "party": e.payload["sender"], "time_s": e.payload["time_s"]}
            for e in answers
        ],
    )


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
    last = _last_resolution(store, request.request_id)
    resolution, draft = _resolution_entry(
        request, now_s, observer, last, lambda: log.party_ids(store)
    )
    if draft is not None:
        store.append_events([draft])
    return resolution


def _resolution_entry(
    request: IdentificationRequest,
    now_s: float,
    observer: str | None,
    last: str | None,
    party_ids: Callable[[], Mapping[str, str]],
) -> tuple[Resolution, EventDraft | None]:
    """``request`` evaluated at ``now_s``, and the ``identification.resolved`` entry to log
    when its outcome is not ``last`` (the outcome logged before, None: pending); ``party_ids``
    is asked only for an entry to write."""
    resolution = evaluate(request, now_s)
    before = Outcome.PENDING if last is None else Outcome(last)
    if resolution.outcome is before:
        return resolution, None
    names = party_ids()
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
    return resolution, EventDraft("host", log.ID_RESOLVED, payload, tuple(sorted(to)))


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
    if not visible_to(entry, party):
        raise NotFoundError(f"no identification request {request_id} sent to you")
    when = signed_time(now_s, time_s, signature)
    request = request_from_entry(store, entry)
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
    return _record_resolution(store, request_from_entry(store, entry), now_s, observer_of(entry))


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
    if not visible_to(entry, party):
        raise NotFoundError(f"no identification request {request_id} sent to you")
    request = request_from_entry(store, entry)
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
    if party.role != "admin" and observer_of(entry) != name:
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


_REQUESTS: Final = (MessageKind.IDENTIFICATION_REQUEST.value,)
_ANSWERS: Final = (MessageKind.IDENTIFICATION_ANSWER.value,)


def _request_head(e: Event) -> tuple[Any, float]:
    """Request id and deadline (s) of an identification request's entry."""
    body = e.payload["body"]
    return body["request_id"], float(body["deadline_s"])


def _answer_head(e: Event) -> tuple[str]:
    """The request id an identification answer's entry answers."""
    return (str(e.payload["body"]["request_id"]),)


def _resolution_head(e: Event) -> tuple[str, str]:
    """Request id and outcome of an ``identification.resolved`` entry."""
    return str(e.payload["request_id"]), str(e.payload["outcome"])


def _last_resolution(store: Store, request_id: str) -> str | None:
    """The outcome the log last recorded for ``request_id``, or None."""
    rows = follow.followed_by_key(
        store, (), _resolution_head, request_id, entry_kind=log.ID_RESOLVED
    )
    return str(rows[-1][2]) if rows else None


def check_identifications(store: Store, now_s: float) -> list[Resolution]:
    """Re-evaluate at ``now_s`` the requests still pending whose deadline has passed (time
    changes nothing else; answers are evaluated as they come); log the outcomes that changed,
    in one write. Only the due requests' entries and their answers' are read."""
    settled = follow.followed_index(store, (), _resolution_head, entry_kind=log.ID_RESOLVED)
    due = [
        seq
        for seq, request_id, deadline_s in follow.followed(store, _REQUESTS, _request_head)
        if request_id not in settled and not deadline_s > now_s
    ]
    if not due:
        return []
    entries = log.entries_at(store, due)
    by_request = follow.followed_index(store, _ANSWERS, _answer_head)
    ids = [str(e.payload["body"]["request_id"]) for e in entries]
    answered = {rid: [r[0] for r in by_request.get(rid, ())] for rid in ids}
    seqs = [s for found in answered.values() for s in found]
    answers = {e.seq: e for e in log.entries_at(store, seqs)} if seqs else {}
    names = functools.cache(lambda: log.party_ids(store))  # read once, if an entry is written
    changed, drafts = [], []
    for entry, rid in zip(entries, ids, strict=True):
        request = request_from_entry(store, entry, [answers[s] for s in answered[rid]])
        resolution, draft = _resolution_entry(request, now_s, observer_of(entry), None, names)
        if draft is not None:
            drafts.append(draft)
        if resolution.outcome is not Outcome.PENDING:
            changed.append(resolution)
    if drafts:
        store.append_events(drafts)
    return changed
