"""Checking a new operation against 10,000 active ones, as the service does it (issue 4: < 5 ms).

Scene: ``--n`` operations over a 1,000 km square around Toulouse during one day (polygons of 6-16
vertices, 1-25 km across, 30 min - 4 h, altitude bands up to FL400), written into a SQLite store
with ``--parties`` owners. Separation standard ``icao-5nm`` (5 NM / 1,000 ft buffers).

Measured in one run, on the same scene and candidates:

1. the service's check (``Deconflictor``: index kept in step with the store, then
   ``OperationIndex.query`` + the procedures' rule), in process;
2. the whole declaration through HTTP: ``deconflict serve`` in a child process on loopback,
   this process the client, ``POST /v1/operations`` (auth, validation, check, signed log entry,
   commit, answer: 201 or 409);
3. the alternative index: candidates from the store's grid-cell table (SQL, in the same
   process), then the exact test on them only;
4. the anchor: ``brute_force_conflicts`` (every volume pair tested on its own, no index) on
   ``--brute`` candidates.

Run: ``.venv/bin/python bench/operations_check.py [--n 10000] [--queries 200] [--grid 20]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import track

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deconflict.geo import destination_deg
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.service.parties import register_party
from deconflict.settings import Settings
from deconflict.store import Decision, OperationDraft, OperationRecord, WriteView, open_store
from deconflict.strategic.index import brute_force_conflicts, conflicting_ids
from deconflict.strategic.model import Operation, parse_operation
from deconflict.workflows.declarations import signed_declaration
from deconflict.workflows.deconfliction import Deconflictor
from deconflict.workflows.strategic_records import draft_for, footprint_bbox, operation_of
from operations_write import ADMIN, call, free_port, start_server

T0 = datetime(2031, 6, 1, tzinfo=UTC)


def random_volume(rng: np.random.Generator) -> dict[str, Any]:
    lat0, lon0 = destination_deg(43.6, 1.44, rng.uniform(0, 360), 500_000 * np.sqrt(rng.uniform()))
    size_m = rng.uniform(500, 12_500)
    start = T0 + timedelta(seconds=float(rng.uniform(0, 86_400)))
    end = start + timedelta(seconds=float(rng.uniform(1_800, 14_400)))
    lower = float(rng.choice([0, 50, 100, 150, 200, 250, 300]))
    k = int(rng.integers(6, 17))
    az = (np.arange(k) + rng.uniform(0.0, 0.8, k)) * (360.0 / k)
    r = size_m * rng.uniform(0.6, 1.0, k)
    lat, lon = destination_deg(np.full(k, lat0), np.full(k, lon0), az, r)
    return {
        "polygon": [[[float(x), float(y)] for x, y in zip(lon, lat, strict=True)]],
        "altitude_lower": {"value": lower, "units": "FL"},
        "altitude_upper": {"value": lower + float(rng.choice([20, 50, 100])), "units": "FL"},
        "time_start": start.isoformat(),
        "time_end": end.isoformat(),
    }


def random_operation(rng: np.random.Generator, owner: str) -> Operation:
    return parse_operation(
        {
            "id": "new",
            "owner": owner,
            "volumes": [random_volume(rng) for _ in range(int(rng.integers(1, 3)))],
            "priority": int(rng.integers(0, 5)),
        }
    )


def accept(d: OperationDraft, cur: OperationRecord | None, view: WriteView) -> Decision:
    return Decision(commit=True, state=d.state)


def stats_ms(values_s: Sequence[float]) -> str:
    a = np.asarray(values_s) * 1000.0
    return f"median {np.median(a):.2f} ms, p99 {np.percentile(a, 99):.2f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--brute", type=int, default=5)
    ap.add_argument("--grid", type=int, default=20)
    ap.add_argument("--parties", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(7)

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'check.db'}"
        settings = Settings(database_url=db, admin_token=ADMIN, separation_standard="icao-5nm")
        store = open_store(db)
        parties = [
            store.get_party(register_party(store, f"party-{k}")["id"]) for k in range(args.parties)
        ]
        scene: list[Operation] = []
        for i in track(range(args.n), description=f"writing {args.n:,} operations"):
            owner = parties[i % len(parties)]
            op = random_operation(rng, owner.id)
            record, _ = store.write_operation(draft_for(op, owner, None), accept)
            assert record is not None
            scene.append(operation_of(record))

        # 1. the service's check, in process
        dec = Deconflictor(settings, store, lambda o, v, lookup: {})
        candidates = [random_operation(rng, parties[0].id) for _ in range(args.queries)]
        t = time.perf_counter()
        dec.warm()  # what the service does at start: the index, rebuilt from the store
        load_s = time.perf_counter() - t
        check_s, hits = [], []
        for cand in track(candidates, description="checking in process"):
            t = time.perf_counter()
            others, _verdict = dec.conflicts_of(cand, parties[0].id, set())
            check_s.append(time.perf_counter() - t)
            hits.append(len(others))

        # 1b. the alternative: candidates from the store's grid-cell table (SQL), exact test
        by_id = {op.id: op for op in scene}
        grid_s = []
        for cand in track(candidates[: args.grid], description="grid cells + exact test"):
            t = time.perf_counter()
            box = footprint_bbox(cand.volumes, dec.buffers.horizontal_m)
            t0 = min(v.start_s for v in cand.volumes)
            t1 = max(v.end_s for v in cand.volumes)
            near = [by_id[r.id] for r in store.query_operations(box, t0, t1)]
            found = conflicting_ids(brute_force_conflicts(cand, near, dec.buffers))
            grid_s.append(time.perf_counter() - t)
            assert found == conflicting_ids(dec.index.query(cand)), "grid and index differ"

        # 3. anchor: brute force on a few candidates (and the same answers)
        brute_s = []
        for cand in track(candidates[: args.brute], description="brute force (anchor)"):
            t = time.perf_counter()
            ref = conflicting_ids(brute_force_conflicts(cand, scene, dec.buffers))
            brute_s.append(time.perf_counter() - t)
            assert ref == conflicting_ids(dec.index.query(cand)), "index and brute force differ"
        store.close()

        # 2. through HTTP, load from this process
        port = free_port()
        server = start_server(db, port, standard="icao-5nm")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            made = call(conn, "POST", "/v1/parties", {"name": "bench"}, ADMIN)[1]
            token = made["token"]
            signer = Signer("bench", private_key_from_pem(made["private_key_pem"].encode()))

            def signed(op: Any) -> dict[str, Any]:
                body = {"volumes": [v.model_dump(mode="json") for v in op.volumes]}
                return signed_declaration(signer, "bench", body, time_s=time.time())

            warm = random_operation(rng, "x")
            call(conn, "POST", "/v1/operations", signed(warm), token)  # warm the connection
            http_s, codes = [], []
            for cand in track(candidates, description="declaring over HTTP"):
                body = signed(cand)
                t = time.perf_counter()
                status, _ = call(conn, "POST", "/v1/operations", body, token)
                http_s.append(time.perf_counter() - t)
                codes.append(status)
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(
        f"{args.n:,} active operations, {args.queries} candidates, icao-5nm buffers, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"index rebuilt from the store in {load_s:.2f} s; mean conflicts per candidate "
        f"{statistics.mean(hits):.1f}"
    )
    print(f"service check, in process:  {stats_ms(check_s)}")
    print(
        f"grid cells (SQL) + exact:    {stats_ms(grid_s)}  -> index is "
        f"x{np.median(grid_s) / np.median(check_s):,.1f} faster"
    )
    print(
        f"declaration over HTTP:       {stats_ms(http_s)}  "
        f"({codes.count(201)} accepted, {codes.count(409)} refused)"
    )
    print(
        f"brute force (anchor):        {stats_ms(brute_s)}  -> check is "
        f"x{np.median(brute_s) / np.median(check_s):,.0f} faster"
    )
    print(
        json.dumps(
            {
                "check_median_ms": 1000 * float(np.median(check_s)),
                "grid_median_ms": 1000 * float(np.median(grid_s)),
                "http_median_ms": 1000 * float(np.median(http_s)),
            }
        )
    )


if __name__ == "__main__":
    main()
