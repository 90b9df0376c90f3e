"""A busy receiver through the feed path: frames/s per CPU-second and lag, beside rs1090.

Traffic: ``../shared/tools/fleet_frames.py`` (real AFR34ZG frames, each aircraft a copy at its own
phase; 1,650 aircraft give about 20,000 frames/s) as a Beast stream, paced in real time by a
sender process into a TCP socket. The path timed is what ``deconflict feed`` and ``deconflict
serve --feed`` run: ``run_feed`` (``beast+tcp-listen://``: reading in batches, Beast framing and
clock, Mode S checks, rs1090, local CPR, the report table) up to the bounded queue, whose
consumer only measures. Lag: wall-clock time when a report leaves the queue minus its
timestamp (Beast counter anchored to the wall clock). CPU: this process's (all threads: rs1090
decodes on several); the sender runs in its own process.

Anchor, same frames, same run: ``rs1090.decode(frames, timestamps)`` alone (its batch call, the
decoder library without any of the feed around it), in CPU-seconds. Also, the kernel beside the
path: ``BeastStream.feed`` on the whole capture at once (no network, no pacing).

    .venv/bin/python bench/feed_throughput.py [--aircraft 1650] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import rs1090

from deconflict.surveillance import DecodeOptions
from deconflict.surveillance.base import DecodeResult
from deconflict.surveillance.beast import BeastStream
from deconflict.surveillance.feed_urls import parse_feed
from deconflict.surveillance.feeds import FeedStats, run_feed

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO.parent / "shared" / "tools" / "fleet_frames.py"

SENDER = """
import socket, sys, time
import numpy as np
wire = open(sys.argv[1], "rb").read()
ends = np.load(sys.argv[2]); send_s = np.load(sys.argv[3])
s = socket.create_connection(("127.0.0.1", int(sys.argv[4])))
t0 = time.monotonic(); at = 0; late = []
while at < len(ends):
    now = time.monotonic() - t0
    upto = int(np.searchsorted(send_s, now, side="right"))
    if upto > at:
        late.append(now - send_s[at])
        s.sendall(wire[(ends[at - 1] if at else 0):ends[upto - 1]])
        at = upto
    else:
        time.sleep(min(0.005, max(0.0, send_s[at] - now)))
s.close()
print(f"{np.percentile(late, 99):.3f}")
"""


def _fleet() -> object:
    spec = importlib.util.spec_from_file_location("fleet_frames", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _consume(port: int, seconds: float, sender: list[str]) -> dict[str, float]:
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue(maxsize=64)
    stats = FeedStats()
    options = DecodeOptions(reference=(49.0097, 2.5479))
    spec = parse_feed(f"beast+tcp-listen://127.0.0.1:{port}")
    feed = asyncio.create_task(run_feed(spec, None, options, queue, stats))
    await asyncio.sleep(0.2)
    proc = await asyncio.create_subprocess_exec(
        *sender, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    lags: list[np.ndarray] = []
    frames = reports = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    deadline = asyncio.get_running_loop().time() + seconds + 5.0
    while asyncio.get_running_loop().time() < deadline:
        try:
            result = await asyncio.wait_for(queue.get(), 0.5)
        except TimeoutError:
            if proc.returncode is not None and queue.empty():
                break
            continue
        now_ns = time.time_ns()
        frames += result.counts.get("frames", 0)
        reports += len(result.reports)
        stamps = result.reports["timestamp"].astype("int64").to_numpy()
        lags.append((now_ns - stamps) / 1e9)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    out, _ = await proc.communicate()
    feed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await feed
    lag = np.concatenate(lags) if lags else np.array([np.nan])
    return {
        "frames": frames,
        "reports": reports,
        "cpu": cpu,
        "wall": wall,
        "lag_p50": float(np.percentile(lag, 50)),
        "lag_p99": float(np.percentile(lag, 99)),
        "lag_max": float(lag.max()),
        "sender_late_p99": float(out.decode().strip() or "nan"),
        "errors": stats.counts["errors"],
        "kinds": ", ".join(
            f"{k.split(':', 1)[1]} {v:,}" for k, v in sorted(stats.counts.items()) if ":" in k
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--aircraft", type=int, default=1650)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    fleet = _fleet()
    table = fleet.build(args.aircraft, args.seconds)  # type: ignore[attr-defined]
    wire = [
        fleet.beast(bytes.fromhex(f), int(c))  # type: ignore[attr-defined]
        for f, c in zip(table["frame"], table["counter"], strict=True)
    ]
    n = len(table)
    print(
        f"{n:,} frames, {args.aircraft} aircraft, {args.seconds:.0f} s: {n / args.seconds:,.0f} frames/s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "wire.beast").write_bytes(b"".join(wire))
        np.save(folder / "ends.npy", np.cumsum([len(w) for w in wire]))
        np.save(folder / "send.npy", table["send_s"].to_numpy())
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", args.port))
            port = probe.getsockname()[1]
        sender = [
            sys.executable,
            "-c",
            SENDER,
            str(folder / "wire.beast"),
            str(folder / "ends.npy"),
            str(folder / "send.npy"),
            str(port),
        ]
        live = asyncio.run(_consume(port, args.seconds, sender))
        load_live = os.getloadavg()[0]

        # anchor and kernel, same frames, same run
        times_s = (1000.0 + table["send_s"].to_numpy()).tolist()
        cpu0 = time.process_time()
        rs1090.decode(table["frame"].tolist(), times_s)
        anchor_cpu = time.process_time() - cpu0
        stream = BeastStream(
            DecodeOptions(reference=(49.0097, 2.5479), start_time=pd.Timestamp.now(tz="UTC"))
        )
        data = (folder / "wire.beast").read_bytes()
        cpu0 = time.process_time()
        for at in range(0, len(data), 1 << 19):
            stream.feed(data[at : at + (1 << 19)])
        kernel_cpu = time.process_time() - cpu0

    print(
        f"feed path (run_feed, paced live): {live['frames']:,} of {n:,} frames decoded, "
        f"{live['reports']:,} reports, {live['errors']:,} error records ({live['kinds']}); "
        f"{live['cpu']:.1f} s CPU over {live['wall']:.1f} s wall: "
        f"{live['frames'] / live['cpu']:,.0f} frames per CPU-second"
    )
    print(
        f"lag (report out of the queue - its time): p50 {live['lag_p50']:.3f} s, "
        f"p99 {live['lag_p99']:.3f} s, max {live['lag_max']:.3f} s "
        f"(sender's own lateness p99 {live['sender_late_p99']:.3f} s)"
    )
    print(f"kernel BeastStream.feed, whole capture: {n / kernel_cpu:,.0f} frames per CPU-second")
    print(f"anchor rs1090.decode alone: {n / anchor_cpu:,.0f} frames per CPU-second")
    print(
        f"ratios (CPU per frame over rs1090 alone): feed path "
        f"{(live['cpu'] / max(live['frames'], 1)) / (anchor_cpu / n):.2f}, kernel "
        f"{kernel_cpu / anchor_cpu:.2f}"
    )
    print(
        f"{os.cpu_count()} cores, load average {load_live:.1f} (live run), "
        f"{os.getloadavg()[0]:.1f} (end)"
    )


if __name__ == "__main__":
    main()
