"""Run ``deconflict serve`` as a separate process on a free loopback port (for the reliability
tests and the benches)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from deconflict.engine.declarations import signed_declaration
from deconflict.hotline.keys import Signer, private_key_from_pem

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``deconflict serve`` in a child process; ``url`` once it answers /health."""

    def __init__(self, db_url: str, admin_token: str, **env: str) -> None:
        self.db_url = db_url
        self.admin_token = admin_token
        self.env = env
        self.signers: dict[str, Signer] = {}  # party name -> the key the service made for it
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> Server:
        env = {
            **os.environ,
            "DECONFLICT_ADMIN_TOKEN": self.admin_token,
            "DECONFLICT_SEPARATION_STANDARD": "none",
            **self.env,
        }
        cmd = [
            sys.executable,
            "-c",
            "from deconflict.cli import main; main()",
            "serve",
            "--db",
            self.db_url,
            "--port",
            str(self.port),
        ]
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not answer /health in time")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def add_party(self, name: str) -> dict[str, str]:
        r = httpx.post(
            f"{self.url}/v1/parties",
            json={"name": name},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10,
        )
        r.raise_for_status()
        pem = r.json()["private_key_pem"]
        self.signers[name] = Signer(name, private_key_from_pem(pem.encode()))
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def signed(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """A new operation's declaration ``body`` signed by party ``name`` now."""
        return signed_declaration(self.signers[name], name, body, time_s=time.time())
