"""The store: parties, operations, constraints and the event log over SQLAlchemy Core.

Times are UNIX seconds, altitudes metres, coordinates degrees WGS84. ``open_store(url)`` opens
SQLite (default; WAL, one writer) or PostgreSQL (``postgresql+psycopg://``) and upgrades the
schema to the newest Alembic revision.

Every write runs in one transaction that first locks the head of the event log (the one row of
``chain_head``): on PostgreSQL that row lock serialises writers, on SQLite the single writer
connection (``BEGIN IMMEDIATE``) does. So an awareness check and the write it guards, and the log
entries recording it, are one atomic step: nobody commits in between.

The store is assembled from its rooms: the connection and write path (``store.connection``),
parties (``store.parties``), operations (``store.operations``), constraints and the log read back
(``store.constraints``), rows as records (``store.rows``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from deconflict.store import tree
from deconflict.store.constraints import Constraints, EventLog
from deconflict.store.operations import Operations
from deconflict.store.parties import Parties
from deconflict.store.records import (
    Sealer,
    WriteView,
)
from deconflict.store.rows import _View
from deconflict.store.schema import (
    chain_head,
)


class Store(Parties, Operations, Constraints, EventLog):
    """Persistent state of the shared service. Thread-safe; open with :func:`open_store`."""

    @contextmanager
    def snapshot(self) -> Iterator[WriteView]:
        """A read-only view of the committed state (to warm caches before the first write; a
        write's check must use the view it is given inside its own transaction)."""
        with self.read_transaction() as conn, conn.begin():
            seq = int(
                conn.execute(sa.select(chain_head.c.seq).where(chain_head.c.id == 1)).one()[0]
            )
            yield _View(self, conn, seq)


def open_store(url: str, *, sealer: Sealer | None = None, synchronous: str = "full") -> Store:
    """Open the store at ``url`` and upgrade its schema to the newest revision.

    ``synchronous`` (SQLite files): ``full`` syncs every commit to disk, ``normal`` only at
    checkpoints (see ``Settings.sqlite_synchronous``)."""
    store = Store(url, sealer=sealer, synchronous=synchronous)
    store.upgrade()
    tree.backfill(store)  # a log written before the Merkle tree existed gets its tree
    return store
