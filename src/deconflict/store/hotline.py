"""The hotline's records in the event log: messages, acknowledgements, delivery receipts,
escalations, identification requests and incidents (times Unix s UTC).

Nothing here has a table of its own: every message, receipt and decision is an entry of the one
signed, hash-chained log (``events``), addressed through ``event_recipients``; the state of a
message or a request is read back from those entries. Entry kinds and their payloads:

* ``message`` — a hotline message, ``hotline.messages.Message.to_dict()`` plus ``recipients``
  (party names it was delivered to) and, when a party sent it, its ``client_signature`` and
  ``client_key_id``; addressed to its recipients. An acknowledgement is a ``message`` of kind
  ``acknowledgement`` whose ``body.ref`` is the acknowledged message's id; an
  ``identification_answer`` acknowledges the request its ``body.ref`` names. A party-authored
  message carries the party's own signature (``hotline.authorship``).
* ``message.delivered`` — ``{party, upto, message_ids}``: the party's client confirmed it holds
  every message of its inbox up to log seq ``upto`` (log only, addressed to nobody).
* ``message.repeat`` — ``{message_id, step, priority, recipients, host, message}``: escalation
  step ``step`` of an unacknowledged safety message, repeated to the parties that have not
  acknowledged it (addressed to them); ``host`` true when the host is shown it. Each step is
  written once (``append_repeats`` claims it in the write transaction).
* ``hotline.policy`` — the escalation policy the host set (the latest one counts).
* ``identification.resolved`` — each change of a request's outcome (the request itself is a
  ``message`` of kind ``identification_request``).
* ``incident`` — ``incidents.record.Incident.to_dict()``, addressed to the parties involved.

The JSON lookups (``payload ->> 'message_id'``) have no index: each is a scan of the entries of
that kind, fine for a day's hotline traffic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa

from deconflict.errors import InputError
from deconflict.hotline.messages import MessageKind
from deconflict.store.records import Event, EventDraft
from deconflict.store.rows import _event
from deconflict.store.schema import event_recipients, events, parties
from deconflict.store.store import Store

MESSAGE: Final = "message"
DELIVERED: Final = "message.delivered"
REPEAT: Final = "message.repeat"
POLICY: Final = "hotline.policy"
ID_RESOLVED: Final = "identification.resolved"
INCIDENT: Final = "incident"
#: Entry kinds a party's inbox holds.
INBOX_KINDS: Final = (MESSAGE, REPEAT)
HOST_ID: Final = "host"  # the host's recipient id (it has no row in ``parties``)
#: Message kinds that acknowledge the message their ``body.ref`` names.
ACKNOWLEDGING_KINDS: Final = (
    MessageKind.ACKNOWLEDGEMENT.value,
    MessageKind.IDENTIFICATION_ANSWER.value,
)


def _field(path: str | tuple[str, ...]) -> Any:
    """A payload field as text; ``"a.b"`` is the field ``b`` of the object ``a``."""
    if isinstance(path, str) and "." in path:
        path = tuple(path.split("."))
    return events.c.payload[path].as_string()


def _entries(where: Iterable[Any], *, limit: int | None = None, desc: bool = False) -> Any:
    order = events.c.seq.desc() if desc else events.c.seq
    query = sa.select(events).where(*where).order_by(order)
    return query.limit(limit) if limit is not None else query


def party_ids(store: Store) -> dict[str, str]:
    """Party name -> id of every registered party, and ``host`` -> ``host``."""
    with store.read_transaction() as conn:
        rows = conn.execute(sa.select(parties.c.name, parties.c.id)).all()
    return {**{str(r.name): str(r.id) for r in rows}, "host": HOST_ID}


def append_message(
    store: Store, author_id: str, payload: Mapping[str, Any], recipient_ids: Sequence[str]
) -> tuple[Event, bool]:
    """Append a ``message`` entry unless one with the same ``message_id`` exists (checked in the
    same transaction); returns the entry and whether it is new."""
    message_id = str(payload["message_id"])
    with store.write_transaction() as (conn, head):
        found = _with_message_ids(conn, store, MESSAGE, [message_id])
        if found:
            return found[0], False
        draft = EventDraft(author_id, MESSAGE, dict(payload), tuple(recipient_ids))
        return store.append_entry(conn, head, draft), True


def append_repeats(store: Store, drafts: Sequence[EventDraft]) -> list[Event]:
    """Append ``message.repeat`` entries, each only if no entry of the same message has reached
    its ``step`` yet: the claim is checked in the write transaction that holds the log head, so
    service instances sharing the store never repeat one escalation step twice. Returns the
    entries written."""
    written: list[Event] = []
    if not drafts:
        return written
    with store.write_transaction() as (conn, head):
        ids = sorted({str(d.payload["message_id"]) for d in drafts})
        rows = [e.payload for e in _with_message_ids(conn, store, REPEAT, ids)]
        reached: dict[str, int] = {}
        claimed: list[EventDraft] = []
        for payload in rows:
            mid = str(payload["message_id"])
            reached[mid] = max(reached.get(mid, 0), int(payload["step"]))
        for draft in drafts:
            mid, step = str(draft.payload["message_id"]), int(draft.payload["step"])
            if draft.kind != REPEAT:
                raise InputError(f"append_repeats takes {REPEAT!r} drafts, not {draft.kind!r}")
            if step <= reached.get(mid, 0):
                continue  # another instance claimed this step first
            reached[mid] = step
            claimed.append(draft)
        written = store.append_entries(conn, head, claimed)
    return written


#: A payload's ``message_id`` as each backend's index has it (migration 0006): the literal
#: expression, for a bound path would not match the index.
_MESSAGE_ID: Final = {
    "postgresql": sa.literal_column("(events.payload ->> 'message_id')", sa.String),
    "sqlite": sa.literal_column("json_extract(events.payload, '$.message_id')", sa.String),
}


def message_id_of(store: Store) -> Any:
    """The column expression of a message entry's id on ``store``'s backend (indexed)."""
    return _MESSAGE_ID["sqlite" if store.backend == "sqlite" else "postgresql"]


def _with_message_ids(conn: Any, store: Store, kind: str, ids: Sequence[str]) -> list[Event]:
    """The entries of ``kind`` whose payload's ``message_id`` is one of ``ids``, in order: found
    through the index on the id (the kind is checked here, on the few rows found: asked of the
    database beside the id, SQLite's planner would read every entry of the kind instead)."""
    rows = conn.execute(_entries([message_id_of(store).in_(list(ids))]))
    return [e for e in map(_event, rows) if e.kind == kind]


def find_message(store: Store, message_id: str) -> Event | None:
    """The ``message`` entry of ``message_id``, or None."""
    with store.read_transaction() as conn:
        found = _with_message_ids(conn, store, MESSAGE, [message_id])
    return found[0] if found else None


def inbox(store: Store, party_id: str, after: int = -1, limit: int = 500) -> list[Event]:
    """The messages and repeats addressed to ``party_id`` with seq > ``after``, in order."""
    query = (
        sa.select(events)
        .join(event_recipients, event_recipients.c.event_seq == events.c.seq)
        .where(event_recipients.c.party_id == party_id)
        .where(events.c.kind.in_(INBOX_KINDS))
        .where(events.c.seq > after)
        .order_by(events.c.seq)
        .limit(limit)
    )
    with store.read_transaction() as conn:
        return [_event(r) for r in conn.execute(query)]


def _delivered_upto(conn: sa.Connection, party: str) -> int:
    rows = conn.execute(
        sa.select(events.c.payload).where(events.c.kind == DELIVERED, _field("party") == party)
    ).scalars()
    return max((int(p["upto"]) for p in rows), default=-1)


def delivered_upto(store: Store, party: str) -> int:
    """The highest inbox seq the client of ``party`` (a name) confirmed holding; -1: none."""
    with store.read_transaction() as conn:
        return _delivered_upto(conn, party)


def confirm_delivery(store: Store, party: str, party_id: str, upto: int) -> Event | None:
    """Record that ``party``'s client holds its inbox up to seq ``upto``; one
    ``message.delivered`` entry naming the messages newly delivered, or None when none are."""
    with store.write_transaction() as (conn, head):
        if upto > int(head[0]):
            raise InputError(
                f"cursor {upto} is beyond the end of the log ({head[0]}): send the seq of the "
                "last message your client holds"
            )
        before = _delivered_upto(conn, party)
        if upto <= before:
            return None
        ids = conn.execute(
            sa.select(_field("message_id"))
            .select_from(
                events.join(event_recipients, event_recipients.c.event_seq == events.c.seq)
            )
            .where(event_recipients.c.party_id == party_id)
            .where(events.c.kind == MESSAGE)
            .where(events.c.seq > before, events.c.seq <= upto)
            .order_by(events.c.seq)
        ).scalars()
        newly = [str(i) for i in ids]
        if not newly:
            return None
        draft = EventDraft(
            party_id, DELIVERED, {"party": party, "upto": upto, "message_ids": newly}
        )
        return store.append_entry(conn, head, draft)


def acknowledgements(
    store: Store, refs: Sequence[str] | None = None
) -> dict[str, dict[str, Event]]:
    """Acknowledgement entries: acknowledged message id -> {acknowledging party: entry}
    (the first acknowledgement of each party counts); ``refs`` limits to those message ids.
    An identification answer acknowledges its request (its ``body.ref``)."""
    where = [events.c.kind == MESSAGE, _field("kind").in_(ACKNOWLEDGING_KINDS)]
    if refs is not None:
        where.append(_field(("body", "ref")).in_(list(refs)))
    out: dict[str, dict[str, Event]] = {}
    with store.read_transaction() as conn:
        for row in conn.execute(_entries(where)):
            e = _event(row)
            ref = e.payload["body"].get("ref")
            if ref is not None:
                out.setdefault(str(ref), {}).setdefault(str(e.payload["sender"]), e)
    return out


def messages_of_kinds(store: Store, kinds: Iterable[str], *, after: int = -1) -> list[Event]:
    """Every ``message`` entry whose message kind is one of ``kinds``, seq > ``after``, in
    order."""
    where = [events.c.kind == MESSAGE, _field("kind").in_(list(kinds)), events.c.seq > after]
    with store.read_transaction() as conn:
        return [_event(r) for r in conn.execute(_entries(where))]


def entries_at(store: Store, seqs: Sequence[int]) -> list[Event]:
    """The entries of the log seqs ``seqs``, in order."""
    out: list[Event] = []
    wanted = sorted(set(seqs))
    with store.read_transaction() as conn:
        for i in range(0, len(wanted), 500):
            rows = conn.execute(_entries([events.c.seq.in_(wanted[i : i + 500])]))
            out += [_event(r) for r in rows]
    return out


def entries(
    store: Store, kind: str, *, match: Mapping[str, str] | None = None, after: int = -1
) -> list[Event]:
    """Entries of ``kind`` (whose payload fields equal ``match``; ``"body.ref"`` names a nested
    field), seq > ``after``, in order."""
    where = [events.c.kind == kind, events.c.seq > after]
    where += [_field(k) == v for k, v in (match or {}).items()]
    with store.read_transaction() as conn:
        return [_event(r) for r in conn.execute(_entries(where))]


def latest(store: Store, kind: str, *, match: Mapping[str, str] | None = None) -> Event | None:
    """The last entry of ``kind`` (whose payload fields equal ``match``), or None."""
    where = [events.c.kind == kind, *[_field(k) == v for k, v in (match or {}).items()]]
    with store.read_transaction() as conn:
        row = conn.execute(_entries(where, limit=1, desc=True)).first()
    return None if row is None else _event(row)


def entries_for(store: Store, kind: str, party_id: str) -> list[Event]:
    """Entries of ``kind`` addressed to ``party_id``, in order."""
    query = (
        sa.select(events)
        .join(event_recipients, event_recipients.c.event_seq == events.c.seq)
        .where(event_recipients.c.party_id == party_id, events.c.kind == kind)
        .order_by(events.c.seq)
    )
    with store.read_transaction() as conn:
        return [_event(r) for r in conn.execute(query)]


def recipients_of(store: Store, seq: int) -> list[str]:
    """The party ids entry ``seq`` is addressed to."""
    with store.read_transaction() as conn:
        rows = conn.execute(
            sa.select(event_recipients.c.party_id).where(event_recipients.c.event_seq == seq)
        ).scalars()
        return sorted(str(r) for r in rows)


def append_incident(store: Store, incident: Mapping[str, Any], *, author: str = "host") -> Event:
    """Record an incident (``Incident.to_dict()``) in the log as an ``incident`` entry addressed
    to the parties of its two tracks (by name or id) and the host, signed by the store's sealer.
    The engine calls this; an incident id already recorded is refused (InputError)."""
    try:
        incident_id = str(incident["incident_id"])
        involved = [str(t["party"]) for t in incident["tracks"]]
    except (KeyError, TypeError) as exc:
        raise InputError(f"not an incident record ({exc}): pass Incident.to_dict()") from exc
    by_name = party_ids(store)
    known = set(by_name.values())
    ids = {by_name.get(p, p) for p in involved if p in by_name or p in known}
    draft = EventDraft(author, INCIDENT, dict(incident), tuple(sorted(ids | {HOST_ID})))
    where = [events.c.kind == INCIDENT, _field("incident_id") == incident_id]
    if store.backend == "sqlite" and incident_id.isalnum() and incident_id.isascii():
        # the JSON text holds such an id as it is wherever the field does: SQLite reads (as JSON)
        # only the records whose text holds it, not every record of the run (records are large)
        where.insert(1, events.c.payload.cast(sa.Text).contains(incident_id, autoescape=True))
    with store.write_transaction() as (conn, head):
        found = conn.execute(_entries(where, limit=1)).first()
        if found is not None:
            raise InputError(f"incident {incident_id} is already recorded: incident ids are unique")
        return store.append_entry(conn, head, draft)


def append_messages(
    store: Store, items: Sequence[tuple[str, Mapping[str, Any], Sequence[str]]]
) -> list[tuple[Event, bool]]:
    """Append many ``message`` entries — (author id, payload, recipient ids) each — in one
    transaction, each unless one with its ``message_id`` exists (one lookup for them all);
    returns each entry and whether it is new, in order."""
    if not items:
        return []
    ids = [str(p["message_id"]) for _, p, _ in items]
    out: list[tuple[Event, bool]] = []
    with store.write_transaction() as (conn, head):
        found: dict[str, Event] = {}
        for e in _with_message_ids(conn, store, MESSAGE, ids):
            found.setdefault(str(e.payload["message_id"]), e)
        new: dict[str, EventDraft] = {}  # each message id once, in order
        for author, payload, recipients in items:
            mid = str(payload["message_id"])
            if mid not in found and mid not in new:
                new[mid] = EventDraft(author, MESSAGE, dict(payload), tuple(recipients))
        appended = store.append_entries(conn, head, list(new.values()))
        written = dict(zip(new, appended, strict=True))
        seen: set[str] = set()
        for mid in ids:
            if mid in written and mid not in seen:
                seen.add(mid)
                out.append((written[mid], True))
            else:
                out.append((found.get(mid) or written[mid], False))
    return out
