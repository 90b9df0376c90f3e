"""The engine's desk at the store: every decision it makes is written through the same
store-backed workflows the REST API uses (``deconflict.workflows.hotline``), and it learns what
happened — its own entries and every client's — by following the signed log (times Unix s).

Entries the engine writes: ``alert.raised`` / ``alert.updated`` / ``alert.cleared`` (addressed
to the party alerted), ``message`` (conflict notices; identification requests, opened by the host
for the observing party; the messages, acknowledgements and answers of the crews the demo plays,
signed with their keys), ``identification.resolved`` and ``incident``. These are the log's kinds
(``deconflict.store.hotline``): one vocabulary for the engine, the API and the audit export.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from deconflict.errors import InputError, NotFoundError
from deconflict.hotline.authorship import (
    acknowledgement_content,
    answer_content,
    message_content,
    sign_content,
)
from deconflict.hotline.keys import Signer, generate_private_key, public_key_to_b64
from deconflict.hotline.messages import Message, MessageKind, make_message
from deconflict.identify.request import TrackSnapshot
from deconflict.store import Event, EventDraft, Party, Store, follow, open_store
from deconflict.store import hotline as log
from deconflict.workflows import escalation, hotline, identification

#: The host as the workflows know it (the engine acts for the host).
HOST = Party(id="host", name="host", role="admin", public_key="", contact="", created_s=0.0)


def register_parties(
    store: Store, signers: Mapping[str, Signer]
) -> tuple[dict[str, Party], dict[str, str]]:
    """Each named party's record, registered with its signer's public key unless the store has
    it already (a resumed store); returns (records, tokens of the parties registered now)."""
    known = {p.name: p for p in store.list_parties()}
    parties: dict[str, Party] = {}
    tokens: dict[str, str] = {}
    for name, signer in signers.items():
        public = public_key_to_b64(signer.public_key)
        if name in known:
            if known[name].public_key != public:
                raise InputError(
                    f"party {name!r} is registered in the store with another key than the one "
                    "given: use the keys it was registered with, or a fresh store"
                )
            parties[name] = known[name]
            continue
        parties[name], tokens[name] = store.add_party(name, public_key=public)
    return parties, tokens


class Desk:
    """The engine's store, its parties' records, and the keys of the crews it plays."""

    def __init__(
        self,
        store: Store,
        parties: Mapping[str, Party],
        signers: Mapping[str, Signer] | None = None,
        on_write: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.parties = dict(parties)
        self.ids = {name: p.id for name, p in self.parties.items()}
        #: Keys of the parties whose crews the engine plays (the demo): what they write is
        #: signed with them; without one the engine cannot write for that party.
        self.signers = dict(signers or {})
        self.on_write = on_write
        self.start_seq = store.head()[0]
        self.cursor = self.start_seq
        self._drafts: list[EventDraft] = []
        self._notices: list[Message] = []

    @classmethod
    def in_memory(cls, names: Sequence[str], signers: Mapping[str, Signer] | None = None) -> Desk:
        """A desk on a fresh in-memory store, the parties registered with ``signers`` (new
        keys when not given): fast-time runs and tests."""
        keys = dict(signers or {})
        for name in names:
            keys.setdefault(name, Signer(name, generate_private_key()))
        store = open_store("sqlite://")
        parties, _ = register_parties(store, {n: keys[n] for n in names})
        return cls(store, parties, keys)

    # -- writing ------------------------------------------------------------------------------

    def append(self, kind: str, payload: Mapping[str, Any], to: Iterable[str]) -> None:
        """An engine entry (alerts), written with the tick's others at ``flush``."""
        ids = tuple(sorted({self.ids[p] for p in to if p in self.ids}))
        self._drafts.append(EventDraft("host", kind, dict(payload), ids))

    def notify(self, message: Message) -> None:
        """A message of the host (a conflict notice), written with the tick's others at
        ``flush`` through the hotline workflow."""
        self._notices.append(message)

    def flush(self) -> None:
        wrote = False
        if self._drafts:
            drafts, self._drafts = self._drafts, []
            self.store.append_events(drafts)
            wrote = True
        if self._notices:
            notices, self._notices = self._notices, []
            hotline.post_host_messages(self.store, notices)
            wrote = True
        if wrote:
            self.wake()

    def wake(self) -> None:
        if self.on_write is not None:
            self.on_write()

    def party(self, name: str) -> Party:
        if name == "host":
            return HOST
        found = self.parties.get(name)
        if found is None:
            raise NotFoundError(f"no party {name!r}; parties are {', '.join(self.parties)}")
        return found

    def _signer(self, name: str) -> Signer:
        signer = self.signers.get(name)
        if signer is None:
            raise InputError(
                f"the engine holds no key of party {name!r}: its duty officer writes through "
                "/v1 with the party's own key"
            )
        return signer

    def post(
        self,
        sender: str,
        to: str | Iterable[str],
        kind: MessageKind,
        body: Mapping[str, Any],
        *,
        now_s: float,
    ) -> Event:
        """A message from the host or a crew the engine plays (signed with its key)."""
        signature = key = None
        when = None
        if sender != "host":
            signer = self._signer(sender)
            when = now_s
            msg = make_message(kind, sender, to, body, time_s=now_s)
            signature, key = sign_content(signer, message_content(msg)), signer.key_id
        _, entry, _ = hotline.post_message(
            self.store, self.party(sender), to, kind, body, now_s=now_s, time_s=when,
            signature=signature, signed_key_id=key,
        )  # fmt: skip
        self.wake()
        return entry

    def acknowledge(self, party: str, message_id: str, *, now_s: float) -> Event:
        signer = self._signer(party)
        signature = sign_content(signer, acknowledgement_content(message_id, party, now_s))
        entry = hotline.acknowledge(
            self.store, self.party(party), message_id, now_s=now_s, time_s=now_s,
            signature=signature, signed_key_id=signer.key_id,
        )  # fmt: skip
        self.wake()
        return entry

    def answer(
        self,
        party: str,
        request_id: str,
        answer: str,
        *,
        now_s: float,
        aircraft: str = "",
        operation: str = "",
    ) -> str:
        """A crew's answer to an identification request; the request's outcome now."""
        signer = self._signer(party)
        content = answer_content(
            request_id, party, answer, aircraft=aircraft, operation=operation, time_s=now_s
        )
        resolution = identification.answer_identification(
            self.store, self.party(party), request_id, answer, now_s=now_s, aircraft=aircraft,
            operation=operation, time_s=now_s, signature=sign_content(signer, content),
            signed_key_id=signer.key_id,
        )  # fmt: skip
        self.wake()
        return resolution.outcome.value

    def open_requests(
        self,
        observer: str,
        tracks: Sequence[tuple[str, TrackSnapshot]],
        *,
        now_s: float,
        timeout_s: float,
    ) -> list[tuple[str, float]]:
        """Ask every other party whose each of ``tracks`` (``(track id, snapshot)`` in
        ``observer``'s picture) is, in one write; returns each request's (id, deadline), none
        when there is no one to ask. A request already in the log (a resumed run) is taken as
        it is."""
        if not tracks or not any(p != observer for p in self.parties):
            return []
        opened = identification.open_identifications(
            self.store, HOST, tracks, now_s=now_s, timeout_s=timeout_s, observer=observer
        )
        self.wake()
        return [(r.request_id, r.deadline_s) for r in opened]

    def record_incident(self, record: Mapping[str, Any]) -> bool:
        """Record an incident (``Incident.to_dict()``); False when it was recorded already."""
        try:
            log.append_incident(self.store, record)
        except InputError:
            if log.latest(self.store, log.INCIDENT, match={"incident_id": record["incident_id"]}):
                return False
            raise
        self.wake()
        return True

    def inbox(self, party: str, after: int) -> list[dict[str, Any]]:
        """The party's messages after seq ``after`` (those up to it are now delivered), each the
        message with its ``seq``."""
        page = hotline.read_inbox(self.store, self.party(party), after, 500)
        return [{**m["message"], "seq": m["seq"]} for m in page["messages"]]

    def check(self, now_s: float) -> None:
        """Escalate unacknowledged safety messages and settle requests past their deadline."""
        written = escalation.check_escalations(self.store, now_s)
        if identification.check_identifications(self.store, now_s) or written:
            self.wake()

    # -- reading ------------------------------------------------------------------------------

    def news(self) -> list[Event]:
        """The log's entries since the last call (the engine's own and every client's)."""
        out: list[Event] = []
        start = self.cursor
        while page := self.store.log(after=self.cursor, limit=5000):
            out += page
            self.cursor = page[-1].seq
        follow.offer(self.store, start, out)  # the checks' followers take theirs from these
        return out

    def entries_since_start(self, kind: str) -> list[Event]:
        """Entries of ``kind`` written since this desk opened."""
        return log.entries(self.store, kind, after=self.start_seq)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.store.close()
