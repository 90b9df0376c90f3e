"""One engine leads per store; the others stand by and take over when it dies (times in s).

On PostgreSQL the leader holds a session advisory lock on a connection of its own: when its
process dies (``kill -9`` included) the server ends the session and frees the lock, and the first
standby to try next (every ``every_s``) leads. On a SQLite file the lock is an exclusive
``flock`` on a file beside the database, freed by the kernel when the process dies. A leader
that loses its PostgreSQL connection stops leading (``held`` is False) and must stop deciding.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deconflict.errors import StorageError
from deconflict.store.driver import postgres_url

#: The advisory lock's key: "deconflict engine" (any 64-bit number the store uses for nothing else).
LOCK_KEY = 0x6465636F6E666C63


class Leadership:
    """The engine leader's lock on the store at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = sa.make_url(url)
        self._conn: Any = None
        self._engine: Any = None
        self._fd: int | None = None
        backend = self.url.get_backend_name()
        if backend == "postgresql":
            self._engine = sa.create_engine(postgres_url(self.url), poolclass=sa.pool.NullPool)
        elif backend == "sqlite" and self.url.database not in (None, "", ":memory:"):
            self._lock_file = Path(str(self.url.database) + ".engine.lock")
        else:
            raise StorageError(
                f"engine leadership needs PostgreSQL or a SQLite file, not {url!r}: an in-memory "
                "store has one engine by construction"
            )

    def try_acquire(self) -> bool:
        """Lead now if no one does; True when this process leads."""
        if self._engine is not None:
            if self._conn is None:
                conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self._conn = conn
            got = self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
            return bool(got.scalar())
        if self._fd is None:
            self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def wait(self, stop: threading.Event, every_s: float = 0.5) -> bool:
        """Try every ``every_s`` until this process leads (True) or ``stop`` is set (False)."""
        while not stop.is_set():
            with contextlib.suppress(sa.exc.OperationalError):
                if self.try_acquire():
                    return True
                self._reset_if_broken()
            stop.wait(every_s)
        return False

    def held(self) -> bool:
        """Whether the lock is still this process's (its PostgreSQL session alive)."""
        if self._engine is None:
            return self._fd is not None
        try:
            row = self._conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objid = (:k & 4294967295)"
                ),
                {"k": LOCK_KEY},
            ).scalar()
        except sa.exc.DBAPIError:
            return False
        return bool(row)

    def _reset_if_broken(self) -> None:
        if self._conn is not None and self._conn.invalidated:
            self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
