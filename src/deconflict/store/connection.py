"""The store's connection and write path: SQLite (WAL, one writer) or PostgreSQL engines, the
write transaction that holds the head of the event log, inserts, reads, and the append of one
log entry (hashed and sealed as the hotline's log is, then added to the Merkle tree).

See ``deconflict.store.store`` for the whole store."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from deconflict.errors import StorageError
from deconflict.hotline.canonical import LOG_FORMAT
from deconflict.hotline.log import entry_hash
from deconflict.store import tree
from deconflict.store.driver import postgres_url
from deconflict.store.records import (
    Event,
    EventDraft,
    OperationRecord,
    Party,
    Sealer,
)
from deconflict.store.schema import (
    chain_head,
    constraints,
    event_recipients,
    events,
    log_tree,
    operation_cells,
    operations,
    parties,
)

MIGRATIONS = Path(__file__).with_name("migrations")

# Statements of the write path, built once (SQLAlchemy then reuses their compiled form).
_LOCK_HEAD = (
    sa.select(chain_head.c.seq, chain_head.c.hash).where(chain_head.c.id == 1).with_for_update()
)
_SET_HEAD = (
    sa.update(chain_head)
    .where(chain_head.c.id == 1)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)
_PARTY_BY_TOKEN = sa.select(parties).where(parties.c.token_hash == sa.bindparam("h"))
_PARTY_BY_ID = sa.select(parties).where(parties.c.id == sa.bindparam("i"))
_OPERATION_BY_ID = sa.select(operations).where(operations.c.id == sa.bindparam("i"))
_OPERATIONS_SINCE = (
    sa.select(operations).where(operations.c.seq > sa.bindparam("s")).order_by(operations.c.seq)
)
_ACTIVE_CONSTRAINTS = (
    sa.select(constraints)
    .where(constraints.c.time_start_s < sa.bindparam("t1"))
    .where(constraints.c.time_end_s > sa.bindparam("t0"))
    .order_by(constraints.c.created_s, constraints.c.id)
)
_QUERY_CELL_LIMIT = 512

# On SQLite the write path's statements go straight to the driver: SQLAlchemy's execution
# pipeline costs about 70 µs a statement, six statements a write, more than SQLite's own work.
_SQLITE_LOCK_HEAD = "SELECT seq, hash FROM chain_head WHERE id = 1"
_SQLITE_SET_HEAD = "UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1"
_INSERTS = {
    t.name: (sa.insert(t), frozenset(c.name for c in t.columns if isinstance(c.type, sa.JSON)))
    for t in (events, event_recipients, operations, operation_cells, log_tree)
}
_SQLITE_INSERT_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


def _sqlite_insert_sql(table: str, keys: tuple[str, ...]) -> str:
    sql = _SQLITE_INSERT_SQL.get((table, keys))
    if sql is None:
        sql = f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})"
        _SQLITE_INSERT_SQL[(table, keys)] = sql
    return sql


def _sqlite_run(conn: Connection, sql: str, params: Sequence[tuple[Any, ...]]) -> Any:
    """Run ``sql`` on the connection's sqlite3 driver, inside its open transaction; driver
    errors come out as SQLAlchemy's (``IntegrityError``, ``OperationalError``...)."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    try:
        if len(params) == 1:
            return dbapi.execute(sql, params[0])
        return dbapi.executemany(sql, params)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, list(params), exc, sqlite3.Error) from exc


class ChainSealer:
    """Hash chain without signatures: the hash is the hotline log's (``entry_hash``: SHA-256 of
    the body's canonical JSON in its log format); the signature is empty."""

    author = "host"
    key_id = ""

    def seal(self, body: dict[str, Any]) -> tuple[str, str]:
        return entry_hash(body), ""


def _is_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


class Database:
    """The store's engines and write path; the rooms of the store (parties, operations,
    constraints, the log) are built on it (``deconflict.store.store.Store``)."""

    def __init__(
        self, url: str, sealer: Sealer | None = None, *, synchronous: str = "full"
    ) -> None:
        if synchronous not in ("full", "normal"):
            raise StorageError(f"synchronous {synchronous!r}: use 'full' or 'normal'")
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise StorageError(
                f"database URL {url!r} is not a URL; use sqlite:///FILE or "
                "postgresql+psycopg://USER@HOST/DB"
            ) from exc
        self.url = parsed
        self.sealer: Sealer = sealer if sealer is not None else ChainSealer()
        self.backend = parsed.get_backend_name()
        if self.backend not in ("sqlite", "postgresql"):
            raise StorageError(
                f"database {self.backend!r} is not supported; use sqlite or postgresql+psycopg"
            )
        self._write_lock = threading.Lock()
        self._token_cache: dict[str, Party] = {}
        # parsed operation versions by (id, seq): a version never changes once written, so a
        # cached one is never stale; bounded by OPERATION_CACHE_SIZE
        self._operation_cache: dict[tuple[str, int], OperationRecord] = {}
        self._memory = _is_memory(parsed)
        if self.backend == "sqlite":
            if self._memory:
                self._writer = sa.create_engine(
                    "sqlite://",
                    poolclass=StaticPool,
                    connect_args={"check_same_thread": False},
                )
                _sqlite_setup(self._writer, "BEGIN IMMEDIATE", wal=False)
                self._reader = self._writer
            else:
                self._writer = sa.create_engine(
                    parsed,
                    pool_size=1,
                    max_overflow=0,
                    connect_args={"check_same_thread": False, "timeout": 30},
                )
                _sqlite_setup(self._writer, "BEGIN IMMEDIATE", wal=True, synchronous=synchronous)
                self._reader = sa.create_engine(
                    parsed, connect_args={"check_same_thread": False, "timeout": 30}
                )
                _sqlite_setup(self._reader, "BEGIN", wal=True, synchronous=synchronous)
        else:
            parsed = postgres_url(parsed)
            self._writer = sa.create_engine(parsed, pool_pre_ping=True, pool_size=10)
            self._reader = self._writer
        self._read_lock = self._write_lock if self._memory else None
        # the Merkle tree's frontier after the last append: (next leaf, hash of the entry it
        # ends at, nodes); see ``deconflict.store.tree``
        self.tree_tail: tuple[int, str, dict[tuple[int, int], bytes]] | None = None

    # -- plumbing -------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self._write_lock, self._writer.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.OperationalError as exc:
            raise StorageError(f"cannot open the store at {self.url!r}: {exc.orig}") from exc

    def close(self) -> None:
        self._writer.dispose()
        if self._reader is not self._writer:
            self._reader.dispose()

    @contextmanager
    def write_transaction(self) -> Iterator[tuple[Connection, list[int | str]]]:
        """A write transaction holding the log head: yields (connection, [seq, hash])."""
        sqlite = self.backend == "sqlite"
        with self._write_lock, self._writer.begin() as conn:
            if sqlite:
                seq, digest = _sqlite_run(conn, _SQLITE_LOCK_HEAD, [()]).fetchone()
            else:
                seq, digest = conn.execute(_LOCK_HEAD).one()
            head: list[int | str] = [int(seq), str(digest)]
            start = int(seq)
            yield conn, head
            if int(head[0]) != start:
                if sqlite:
                    _sqlite_run(conn, _SQLITE_SET_HEAD, [(head[0], head[1])])
                else:
                    conn.execute(_SET_HEAD, {"new_seq": head[0], "new_hash": head[1]})

    def insert_rows(self, conn: Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """INSERT ``rows`` (dicts with the same keys) into ``table`` inside a write."""
        if not rows:
            return
        stmt, json_columns = _INSERTS[table]
        if self.backend != "sqlite":
            conn.execute(stmt, rows[0] if len(rows) == 1 else list(rows))
            return
        keys = tuple(rows[0])
        params = [
            tuple(json.dumps(r[k]) if k in json_columns else r[k] for k in keys) for r in rows
        ]
        _sqlite_run(conn, _sqlite_insert_sql(table, keys), params)

    @contextmanager
    def read_transaction(self) -> Iterator[Connection]:
        """A connection for reading the committed state (the store's modules' seam)."""
        if self._read_lock is not None:
            with self._read_lock, self._reader.connect() as conn:
                yield conn
        else:
            with self._reader.connect() as conn:
                yield conn

    def append_entry(self, conn: Connection, head: list[int | str], draft: EventDraft) -> Event:
        """Append one log entry inside a write transaction (``write_transaction``'s connection
        and head): sealed, addressed to its recipients, added to the Merkle tree."""
        return self.append_entries(conn, head, [draft])[0]

    def append_entries(
        self, conn: Connection, head: list[int | str], drafts: Sequence[EventDraft]
    ) -> list[Event]:
        """Append log entries in order inside a write transaction, as ``append_entry`` each:
        sealed one after the other (each on the hash of the one before), then written with one
        INSERT per table (the entries, their recipients, the tree's nodes) rather than three
        round trips to the database per entry."""
        rows: list[dict[str, Any]] = []
        recipients: list[dict[str, Any]] = []
        entries: list[Event] = []
        leaves: list[bytes] = []
        for draft in drafts:
            body: dict[str, Any] = {
                "seq": int(head[0]) + 1,
                "time_s": time.time(),
                "author": self.sealer.author,
                "key_id": self.sealer.key_id,
                "kind": draft.kind,
                "payload": {**draft.payload, "by": draft.author}
                if draft.author != self.sealer.author
                else draft.payload,
                "prev_hash": str(head[1]),
                "format": LOG_FORMAT,
            }
            digest, signature = self.sealer.seal(body)
            row = {**body, "hash": digest, "signature": signature}
            rows.append(row)
            # its leaf now, while the body's bytes the seal just made can be reused
            leaves.append(tree.leaf_bytes(row))
            seq = int(body["seq"])
            recipients += [{"party_id": p, "event_seq": seq} for p in sorted(set(draft.recipients))]
            head[0], head[1] = seq, digest
            entries.append(Event(**body, hash=digest, signature=signature))
        self.insert_rows(conn, "events", rows)
        self.insert_rows(conn, "event_recipients", recipients)
        tree.append_leaves(self, conn, entries, leaves)
        return entries


def _sqlite_setup(engine: Engine, begin: str, *, wal: bool, synchronous: str = "full") -> None:
    @sa_event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL (the default): the WAL is synced at every commit, so an acknowledged write
            # survives a power cut or OS crash as well as the process being killed (what the
            # SIGKILL test checks); NORMAL syncs at checkpoints only (settings.sqlite_synchronous)
            cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa_event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)
