"""The store: parties, operations, constraints and the event log over SQLAlchemy Core.

Times are UNIX seconds, altitudes metres, coordinates degrees WGS84. ``open_store(url)`` opens
SQLite (default; WAL, one writer) or PostgreSQL (``postgresql+psycopg://``) and upgrades the
schema to the newest Alembic revision.

Every write runs in one transaction that first locks the head of the event log (the one row of
``chain_head``): on PostgreSQL that row lock serialises writers, on SQLite the single writer
connection (``BEGIN IMMEDIATE``) does. So an awareness check and the write it guards, and the log
entries recording it, are one atomic step: nobody commits in between.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from deconflict.errors import ConflictError, InputError, NotFoundError, StorageError
from deconflict.hotline import identity
from deconflict.hotline.canonical import LOG_FORMAT
from deconflict.hotline.log import entry_hash
from deconflict.store import grid, tree
from deconflict.store.driver import postgres_url
from deconflict.store.dss import DssTx
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


ENDED = "Ended"  # the state of an operation kept only as a record (ASTM F3548 spelling)


def hash_token(token: str) -> str:
    """sha256 hex of an API token: the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ChainSealer:
    """Hash chain without signatures: the hash is the hotline log's (``entry_hash``: SHA-256 of
    the body's canonical JSON in its log format); the signature is empty."""

    author = "host"
    key_id = ""

    def seal(self, body: dict[str, Any]) -> tuple[str, str]:
        return entry_hash(body), ""


def _is_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


class Store:
    """Persistent state of the shared service. Thread-safe; open with :func:`open_store`."""

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
        self._tree_tail: tuple[int, str, dict[tuple[int, int], bytes]] | None = None

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
    def _write(self) -> Iterator[tuple[Connection, list[int | str]]]:
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

    def _insert(self, conn: Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
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
    def _read(self) -> Iterator[Connection]:
        if self._read_lock is not None:
            with self._read_lock, self._reader.connect() as conn:
                yield conn
        else:
            with self._reader.connect() as conn:
                yield conn

    @contextmanager
    def snapshot(self) -> Iterator[WriteView]:
        """A read-only view of the committed state (to warm caches before the first write; a
        write's check must use the view it is given inside its own transaction)."""
        with self._read() as conn, conn.begin():
            seq = int(
                conn.execute(sa.select(chain_head.c.seq).where(chain_head.c.id == 1)).one()[0]
            )
            yield _View(self, conn, seq)

    def _append(self, conn: Connection, head: list[int | str], draft: EventDraft) -> Event:
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
        self._insert(conn, "events", [{**body, "hash": digest, "signature": signature}])
        seq = int(body["seq"])
        recipients = sorted(set(draft.recipients))
        if recipients:
            self._insert(
                conn, "event_recipients", [{"party_id": p, "event_seq": seq} for p in recipients]
            )
        head[0], head[1] = seq, digest
        entry = Event(**body, hash=digest, signature=signature)
        tree.append_leaf(self, conn, entry)
        return entry

    # -- parties --------------------------------------------------------------------------

    def add_party(
        self, name: str, *, public_key: str, role: str = "party", contact: str = ""
    ) -> tuple[Party, str]:
        """Register a party; returns it and its API token (shown once, stored only hashed)."""
        if role not in ("party", "admin"):
            raise InputError(f"role {role!r} is not known; use 'party' or 'admin'")
        if not name.strip():
            raise InputError("a party needs a non-empty name")
        token = secrets.token_urlsafe(32)
        party = Party(uuid.uuid4().hex, name, role, public_key, contact, time.time())
        try:
            with self._write() as (conn, head):
                self._check_new_party(conn, name, public_key)
                conn.execute(
                    sa.insert(parties).values(
                        id=party.id,
                        name=name,
                        role=role,
                        token_hash=hash_token(token),
                        public_key=public_key,
                        contact=contact,
                        created_s=party.created_s,
                    )
                )
                self._append(
                    conn,
                    head,
                    EventDraft(
                        "host",
                        "party.registered",
                        {"party": party.id, "name": name, "role": role, "public_key": public_key},
                    ),
                )
        except sa.exc.IntegrityError as exc:
            raise ConflictError(
                f"a party named {name!r} is already registered; choose another name"
            ) from exc
        return party, token

    def _check_new_party(self, conn: Connection, name: str, public_key: str) -> None:
        """Refuse a name that reads as the host's (or '*'), or as a registered party's, and a
        signing key that is the host's or a registered party's (inside the write)."""
        reserved = identity.reserved_as(name)
        if reserved is not None:
            raise InputError(
                f"the name {name!r} reads as {reserved!r}, which is reserved for the "
                f"{'host' if reserved == identity.HOST else 'broadcast address'}: choose "
                "another name"
            )
        rows = conn.execute(sa.select(parties.c.name, parties.c.public_key)).all()
        clash = identity.same_name(name, [str(r.name) for r in rows])
        if clash is not None:
            raise ConflictError(
                f"a party named {clash!r} is already registered, and {name!r} cannot be told "
                "apart from it (names are compared ignoring case, whitespace, accents and "
                "look-alike letters): choose another name"
            )
        kid = identity.signing_key_id(public_key)
        if kid is None:
            return
        if kid == self.sealer.key_id:
            raise InputError(
                f"the public key {kid} is the host's signing key: a party registers its own key"
            )
        for r in rows:
            if identity.signing_key_id(str(r.public_key)) == kid:
                raise ConflictError(
                    f"the public key {kid} is already registered to party {r.name!r}: each "
                    "party signs with its own key; make a new key pair (deconflict audit keygen)"
                )

    def party_by_token(self, token: str) -> Party | None:
        """The party of an API token (parties never change once made, so they are cached)."""
        digest = hash_token(token)
        cached = self._token_cache.get(digest)
        if cached is not None:
            return cached
        with self._read() as conn:
            row = conn.execute(_PARTY_BY_TOKEN, {"h": digest}).first()
        if row is None:
            return None
        party = _party(row)
        self._token_cache[digest] = party
        return party

    def get_party(self, party_id: str) -> Party:
        with self._read() as conn:
            row = conn.execute(_PARTY_BY_ID, {"i": party_id}).first()
        if row is None:
            raise NotFoundError(f"no party {party_id!r}; list parties with GET /v1/parties")
        return _party(row)

    def list_parties(self) -> list[Party]:
        with self._read() as conn:
            rows = conn.execute(sa.select(parties).order_by(parties.c.created_s)).all()
        return [_party(r) for r in rows]

    # -- operations -----------------------------------------------------------------------

    def get_operation(self, operation_id: str) -> OperationRecord:
        with self._read() as conn:
            row = conn.execute(_OPERATION_BY_ID, {"i": operation_id}).first()
        if row is None:
            raise NotFoundError(f"no operation {operation_id!r}")
        return _operation(row)

    def operations_of(self, owner_id: str, *, include_ended: bool = False) -> list[OperationRecord]:
        """The party's operations, oldest first. Only the versions not parsed before are read
        whole (a listing of a thousand operations reads their ids and versions, then the JSON of
        those that changed)."""
        where = [operations.c.owner_id == owner_id]
        if not include_ended:
            where.append(operations.c.state != ENDED)
        cache = self._operation_cache
        with self._read() as conn:
            keys = conn.execute(
                sa.select(operations.c.id, operations.c.seq)
                .where(*where)
                .order_by(operations.c.created_s)
            ).all()
            missing = [k.id for k in keys if (k.id, int(k.seq)) not in cache]
            fresh = {}
            for start in range(0, len(missing), 500):
                chunk = missing[start : start + 500]
                rows = conn.execute(sa.select(operations).where(operations.c.id.in_(chunk))).all()
                fresh.update({r.id: _operation(r) for r in rows})
        if len(cache) + len(fresh) > OPERATION_CACHE_SIZE:
            cache.clear()
        out = []
        for k in keys:
            record = fresh.get(k.id) or cache.get((k.id, int(k.seq)))
            if record is None or record.seq != int(k.seq):  # changed between the two reads
                return self._operations_of_whole(where)
            cache[(record.id, record.seq)] = record
            out.append(record)
        return out

    def _operations_of_whole(self, where: list[Any]) -> list[OperationRecord]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(operations).where(*where).order_by(operations.c.created_s)
            ).all()
        return [_operation(r) for r in rows]

    def query_operations(
        self,
        bbox: BBox,
        time_start_s: float,
        time_end_s: float,
        *,
        include_ended: bool = False,
    ) -> list[OperationRecord]:
        """Operations whose footprint box meets ``bbox`` and whose time span meets the window."""
        with self._read() as conn:
            return self._candidates(conn, bbox, time_start_s, time_end_s, include_ended)

    def _candidates(
        self,
        conn: Connection,
        bbox: BBox,
        time_start_s: float,
        time_end_s: float,
        include_ended: bool = False,
        exclude: str | None = None,
    ) -> list[OperationRecord]:
        ids: set[str] = set()
        scan_levels: list[int] = []
        keys: list[int] = []
        for level in range(len(grid.LEVEL_DEG)):
            if grid.cell_count(bbox, level) <= _QUERY_CELL_LIMIT:
                keys.extend(grid.cells(bbox, level))
            else:
                scan_levels.append(level)
        if keys:
            found = conn.execute(
                sa.select(operation_cells.c.operation_id)
                .where(operation_cells.c.cell.in_(keys))
                .where(operation_cells.c.time_start_s < time_end_s)
                .where(operation_cells.c.time_end_s > time_start_s)
            ).scalars()
            ids.update(found)
        box_match = sa.and_(
            operations.c.min_lon <= bbox[2],
            operations.c.max_lon >= bbox[0],
            operations.c.min_lat <= bbox[3],
            operations.c.max_lat >= bbox[1],
            operations.c.time_start_s < time_end_s,
            operations.c.time_end_s > time_start_s,
        )
        if scan_levels:
            found = conn.execute(
                sa.select(operations.c.id)
                .where(operations.c.cell_level.in_(scan_levels))
                .where(box_match)
            ).scalars()
            ids.update(found)
        ids.discard(exclude or "")
        if not ids:
            return []
        query = sa.select(operations).where(operations.c.id.in_(sorted(ids))).where(box_match)
        if not include_ended:
            query = query.where(operations.c.state != ENDED)
        return [_operation(r) for r in conn.execute(query.order_by(operations.c.created_s))]

    def write_operation(
        self,
        draft: OperationDraft,
        decide: Decide,
        *,
        expected_token: str | None = None,
        on_written: Callable[[OperationRecord, int], None] | None = None,
        also: Callable[[DssTx, OperationRecord], None] | None = None,
        replace_ended: bool = False,
    ) -> tuple[OperationRecord | None, Decision]:
        """Check and write an operation in one transaction.

        ``decide(draft, current, view)`` runs inside the transaction. A draft without ``id``
        (or with one but no ``expected_token``) is a new operation: it gets its id (a fresh one
        when None) before ``decide`` sees it, and ``current`` is None. Otherwise ``current`` is
        the stored version, whose token must equal ``expected_token``. ``view`` is the
        store through which it reads what it checks against. When it commits, the new version
        and an ``operation.written`` entry (to the owner) are written with its events, all or
        nothing. ``on_written(record, seq)``, when given, is called last inside the transaction
        (still holding the write lock; ``seq`` is the log head it will commit). Returns the
        written record (None if not written) and the decision; raises the decision's ``error``
        after committing its events.

        ``also(tx, record)``, when given, runs in the same transaction after the record is
        written (before ``on_written``): the DSS API's wire fields and subscriptions
        (``deconflict.store.dss``); whatever it raises rolls the whole write back. With
        ``replace_ended``, creating an id whose stored operation is ``Ended`` replaces that
        record (F3548 frees the id of a deleted operational intent); its version goes on.
        """
        if draft.id is None:
            draft = dataclasses.replace(draft, id=uuid.uuid4().hex)
            creating = True
        else:
            creating = expected_token is None
        assert draft.id is not None
        with self._write() as (conn, head):
            current: OperationRecord | None = None
            ended: OperationRecord | None = None
            if creating and replace_ended:
                row = conn.execute(_OPERATION_BY_ID, {"i": draft.id}).first()
                if row is not None:
                    ended = _operation(row)
                    if ended.state != ENDED:
                        raise ConflictError(
                            f"operation {draft.id} already exists; choose another id or "
                            "update it with its current version token"
                        )
            if not creating:
                row = conn.execute(_OPERATION_BY_ID, {"i": draft.id}).first()
                if row is None:
                    raise NotFoundError(f"no operation {draft.id!r}")
                current = _operation(row)
                if current.owner_id != draft.owner_id:
                    raise NotFoundError(f"no operation {draft.id!r} of yours")
                if expected_token != current.token:
                    raise ConflictError(
                        f"operation {draft.id} is at version {current.version} and the token "
                        "given is not its current one; GET it and retry with its token"
                    )
            decision = decide(draft, current, _View(self, conn, int(head[0])))
            record = None
            if decision.commit:
                op_id = draft.id
                previous = current if current is not None else ended
                version = 1 if previous is None else previous.version + 1
                state = decision.state or draft.state
                written = EventDraft(
                    draft.owner_id,
                    "operation.written",
                    {
                        "operation": op_id,
                        "version": version,
                        "state": state,
                        "priority": draft.priority,
                        "volumes": draft.volumes,
                        "aircraft": draft.aircraft,
                        "flags": decision.flags,
                        **decision.entry,
                    },
                    (draft.owner_id,),
                )
                self._append(conn, head, written)
                try:
                    record = self._put_operation(
                        conn, op_id, version, state, draft, decision, previous, int(head[0])
                    )
                except sa.exc.IntegrityError as exc:
                    raise ConflictError(
                        f"operation {op_id} already exists; choose another id or PUT it"
                    ) from exc
            for ev in decision.events:
                self._append(conn, head, ev)
            if record is not None and also is not None:
                also(DssTx(self, conn, head), record)
            if record is not None and on_written is not None:
                on_written(record, int(head[0]))
        if decision.error is not None:
            raise decision.error
        return record, decision

    def _put_operation(
        self,
        conn: Connection,
        op_id: str,
        version: int,
        state: str,
        draft: OperationDraft,
        decision: Decision,
        current: OperationRecord | None,
        seq: int,
    ) -> OperationRecord:
        now = time.time()
        level = grid.filing_level(draft.bbox)
        values = {
            "owner_id": draft.owner_id,
            "state": state,
            "priority": draft.priority,
            "version": version,
            "token": secrets.token_hex(16),
            "volumes": draft.volumes,
            "aircraft": draft.aircraft,
            "flags": decision.flags,
            "time_start_s": draft.time_start_s,
            "time_end_s": draft.time_end_s,
            "alt_lower_m": draft.alt_lower_m,
            "alt_upper_m": draft.alt_upper_m,
            "min_lon": draft.bbox[0],
            "min_lat": draft.bbox[1],
            "max_lon": draft.bbox[2],
            "max_lat": draft.bbox[3],
            "cell_level": level,
            "seq": seq,
            "updated_s": now,
        }
        if current is None:
            self._insert(conn, "operations", [{"id": op_id, "created_s": now, **values}])
        else:
            conn.execute(sa.update(operations).where(operations.c.id == op_id).values(**values))
            conn.execute(sa.delete(operation_cells).where(operation_cells.c.operation_id == op_id))
        self._insert(
            conn,
            "operation_cells",
            [
                {
                    "cell": key,
                    "operation_id": op_id,
                    "time_start_s": draft.time_start_s,
                    "time_end_s": draft.time_end_s,
                }
                for key in grid.cells(draft.bbox, level)
            ],
        )
        created = now if current is None else current.created_s
        row = {"id": op_id, "created_s": created, **values}
        return _operation(_Row(row))

    # -- constraints ----------------------------------------------------------------------

    def add_constraints(
        self, records: Sequence[ConstraintRecord], notify: Sequence[EventDraft] = ()
    ) -> None:
        """Store constraints and the entries announcing them, in one transaction."""
        with self._write() as (conn, head):
            for record in records:
                conn.execute(
                    sa.insert(constraints).values(
                        id=record.id,
                        owner_id=record.owner_id,
                        kind=record.kind,
                        name=record.name,
                        volume=record.volume,
                        alt_lower_m=record.alt_lower_m,
                        alt_upper_m=record.alt_upper_m,
                        time_start_s=record.time_start_s,
                        time_end_s=record.time_end_s,
                        created_s=record.created_s,
                    )
                )
            for ev in notify:
                self._append(conn, head, ev)

    def get_constraint(self, constraint_id: str) -> ConstraintRecord:
        with self._read() as conn:
            row = conn.execute(
                sa.select(constraints).where(constraints.c.id == constraint_id)
            ).first()
        if row is None:
            raise NotFoundError(
                f"no constraint {constraint_id!r}; list them with GET /v1/constraints"
            )
        return _constraint(row)

    def delete_constraint(self, constraint_id: str, notify: Sequence[EventDraft] = ()) -> None:
        with self._write() as (conn, head):
            done = conn.execute(sa.delete(constraints).where(constraints.c.id == constraint_id))
            if done.rowcount == 0:
                raise NotFoundError(f"no constraint {constraint_id!r}")
            for ev in notify:
                self._append(conn, head, ev)

    def list_constraints(
        self, time_start_s: float = -1e12, time_end_s: float = 1e12
    ) -> list[ConstraintRecord]:
        """Constraints active at some time in the window (default: all)."""
        with self._read() as conn:
            return self._constraints(conn, time_start_s, time_end_s)

    def _constraints(
        self, conn: Connection, time_start_s: float, time_end_s: float
    ) -> list[ConstraintRecord]:
        rows = conn.execute(_ACTIVE_CONSTRAINTS, {"t0": time_start_s, "t1": time_end_s})
        return [_constraint(r) for r in rows]

    # -- events ---------------------------------------------------------------------------

    def append_events(self, drafts: Sequence[EventDraft]) -> list[Event]:
        """Append entries to the log in one transaction."""
        with self._write() as (conn, head):
            return [self._append(conn, head, d) for d in drafts]

    def events_for(self, party_id: str, after: int = -1, limit: int = 500) -> list[Event]:
        """Entries addressed to ``party_id`` with seq > ``after``, oldest first."""
        query = (
            sa.select(events)
            .join(event_recipients, event_recipients.c.event_seq == events.c.seq)
            .where(event_recipients.c.party_id == party_id)
            .where(events.c.seq > after)
            .order_by(events.c.seq)
            .limit(limit)
        )
        with self._read() as conn:
            return [_event(r) for r in conn.execute(query)]

    def log(self, after: int = -1, limit: int = 1000) -> list[Event]:
        """The whole log from seq > ``after``, oldest first (for verification and audit)."""
        query = sa.select(events).where(events.c.seq > after).order_by(events.c.seq).limit(limit)
        with self._read() as conn:
            return [_event(r) for r in conn.execute(query)]

    def head(self) -> tuple[int, str]:
        with self._read() as conn:
            row = conn.execute(sa.select(chain_head).where(chain_head.c.id == 1)).one()
        return int(row.seq), str(row.hash)


class _View:
    """The store as a write's check sees it, inside the write's transaction."""

    def __init__(self, store: Store, conn: Connection, seq: int) -> None:
        self._store = store
        self._conn = conn
        self._seq = seq

    @property
    def seq(self) -> int:
        return self._seq

    def operations_since(self, seq: int) -> list[OperationRecord]:
        rows = self._conn.execute(_OPERATIONS_SINCE, {"s": seq})
        return [_operation(r) for r in rows]

    def candidates(
        self, bbox: BBox, time_start_s: float, time_end_s: float, exclude: str | None = None
    ) -> list[OperationRecord]:
        return self._store._candidates(self._conn, bbox, time_start_s, time_end_s, exclude=exclude)

    def party(self, party_id: str) -> Party | None:
        row = self._conn.execute(_PARTY_BY_ID, {"i": party_id}).first()
        return _party(row) if row is not None else None

    def constraints(self, time_start_s: float, time_end_s: float) -> list[ConstraintRecord]:
        return self._store._constraints(self._conn, time_start_s, time_end_s)


OPERATION_CACHE_SIZE = 200_000


class _Row:
    """Attribute access over a dict, shaped like a result row for the converters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _party(row: Any) -> Party:
    return Party(row.id, row.name, row.role, row.public_key, row.contact, row.created_s)


def _operation(row: Any) -> OperationRecord:
    return OperationRecord(
        id=row.id,
        owner_id=row.owner_id,
        state=row.state,
        priority=int(row.priority),
        version=int(row.version),
        token=row.token,
        volumes=list(row.volumes),
        aircraft=list(row.aircraft),
        flags=list(row.flags),
        time_start_s=float(row.time_start_s),
        time_end_s=float(row.time_end_s),
        alt_lower_m=float(row.alt_lower_m),
        alt_upper_m=float(row.alt_upper_m),
        bbox=(float(row.min_lon), float(row.min_lat), float(row.max_lon), float(row.max_lat)),
        created_s=float(row.created_s),
        updated_s=float(row.updated_s),
        seq=int(row.seq),
    )


def _constraint(row: Any) -> ConstraintRecord:
    return ConstraintRecord(
        id=row.id,
        owner_id=row.owner_id,
        kind=row.kind,
        name=row.name,
        volume=dict(row.volume),
        alt_lower_m=float(row.alt_lower_m),
        alt_upper_m=float(row.alt_upper_m),
        time_start_s=float(row.time_start_s),
        time_end_s=float(row.time_end_s),
        created_s=float(row.created_s),
    )


def _event(row: Any) -> Event:
    return Event(
        seq=int(row.seq),
        time_s=float(row.time_s),
        author=row.author,
        key_id=row.key_id,
        kind=row.kind,
        payload=dict(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
        signature=row.signature,
        format=int(row.format),
    )


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


def open_store(url: str, *, sealer: Sealer | None = None, synchronous: str = "full") -> Store:
    """Open the store at ``url`` and upgrade its schema to the newest revision.

    ``synchronous`` (SQLite files): ``full`` syncs every commit to disk, ``normal`` only at
    checkpoints (see ``Settings.sqlite_synchronous``)."""
    store = Store(url, sealer=sealer, synchronous=synchronous)
    store.upgrade()
    tree.backfill(store)  # a log written before the Merkle tree existed gets its tree
    return store
