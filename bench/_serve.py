"""What the fan-out benchmarks share: a `deconflict serve` instance in a process of its own, the
WebSocket clients that time the pictures they receive, and the ending of every child process
(a bench always ends: each wait is bounded, and a child that does not stop is killed)."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import os
import queue
import re
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import httpx

WALL = re.compile(rb'"tick_wall_s": ?([0-9.eE+-]+)')
CLOSE_WAIT_S = 10.0  # a client's close handshake, and a child's exit once asked to stop


def start_serve(
    db: str, env: Mapping[str, str], cwd: str, *, wait_s: float = 90.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `deconflict serve --db DB` on a free loopback port with ``env`` added to this
    process's environment; return it and its URL once `/health` answers (RuntimeError, with the
    end of its stderr, after ``wait_s`` or if it exits). Its stderr goes to a file in ``cwd``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [sys.executable, "-c", "from deconflict.cli import main; main()", "serve"]
    err_path = Path(cwd) / f"serve-{port}.stderr"
    with err_path.open("wb") as err:
        proc = subprocess.Popen(
            [*cmd, "--db", db, "--port", str(port)], env={**os.environ, **env}, cwd=cwd, stderr=err
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_popen(proc)
    tail = err_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"deconflict serve did not answer /health within {wait_s:.0f} s:\n{tail}")


def stop_popen(proc: subprocess.Popen[bytes], wait_s: float = CLOSE_WAIT_S) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``wait_s``."""
    proc.terminate()
    try:
        proc.wait(timeout=wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=wait_s)


def stop_process(proc: BaseProcess, wait_s: float = CLOSE_WAIT_S) -> None:
    """Join a multiprocessing child for ``wait_s``, then terminate it, then kill it."""
    proc.join(timeout=wait_s)
    if proc.is_alive():
        proc.terminate()
        proc.join(timeout=wait_s)
    if proc.is_alive():
        proc.kill()
        proc.join(timeout=wait_s)


def get_from(q: Any, proc: BaseProcess, timeout_s: float, what: str) -> Any:
    """The next item ``proc`` puts on ``q``; RuntimeError as soon as ``proc`` has died without
    putting it, or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return q.get(timeout=1.0)
        except queue.Empty:
            if not proc.is_alive():
                with contextlib.suppress(queue.Empty):
                    return q.get(timeout=1.0)  # put just before it exited
                raise RuntimeError(f"{what}: its process exited ({proc.exitcode}) first") from None
    raise RuntimeError(f"{what}: nothing within {timeout_s:.0f} s")


def clients(
    jobs: Sequence[tuple[str, str]], seconds: float, warmup: float, out: mp.Queue[Any]
) -> None:
    """One client per ``(ws_url, token)`` on ``/v1/live/ws`` for ``warmup + seconds``; each
    picture's latency = arrival - its ``tick_wall_s`` (after the warm-up). Puts on ``out``
    ``{"lat": [[s, ...] per client], "errors": [str, ...]}`` — always, even when clients fail
    (a client the server drops is counted, not fatal)."""
    import websockets

    end = time.time() + warmup + seconds
    measure_from = time.time() + warmup
    errors: list[str] = []

    async def one(url: str, token: str) -> list[float]:
        lat: list[float] = []
        try:
            async with websockets.connect(
                f"{url}/v1/live/ws",
                additional_headers={"Authorization": f"Bearer {token}"},
                max_size=None,
                open_timeout=60,
                close_timeout=CLOSE_WAIT_S,
            ) as ws:
                while (left := end - time.time()) > 0:
                    try:
                        msg = await asyncio.wait_for(ws.recv(), min(left, 5.0))
                    except TimeoutError:
                        continue
                    now = time.time()
                    head = msg[:200].encode() if isinstance(msg, str) else bytes(msg[:200])
                    m = WALL.search(head)
                    if m and now > measure_from:
                        lat.append(now - float(m.group(1)))
        except Exception as exc:  # dropped as a slow consumer, refused, ...
            errors.append(f"{type(exc).__name__}: {exc}")
        return lat

    async def run() -> list[list[float]]:
        return await asyncio.gather(*(one(u, t) for u, t in jobs))

    lat: list[list[float]] = []
    try:
        lat = asyncio.run(run())
    except BaseException as exc:
        errors.append(f"clients: {type(exc).__name__}: {exc}")
    out.put({"lat": lat, "errors": errors})
