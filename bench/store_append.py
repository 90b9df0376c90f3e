"""One write of many log entries (the engine's tick, a check's resolutions) through the store.

Run: .venv/bin/python bench/store_append.py [--entries 200] [--writes 20] [--backends sqlite,postgres]

On a fresh store per backend (a SQLite file; a new database at ``$DECONFLICT_TEST_POSTGRES``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), ``--writes`` writes of
``--entries`` entries each, typical alert entries addressed to one party, through what a user of
the store calls: ``Store.append_events`` (sealed one after the other, then one INSERT per table).
Anchor, same run, same store, alternating with it: the same drafts appended one ``append_entry``
at a time inside one ``write_transaction`` (three INSERT round trips an entry, what
``append_events`` did before). Wall and process CPU per write (median), entries/s; the
PostgreSQL server's own CPU is not counted (it is another process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from deconflict.store import EventDraft, Store, open_store

SERVER = os.environ.get(
    "DECONFLICT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def drafts(n: int, tag: str) -> list[EventDraft]:
    return [
        EventDraft(
            "host",
            "alert.raised",
            {"alert_id": f"{tag}-{i}", "party": "p1", "own_aircraft": "SYN01234", "level": 2,
             "t_in_s": 93.5, "dcpa_nm": 1.25, "time_s": 1.8e9 + i},
            ("p1",),
        )
        for i in range(n)
    ]  # fmt: skip


def one_by_one(store: Store, batch: list[EventDraft]) -> None:
    with store.write_transaction() as (conn, head):
        for d in batch:
            store.append_entry(conn, head, d)


def timed(fn: Callable[[], None]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def run(store: Store, entries: int, writes: int) -> dict[str, tuple[float, float]]:
    got: dict[str, list[tuple[float, float]]] = {"append_events": [], "append_entry each": []}
    for w in range(writes):
        batch, anchor = drafts(entries, f"a{w}"), drafts(entries, f"b{w}")
        got["append_events"].append(timed(lambda b=batch: store.append_events(b)))
        got["append_entry each"].append(timed(lambda b=anchor: one_by_one(store, b)))
    return {
        k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
        for k, v in got.items()
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=200)
    ap.add_argument("--writes", type=int, default=20)
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    table = Table(title=f"{args.writes} writes of {args.entries} entries, medians per write")
    for col in ("backend", "path", "wall ms", "CPU ms", "entries/s (wall)", "anchor / path"):
        table.add_column(col)
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    for backend in args.backends.split(","):
        name = f"deconflict_bench_{uuid.uuid4().hex[:10]}"
        if backend == "postgres":
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = f"{SERVER.rsplit('/', 1)[0]}/{name}"
        else:
            url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'append.db'}"
        store = open_store(url)
        try:
            res = run(store, args.entries, args.writes)
        finally:
            store.close()
            if backend == "postgres":
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        anchor = res["append_entry each"][0]
        for path, (wall, cpu) in res.items():
            table.add_row(backend, path, f"{wall * 1e3:.1f}", f"{cpu * 1e3:.1f}",
                          f"{args.entries / wall:,.0f}", f"{anchor / wall:.2f}")  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
