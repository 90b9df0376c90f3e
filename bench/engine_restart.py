"""Engine restart and failover: ``kill -9`` the leading ``deconflict engine`` in the middle of the
demo scenario, on PostgreSQL, and time until (a) the standby leads — it holds the lock, has
rebuilt what the log left open and is ready to tick — (b) every alert it took back decided on
again (its trackers found the aircraft and it carries the alert on, or it cleared it: alerts
flowing again; the engine's ``caught up`` line), (c) the first log entry it writes and (d) the
first alert entry (both wait for the scenario to have something to decide: scenario time, at
``--speed`` scenario seconds per second); with what it read back from the log and rebuilt
(counts), and the rebuild's own time.

Each round kills the leader while a conflict is alerted and open (picked from the log), so there
is state to take back; a fresh standby is started for the next round. Anchor, same run: a cold
restart without a standby — the leader killed and a new ``deconflict engine`` started then (what
a process supervisor gives), timed to its lead and its first entry. Ratios standby / cold.

    .venv/bin/python bench/engine_restart.py [--rounds 3] [--speed 20]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from deconflict.store import open_store

REPO = Path(__file__).resolve().parents[1]
SERVER = os.environ.get(
    "DECONFLICT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class Engine:
    """A ``deconflict engine`` process and its output lines."""

    def __init__(self, db: str, cwd: Path, speed: float) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        cmd = [sys.executable, "-c", "from deconflict.cli import main; main()", "engine"]
        self.proc = subprocess.Popen(
            [*cmd, "--db", db, "--speed", str(speed)], cwd=cwd, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        out: IO[str] = self.proc.stdout  # type: ignore[assignment]

        def read() -> None:
            for line in out:
                self.lines.put((time.monotonic(), line))

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, text: str, timeout_s: float = 120) -> tuple[float, str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                t, line = self.lines.get(timeout=0.05)
            except queue.Empty:
                continue
            if text in line:
                return t, line
        raise TimeoutError(f"no {text!r} from the engine within {timeout_s} s")

    def kill9(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def _open_conflict(store: Any) -> bool:
    """A conflict alert raised and not cleared."""
    log = [e for e in store.log(limit=100_000) if e.kind.startswith("alert.")]
    raised = {e.payload["alert_id"] for e in log if e.kind == "alert.raised"}
    return bool(raised - {e.payload["alert_id"] for e in log if e.kind == "alert.cleared"})


def _first_after(store: Any, head: int, pred: Callable[[Any], bool], timeout_s: float) -> float:
    """The time (monotonic) an entry after seq ``head`` matching ``pred`` was first seen."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(pred(e) for e in store.log(after=head, limit=10_000)):
            return time.monotonic()
        time.sleep(0.01)
    raise TimeoutError("no entry from the new leader")


def _round(db: str, cwd: Path, speed: float, store: Any, standby: bool) -> dict[str, Any]:
    leader = Engine(db, cwd, speed)
    leader.wait_for("leading")
    second = Engine(db, cwd, speed) if standby else None
    if second is not None:
        second.wait_for("standby")
    deadline = time.monotonic() + 300
    while not _open_conflict(store):
        if time.monotonic() > deadline:
            raise TimeoutError("no open conflict alert in 300 s")
        time.sleep(0.05)
    killed = time.monotonic()
    leader.kill9()
    head = store.head()[0]  # all the killed leader wrote
    if second is None:
        second = Engine(db, cwd, speed)
    try:
        led, line = second.wait_for("leading")
        caught, _ = second.wait_for("caught up", 300)
        entry = _first_after(store, head, lambda e: True, 300)
        alert = _first_after(store, head, lambda e: e.kind.startswith("alert."), 300)
    finally:
        second.kill9()  # the next round starts a fresh leader on the same store
    taken = json.loads(line.split("taken back from the log: ", 1)[1])
    return {
        "lead_s": led - killed,
        "caught_up_s": caught - killed,
        "first_entry_s": entry - killed,
        "first_alert_s": alert - killed,
        **taken,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--speed", type=float, default=20.0, help="scenario s per wall-clock s")
    args = ap.parse_args()
    name = f"deconflict_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = SERVER.rsplit("/", 1)[0] + "/" + name
    rows: dict[str, list[dict[str, Any]]] = {"standby": [], "cold": []}
    cpu0 = os.times()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(db)
            try:
                for i in range(args.rounds):
                    for how in ("standby", "cold"):
                        r = _round(db, Path(tmp), args.speed, store, how == "standby")
                        rows[how].append(r)
                        print(f"round {i + 1} {how}: " + json.dumps(r), flush=True)
            finally:
                store.close()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    cpu = os.times()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; bench process CPU "
          f"{cpu.user - cpu0.user + cpu.system - cpu0.system:.1f} s")  # fmt: skip
    print("| figure (s after kill -9) | standby median | standby max | cold median | ratio |")
    print("| --- | --- | --- | --- | --- |")
    for key, what in (("lead_s", "(a) new leader leads, state rebuilt"),
                      ("caught_up_s", "(b) open alerts decided on again"),
                      ("first_entry_s", "(c) first log entry written"),
                      ("first_alert_s", "(d) first alert entry written")):  # fmt: skip
        s = [r[key] for r in rows["standby"]]
        c = [r[key] for r in rows["cold"]]
        ratio = statistics.median(s) / statistics.median(c)
        print(f"| {what} | {statistics.median(s):.2f} | {max(s):.2f} | "
              f"{statistics.median(c):.2f} | {ratio:.2f} |")  # fmt: skip
    last = rows["standby"][-1]
    print("taken back (last round): " + json.dumps({k: v for k, v in last.items()
                                                    if not k.endswith("_s") or k == "rebuild_s"}))  # fmt: skip


if __name__ == "__main__":
    main()
