"""``deconflict demo --headless``: fast time, a summary, and every decision in the store's log."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.sim.scenario import builtin_scenario_path
from deconflict.store import open_store


def test_headless_demo_writes_the_log(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(app, ["demo", "--headless", "--duration", "40", "--db", db])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ticks"] == 40
    assert summary["identification_requests"][0]["observer"] == "red"
    store = open_store(db)
    try:
        kinds = [e.kind for e in store.log(limit=10_000)]
        parties = {p.name for p in store.list_parties()}
    finally:
        store.close()
    assert {"blue", "red", "civil"} <= parties
    # the engine's decisions are the workflows' entries: one vocabulary with the REST API
    store = open_store(db)
    try:
        requests = [e for e in store.log(limit=10_000) if e.kind == "message"
                    and e.payload["kind"] == "identification_request"]  # fmt: skip
    finally:
        store.close()
    assert len(requests) == 1 and requests[0].payload["body"]["observer"] == "red"
    assert "identification.requested" not in kinds and "hotline.message" not in kinds
    # every entry is signed (the host's key, logged first; the crews' keys on what they wrote)
    assert kinds[0] == "host.key"
    out, keys = tmp_path / "log.jsonl", tmp_path / "keys.json"
    exported = CliRunner().invoke(
        app, ["audit", "export", "--db", db, "--out", str(out), "--keys-out", str(keys)]
    )
    assert exported.exit_code == 0, exported.output
    verified = CliRunner().invoke(app, ["audit", "verify", str(out), "--keys", str(keys)])
    assert verified.exit_code == 0, verified.output


def test_copied_scenario_and_bad_options(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(
        builtin_scenario_path().read_text().replace("duration_s = 900", "duration_s = 5")
    )
    result = CliRunner().invoke(app, ["demo", "--headless", "--scenario", str(mine)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["ticks"] == 5
    bad = CliRunner().invoke(app, ["demo", "--headless", "--scenario", str(tmp_path / "no.toml")])
    assert bad.exit_code == 2 and "cannot read scenario" in bad.output


@pytest.mark.slow
def test_headless_replay_of_a_real_recording(real_data: Path) -> None:
    recording = real_data / "traffic" / "quickstart.parquet"
    result = CliRunner().invoke(
        app, ["demo", "--headless", "--replay", str(recording), "--duration", "30"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    frame = pd.read_parquet(recording).dropna(subset=["latitude", "longitude"])
    first_30_s = frame["timestamp"] <= frame["timestamp"].min() + pd.Timedelta(seconds=30)
    assert summary["ticks"] == 30
    assert summary["reports"] == int(first_30_s.sum())  # every report of the window, once
