"""``GET /v1/operations`` for a party with 1,000 own operations among 10,000, in-process.

Issue 11 (item 6): with 1,050 operations the listing took 46-84 s, because need-to-know compiled
and compared the volumes of every pair of (own, other) operations. Now it asks the service's
operation index for the pairs that conflict, all of the party's operations at once
(``OperationIndex.conflicts_among``), and computes views only for those. Goal: under 100 ms.

Scene: ``--parties`` parties (the first is "us", with ``--own`` operations; the rest share the
others), ``--n`` operations in all, each a square of 0.01° (about 0.8 × 1.1 km) placed at random
over a square of 5° (at 45° N, about 390 × 555 km; its side scaled by √(n / 10,000) so that the
density is the same at every size), one hour at a random time of one day, a random 2,000 ft band
below FL80; separation minima 5 NM / 1,000 ft (``icao-5nm``); procedures ``accept-by-priority`` (each
operation is declared with the tokens of those before it and a higher priority, so the
conflicting ones are accepted as such and need-to-know has something to show). SQLite file,
``synchronous=normal`` (to fill it faster; reads do not depend on it). Declared through the
service's own write path (``Deconflictor.write``), read through the endpoint with FastAPI's
``TestClient`` (the app in this process; its ASGI stack, JSON and all, but no socket).

Timed (medians of ``--repeats``): the endpoint; beside it the kernel alone (``shared_with``: the
index's pairs for the party) and the views. The old path (every own × every other operation
through ``intersection_view``) takes minutes at that size, so it runs on a smaller store
(``--old-n`` operations, ``--old-own`` of them ours) in the same run, beside the new path on that
same store; the two answers are asserted equal.

Run: ``.venv/bin/python bench/operations_list.py [--n 10000 --own 1000 --repeats 15]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from deconflict.engine.disclosure import shared_with
from deconflict.service import create_app
from deconflict.service.routes.operations import owner_view
from deconflict.service.schemas import SharedOperation
from deconflict.settings import Settings
from deconflict.strategic.model import parse_operation
from deconflict.strategic.need_to_know import intersection_view

ADMIN = "bench-admin-token"
DAY0 = datetime(2031, 1, 1, tzinfo=UTC)
WORLD = (-180.0, -90.0, 180.0, 90.0)


def square(lon: float, lat: float, start: datetime, floor_ft: float) -> dict[str, Any]:
    d = 0.01
    return {
        "polygon": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d]]],
        "altitude_lower": {"value": floor_ft, "units": "ft"},
        "altitude_upper": {"value": floor_ft + 2000.0, "units": "ft"},
        "time_start": start.isoformat(),
        "time_end": (start + timedelta(hours=1)).isoformat(),
    }


def fill(client: TestClient, n: int, own: int, parties: int, seed: int) -> list[Any]:
    """Register the parties and declare ``n`` operations (``own`` of them the first party's);
    returns the parties (the first is "us")."""
    app: Any = client.app
    store, rules = app.state.store, app.state.deconflictor
    made = []
    app.state.bench_tokens = {}
    for k in range(parties):
        party, token = store.add_party(f"p{k}", public_key="", contact=f"ops@p{k}")
        made.append(party)
        app.state.bench_tokens[party.id] = token
    rng = np.random.default_rng(seed)
    owners = np.array([0] * own + [1 + i % (parties - 1) for i in range(n - own)])
    rng.shuffle(owners)
    tokens: set[str] = set()
    for i, k in enumerate(owners.tolist()):
        party = made[k]
        start = DAY0 + timedelta(minutes=float(rng.uniform(0, 23 * 60)))
        side = 5.0 * (n / 10_000) ** 0.5
        lon, lat = rng.uniform(5.0, 5.0 + side), rng.uniform(45.0 - side / 2, 45.0 + side / 2)
        vol = square(lon, lat, start, float(rng.integers(0, 4)) * 2000)
        op = parse_operation(
            {"id": "new", "owner": party.id, "contact": party.contact, "volumes": [vol],
             "priority": i, "state": "Accepted"}
        )  # fmt: skip
        record = rules.write(party, op, tokens)
        tokens.add(record.token)
    return made


def old_listing(client: TestClient, party: Any) -> list[dict[str, Any]]:
    """The listing as it was before issue 11: every other operation's view computed against
    every one of the party's operations."""
    app: Any = client.app
    store, rules, disclosure = app.state.store, app.state.deconflictor, app.state.disclosure
    records = store.query_operations(WORLD, 0.0, 1e11)
    out: list[Any] = [owner_view(r, party) for r in records if r.owner_id == party.id]
    others = [r for r in records if r.owner_id != party.id]
    mine = [rules.model(r) for r in store.operations_of(party.id)]
    for r in others:
        other = rules.model(r)
        seen = intersection_view(other, mine, disclosure.buffers)  # not the views computed
        if seen is not None:
            parts = [p.model_dump(mode="json") for p in seen.parts]
            out.append(SharedOperation(**disclosure._shape(other, parts, None)))
    return [o.model_dump(mode="json") for o in out]


def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    """Median seconds of ``repeats`` calls (after a first one), and the last result; the first
    call's seconds and the median process CPU seconds (every thread of this process: the
    app's and the test client's) are left in ``timed.first_s`` and ``timed.cpu_s``."""
    t = time.perf_counter()
    result = fn()
    timed.first_s = time.perf_counter() - t  # type: ignore[attr-defined]
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    timed.cpu_s = statistics.median(cpu)  # type: ignore[attr-defined]
    return statistics.median(times), result


def scene(folder: Path, name: str, n: int, own: int, parties: int, seed: int) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{folder / name}.db",
        sqlite_synchronous="normal",
        admin_token=ADMIN,
        separation_standard="icao-5nm",
        conflict_rule="accept-by-priority",
    )
    client = TestClient(create_app(settings))
    client.__enter__()
    started = time.perf_counter()
    app: Any = client.app
    app.state.bench_us = fill(client, n, own, parties, seed)[0]
    print(f"  {name}: {n:,} operations declared in {time.perf_counter() - started:.1f} s")
    return client


def measure(folder: Path, name: str, n: int, own: int, args: Any, *, old: bool) -> dict[str, Any]:
    """Time the endpoint, the kernel and the views on one scene (and the old path if ``old``)."""
    client = scene(folder, name, n, own, args.parties, args.seed)
    app: Any = client.app
    us = app.state.bench_us
    head = {"Authorization": f"Bearer {app.state.bench_tokens[us.id]}"}

    def endpoint() -> Any:
        r = client.get("/v1/operations", headers=head)
        assert r.status_code == 200, r.text
        return r.json()["operations"]

    t_endpoint, listed = timed(endpoint, args.repeats)
    t_first = timed.first_s  # type: ignore[attr-defined]
    t_cpu = timed.cpu_s  # type: ignore[attr-defined]
    t_pairs, pairs = timed(lambda: shared_with(app.state.deconflictor, us.id), args.repeats)
    disclosure = app.state.disclosure
    t_views, _ = timed(lambda: [disclosure.view(o, m) for o, m in pairs], args.repeats)
    row = {
        "scene": name, "n": n, "own": own, "shared": sum(1 for o in listed if o["shared"]),
        "endpoint_ms": 1000 * t_endpoint, "first_ms": 1000 * t_first,
        "cpu_ms": 1000 * t_cpu, "pairs_ms": 1000 * t_pairs, "views_ms": 1000 * t_views,
    }  # fmt: skip
    if old:
        t_old, before = timed(lambda: old_listing(client, us), 1)
        key = lambda o: (o["shared"], o["id"])  # noqa: E731
        assert sorted(before, key=key) == sorted(listed, key=key), "the two answers differ"
        row["old_ms"] = 1000 * t_old
    client.__exit__(None, None, None)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--own", type=int, default=1_000)
    ap.add_argument("--parties", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--old-n", type=int, default=500)
    ap.add_argument("--old-own", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="deconflict-bench-") as tmp:
        rows = [
            measure(Path(tmp), "small", args.old_n, args.old_own, args, old=True),
            measure(Path(tmp), "full", args.n, args.own, args, old=False),
        ]
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print()
    print("| scene | operations | ours | others shown | GET /v1/operations | its CPU | its first call "
          "(views not yet computed) | kernel: pairs (`shared_with`) | views (computed once) | "
          "old path (every pair) | old / new (first call) |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        old = f"{r['old_ms']:,.0f} ms" if "old_ms" in r else "not run (minutes)"
        ratio = f"{r['old_ms'] / r['first_ms']:,.0f}×" if "old_ms" in r else ""
        print(
            f"| {r['scene']} | {r['n']:,} | {r['own']:,} | {r['shared']:,} | "
            f"**{r['endpoint_ms']:.1f} ms** | {r['cpu_ms']:.1f} ms | {r['first_ms']:.0f} ms | {r['pairs_ms']:.1f} ms | "
            f"{r['views_ms']:.1f} ms | "
            f"{old} | {ratio} |"
        )


if __name__ == "__main__":
    main()
