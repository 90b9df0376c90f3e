"""WebSocket fan-out of a 10,000-track picture at 1 Hz to 50 clients on loopback.

Run: .venv/bin/python bench/ws_fanout.py [--aircraft 10000] [--clients 50] [--seconds 20]
[--engine-paused]

The demo app (``deconflict.service.live_app.live_app``) serves a synthetic scenario of N aircraft
(three parties; about 19,000 tracks over the three pictures at 10,000 aircraft) and ticks its
engine at 1 Hz in a thread of the same process (``Session.start_thread``, as ``deconflict demo``
does). Fifty clients in another process, spread over the three parties, each hold
``/v1/live/ws``; the delivery latency of a picture is the time from the end of the tick that made
it (its ``tick_wall_s``, in the frame's uncompressed head) to its arrival at the client. The
anchor, measured in the same run, is the time to encode one party's picture (the biggest) as
JSON; the time to build the binary frame that the WebSocket sends is printed beside it.
``--engine-paused``: the fan-out alone (the last picture re-encoded and pushed at 1 Hz).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import tempfile
import threading
import time
from typing import Any

import httpx
import numpy as np
import uvicorn
from rich.console import Console

from _serve import clients, get_from, stop_process


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup", type=float, default=15.0)
    ap.add_argument("--engine-ticks", type=int, default=12, help="engine ticks before measuring")
    ap.add_argument(
        "--engine-paused",
        action="store_true",
        help="fan-out alone: re-push the last picture at 1 Hz with the engine paused (by default "
        "the engine keeps ticking in the same process, as in `deconflict demo`)",
    )
    args = ap.parse_args()
    console = Console()

    from deconflict.service.live_app import live_app
    from deconflict.sim.synthetic import synthetic_scenario

    sc = synthetic_scenario(args.aircraft, seed=1, half_width_deg=15.0)
    app, session = live_app(scenario=sc, db=f"sqlite:///{tempfile.mkdtemp()}/fanout.db")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws_max_size=2**26,
            ws_per_message_deflate=False,
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    for _ in range(args.engine_ticks):
        session.step(1.0)  # tracks confirmed: the pictures hold the whole traffic
    broadcaster = app.state.live_broadcaster
    biggest = max(session.engine.parties, key=lambda p: len(session.engine.picture(p)))
    t0 = time.perf_counter()
    _, data = broadcaster.picture_json(biggest)  # the anchor: one party's picture as JSON
    anchor = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, frame = broadcaster.picture_frame(biggest)  # what the WebSocket sends
    frame_s = time.perf_counter() - t0
    load = os.getloadavg()
    if not args.engine_paused:
        ticker = session.start_thread(1.0)
    else:
        # fan-out alone: the last picture re-encoded and pushed at 1 Hz, engine paused
        def pulse() -> None:
            next_t = time.monotonic()
            while not session.stop.is_set():
                broadcaster.publish()
                next_t += 1.0
                session.stop.wait(max(0.0, next_t - time.monotonic()))

        ticker = threading.Thread(target=pulse, daemon=True)
        ticker.start()
    parties = list(app.state.demo_tokens)
    url = f"ws://127.0.0.1:{port}"
    jobs = [(url, app.state.demo_tokens[parties[i % len(parties)]]) for i in range(args.clients)]
    out: mp.Queue[dict[str, list[Any]]] = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(
        target=clients, args=(jobs, args.seconds, args.warmup, out)
    )
    mode = "fan-out alone (engine paused)" if args.engine_paused else "engine ticking in-process"
    console.print(f"{args.aircraft} aircraft, {args.clients} clients, {mode}; warm-up "
                  f"{args.warmup} s, measuring {args.seconds} s")  # fmt: skip
    proc.start()
    try:
        got = get_from(out, proc, args.seconds + args.warmup + 120, "the clients' latencies")
    finally:
        stop_process(proc)
    if got["errors"]:
        console.print(f"{len(got['errors'])} clients failed, e.g. {got['errors'][0]}")
    lat = np.concatenate([np.asarray(x, dtype=float) for x in got["lat"]] or [np.zeros(0)])
    if lat.size == 0:
        raise SystemExit("no picture reached a client after the warm-up")
    session.stop.set()
    ticker.join(timeout=30)
    server.should_exit = True
    ticks = session.engine.stats.summary()
    tracks = sum(len(session.engine.picture(p)) for p in parties)
    console.print(f"tracks over the pictures {tracks}; the biggest picture ({biggest}) "
                  f"{len(data) / 1e6:.2f} MB as JSON, {len(frame) / 1e6:.2f} MB as the binary "
                  f"frame ({len(frame) / len(data):.2f}); engine tick p50 {ticks['p50_s']:.3f} s, "
                  f"p99 {ticks['p99_s']:.3f} s")  # fmt: skip
    console.print(f"load average before / after: {load[0]:.2f} / {os.getloadavg()[0]:.2f}")
    console.print(f"deliveries {lat.size} ({lat.size / max(args.clients, 1):.1f} per client)")
    console.print(f"latency p50 {np.median(lat) * 1000:.0f} ms, p99 "
                  f"{np.percentile(lat, 99) * 1000:.0f} ms, max {lat.max() * 1000:.0f} ms "
                  f"(target p99 < 250 ms)")  # fmt: skip
    p50, p99 = np.median(lat), np.percentile(lat, 99)
    console.print(f"anchor: encoding one party's picture as JSON {anchor * 1000:.0f} ms "
                  f"(as the binary frame {frame_s * 1000:.0f} ms); p50 / anchor "
                  f"{p50 / anchor:.1f}, p99 / anchor {p99 / anchor:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
