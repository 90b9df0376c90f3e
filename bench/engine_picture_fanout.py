"""The live picture from an engine in its own process to 50 WebSocket clients over two
``deconflict serve`` instances, 10,000 aircraft, while busy-loop processes load the cores.

Run: .venv/bin/python bench/engine_picture_fanout.py [--aircraft 10000] [--clients 50]
[--seconds 30] [--warmup 10] [--load 2] [--buses nats,postgres]

Per bus (``DECONFLICT_PICTURE_BUS``), on a fresh PostgreSQL database: an engine process runs
the 10,000-aircraft synthetic scenario (three parties, about 19,000 tracks over their pictures)
on the store through its workflows, as ``deconflict engine`` does (``open_demo_store``, the
session ticking at 1 Hz with ``Session.run_realtime``, the picture published by
``picture_publisher.attach_publisher``: each party's frame encoded once per tick). Two ``deconflict
serve --db`` processes relay the frames; 50 clients in another process, spread over the three
parties and the two instances, each hold ``/v1/live/ws``. ``--load`` busy-loop processes (one
per core by default) run meanwhile. Latency = arrival at the client - the end of the tick that
made the picture (``tick_wall_s`` in the frame's uncompressed head; one machine clock): it
holds the encoding, the bus and the relay. Anchor, same run: the engine's own encoding time per
tick (all three parties), and its tick time. Beside the latency: when the tick's last frame was
handed to the bus (``PicturePublishing.done_after_s``, the engine's part of it), over the same
window.

It always ends (``_serve``): a client the relay drops is counted, not fatal; every wait is bounded
and notices a child that died; every child is stopped, then killed, on the way out (also on
SIGTERM from ``timeout``); a bus whose run failed is reported as FAILED with the reason.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from rich.console import Console

from _serve import clients, get_from, start_serve, stop_popen, stop_process

REPO = Path(__file__).resolve().parents[1]
SERVER = os.environ.get(
    "DECONFLICT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def engine_proc(db: str, bus: str, aircraft: int, workdir: str, ready: Any, stop: Any) -> None:
    """The engine process: the scenario on the store, its pictures on the bus, 1 Hz."""
    os.chdir(workdir)
    os.environ["DECONFLICT_PICTURE_BUS"] = bus
    from deconflict.engine.engine import EngineConfig
    from deconflict.engine.session import Session
    from deconflict.service.live_app import open_demo_store
    from deconflict.service.picture_publisher import (
        PicturePublishing,
        attach_publisher,
        open_publisher,
    )
    from deconflict.sim.synthetic import synthetic_scenario

    sc = synthetic_scenario(aircraft, seed=1, half_width_deg=15.0)
    demo = open_demo_store(db, [p.id for p in sc.parties])
    config = EngineConfig(standard=sc.standard, track_sharing=demo.settings.track_sharing)
    session = Session.from_scenario(sc, desk=demo.desk, config=config)
    for _ in range(12):
        session.step(1.0)  # tracks confirmed: the pictures hold the whole traffic
    stop_pictures = attach_publisher(session, open_publisher(demo.settings))
    [hook] = [h for h in session.on_tick if isinstance(h, PicturePublishing)]
    cpu0 = time.process_time()
    ready.put(demo.tokens)
    session.stop = stop
    session.run_realtime(1.0)
    cpu = time.process_time() - cpu0
    summary = session.engine.stats.summary()
    ready.put(
        {
            "ticks": hook.seq,
            "encode_s": hook.encode_s / max(hook.seq, 1),
            "encode_cpu_s": hook.encode_cpu_s / max(hook.seq, 1),
            "publish_s": hook.publish_s / max(hook.seq, 1),
            "done_after_s": list(hook.done_after_s),
            "failures": hook.failures,
            "cpu_per_tick_s": cpu / max(hook.seq, 1),
            "tick_p50_s": summary["p50_s"],
            "tick_p99_s": summary["p99_s"],
        }
    )
    stop_pictures()
    demo.store.close()


def busy(stop: Any) -> None:
    while not stop.is_set():
        for _ in range(100_000):
            pass


def run_bus(bus: str, db: str, args: argparse.Namespace) -> dict[str, Any]:
    """One bus: the engine, the instances, the load and the clients; every child is stopped (and
    killed if it does not stop) on the way out, whatever happened."""
    ctx = mp.get_context("spawn")
    workdir = tempfile.mkdtemp()
    stop, ready, load_stop, out = ctx.Event(), ctx.Queue(), ctx.Event(), ctx.Queue()
    eng = ctx.Process(target=engine_proc, args=(db, bus, args.aircraft, workdir, ready, stop))
    loaders = [ctx.Process(target=busy, args=(load_stop,), daemon=True) for _ in range(args.load)]
    cls: list[Any] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        eng.start()
        tokens: dict[str, str] = get_from(ready, eng, 900, f"{bus}: the engine's tokens")
        urls = []
        for _ in range(args.instances):
            p, u = start_serve(db, {"DECONFLICT_PICTURE_BUS": bus}, workdir)
            procs.append(p)
            urls.append(u.replace("http", "ws"))
        for p in loaders:
            p.start()
        parties = sorted(tokens)
        jobs = [
            (urls[i % len(urls)], tokens[parties[i % len(parties)]]) for i in range(args.clients)
        ]
        load0 = os.getloadavg()[0]
        k = max(1, min(args.client_processes, len(jobs)))
        cls = [
            ctx.Process(target=clients, args=(jobs[i::k], args.seconds, args.warmup, out))
            for i in range(k)
        ]
        measure_from = time.time() + args.warmup
        for c in cls:
            c.start()
        got = {"lat": [], "errors": []}
        for c in cls:
            part = get_from(out, c, args.seconds + args.warmup + 120, f"{bus}: clients' latencies")
            got["lat"] += part["lat"]
            got["errors"] += part["errors"]
        load1 = os.getloadavg()[0]
        load_stop.set()
        stop.set()
        engine_stats: dict[str, Any] = get_from(ready, eng, 120, f"{bus}: the engine's summary")
    finally:
        load_stop.set()
        stop.set()
        for proc in [*loaders, *cls, eng]:
            if proc.pid is not None:
                stop_process(proc)
        for popen in procs:
            stop_popen(popen)
    lat = np.concatenate([np.asarray(x, dtype=float) for x in got["lat"]] or [np.zeros(0)])
    # the engine's part of the latency over the same window as the clients' (after the warm-up)
    done = np.array([d for wall, d in engine_stats.pop("done_after_s") if wall > measure_from])
    engine_stats["done_p50_s"] = float(np.median(done)) if done.size else float("nan")
    engine_stats["done_p99_s"] = float(np.percentile(done, 99)) if done.size else float("nan")
    return {"lat": lat, "errors": got["errors"], "load": (load0, load1), **engine_stats}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument(
        "--client-processes", type=int, default=1,
        help="processes the clients are spread over (1: all in one, whose own queue is then "
        "part of the latency; 50 browsers are 50 machines)",
    )  # fmt: skip
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--load", type=int, default=os.cpu_count() or 2, help="busy-loop processes")
    ap.add_argument("--buses", default="nats,postgres")
    args = ap.parse_args()
    # `timeout` (or ^C) ends the bench through its finally blocks: no instance or engine left over
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    console = Console()
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    base = SERVER.rsplit("/", 1)[0]
    rows: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for bus in args.buses.split(","):
        name = f"deconflict_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            rows[bus] = run_bus(bus, f"{base}/{name}", args)
        except RuntimeError as exc:  # a bounded wait ran out: say which, go on with the next bus
            failed[bus] = str(exc)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    console.print(
        f"{args.aircraft} aircraft, {args.clients} clients over {args.instances} serve "
        f"instances, engine in its own process, {args.load} busy-loop processes; warm-up "
        f"{args.warmup} s, measuring {args.seconds} s"
    )
    for bus, why in failed.items():
        console.print(f"{bus:8s}: FAILED: {why}")
    for bus, r in rows.items():
        lat = r["lat"]
        if r["errors"]:
            console.print(f"{bus:8s}: {len(r['errors'])} clients failed, e.g. {r['errors'][0]}")
        if lat.size == 0:
            console.print(f"{bus:8s}: no picture reached a client after the warm-up")
            continue
        p50, p99 = np.median(lat) * 1000, np.percentile(lat, 99) * 1000
        enc = r["encode_s"] * 1000
        console.print(
            f"{bus:8s}: load average {r['load'][0]:.2f} / {r['load'][1]:.2f}; deliveries "
            f"{lat.size} ({lat.size / args.clients:.1f} per client); p50 {p50:.0f} ms, p99 "
            f"{p99:.0f} ms, max {lat.max() * 1000:.0f} ms (goal p99 < 250 ms)"
        )
        console.print(
            f"          engine: tick p50 {r['tick_p50_s']:.3f} s, p99 {r['tick_p99_s']:.3f} s, "
            f"CPU {r['cpu_per_tick_s']:.3f} s per tick; anchor: encoding the three pictures "
            f"{enc:.0f} ms per tick (CPU {r['encode_cpu_s'] * 1000:.0f} ms), publishing {r['publish_s'] * 1000:.1f} ms "
            f"({r['failures']} failed); p50 / anchor {p50 / enc:.1f}, p99 / anchor {p99 / enc:.1f}"
        )
        console.print(
            f"          the tick's last frame on the bus (the engine's part of the latency): "
            f"p50 {r['done_p50_s'] * 1000:.0f} ms, p99 {r['done_p99_s'] * 1000:.0f} ms after the tick"
        )
    print(json.dumps({b: {k: v for k, v in r.items() if k != "lat"} for b, r in rows.items()}))
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
