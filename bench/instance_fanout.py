"""Cross-instance fan-out: time from an event's append on instance A to its arrival on the
WebSocket clients of instance B, two ``deconflict serve`` processes on one PostgreSQL database.

P parties (default 5) each hold C/P sockets on B (default C = 50) and one on A. Each write is an
operation declared through A by one party, in turn; its ``operation.written`` event goes to that
party only. Latency = client receive time - the event's ``time_s`` (stamped by A when it built
the entry, before commit; same machine clock). Anchor, same run: the same events' latency on
A's own socket (A wakes its sockets in-process). Run once with ``DECONFLICT_FANOUT=postgres``
(LISTEN/NOTIFY) and once with ``none`` (B's sockets re-read the store each second).

    .venv/bin/python bench/instance_fanout.py [--clients 50] [--parties 5] [--writes 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa
import websockets
from rich.console import Console
from rich.progress import Progress

from _serve import start_serve
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.workflows.declarations import signed_declaration

ADMIN = "bench-admin-token"
REPO = Path(__file__).resolve().parents[1]
SERVER = os.environ.get(
    "DECONFLICT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _serve(db: str, fanout: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        "DECONFLICT_ADMIN_TOKEN": ADMIN,
        "DECONFLICT_SEPARATION_STANDARD": "none",
        "DECONFLICT_FANOUT": fanout,
    }
    return start_serve(db, env, str(REPO))


def _volume(i: int) -> dict[str, Any]:
    lon0, lat0, d = 5.0 + 0.02 * (i % 100), 45.0 + 0.02 * (i // 100), 0.01
    ring = [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d]]
    return {
        "polygon": [ring],
        "altitude_lower": {"value": 0, "units": "ft"},
        "altitude_upper": {"value": 400, "units": "ft"},
        "time_start": "2030-01-01T10:00:00Z",
        "time_end": "2030-01-01T11:00:00Z",
    }


async def _listen(url: str, token: str, lat: list[float], stop: asyncio.Event) -> None:
    async with websockets.connect(
        f"{url}?after=-1", additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            now = time.time()
            event = json.loads(raw)
            if event["kind"] == "operation.written":
                lat.append(now - float(event["time_s"]))


async def _run(db: str, fanout: str, args: argparse.Namespace, progress: Progress) -> Any:
    a, url_a = _serve(db, fanout)
    b, url_b = _serve(db, fanout)
    try:
        client = httpx.Client(base_url=url_a, timeout=30)
        tokens = []
        signers: list[Signer] = []
        for _ in range(args.parties):
            r = client.post(
                "/v1/parties",
                json={"name": f"p-{uuid.uuid4().hex[:8]}"},
                headers={"Authorization": f"Bearer {ADMIN}"},
            )
            r.raise_for_status()
            tokens.append(r.json()["token"])
            made = r.json()
            signers.append(
                Signer(made["name"], private_key_from_pem(made["private_key_pem"].encode()))
            )
        on_b: list[float] = []
        on_a: list[float] = []
        stop = asyncio.Event()
        ws_a = url_a.replace("http", "ws") + "/v1/events/ws"
        ws_b = url_b.replace("http", "ws") + "/v1/events/ws"
        tasks = [
            asyncio.create_task(_listen(ws_b, tokens[i % args.parties], on_b, stop))
            for i in range(args.clients)
        ]
        tasks += [asyncio.create_task(_listen(ws_a, t, on_a, stop)) for t in tokens]
        await asyncio.sleep(2.0)
        task = progress.add_task(f"fanout={fanout}", total=args.writes)
        for i in range(args.writes):
            headers = {"Authorization": f"Bearer {tokens[i % args.parties]}"}
            signer = signers[i % args.parties]
            body = signed_declaration(
                signer, signer.party, {"volumes": [_volume(i)]}, time_s=time.time()
            )
            r = await asyncio.to_thread(client.post, "/v1/operations", json=body, headers=headers)
            r.raise_for_status()
            progress.advance(task)
            await asyncio.sleep(args.interval)
        await asyncio.sleep(2.0)
        stop.set()
        await asyncio.gather(*tasks)
        expected = args.writes * args.clients // args.parties
        return np.asarray(on_b), np.asarray(on_a), expected
    finally:
        for p in (a, b):
            p.terminate()
            p.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50, help="sockets on instance B")
    ap.add_argument("--parties", type=int, default=5)
    ap.add_argument("--writes", type=int, default=40)
    ap.add_argument("--interval", type=float, default=0.23, help="seconds between writes")
    args = ap.parse_args()
    console = Console()
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    base = SERVER.rsplit("/", 1)[0]
    rows = []
    with Progress(console=console) as progress:
        for fanout in ("postgres", "none"):
            name = f"deconflict_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                rows.append((fanout, *asyncio.run(_run(f"{base}/{name}", fanout, args, progress))))
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    load = os.getloadavg()[0]
    console.print(
        f"{args.clients} sockets on B over {args.parties} parties, {args.writes} writes through "
        f"A, one every {args.interval} s; load average {load:.1f}"
    )
    for fanout, on_b, on_a, expected in rows:
        a50 = np.median(on_a) * 1000
        console.print(
            f"fanout={fanout}: deliveries on B {on_b.size}/{expected}; B p50 "
            f"{np.median(on_b) * 1000:.0f} ms, p99 {np.percentile(on_b, 99) * 1000:.0f} ms, max "
            f"{on_b.max() * 1000:.0f} ms | anchor A's own sockets p50 {a50:.0f} ms, p99 "
            f"{np.percentile(on_a, 99) * 1000:.0f} ms | B p50 / A p50 {np.median(on_b) * 1000 / a50:.1f}"
        )


if __name__ == "__main__":
    main()
