"""Operation writes per second into one 1 km² cell, through the service, on SQLite.

``deconflict serve`` runs in a child process on a loopback port with a fresh SQLite file; this
process is the load: ``--clients`` asyncio connections (keep-alive, raw HTTP/1.1, one request in
flight each, so the client costs little CPU on a shared machine), declaring
operations in a 1 km × 1 km square at 47.4° N. The square is cut into 10 × 10 cells of 90 m
(10 m apart); operation i takes cell i mod 100 for 50 s in time slot i div 100 (60 s apart), and
belongs to one of two parties in turn, so each new operation has neighbours in space and time
that the check must clear. Every ``--probe-every``-th request is instead a probe: an operation of
the other party on an existing one's cell and slot, sent without its token, which must get 409
naming exactly that operation (the awareness check is verified on every probe, not sampled).

Reported: committed writes per second, p50/p99 latency of all requests, probes correct, the
server's CPU per request and writes per server CPU-second (steadier than wall-clock rates on a
shared machine), and the load generator's own CPU per request. The
anchor is InterUSS's figure for one busy cell (6-8 writes/s, its issue #1512; quoted from
../shared/reference/anchors.md, not measured here: its DSS is not installed).

Run: ``.venv/bin/python bench/operations_write.py [--seconds 10] [--clients 8]
[--synchronous full|normal]``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from deconflict.engine.declarations import signed_declaration
from deconflict.hotline.keys import Signer, private_key_from_pem

REPO = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-token"
INTERUSS_CELL_WRITES_PER_S = (6.0, 8.0)
LAT0, LON0 = 47.4, 8.5
M_PER_DEG_LAT = 111_132.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(LAT0))
T0 = datetime(2031, 1, 1, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db: str, port: int, standard: str = "none", synchronous: str = "full"
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DECONFLICT_ADMIN_TOKEN": ADMIN,
        "DECONFLICT_SQLITE_SYNCHRONOUS": synchronous,
        "DECONFLICT_SEPARATION_STANDARD": standard,
        "DECONFLICT_CONFLICT_RULE": "reject",
    }
    cmd = [
        sys.executable,
        "-c",
        "from deconflict.cli import main; main()",
        "serve",
        "--db",
        db,
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, env=env, cwd=REPO)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def call(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any, token: str
) -> tuple[int, Any]:
    data = json.dumps(body).encode()
    conn.request(
        method,
        path,
        body=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def cell_volume(i: int) -> dict[str, Any]:
    cell, slot = i % 100, i // 100
    row, col = divmod(cell, 10)
    x0, y0 = col * 100.0, row * 100.0
    lon = [LON0 + (x0 + dx) / M_PER_DEG_LON for dx in (0.0, 90.0, 90.0, 0.0)]
    lat = [LAT0 + (y0 + dy) / M_PER_DEG_LAT for dy in (0.0, 0.0, 90.0, 90.0)]
    start = T0 + timedelta(seconds=60 * slot)
    return {
        "polygon": [[[a, b] for a, b in zip(lon, lat, strict=True)]],
        "altitude_lower": {"value": 0, "units": "ft"},
        "altitude_upper": {"value": 400, "units": "ft"},
        "time_start": start.isoformat(),
        "time_end": (start + timedelta(seconds=50)).isoformat(),
    }


class Load:
    """Shared state of the load threads."""

    def __init__(self, tokens: list[str], probe_every: int, signers: list[Signer]) -> None:
        self.tokens = tokens
        self.signers = signers
        self.probe_every = probe_every
        self.next_i = 0
        self.committed: dict[int, tuple[str, int]] = {}  # slot index -> (id, owner)
        self.latencies_s: list[float] = []
        self.writes = 0
        self.probes = 0
        self.probes_ok = 0
        self.errors: list[str] = []

    def signed(self, owner: int, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` signed by party ``owner``'s key, as its client does (the client's cost)."""
        signer = self.signers[owner]
        return signed_declaration(signer, signer.party, body, time_s=time.time())

    def take(self) -> int:
        i = self.next_i
        self.next_i += 1
        return i


def _request(port: int, body: Any, token: str) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST /v1/operations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, Any]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length)
    return status, json.loads(body)


async def worker(port: int, load: Load, stop: asyncio.Event) -> None:
    """One keep-alive connection; one request in flight at a time (asyncio, so the load
    costs little CPU: raw HTTP/1.1 bytes, no client library)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            target = None
            if n % load.probe_every == 0 and load.committed:
                target = max(load.committed)  # the newest: its neighbours are busiest
            if target is not None:
                op_id, owner = load.committed[target]
                body = load.signed(1 - owner, {"volumes": [cell_volume(target)]})
                req = _request(port, body, load.tokens[1 - owner])
                t = time.perf_counter()
                status, out = await _exchange(reader, writer, req)
                load.latencies_s.append(time.perf_counter() - t)
                missing = [m["id"] for m in out.get("error", {}).get("missing", [])]
                load.probes += 1
                if status == 409 and missing == [op_id]:
                    load.probes_ok += 1
                else:
                    load.errors.append(f"probe of {op_id}: {status} {out}")
                continue
            i = load.take()
            owner = i % 2
            req = _request(
                port, load.signed(owner, {"volumes": [cell_volume(i)]}), load.tokens[owner]
            )
            t = time.perf_counter()
            status, out = await _exchange(reader, writer, req)
            load.latencies_s.append(time.perf_counter() - t)
            if status == 201:
                load.writes += 1
                load.committed[i] = (out["id"], owner)
            else:
                load.errors.append(f"write {i}: {status} {out}")
    finally:
        writer.close()


async def drive(port: int, load: Load, clients: int, seconds: float, progress: Any) -> float:
    """Run ``clients`` connections for ``seconds``; the elapsed time."""
    stop = asyncio.Event()
    started = time.perf_counter()
    tasks = [asyncio.create_task(worker(port, load, stop)) for _ in range(clients)]
    task = None if progress is None else progress.add_task("writing", total=seconds)
    while (elapsed := time.perf_counter() - started) < seconds:
        await asyncio.sleep(0.25)
        if progress is not None:
            progress.update(task, completed=elapsed)
    stop.set()
    await asyncio.gather(*tasks)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--probe-every", type=int, default=10)
    ap.add_argument(
        "--synchronous",
        choices=("full", "normal"),
        default="full",
        help="SQLite durability (the service's sqlite_synchronous setting; default full)",
    )
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = free_port()
        server = start_server(db, port, synchronous=args.synchronous)
        try:
            admin = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            tokens, signers = [], []
            for name in ("alpha", "bravo"):
                status, out = call(admin, "POST", "/v1/parties", {"name": name}, ADMIN)
                assert status == 201, out
                tokens.append(out["token"])
                signers.append(Signer(name, private_key_from_pem(out["private_key_pem"].encode())))
            load = Load(tokens, args.probe_every, signers)
            # warm up (index, connections) outside the measurement
            warm = Load(tokens, 10**9, signers)
            warm.next_i = 10**6
            asyncio.run(drive(port, warm, 1, 1.0, None))

            import psutil

            proc = psutil.Process(server.pid)
            cpu0 = proc.cpu_times()
            me0 = os.times()
            with Progress() as progress:
                elapsed = asyncio.run(drive(port, load, args.clients, args.seconds, progress))
            cpu1 = proc.cpu_times()
            me1 = os.times()
            server_user_s = cpu1.user - cpu0.user
            server_cpu_s = server_user_s + (cpu1.system - cpu0.system)
            client_cpu_s = (me1.user - me0.user) + (me1.system - me0.system)
        finally:
            server.terminate()
            server.wait(timeout=30)

    lat_ms = np.array(load.latencies_s) * 1000.0
    rate = load.writes / elapsed
    lo, hi = INTERUSS_CELL_WRITES_PER_S
    load1 = os.getloadavg()[0]
    print(
        f"clients {args.clients}, {elapsed:.1f} s, SQLite file (synchronous={args.synchronous}), "
        "loopback, "
        f"{os.cpu_count()} cores, load average {load1:.1f}"
    )
    print(f"committed writes     {load.writes:>8,}  ({rate:,.0f} per second)")
    requests = len(load.latencies_s)
    print(
        f"server CPU per request {1000 * server_cpu_s / requests:.2f} ms "
        f"({requests / server_cpu_s:,.0f} requests per CPU-second; "
        f"{100 * server_user_s / server_cpu_s:.0f}% user), "
        f"{load.writes / server_cpu_s:,.0f} writes per server CPU-second"
    )
    print(f"client CPU per request {1000 * client_cpu_s / requests:.2f} ms")
    print(f"probes (409 correct) {load.probes_ok:>8,} of {load.probes:,}")
    print(
        f"latency, all requests: p50 {np.percentile(lat_ms, 50):.2f} ms, "
        f"p99 {np.percentile(lat_ms, 99):.2f} ms"
    )
    print(
        f"vs InterUSS one busy cell ({lo:.0f}-{hi:.0f}/s, quoted): x{rate / hi:,.0f} to "
        f"x{rate / lo:,.0f}"
    )
    if load.errors:
        print(f"{len(load.errors)} unexpected answers, first: {load.errors[0]}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
