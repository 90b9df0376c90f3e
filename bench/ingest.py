"""Ingest: reports per server CPU-second through the agent path and the host-side path, beside
rs1090's decoding alone on the same frames in the same run.

Frames: ``../shared/tools/fleet_frames.py`` (real AFR34ZG frames, each aircraft a copy at its own
phase) as one Beast file. The server is ``deconflict serve`` in a process of its own, with one
host-side feed (``--feed alpha=beast+tcp-listen://...``) and one pushing party (``--push-party
beta``); its CPU (user + system, all threads, from /proc) is read before and after each path:

- (b) host-side: the Beast bytes written to the feed's port as fast as TCP takes them; done when
  ``GET /v1/feeds`` counts every frame. The server decodes (batched reads, Beast clock, rs1090,
  CPR) and applies the reports.
- (a) agent: ``deconflict feed FILE --speed 0 --push URL --token`` in a process of its own
  decodes at the "party's site" and POSTs Arrow IPC batches to ``/v1/reports``; the server only
  reads them and applies the reports. The agent's own CPU is given beside.

The server's engine ticks at 1 Hz all along; its idle CPU rate, measured first, is subtracted (and
given). Anchor, same frames, same run: ``rs1090.decode(frames, timestamps)`` in this process.

    .venv/bin/python bench/ingest.py [--aircraft 1650] [--seconds 20]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import rs1090

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO.parent / "shared" / "tools" / "fleet_frames.py"
REFERENCE = "49.0097,2.5479"
CLI = "from deconflict.cli import main; main()"


def _fleet(aircraft: int, seconds: float) -> tuple[bytes, list[str], list[float]]:
    spec = importlib.util.spec_from_file_location("fleet_frames", TOOL)
    assert spec is not None and spec.loader is not None
    fleet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fleet)
    table = fleet.build(aircraft, seconds)
    wire = b"".join(
        fleet.beast(bytes.fromhex(f), int(c))
        for f, c in zip(table.frame, table.counter, strict=False)
    )
    times = (table.counter.to_numpy() / 12e6).tolist()
    return wire, list(table.frame), times


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _feeds(port: int) -> list[dict[str, object]]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/feeds",
                                 headers={"Authorization": "Bearer bench-admin"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as resp:
        return list(json.loads(resp.read()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=1650)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    wire, frames, times = _fleet(args.aircraft, args.seconds)
    c0 = time.process_time()
    decoded = rs1090.decode(frames, times)
    rs_cpu = time.process_time() - c0
    print(f"{len(frames):,} frames; rs1090 alone: {rs_cpu:.2f} s CPU, {len(decoded):,} messages, "
          f"{len(frames) / rs_cpu:,.0f} frames per CPU-second; load {os.getloadavg()}")  # fmt: skip
    pid_mod = os.getpid() % 1000
    http, feed = 32500 + pid_mod, 33500 + pid_mod
    env = dict(os.environ, DECONFLICT_ADMIN_TOKEN="bench-admin")
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "fleet.beast"
        capture.write_bytes(wire)
        server = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", "--db", f"sqlite:///{tmp}/db.sqlite",
             "--port", str(http), "--feed", f"alpha=beast+tcp-listen://127.0.0.1:{feed}",
             "--push-party", "beta", "--reference", REFERENCE],
            stdout=subprocess.PIPE, text=True, env=env, cwd=tmp,
        )  # fmt: skip
        token = ""
        assert server.stdout is not None
        while not token:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("the server stopped before printing beta's token")
            if line.split()[:1] == ["beta"] and "token:" in line:
                token = line.rsplit(" ", 1)[1].strip()
        while True:
            try:
                _feeds(http)
                break
            except OSError:
                time.sleep(0.2)
        try:
            a = _cpu_s(server.pid)
            time.sleep(5.0)
            idle = (_cpu_s(server.pid) - a) / 5.0
            # (b) host-side
            a, t0 = _cpu_s(server.pid), time.monotonic()
            with socket.create_connection(("127.0.0.1", feed)) as s:
                s.sendall(wire)
            last = -1
            while True:
                counts = _feeds(http)[0]["counts"]
                assert isinstance(counts, dict)
                got = int(counts.get("frames", 0))
                if got >= len(frames) or (got == last and time.monotonic() - t0 > 30):
                    break
                last = got
                time.sleep(0.5)
            wall_b = time.monotonic() - t0
            cpu_b = _cpu_s(server.pid) - a - idle * wall_b
            reports_b, frames_b = int(counts.get("reports", 0)), int(counts.get("frames", 0))
            refused_b = {k: v for k, v in counts.items() if str(k).startswith("error:")}
            # (a) agent
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            a, t0 = _cpu_s(server.pid), time.monotonic()
            agent = subprocess.run(
                [sys.executable, "-c", CLI, "feed", str(capture), "--format", "beast",
                 "--speed", "0", "--party", "beta", "--reference", REFERENCE,
                 "--push", f"http://127.0.0.1:{http}", "--token", token],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            time.sleep(1.5)  # the last batch applied
            wall_a = time.monotonic() - t0
            cpu_a = _cpu_s(server.pid) - a - idle * wall_a
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            agent_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            summary = agent.stdout.strip().splitlines()[-1] if agent.stdout.strip() else "{}"
            tally = json.loads(summary).get("summary", {})
            reports_a, frames_a = int(tally.get("reports", 0)), int(tally.get("frames", 0))
        finally:
            server.terminate()
            server.wait(10)
    print(f"server idle (engine ticking): {idle:.3f} of a core; load {os.getloadavg()}")
    print(
        f"(b) host-side: {frames_b:,} frames, {reports_b:,} reports (refused: {refused_b}), "
        f"server {cpu_b:.2f} CPU-s in {wall_b:.1f} s -> {frames_b / cpu_b:,.0f} frames and "
        f"{reports_b / cpu_b:,.0f} reports per server CPU-second "
        f"({(len(frames) / rs_cpu) / (frames_b / cpu_b):.2f}x rs1090's CPU per frame)"
    )
    print(
        f"(a) agent: {frames_a:,} frames, {reports_a:,} reports, server {cpu_a:.2f} CPU-s -> "
        f"{reports_a / max(cpu_a, 1e-9):,.0f} reports per server CPU-second; "
        f"agent {agent_cpu:.2f} CPU-s ({reports_a / max(agent_cpu, 1e-9):,.0f} per agent "
        f"CPU-second); agent exit {agent.returncode}"
    )
    if agent.returncode:
        print(agent.stderr[-2000:])


if __name__ == "__main__":
    main()
