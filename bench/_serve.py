"""What the fan-out benchmarks share: a `deconflict serve` instance in a process of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping

import httpx


def start_serve(
    db: str, env: Mapping[str, str], cwd: str, *, wait_s: float = 90.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `deconflict serve --db DB` on a free loopback port with ``env`` added to this
    process's environment; return it and its URL once `/health` answers (RuntimeError after
    ``wait_s``)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    cmd = [sys.executable, "-c", "from deconflict.cli import main; main()", "serve"]
    proc = subprocess.Popen(
        [*cmd, "--db", db, "--port", str(port)],
        env={**os.environ, **env},
        cwd=cwd,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"deconflict serve did not answer /health within {wait_s:.0f} s")
