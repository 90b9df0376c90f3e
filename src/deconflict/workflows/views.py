"""What one party may list of the hotline and the identification requests, newest last (times
Unix s UTC): the views the map's panels show and any other client may read (``/v1/messages/
recent``, ``GET /v1/identification-requests``).

Read from the signed log only (``deconflict.store.hotline``), through the same visibility rules
as the single-item reads of ``workflows.hotline``: a party sees the messages it sent or was sent,
and the identification requests it was asked or that were opened for it (the engine's, for the
party whose picture holds the unknown track).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from deconflict.identify.request import evaluate
from deconflict.store import Event, Party, Store
from deconflict.store import hotline as log
from deconflict.store.rows import _event
from deconflict.store.schema import event_recipients, events
from deconflict.workflows.hotline import inbox_item, observer_of, party_name, visible_to
from deconflict.workflows.identification import outcome_shown, request_from_entry

#: The most items one call lists.
MAX_ITEMS = 500


def _newest_visible(store: Store, party: Party, entries: list[Event], limit: int) -> list[Event]:
    out: list[Event] = []
    for e in reversed(entries):
        if len(out) >= limit:
            break
        if visible_to(e, party):
            out.append(e)
    return out[::-1]


def _newest_messages(store: Store, party: Party | None, name: str, limit: int) -> list[Event]:
    """The newest ``limit`` message entries sent by or addressed to ``party`` (every one's for
    None), oldest first: two indexed reads from the end of the log, however long it is."""
    sender = events.c.payload["sender"].as_string()
    queries = [sa.select(events).where(events.c.kind == log.MESSAGE)]
    if party is not None:
        queries = [
            queries[0].where(sender == name),
            sa.select(events)
            .join(event_recipients, event_recipients.c.event_seq == events.c.seq)
            .where(event_recipients.c.party_id == party.id, events.c.kind == log.MESSAGE),
        ]
    found: dict[int, Event] = {}
    with store.read_transaction() as conn:
        for q in queries:
            for row in conn.execute(q.order_by(events.c.seq.desc()).limit(limit)):
                e = _event(row)
                found[e.seq] = e
    return [found[k] for k in sorted(found)]


def recent_messages(store: Store, party: Party, limit: int = 100) -> list[dict[str, Any]]:
    """The party's newest ``limit`` messages, sent and received, oldest first; each with its
    delivery state per recipient (every recipient's for the sender and the host, one's own for
    an addressee) and ``outgoing`` when the party sent it. Reading this confirms no delivery
    (``GET /v1/messages?after=`` does)."""
    limit = max(1, min(int(limit), MAX_ITEMS))
    name = party_name(party)
    found = _newest_messages(store, None if party.role == "admin" else party, name, limit)
    entries = _newest_visible(store, party, found, limit)
    ids = [str(e.payload["message_id"]) for e in entries]
    acks = log.acknowledgements(store, ids) if ids else {}
    upto: dict[str, int] = {}
    out = []
    for e in entries:
        p = e.payload
        mine = party.role == "admin" or p["sender"] == name
        whom = p["recipients"] if mine else [name]
        states: dict[str, str] = {}
        for r in whom:
            if r not in upto:
                upto[r] = log.delivered_upto(store, r)
            ack = acks.get(str(p["message_id"]), {}).get(r)
            delivered = ack is not None or upto[r] >= e.seq
            states[r] = "acknowledged" if ack else "delivered" if delivered else "sent"
        out.append({**inbox_item(e)["message"], "seq": e.seq, "delivery": states, "outgoing": mine})
    return out


def identification_requests(
    store: Store,
    party: Party,
    *,
    now_s: float,
    limit: int = 50,
    disclosure: str = "involved",
) -> list[dict[str, Any]]:
    """The newest ``limit`` identification requests the party was asked or that were opened
    for it, oldest first: the track as reported (without its history), who it was opened for
    (``observer``), the outcome now (for a party asked that did not claim the track, as
    ``workflows.hotline.outcome_shown`` lets it know it under the procedures'
    ``identification_disclosure``), whether the party answered and whether it may."""
    limit = max(1, min(int(limit), MAX_ITEMS))
    name = party_name(party)
    found = log.entries(store, log.MESSAGE, match={"kind": "identification_request"})
    out = []
    for entry in _newest_visible(store, party, found, limit):
        request = request_from_entry(store, entry)
        resolution = evaluate(request, now_s)
        asked = name in request.parties
        item = request.to_payload()
        item.pop("history", None)
        item |= {
            "parties": list(request.parties),
            "observer": observer_of(entry) or "host",
            "outcome": resolution.outcome.value,
            "answered": name in request.answers,
            "can_answer": asked and name not in request.answers,
        }
        if party.role != "admin" and observer_of(entry) != name:
            item["parties"] = [name] if asked else []
            item["outcome"] = outcome_shown(resolution, name, disclosure)
        out.append(item)
    return out
