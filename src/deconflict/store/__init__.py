"""store room: persistence of parties, operations, constraints and the event log (SQLite or
PostgreSQL, one schema, Alembic migrations run on open)."""

from deconflict.store.connection import ChainSealer
from deconflict.store.parties import hash_token
from deconflict.store.records import (
    BBox,
    ConstraintRecord,
    Decide,
    Decision,
    Event,
    EventDraft,
    OperationDraft,
    OperationRecord,
    Party,
    Sealer,
    WriteView,
)
from deconflict.store.store import Store, open_store

__all__ = [
    "BBox",
    "ChainSealer",
    "ConstraintRecord",
    "Decide",
    "Decision",
    "Event",
    "EventDraft",
    "OperationDraft",
    "OperationRecord",
    "Party",
    "Sealer",
    "Store",
    "WriteView",
    "hash_token",
    "open_store",
]
