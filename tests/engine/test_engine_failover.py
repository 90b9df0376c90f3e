"""``deconflict engine`` in its own process: one leads per store, a standby takes over within
5 s of the leader's ``kill -9`` on PostgreSQL, and carries on after the last logged time so that
no decision is made twice; the decisions are in the store for every service instance."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from deconflict.store import open_store

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from deconflict.cli import main; main()"]


class Engine:
    """A ``deconflict engine`` process and its output lines, read as they come."""

    def __init__(self, db: str, cwd: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        self.proc = subprocess.Popen(
            [*CLI, "engine", "--db", db, "--speed", "20"],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        out: IO[str] = self.proc.stdout  # type: ignore[assignment]
        threading.Thread(target=lambda: [self.lines.put(x) for x in out], daemon=True).start()

    def wait_for(self, text: str, timeout_s: float) -> float:
        """The time (monotonic) the line with ``text`` came."""
        deadline = time.monotonic() + timeout_s
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return time.monotonic()
        raise AssertionError(f"no {text!r} within {timeout_s} s; got {seen}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def _entries(db: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    store = open_store(db)
    try:
        return [(e.kind, e.payload) for e in store.log(limit=1_000_000)]
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_standby_engine_takes_over_within_5_s_of_a_kill_9(
    postgres_url: str, tmp_path: Path
) -> None:
    a = Engine(postgres_url, tmp_path)
    b = None
    try:
        a.wait_for("leading", 120)
        b = Engine(postgres_url, tmp_path)
        b.wait_for("standby", 60)
        deadline = time.monotonic() + 90  # the first conflict is ~90 s into the scenario
        while time.monotonic() < deadline:
            before = _entries(postgres_url)
            if any(k == "alert.raised" for k, _ in before):
                break
            time.sleep(0.5)
        assert any(k == "alert.raised" for k, _ in before)
        with pytest.raises(AssertionError):
            b.wait_for("leading", 0.5)  # one leader at a time
        before = _entries(postgres_url)
        killed = time.monotonic()
        os.kill(a.proc.pid, signal.SIGKILL)
        took = b.wait_for("leading", 30) - killed
        print(f"takeover after kill -9: {took:.2f} s")
        assert took < 5.0, f"the standby took {took:.1f} s to lead"
        # decisions flow again from the new leader
        deadline = time.monotonic() + 60
        while len(_entries(postgres_url)) <= len(before) + 5 and time.monotonic() < deadline:
            time.sleep(0.5)
        after = _entries(postgres_url)
        assert len(after) > len(before) + 5
        # no decision twice: every identification request and incident once, and the new
        # leader's start after the last time the old one logged
        requests = [p["body"]["request_id"] for k, p in after
                    if k == "message" and p["kind"] == "identification_request"]  # fmt: skip
        assert len(requests) == len(set(requests)) >= 2
        old_last = max(float(p["time_s"]) for k, p in before if "time_s" in p)
        new_requests = [p for k, p in after[len(before):]
                        if k == "message" and p["kind"] == "identification_request"]  # fmt: skip
        assert all(float(p["body"]["created_s"]) > old_last for p in new_requests)
        b.proc.send_signal(signal.SIGTERM)
        b.wait_for('"led": true', 30)
        assert b.proc.wait(timeout=30) == 0
    finally:
        a.stop()
        if b is not None:
            b.stop()
