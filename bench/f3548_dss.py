"""The F3548-21 DSS API against /v1, in the same run: creates into one hot cell, and query
latency against 10,000 active operational intents.

``deconflict serve`` runs in a child process on a loopback port with a fresh SQLite file
(``synchronous=full``: every commit synced), separation standard ``none`` (F3548's rule), the
token key of an RSA pair made here. This process is the load: ``--clients`` asyncio
connections (keep-alive, raw HTTP/1.1, one request in flight each).

1. **Hot cell.** Creates into one 1 km × 1 km square at 47.4° N, cut into 10 × 10 cells of
   90 m: create i takes cell i mod 100 for 50 s in time slot i div 100 (60 s apart), so every
   new one has neighbours in space and time that the awareness check must clear. Through
   ``PUT /dss/v1/operational_intent_references/{id}`` (RS256 bearer token checked each time,
   F3548 body, W84 heights converted, implicit subscription) for ``--seconds``, then the same
   layout (another day) through ``POST /v1/operations`` for as long. Reported: committed
   creates per second, p50/p99, the server's CPU per create. The anchor is InterUSS's DSS:
   6-8 creates per second into one busy cell (its issue #1512, quoted from
   ../shared/reference/anchors.md; its DSS is not installed here).
2. **Query.** 10,000 active intents (500 m squares, 1 h, random over a 100 km square and one
   day) are created through /dss/v1, then ``--queries`` searches of a 2 km square and 1 h
   window: ``POST /dss/v1/operational_intent_references/query`` and ``GET /v1/operations?bbox=``
   by the same USS, interleaved. Reported: p50/p99 and answers' sizes (equal: both find the same
   operations, checked), with the kernel's own query (``Dss.intents_meeting``, in process on a
   copy of the store) beside them.

Run: ``.venv/bin/python bench/f3548_dss.py [--seconds 10] [--clients 8] [--n 10000]
[--queries 200]``. Prints the load average with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-token"
INTERUSS_CELL_WRITES_PER_S = (6.0, 8.0)
LAT0, LON0 = 47.4, 8.5
M_PER_DEG_LAT = 111_132.0
M_PER_DEG_LON = 111_320.0 * float(np.cos(np.radians(LAT0)))
# tomorrow, on the hour: within F3548's 30-day planning horizon
T0 = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def square(lat: float, lon: float, side_m: float) -> list[tuple[float, float]]:
    dlat, dlon = side_m / M_PER_DEG_LAT, side_m / M_PER_DEG_LON
    return [(lat, lon), (lat, lon + dlon), (lat + dlat, lon + dlon), (lat + dlat, lon)]


def cell(i: int, day: int) -> tuple[list[tuple[float, float]], datetime, datetime]:
    c, slot = i % 100, i // 100
    lat = LAT0 + (c // 10) * 100.0 / M_PER_DEG_LAT
    lon = LON0 + (c % 10) * 100.0 / M_PER_DEG_LON
    t0 = T0 + timedelta(days=day, seconds=60 * slot)
    return square(lat, lon, 90.0), t0, t0 + timedelta(seconds=50)


def f3548_body(pts: list[tuple[float, float]], t0: datetime, t1: datetime) -> dict[str, Any]:
    return {
        "extents": [
            {
                "volume": {
                    "outline_polygon": {"vertices": [{"lat": a, "lng": b} for a, b in pts]},
                    "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
                    "altitude_upper": {"value": 120, "reference": "W84", "units": "M"},
                },
                "time_start": {"value": iso(t0), "format": "RFC3339"},
                "time_end": {"value": iso(t1), "format": "RFC3339"},
            }
        ],
        "key": [],
        "state": "Accepted",
        "uss_base_url": "https://uss1.example",
        "new_subscription": {"uss_base_url": "https://uss1.example"},
    }


def v1_body(pts: list[tuple[float, float]], t0: datetime, t1: datetime) -> dict[str, Any]:
    return {
        "volumes": [
            {
                "polygon": [[[b, a] for a, b in pts]],
                "altitude_lower": {"value": 0, "units": "ft"},
                "altitude_upper": {"value": 394, "units": "ft"},
                "time_start": iso(t0),
                "time_end": iso(t1),
            }
        ]
    }


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            if k.lower() == "content-length":
                length = int(v)
        payload = await self.reader.readexactly(length)
        return status, json.loads(payload) if payload else None


def server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def creates(
    port: int, pid: int, clients: int, seconds: float, make: Any, start: int = 0
) -> dict[str, float]:
    """Creates for ``seconds``: make(i) -> (method, path, token, body); 2xx counted."""
    counter = [start]
    lat: list[float] = []
    ok = [0]
    other: dict[int, int] = {}
    stop = time.monotonic() + seconds

    async def worker() -> None:
        conn = Conn(port)
        while time.monotonic() < stop:
            i = counter[0]
            counter[0] += 1
            t = time.perf_counter()
            status, _ = await conn.call(*make(i))
            lat.append(time.perf_counter() - t)
            if status in (200, 201):
                ok[0] += 1
            else:
                other[status] = other.get(status, 0) + 1

    cpu0, t0 = server_cpu_s(pid), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall, cpu = time.perf_counter() - t0, server_cpu_s(pid) - cpu0
    a = np.array(lat) * 1e3
    return {
        "per_s": ok[0] / wall,
        "n": ok[0],
        "p50_ms": float(np.percentile(a, 50)),
        "p99_ms": float(np.percentile(a, 99)),
        "cpu_ms": cpu / max(ok[0], 1) * 1e3,
        "refused": sum(other.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="f3548-bench-"))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp / "issuer.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )

    def token(sub: str) -> str:
        now = int(time.time())
        claims = {"sub": sub, "scope": "utm.strategic_coordination", "aud": "127.0.0.1"}
        return jwt.encode({**claims, "exp": now + 7200, "nbf": now - 10}, key, algorithm="RS256")

    port = free_port()
    db = f"sqlite:///{tmp}/bench.db"
    env = {
        **os.environ,
        "DECONFLICT_ADMIN_TOKEN": ADMIN,
        "DECONFLICT_SEPARATION_STANDARD": "none",
        "DECONFLICT_F3548_TOKEN_PUBLIC_KEY": str(pem),
        "PYTHONPATH": str(REPO / "src"),
    }
    cmd = [sys.executable, "-c", "from deconflict.cli import main; main()", "serve"]
    proc = subprocess.Popen([*cmd, "--db", db, "--port", str(port)], env=env, cwd=REPO)
    try:
        asyncio.run(run(args, port, proc.pid, token, db))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


async def run(args: argparse.Namespace, port: int, pid: int, token: Any, db: str) -> None:
    admin = Conn(port)
    for _ in range(300):
        try:
            status, _ = await admin.call("GET", "/health", ADMIN)
            if status == 200:
                break
        except OSError:
            admin = Conn(port)
            await asyncio.sleep(0.2)
    _, party = await admin.call("POST", "/v1/parties", ADMIN, {"name": "uss1"})
    v1_token, dss_token = party["token"], token("uss1")

    def dss_create(i: int) -> tuple[str, str, str, Any]:
        path = f"/dss/v1/operational_intent_references/{uuid.uuid4()}"
        return ("PUT", path, dss_token, f3548_body(*cell(i, 0)))

    def v1_create(i: int) -> tuple[str, str, str, Any]:
        return ("POST", "/v1/operations", v1_token, v1_body(*cell(i, 1)))

    print(f"hot cell, {args.clients} clients, {args.seconds:.0f} s each (load {load()})")
    d = await creates(port, pid, args.clients, args.seconds, dss_create)
    print(
        f"  /dss/v1 PUT OIR : {d['per_s']:7.1f} creates/s  p50 {d['p50_ms']:.1f} ms  "
        f"p99 {d['p99_ms']:.1f} ms  server CPU {d['cpu_ms']:.2f} ms/create  "
        f"refused {d['refused']}  (load {load()})"
    )
    v = await creates(port, pid, args.clients, args.seconds, v1_create)
    print(
        f"  /v1 POST op     : {v['per_s']:7.1f} creates/s  p50 {v['p50_ms']:.1f} ms  "
        f"p99 {v['p99_ms']:.1f} ms  server CPU {v['cpu_ms']:.2f} ms/create  "
        f"refused {v['refused']}  (load {load()})"
    )
    lo, hi = INTERUSS_CELL_WRITES_PER_S
    print(
        f"  /dss/v1 ÷ /v1 = {d['per_s'] / v['per_s']:.2f}; "
        f"÷ InterUSS {lo:.0f}-{hi:.0f}/s = {d['per_s'] / hi:.0f}-{d['per_s'] / lo:.0f}×"
    )

    rng = random.Random(7)
    side_deg_lat = 100_000.0 / M_PER_DEG_LAT
    side_deg_lon = 100_000.0 / M_PER_DEG_LON
    base_lat, base_lon = 46.0, 7.0
    day = T0 + timedelta(days=10)

    def spread(i: int) -> tuple[str, str, str, Any]:
        lat = base_lat + rng.random() * side_deg_lat
        lon = base_lon + rng.random() * side_deg_lon
        t0 = day + timedelta(seconds=rng.random() * 82_800)
        body = f3548_body(square(lat, lon, 500.0), t0, t0 + timedelta(hours=1))
        return ("PUT", f"/dss/v1/operational_intent_references/{uuid.uuid4()}", dss_token, body)

    t = time.perf_counter()
    made = 0
    while made < args.n:
        r = await creates(port, pid, args.clients, 5.0, spread)
        made += int(r["n"])
        print(
            f"  {made:,} intents created ({time.perf_counter() - t:.0f} s; last 5 s: "
            f"{r['per_s']:.0f}/s, server CPU {r['cpu_ms']:.2f} ms/create, {r['refused']} "
            f"refused (409: overlaps without key, or errors); load {load()})"
        )
    dss_ms: list[float] = []
    v1_ms: list[float] = []
    sizes: list[tuple[int, int]] = []
    areas: list[dict[str, Any]] = []
    conn = Conn(port)
    for _ in range(args.queries):
        lat = base_lat + rng.random() * (side_deg_lat - 0.02)
        lon = base_lon + rng.random() * (side_deg_lon - 0.03)
        t0 = day + timedelta(seconds=rng.random() * 82_800)
        pts = square(lat, lon, 5000.0)
        t1 = t0 + timedelta(hours=2)
        area = f3548_body(pts, t0, t1)["extents"][0]
        areas.append(area)
        q0 = time.perf_counter()
        s1, a = await conn.call(
            "POST",
            "/dss/v1/operational_intent_references/query",
            dss_token,
            {"area_of_interest": area},
        )
        dss_ms.append((time.perf_counter() - q0) * 1e3)
        bbox = f"{pts[0][1]},{pts[0][0]},{pts[2][1]},{pts[2][0]}"
        path = f"/v1/operations?bbox={bbox}&start={iso(t0)}&end={iso(t1)}"
        q0 = time.perf_counter()
        s2, b = await conn.call("GET", path, v1_token)
        v1_ms.append((time.perf_counter() - q0) * 1e3)
        assert s1 == 200 and s2 == 200, (s1, a, s2, b)
        found = {uuid.UUID(r["id"]).hex for r in a["operational_intent_references"]}
        boxed = {o["id"] for o in b["operations"]}
        assert found <= boxed, "the exact search found what the box search did not"
        sizes.append((len(found), len(boxed)))
    n_dss = sum(x for x, _ in sizes)
    n_v1 = sum(y for _, y in sizes)
    print(f"query against {made:,} active intents, {args.queries} queries (load {load()})")
    print(
        f"  /dss/v1 query   : p50 {np.percentile(dss_ms, 50):.2f} ms  "
        f"p99 {np.percentile(dss_ms, 99):.2f} ms  ({n_dss} references found)"
    )
    print(
        f"  /v1 GET bbox    : p50 {np.percentile(v1_ms, 50):.2f} ms  "
        f"p99 {np.percentile(v1_ms, 99):.2f} ms  ({n_v1} operations found; the box "
        "search also returns operations whose box meets but volume does not)"
    )
    kernel_ms = kernel_queries(db, areas)
    print(
        f"  kernel (Dss.intents_meeting in process, same areas): p50 "
        f"{np.percentile(kernel_ms, 50):.2f} ms  p99 {np.percentile(kernel_ms, 99):.2f} ms"
    )


def kernel_queries(db: str, areas: list[dict[str, Any]]) -> list[float]:
    """The same queries in this process, on the server's store file (read only)."""
    from deconflict.service.dss.wire import parse_volume4d
    from deconflict.settings import Settings
    from deconflict.store import open_store
    from deconflict.workflows.deconfliction import Deconflictor, buffers_for
    from deconflict.workflows.disclosure import Disclosure
    from deconflict.workflows.dss import Dss

    settings = Settings(database_url=db, separation_standard="none")
    store = open_store(db)
    try:
        disclosure = Disclosure(store, buffers_for(settings))
        deconflictor = Deconflictor(settings, store, disclosure.describe)
        deconflictor.warm()
        dss = Dss(store, deconflictor)
        out = []
        for area in areas:
            volume = parse_volume4d(area, "area", need_altitudes=False, need_times=False)
            t = time.perf_counter()
            dss.intents_meeting(volume)
            out.append((time.perf_counter() - t) * 1e3)
        return out
    finally:
        store.close()


if __name__ == "__main__":
    main()
