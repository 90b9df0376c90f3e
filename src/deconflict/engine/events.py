"""Where the engine's decisions go: an event sink (times are Unix seconds UTC).

Every decision of the live loop — an alert raised or cleared, a conflict notice, an
identification request and its outcome, a hotline message and its delivery, an incident — is one
event: ``kind``, ``payload`` (JSON-able), ``author`` and the parties it is addressed to. The
engine hands a tick's events to its sink in one ``emit`` call. ``MemorySink`` keeps them in a
list (tests, fast-time runs); ``StoreSink`` appends them to the store's signed, hash-chained log,
mapping the engine's party names to the store's party ids.

Kinds: ``alert.raised`` / ``alert.updated`` / ``alert.cleared`` (conflicts and area
infringements), ``identification.requested`` / ``identification.answered`` /
``identification.resolved``, ``track.identity``, ``hotline.message`` / ``hotline.delivered`` /
``hotline.acknowledged``, ``incident.recorded``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from deconflict.store import EventDraft, Store


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """One decision of the engine, addressed to some parties (engine party names)."""

    kind: str
    payload: Mapping[str, Any]
    recipients: tuple[str, ...]
    author: str = "host"
    time_s: float = 0.0


class EventSink(Protocol):
    """Anything that takes the engine's events, in order."""

    def emit(self, events: Sequence[EngineEvent]) -> None: ...


@dataclass
class MemorySink:
    """Keeps every event in a list, in order."""

    events: list[EngineEvent] = field(default_factory=list)

    def emit(self, events: Sequence[EngineEvent]) -> None:
        self.events.extend(events)


class StoreSink:
    """Appends the events to the store's log, one transaction per tick.

    ``party_ids`` maps an engine party name to the store's party id (parties not in it are left
    out of the recipients); ``on_write`` is called after each append (e.g. to wake WebSockets).
    """

    def __init__(
        self,
        store: Store,
        party_ids: Mapping[str, str],
        on_write: Any = None,
    ) -> None:
        self.store = store
        self.party_ids = dict(party_ids)
        self.on_write = on_write
        self.written = 0

    def emit(self, events: Sequence[EngineEvent]) -> None:
        if not events:
            return
        drafts = [
            EventDraft(
                author=e.author,
                kind=e.kind,
                payload={"time_s": e.time_s, **e.payload},  # a message keeps its own time
                recipients=tuple(self.party_ids[p] for p in e.recipients if p in self.party_ids),
            )
            for e in events
        ]
        self.store.append_events(drafts)
        self.written += len(drafts)
        if self.on_write is not None:
            self.on_write()
