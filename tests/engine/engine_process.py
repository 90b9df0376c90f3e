"""``deconflict engine`` (and ``deconflict serve``) as processes of their own, for the tests that
kill them: their output lines read as they come, and the store's log read back."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from deconflict.store import open_store

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from deconflict.cli import main; main()"]


class Process:
    """A ``deconflict`` command in its own process and its output lines."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO / "src")}
        self.proc = subprocess.Popen(
            [*CLI, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        out: IO[str] = self.proc.stdout  # type: ignore[assignment]
        threading.Thread(target=lambda: [self.lines.put(x) for x in out], daemon=True).start()

    def wait_for(self, text: str, timeout_s: float) -> tuple[float, str]:
        """The time (monotonic) the line with ``text`` came, and the line."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return time.monotonic(), line
        raise AssertionError(f"no {text!r} within {timeout_s} s; got {self.seen}")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def engine(db: str, cwd: Path, *args: str) -> Process:
    return Process(["engine", "--db", db, *args], cwd)


def entries(db: str) -> list[Any]:
    """The store's whole log (``Event``s), oldest first."""
    store = open_store(db)
    try:
        out: list[Any] = []
        while page := store.log(after=out[-1].seq if out else -1, limit=5000):
            out += page
        return out
    finally:
        store.close()
