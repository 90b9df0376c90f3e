"""``deconflict engine --feed PARTY=URL`` runs the parties' own feeds through the engine in its
own process — the feed path ``deconflict serve --feed`` uses — and ``--replay FILE`` a recording;
what it heard and tracked is in its summary, its parties in the store."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pandas as pd
from engine_process import Process
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.sim.scenario import builtin_scenario_path
from deconflict.store import open_store


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connect(port: int) -> socket.socket:
    deadline = time.monotonic() + 60
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except ConnectionRefusedError:
            assert time.monotonic() < deadline, "the engine's feed never listened"
            time.sleep(0.05)


def test_the_engine_runs_a_receivers_beast_feed(real_data: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'feeds.sqlite'}"
    alpha, bravo = _port(), _port()
    proc = Process(
        ["engine", "--db", db, "--duration", "6",
         "--feed", f"alpha=beast+tcp-listen://127.0.0.1:{alpha}",
         "--feed", f"bravo=beast+tcp-listen://127.0.0.1:{bravo}"],
        tmp_path,
    )  # fmt: skip
    try:
        proc.wait_for("leading", 60)
        with _connect(alpha) as conn:  # a dump1090's Beast output: 233 reports of one aircraft
            conn.sendall((real_data / "traffic" / "sample_dump1090.bin").read_bytes())
        _, line = proc.wait_for('"led": true', 60)
        assert proc.proc.wait(timeout=30) == 0
    finally:
        proc.stop()
    summary = json.loads(line)
    assert summary["reports"] == 233
    feeds = {f["party"]: f["counts"] for f in summary["feeds"]}
    assert feeds["alpha"]["reports"] == 233 and feeds["alpha"]["error:unknown-address"] == 6
    assert feeds["bravo"].get("reports", 0) == 0
    # alpha's picture has the aircraft (its transponder identity: no request is opened)
    assert summary["tracks"] == {"alpha": ["TRA89M"], "bravo": []}
    store = open_store(db)
    try:
        assert sorted(p.name for p in store.list_parties()) == ["alpha", "bravo"]
        kinds = {e.kind for e in store.log(limit=10_000)}
    finally:
        store.close()
    assert not kinds & {"alert.raised", "message", "incident"}  # one aircraft: nothing to decide


def test_the_engine_replays_a_recording(real_data: Path, tmp_path: Path) -> None:
    recording = real_data / "traffic" / "quickstart.parquet"
    db = f"sqlite:///{tmp_path / 'replay.sqlite'}"
    result = CliRunner().invoke(
        app, ["engine", "--db", db, "--replay", str(recording), "--speed", "1000",
              "--duration", "30"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    frame = pd.read_parquet(recording, columns=["timestamp", "icao24", "latitude"])
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    first = frame[(ts <= ts.min() + pd.Timedelta(seconds=30)) & frame["latitude"].notna()]
    assert summary["ticks"] == 30
    assert summary["reports"] == len(first)
    assert len(summary["tracks"]["replay"]) == first["icao24"].nunique()


def test_engine_feed_and_replay_refuse_what_they_cannot_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.sqlite'}"
    runner = CliRunner()
    both = runner.invoke(
        app, ["engine", "--db", db, "--replay", "r.parquet", "--feed", "a=tcp://h:1"]
    )
    assert both.exit_code != 0 and "without --feed" in both.output
    missing = runner.invoke(app, ["engine", "--db", db, "--replay", str(tmp_path / "no.parquet")])
    assert missing.exit_code != 0 and "no such file" in missing.output
    bad = runner.invoke(app, ["engine", "--db", db, "--feed", "tcp://127.0.0.1:1"])
    assert bad.exit_code != 0 and "PARTY=URL" in bad.output
    fast = runner.invoke(app, ["engine", "--db", db, "--feed", "a=tcp://h:1", "--speed", "5"])
    assert fast.exit_code != 0 and "wall clock" in fast.output
    stranger = runner.invoke(
        app,
        [
            "engine",
            "--db",
            db,
            "--scenario",
            str(builtin_scenario_path()),
            "--feed",
            "alpha=tcp://h:1",
        ],
    )
    assert stranger.exit_code != 0 and "not the scenario's (blue, civil, red)" in stranger.output
