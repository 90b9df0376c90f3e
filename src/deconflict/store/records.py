"""The records the store reads and writes (no units beyond the field names: s, m, degrees)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from deconflict.hotline.log import LogEntry

BBox = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat (degrees)


@dataclass(frozen=True)
class Party:
    """A registered party (or the host, role ``admin``); the token itself is never stored."""

    id: str
    name: str
    role: str
    public_key: str
    contact: str
    created_s: float


@dataclass(frozen=True)
class OperationDraft:
    """What a writer asks the store to keep for an operation (new, or a new version)."""

    owner_id: str
    state: str
    priority: int
    volumes: list[dict[str, Any]]
    aircraft: list[str]
    time_start_s: float
    time_end_s: float
    alt_lower_m: float
    alt_upper_m: float
    bbox: BBox
    flags: list[dict[str, Any]] = field(default_factory=list)
    id: str | None = None


@dataclass(frozen=True)
class OperationRecord:
    """An operation as stored: the draft plus id, version, token and times of writing."""

    id: str
    owner_id: str
    state: str
    priority: int
    version: int
    token: str
    volumes: list[dict[str, Any]]
    aircraft: list[str]
    flags: list[dict[str, Any]]
    time_start_s: float
    time_end_s: float
    alt_lower_m: float
    alt_upper_m: float
    bbox: BBox
    created_s: float
    updated_s: float
    seq: int


@dataclass(frozen=True)
class ConstraintRecord:
    """A restricted or no-fly area: its volume (the strategic ``Volume4D`` as JSON), and its
    altitude bounds (m) and time bounds (s) for searching."""

    id: str
    owner_id: str
    kind: str
    name: str
    volume: dict[str, Any]
    alt_lower_m: float
    alt_upper_m: float
    time_start_s: float
    time_end_s: float
    created_s: float


@dataclass(frozen=True)
class EventDraft:
    """An entry to append to the log, and the parties it is addressed to."""

    author: str
    kind: str
    payload: dict[str, Any]
    recipients: tuple[str, ...] = ()


#: An entry of the append-only, hash-chained log: the hotline room's signed ``LogEntry``
#: (one record type, so what the store writes is what ``audit verify`` reads).
Event = LogEntry


@dataclass(frozen=True)
class Decision:
    """What the writer's check decided about a draft, seen against the stored candidates.

    ``commit``: write the operation (with ``state`` and ``flags``); either way ``events`` are
    appended in the same transaction. ``error``, when set, is raised after the transaction
    commits (the events stay); when ``commit`` is false and ``error`` is None, nothing happened.
    """

    commit: bool
    state: str = ""
    flags: list[dict[str, Any]] = field(default_factory=list)
    events: list[EventDraft] = field(default_factory=list)
    error: Exception | None = None
    entry: dict[str, Any] = field(default_factory=dict)  # more fields of its operation.written


class WriteView(Protocol):
    """What a write's check may read, inside the write's transaction (so nothing changes)."""

    @property
    def seq(self) -> int:
        """Seq of the last log entry committed before this transaction (-1: empty log)."""
        ...

    def operations_since(self, seq: int) -> list[OperationRecord]:
        """Operations (any state) whose current version was written after log entry ``seq``."""
        ...

    def candidates(
        self, bbox: BBox, time_start_s: float, time_end_s: float, exclude: str | None = None
    ) -> list[OperationRecord]:
        """Live operations whose footprint box meets ``bbox`` and time span the window."""
        ...

    def party(self, party_id: str) -> Party | None:
        """A registered party, or None."""
        ...

    def constraints(self, time_start_s: float, time_end_s: float) -> list[ConstraintRecord]:
        """Airspace constraints active at some time in the window."""
        ...


# decide(draft, current version or None, view) -> Decision; runs inside the transaction.
Decide = Callable[[OperationDraft, "OperationRecord | None", WriteView], Decision]


class Sealer(Protocol):
    """Hashes and signs a log entry body for the store, as the service's own key.

    ``author`` and ``key_id`` name the signer; ``seal(body)`` gets the body (seq, time_s, author,
    key_id, kind, payload, prev_hash) and returns (hash, signature).
    """

    @property
    def author(self) -> str: ...

    @property
    def key_id(self) -> str: ...

    def seal(self, body: dict[str, Any]) -> tuple[str, str]: ...
