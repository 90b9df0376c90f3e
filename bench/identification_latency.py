"""Time from a track becoming unknown to its identification request reaching every party,
through the real service on loopback (HTTP + WebSocket, SQLite file store, host-signed log).

``deconflict serve`` runs in a child process. N parties (2, 10, 50) each hold the events
WebSocket (``/v1/events/ws``). Each repeat, the host POSTs ``/v1/identification-requests``;
two times are taken from just before the POST:

* commit: until the 201 — the request message is committed in every party's inbox (a poll of
  ``GET /v1/messages`` from then on returns it);
* push: until the last of the N WebSockets has received it.

Anchor, same run and server: one ``GET /health`` round trip (loopback HTTP + one store read).

    .venv/bin/python bench/identification_latency.py [--parties 2 10 50] [--repeats 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets
from rich.console import Console
from rich.progress import Progress

ADMIN = "bench-admin-token"
TRACK = {
    "timestamp": "2030-01-01T10:00:00Z",
    "latitude": 35.5,
    "longitude": 38.9,
    "altitude": 29500.0,
    "groundspeed": 430.0,
    "track": 80.0,
    "vertical_rate": 0.0,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DECONFLICT_ADMIN_TOKEN": ADMIN}
    cmd = [sys.executable, "-c", "from deconflict.cli import main; main()", "serve"]
    cmd += ["--db", f"sqlite:///{db}", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not answer /health")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_n(url: str, n: int, repeats: int, tag: str, progress: Progress) -> dict[str, float]:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    async with httpx.AsyncClient(base_url=url, headers=admin, timeout=30) as http:
        tokens = []
        for i in range(n):
            r = await http.post("/v1/parties", json={"name": f"{tag}-p{i}"})
            r.raise_for_status()
            tokens.append(r.json()["token"])
        head = (await http.get("/health")).json()["log_seq"]
        sockets = [
            await websockets.connect(
                f"{url.replace('http', 'ws')}/v1/events/ws?after={head}",
                additional_headers={"Authorization": f"Bearer {t}"},
            )
            for t in tokens
        ]

        async def wait_for(ws: websockets.ClientConnection, request_id: str) -> float:
            while True:
                event = json.loads(await ws.recv())
                body = event["payload"].get("body", {})
                if body.get("request_id") == request_id:
                    return time.perf_counter()

        commit, push, anchor = [], [], []
        task = progress.add_task(f"N = {n}", total=repeats)
        for k in range(repeats + 2):  # two warm-up repeats
            t = time.perf_counter()
            await http.get("/health")
            a = time.perf_counter() - t
            body = {"track": {**TRACK, "id": f"{tag}-T{k}"}, "timeout_s": 600}
            t0 = time.perf_counter()
            r = await http.post("/v1/identification-requests", json=body)
            t1 = time.perf_counter()
            r.raise_for_status()
            rid = r.json()["request_id"]
            arrivals = await asyncio.gather(*(wait_for(ws, rid) for ws in sockets))
            if k >= 2:
                anchor.append(a)
                commit.append(t1 - t0)
                push.append(max(arrivals) - t0)
                progress.advance(task)
        for ws in sockets:
            await ws.close()
    return {
        "parties": n,
        "repeats": repeats,
        "anchor_median_s": statistics.median(anchor),
        "commit_median_s": statistics.median(commit),
        "commit_p99_s": pct(commit, 0.99),
        "push_median_s": statistics.median(push),
        "push_p99_s": pct(push, 0.99),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parties", type=int, nargs="+", default=[2, 10, 50])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    console = Console()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp) / "bench.db")
        try:
            with Progress(console=console) as progress:
                for i, n in enumerate(args.parties):
                    results.append(asyncio.run(run_n(url, n, args.repeats, f"run{i}", progress)))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    console.print(
        f"{'N':>4} {'anchor ms':>10} {'commit med':>11} {'commit p99':>11} "
        f"{'push med':>9} {'push p99':>9} {'push/anchor':>12}"
    )
    for r in results:
        console.print(
            f"{r['parties']:>4} {r['anchor_median_s'] * 1e3:10.2f} "
            f"{r['commit_median_s'] * 1e3:9.2f}ms {r['commit_p99_s'] * 1e3:9.2f}ms "
            f"{r['push_median_s'] * 1e3:7.2f}ms {r['push_p99_s'] * 1e3:7.2f}ms "
            f"{r['push_median_s'] / r['anchor_median_s']:11.1f}x"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
