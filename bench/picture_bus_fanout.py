"""The picture bus's two candidates on the same 10,000-track frames: publish -> delivery latency
and CPU per tick, NATS JetStream against a PostgreSQL table row + NOTIFY.

Run: .venv/bin/python bench/picture_bus_fanout.py [--aircraft 10000] [--rounds 60]
[--interval 0.5] [--instances 2] [--load 0]

The frames are real ones: a synthetic scenario of N aircraft (three parties) is ticked until its
tracks are confirmed and each party's picture is encoded once (``picture_wire``, 0.1-0.2 MB
each). A publisher process (``picture_publisher.NatsPublisher`` or ``PostgresPublisher``, as
``deconflict engine`` uses them) publishes the three frames every ``--interval`` s; before each
round it rewrites only the frames' small uncompressed head with the wall time (the compressed
picture is the same bytes). ``--instances`` subscriber processes (``picture_relay``'s
``NatsSubscriber`` / ``PostgresSubscriber``, as a ``deconflict serve`` instance runs them) note
each frame's arrival. Latency = arrival - the head's time (one machine clock). CPU = process
CPU time (all threads) per round, publisher and each subscriber, and the server's: the
``nats-server`` process (shared with whatever else uses it) or the PostgreSQL backends connected
to the bench's database (read from ``/proc`` every 0.2 s). Anchor, same run: encoding the three
parties' pictures (the work done once per tick whatever the bus; median of 3). ``--load K``: K
busy-loop processes run meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import pickle
import struct
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from rich.console import Console

SERVER = os.environ.get(
    "DECONFLICT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NATS = os.environ.get("DECONFLICT_NATS_URL", "nats://127.0.0.1:4222")
NS = "bench"  # the bench's own subjects on the NATS server


def restamp(frame: bytes, wall_s: float, seq: int) -> bytes:
    """``frame`` (DCPZ) with its small head's ``tick_wall_s`` and ``seq`` replaced."""
    (head_len,) = struct.unpack_from("<I", frame, 4)
    head = json.loads(frame[8 : 8 + head_len])
    head["tick_wall_s"], head["seq"] = wall_s, seq
    raw = json.dumps(head, separators=(",", ":")).encode()
    raw += b" " * ((-(8 + len(raw))) % 8)
    return b"".join([frame[:4], struct.pack("<I", len(raw)), raw, frame[8 + head_len :]])


def head_of(frame: bytes) -> dict[str, Any]:
    (head_len,) = struct.unpack_from("<I", frame, 4)
    out: dict[str, Any] = json.loads(frame[8 : 8 + head_len])
    return out


CLK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """utime + stime of a process (s); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK


def server_pids(kind: str, db: str) -> list[int]:
    if kind == "postgres":
        engine = sa.create_engine(db)
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ).all()
        engine.dispose()
        return [int(r[0]) for r in rows]
    out = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and (d / "comm").read_text().strip() == "nats-server":
                out.append(int(d.name))
        except OSError:
            continue
    return out


class ServerCPU(threading.Thread):
    """Samples the server processes' CPU every 0.2 s: the CPU they used meanwhile."""

    def __init__(self, kind: str, db: str) -> None:
        super().__init__(daemon=True)
        self.kind, self.db = kind, db
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for pid in server_pids(self.kind, self.db):
                c = cpu_s(pid)
                self.first.setdefault(pid, c)
                self.last[pid] = max(self.last.get(pid, 0.0), c)
            self.done.wait(0.2)

    def used_s(self) -> float:
        return sum(self.last[p] - self.first[p] for p in self.last)


def busy(stop: Any) -> None:
    while not stop.is_set():
        for _ in range(100_000):
            pass


def subscriber(kind: str, db: str, ready: Any, stop: Any, out: Any) -> None:
    from deconflict.service.picture_relay import NatsSubscriber, PictureRelay, PostgresSubscriber

    lat: list[float] = []

    class Recording(PictureRelay):
        def put(self, party: str, frame: bytes) -> None:
            now = time.time()
            head = head_of(frame)
            if head.get("seq", 0) > 0:
                lat.append(now - float(head["tick_wall_s"]))
            super().put(party, frame)

    async def run() -> tuple[list[float], float]:
        relay = Recording()
        sub = NatsSubscriber(NATS, NS, relay) if kind == "nats" else PostgresSubscriber(db, relay)
        await sub.start()
        await asyncio.sleep(0.5)
        cpu0 = time.process_time()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        cpu = time.process_time() - cpu0
        await sub.stop()
        return lat, cpu

    out.put(asyncio.run(run()))


def publisher(kind: str, db: str, frames_file: str, rounds: int, interval: float, out: Any) -> None:
    from deconflict.service.picture_publisher import NatsPublisher, PostgresPublisher
    from deconflict.settings import Settings

    frames: dict[str, bytes] = pickle.loads(Path(frames_file).read_bytes())
    pub: Any = NatsPublisher(NATS, NS) if kind == "nats" else PostgresPublisher(db)
    _ = Settings  # the same classes `deconflict engine` opens from its settings
    cpu = 0.0
    next_t = time.monotonic()
    for k in range(1, rounds + 1):
        c0 = time.process_time()
        wall = time.time()
        pub.publish({p: restamp(f, wall, k) for p, f in frames.items()})
        pub.flush()  # acknowledged: the same work for both buses
        cpu += time.process_time() - c0
        next_t += interval
        time.sleep(max(0.0, next_t - time.monotonic()))
    time.sleep(1.0)
    pub.close()
    out.put(cpu)


def make_frames(n: int) -> tuple[dict[str, bytes], float]:
    """Each party's picture frame of an N-aircraft scene, and the time to encode all three."""
    from _picture import confirmed_sky
    from deconflict.service.live_picture import encode_picture_frame

    session = confirmed_sky(n)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        frames = {
            p: encode_picture_frame(session, p, 0, time.time()) for p in session.engine.parties
        }
        times.append(time.perf_counter() - t0)
    return frames, float(np.median(times))


def run_bus(kind: str, db: str, frames_file: str, args: argparse.Namespace) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    stop, q = ctx.Event(), ctx.Queue()
    readies = [ctx.Event() for _ in range(args.instances)]
    subs = [
        ctx.Process(target=subscriber, args=(kind, db, r, stop, q), daemon=True) for r in readies
    ]
    for s in subs:
        s.start()
    for r in readies:
        r.wait(120)
    server = ServerCPU(kind, db)
    server.start()
    pq = ctx.Queue()
    pub = ctx.Process(
        target=publisher, args=(kind, db, frames_file, args.rounds, args.interval, pq)
    )
    pub.start()
    pub_cpu = pq.get(timeout=args.rounds * args.interval + 300)
    pub.join()
    server.done.set()
    server.join()
    stop.set()
    results = [q.get(timeout=120) for _ in subs]
    for s in subs:
        s.join(timeout=30)
    lat = np.concatenate([np.asarray(r[0]) for r in results])
    return {
        "deliveries": lat.size,
        "p50_ms": float(np.median(lat) * 1000),
        "p99_ms": float(np.percentile(lat, 99) * 1000),
        "max_ms": float(lat.max() * 1000),
        "pub_cpu_ms": pub_cpu / args.rounds * 1000,
        "sub_cpu_ms": float(np.mean([r[1] for r in results]) / args.rounds * 1000),
        "server_cpu_ms": server.used_s() / args.rounds * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between rounds")
    ap.add_argument("--instances", type=int, default=2, help="subscriber processes")
    ap.add_argument("--load", type=int, default=0, help="busy-loop processes meanwhile")
    ap.add_argument("--buses", default="nats,postgres")
    args = ap.parse_args()
    console = Console()
    frames, encode_s = make_frames(args.aircraft)
    sizes = {p: len(f) for p, f in frames.items()}
    frames_file = Path(tempfile.mkdtemp()) / "frames.pickle"
    frames_file.write_bytes(pickle.dumps(frames))
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    name = f"deconflict_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = f"{SERVER.rsplit('/', 1)[0]}/{name}"
    ctx = mp.get_context("spawn")
    load_stop = ctx.Event()
    loaders = [ctx.Process(target=busy, args=(load_stop,), daemon=True) for _ in range(args.load)]
    for p in loaders:
        p.start()
    rows = {}
    load0 = os.getloadavg()[0]
    try:
        for kind in args.buses.split(","):
            rows[kind] = run_bus(kind, db, str(frames_file), args)
    finally:
        load_stop.set()
        for p in loaders:
            p.join(timeout=10)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    console.print(
        f"{args.aircraft} aircraft: frames {', '.join(f'{p} {b / 1e6:.2f} MB' for p, b in sizes.items())}; "
        f"{args.rounds} rounds every {args.interval} s to {args.instances} subscriber processes, "
        f"{args.load} busy-loop processes; load average {load0:.2f} / {os.getloadavg()[0]:.2f}"
    )
    console.print(f"anchor: encoding the three pictures {encode_s * 1000:.0f} ms (median of 3)")
    for kind, r in rows.items():
        console.print(
            f"{kind:8s}: deliveries {r['deliveries']}/{args.rounds * len(frames) * args.instances}; "
            f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; "
            f"CPU per round: publisher {r['pub_cpu_ms']:.1f} ms, each subscriber "
            f"{r['sub_cpu_ms']:.1f} ms, server {r['server_cpu_ms']:.1f} ms | p99 / anchor {r['p99_ms'] / (encode_s * 1000):.2f}"
        )


if __name__ == "__main__":
    main()
