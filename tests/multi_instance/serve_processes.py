"""``deconflict serve`` processes for the multi-instance tests: started on a free port, ready once
``/health`` answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CLI = [sys.executable, "-c", "from deconflict.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(
    db_url: str, env: dict[str, str], cwd: Path, timeout_s: float = 90.0
) -> tuple[subprocess.Popen[bytes], str]:
    """``deconflict serve --db db_url`` with ``env``; (the process, its base URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--db", db_url, "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"server exited with {proc.returncode}: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not answer /health within {timeout_s:g} s")
