"""Frame on the wire to alert on a party's WebSocket: p50/p99 latency with N aircraft.

Traffic: N background aircraft (straight flights over a 12 deg x 12 deg box, FL100-FL400) and
``--pairs`` injected conflicts, each an aircraft of party ``alpha`` (its fleet) and an intruder
head-on at FL450, appearing 60 NM apart at staggered times (closest approach about 4 minutes
later: inside the 300 s lookahead of icao-5nm, so the alert can be raised as soon as both
tracks are confirmed). Every aircraft sends, once a second at its own phase, a DF17 airborne
position (even/odd in turn) and an airborne velocity; the pairs also an identification every
5 s (``deconflict.surveillance.modes_out``), as Beast frames with a free-running 12 MHz counter,
paced in real time by a sender process into the service's host-side feed
(``beast+tcp-listen://``, what ``deconflict serve --feed`` runs).

Timed path: the feed client (batched reads, Beast clock, rs1090, CPR), the engine ticking at
1 Hz (tracker, identification, conflict detection, alerts written through the store's
workflows on SQLite) with its intakes between two ticks (``engine.intake``: the reports taken
as they arrive, the conflicts of newly confirmed tracks alerted at once) and the party's event
WebSocket (``/v1/events/ws``), all in this process as ``serve --feed`` runs them. Latency of an alert: its arrival on alpha's WebSocket minus the
send time of the frame that completed what the tracker needs: the fourth position message of
the later of the pair's two aircraft (the tracker confirms a track at its third position,
``confirm_hits``, and an aircraft's first position message has none: CPR decodes it only with
a message of the other parity, ``surveillance.cpr``); the runs before 2026-12-06 06:00 took
the third message, still printed. "From first frame" adds the three seconds of that
confirmation. The anchor, same frames and same run: rs1090 decoding the pairs' frames
alone (CPU), and the engine's own tick time (``engine.stats``).

    .venv/bin/python bench/frame_to_alert.py --aircraft 1000
    .venv/bin/python bench/frame_to_alert.py --aircraft 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from deconflict.surveillance import modes_out as mo
from deconflict.surveillance.asterix_fields import be_bytes

KT_DEG_S = 1.0 / 3600.0 / 60.0  # kt to deg of latitude per s
CENTER = (46.0, 8.0)
TICKS = 12_000_000

SENDER = """
import socket, sys, time
import numpy as np
wire = open(sys.argv[1], "rb").read()
ends = np.load(sys.argv[2]); send_s = np.load(sys.argv[3])
s = socket.create_connection(("127.0.0.1", int(sys.argv[4])))
t0 = time.time(); at = 0; sent = np.zeros(len(ends))
while at < len(ends):
    now = time.time() - t0
    upto = int(np.searchsorted(send_s, now, side="right"))
    if upto > at:
        s.sendall(wire[(ends[at - 1] if at else 0):ends[upto - 1]])
        sent[at:upto] = time.time()
        at = upto
    else:
        time.sleep(min(0.005, max(0.0, send_s[at] - now)))
np.save(sys.argv[5], sent)
s.close()
"""


def traffic(n: int, pairs: int, seconds: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Every frame: time (s from the start), aircraft index, message (14 bytes), and which
    aircraft are alpha's, their pair and their first appearance."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = CENTER
    m = n + 2 * pairs
    lat = np.r_[rng.uniform(lat0 - 6, lat0 + 6, n), np.zeros(2 * pairs)]
    lon = np.r_[rng.uniform(lon0 - 6, lon0 + 6, n), np.zeros(2 * pairs)]
    hdg = np.r_[rng.uniform(0, 360, n), np.zeros(2 * pairs)]
    spd = np.r_[rng.uniform(250, 480, n), np.full(2 * pairs, 450.0)]
    alt = np.r_[rng.integers(100, 400, n) * 100.0 + 50.0, np.full(2 * pairs, 45000.0)]
    start = np.zeros(m)
    pair = np.full(m, -1)
    first = seconds * 0.3
    for k in range(pairs):  # own aircraft eastbound, intruder westbound, 60 NM apart
        a, b = n + 2 * k, n + 2 * k + 1
        y = lat0 - 5 + 10 * k / max(pairs - 1, 1)
        lat[a] = lat[b] = y
        lon[a], lon[b] = lon0 - 0.5 / np.cos(np.radians(y)), lon0 + 0.5 / np.cos(np.radians(y))
        hdg[a], hdg[b] = 90.0, 270.0
        start[a] = start[b] = first + k * (seconds - first - 10) / pairs
        pair[a] = pair[b] = k
    own = np.zeros(m, dtype=bool)
    own[n::2] = True
    own[:n] = False
    address = np.r_[0x100000 + np.arange(n), 0xA00000 + np.arange(2 * pairs)].astype(np.int64)
    phase = rng.uniform(0, 1, m)
    t_parts, who, msgs = [], [], []
    for s in range(seconds):
        t = s + phase
        live = t >= start
        dt = t - start
        la = lat + np.cos(np.radians(hdg)) * spd * KT_DEG_S * dt
        lo = lon + np.sin(np.radians(hdg)) * spd * KT_DEG_S * dt / np.cos(np.radians(la))
        idx = np.flatnonzero(live)
        odd = np.full(idx.size, s % 2 == 1)
        pos = mo.airborne_position(address[idx], la[idx], lo[idx], alt[idx], odd)
        vel = mo.airborne_velocity(address[idx], spd[idx], hdg[idx], np.zeros(idx.size))
        t_parts += [t[idx], t[idx] + 0.01]
        who += [idx, idx]
        msgs += [pos, vel]
        named = idx[(pair[idx] >= 0) & (s % 5 == 0)]
        if named.size:
            calls = np.array([f"OWN{k:04d}" if own[i] else f"XX{k:04d}" for i, k in
                              zip(named, pair[named], strict=True)])  # fmt: skip
            msgs.append(mo.identification(address[named], calls))
            t_parts.append(t[named] + 0.02)
            who.append(named)
    t_all = np.concatenate(t_parts)
    order = np.argsort(t_all, kind="stable")
    return {
        "t": t_all[order],
        "who": np.concatenate(who)[order],
        "msg": np.concatenate(msgs)[order],
        "own": own,
        "pair": pair,
        "address": address,
    }


def frames_file(tr: dict[str, np.ndarray], folder: Path) -> tuple[Path, Path, Path]:
    """The Beast stream, the end offset of each 50 ms slice and its send time."""
    counters = (np.asarray(tr["t"]) * TICKS).astype(np.int64) + 7 * TICKS
    data = mo.beast_frames(tr["msg"], counters)
    escaped = (be_bytes(counters, 6) == 0x1A).sum(axis=1) + (tr["msg"] == 0x1A).sum(axis=1)
    frame_end = np.cumsum(23 + escaped)
    assert len(data) == frame_end[-1]
    slot = np.floor(tr["t"] / 0.05).astype(np.int64)
    cut = np.flatnonzero(np.r_[slot[1:] != slot[:-1], True])
    paths = folder / "frames.beast", folder / "ends.npy", folder / "send.npy"
    paths[0].write_bytes(data)
    np.save(paths[1], frame_end[cut])
    np.save(folder / "frame_end.npy", frame_end)
    np.save(paths[2], (slot[cut] + 1) * 0.05)
    return paths


def rs1090_anchor(tr: dict[str, np.ndarray]) -> float:
    """CPU seconds for rs1090 to decode every frame of the run (the decoder alone)."""
    import rs1090

    hexes = [bytes(r).hex() for r in tr["msg"]]
    c0 = time.process_time()
    rs1090.decode(hexes, list(map(float, tr["t"])))
    return time.process_time() - c0


def serve(
    tr: dict[str, np.ndarray], port: int, http_port: int, db: str, hold_ms: float | None = None
) -> tuple[object, str]:
    """The service with alpha's host-side feed and fleet, started; (session, alpha's token)."""
    import uvicorn

    from deconflict.engine.engine import Engine, EngineConfig
    from deconflict.engine.session import Session
    from deconflict.service.live_app import live_app
    from deconflict.surveillance.base import DecodeOptions
    from deconflict.surveillance.feed_urls import parse_feed
    from deconflict.surveillance.source import FeedSource, PartyFeed

    fleet = {f"{a:06x}" for a in tr["address"][tr["own"]]}
    hold = "" if hold_ms is None else f"?hold_ms={hold_ms:g}"
    source = FeedSource(
        [PartyFeed("alpha", parse_feed(f"beast+tcp-listen://127.0.0.1:{port}{hold}"))],
        DecodeOptions(reference=CENTER),
    )

    def fed(desk, settings):  # type: ignore[no-untyped-def]
        engine = Engine(["alpha", "beta"], [source], desk=desk, fleets={"alpha": fleet},
                        config=EngineConfig(track_sharing=settings.track_sharing))  # fmt: skip
        return Session(engine, pd.Timestamp.now(tz="UTC").floor("s"), float("inf"))

    app, session = live_app(db=db, parties=["alpha", "beta"], session=fed)
    source.start()
    # the engine's clock on the wall clock from its first tick (``serve --feed`` builds its
    # session before the store, keys and app are ready: seconds under load, by which every
    # report would wait longer in the feed's buffer)
    session.start = pd.Timestamp.now(tz="UTC")
    session.start_thread(1.0)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=http_port,
                                           log_level="warning", access_log=False))  # fmt: skip
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return session, app.state.demo_tokens["alpha"]


async def listen(http_port: int, token: str, until: float, out: list[tuple[float, dict]]) -> None:
    import websockets

    url = f"ws://127.0.0.1:{http_port}/v1/events/ws"
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        while time.time() < until:
            try:
                text = await asyncio.wait_for(ws.recv(), max(0.1, until - time.time()))
            except TimeoutError:
                break
            event = json.loads(text)
            if event.get("kind") == "alert.raised":
                out.append((time.time(), event))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=1000)
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=90)
    ap.add_argument("--hold-ms", type=float, default=None, help="the feed's batch hold")
    args = ap.parse_args()
    tr = traffic(args.aircraft, args.pairs, args.seconds)
    print(f"{len(tr['t']):,} frames, {len(tr['t']) / args.seconds:,.0f} frames/s, "
          f"{args.aircraft} aircraft + {args.pairs} pairs; load {os.getloadavg()}")  # fmt: skip
    anchor_cpu = rs1090_anchor(tr)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wire, ends, send = frames_file(tr, folder)
        feed_port, http_port = 30500 + os.getpid() % 1000, 31500 + os.getpid() % 1000
        db = f"sqlite:///{folder / 'db.sqlite'}"
        session, token = serve(tr, feed_port, http_port, db, args.hold_ms)
        alerts: list[tuple[float, dict]] = []
        c0 = time.process_time()
        sender = subprocess.Popen([sys.executable, "-c", SENDER, str(wire), str(ends), str(send),
                                   str(feed_port), str(folder / "sent.npy")])  # fmt: skip
        t0 = time.time()
        asyncio.run(listen(http_port, token, t0 + args.seconds + 8, alerts))
        sender.wait()
        cpu = time.process_time() - c0
        sent_wall = np.load(folder / "sent.npy")
        frame_end = np.load(folder / "frame_end.npy")
        slice_ends = np.load(ends)
        session.stop.set()  # type: ignore[attr-defined]
        ticks = dict(session.engine.stats.summary())  # type: ignore[attr-defined]
        intakes = getattr(session.engine, "intakes", None)  # type: ignore[attr-defined]
    # the send time of each frame: that of its 50 ms slice
    slice_of = np.searchsorted(slice_ends, frame_end, side="left")
    frame_sent = sent_wall[slice_of]
    label_pair = {}
    for i in np.flatnonzero(tr["pair"] >= 0):
        k = int(tr["pair"][i])
        label_pair[f"{tr['address'][i]:06x}"] = k
        label_pair[f"OWN{k:04d}"] = k
    first: dict[int, float] = {}
    decided: dict[int, float] = {}
    for arrived, event in alerts:
        pair = label_pair.get(str(event["payload"].get("own_aircraft")))
        if pair is not None and pair not in first:
            first[pair] = arrived
            decided[pair] = float(event["time_s"])
    lat_ready, lat_first, lat_tick, lat_third = [], [], [], []
    for k, arrived in first.items():
        members = np.flatnonzero(tr["pair"] == k)
        pos = [np.flatnonzero((tr["who"] == i) & (tr["msg"][:, 4] >> 3 == mo.TC_POSITION))
               for i in members]  # fmt: skip
        ready = max(frame_sent[p[3]] for p in pos)  # the first position decodes with the 2nd
        lat_ready.append(arrived - ready)
        lat_tick.append(decided[k] - ready)
        lat_first.append(arrived - min(frame_sent[p[0]] for p in pos))
        lat_third.append(arrived - max(frame_sent[p[2]] for p in pos))
    ready_a, first_a, third_a = np.array(lat_ready), np.array(lat_first), np.array(lat_third)
    print(f"alerts for {len(first)} of {args.pairs} pairs; load {os.getloadavg()}")
    if len(first):
        print(
            f"latency from the confirming frame: p50 {np.percentile(ready_a, 50):.3f} s, "
            f"p99 {np.percentile(ready_a, 99):.3f} s, max {ready_a.max():.3f} s"
        )
        tick_a = np.array(lat_tick)
        print(
            f"  of which to the engine's decision (the alert entry's time): p50 "
            f"{np.percentile(tick_a, 50):.3f} s, p99 {np.percentile(tick_a, 99):.3f} s"
        )
        print(
            f"  (from the third position message, the earlier runs' measure: p50 "
            f"{np.percentile(third_a, 50):.3f} s, p99 {np.percentile(third_a, 99):.3f} s)"
        )
        print(
            f"latency from the pair's first frame: p50 {np.percentile(first_a, 50):.3f} s, "
            f"p99 {np.percentile(first_a, 99):.3f} s"
        )
    print(
        f"process CPU {cpu:.1f} s over {time.time() - t0:.0f} s wall "
        f"({cpu / (time.time() - t0):.2f} of a core); rs1090 alone on the same frames "
        f"{anchor_cpu:.2f} s CPU ({cpu / max(anchor_cpu, 1e-9):.1f}x)"
    )
    print(f"engine tick: {json.dumps({k: round(v, 3) for k, v in ticks.items()})}")
    cpu_ms = np.array(intakes.cpu_s if intakes is not None else []) * 1e3
    if cpu_ms.size:
        print(
            f"intakes between ticks: {intakes.count}, {intakes.raised} alerts raised; CPU per "
            f"intake p50 {np.percentile(cpu_ms, 50):.1f} ms, p99 {np.percentile(cpu_ms, 99):.1f} "
            f"ms, {cpu_ms.sum() / 1e3:.1f} s in all"
        )


if __name__ == "__main__":
    main()
