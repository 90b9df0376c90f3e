"""``deconflict analyze``: the three output files, and a bad file as a one-line error."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from deconflict.cli import app

KEYS = {
    "a",
    "b",
    "callsign_a",
    "callsign_b",
    "t_cpa",
    "dcpa_nm",
    "dalt_ft",
    "duration_s",
    "severity",
}


def test_analyze_writes_events_and_report(real_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "analyze",
            str(real_data / "traffic" / "switzerland.parquet"),
            "--out",
            str(out),
            "--engine",
            "local",
            "--start",
            "2018-08-01 12:00",
            "--stop",
            "2018-08-01 13:00",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    events = json.loads((out / "events.json").read_text())
    table = pd.read_parquet(out / "events.parquet")
    assert summary["events"] == len(events) == len(table) > 0
    assert all(set(e) >= KEYS for e in events)
    assert summary["losses"] == sum(e["severity"] != "E" for e in events)
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3
    assert "Map of the events" in html and "Timeline" in html


def test_analyze_bad_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"PAR1 not really")
    result = CliRunner().invoke(app, ["analyze", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "error:" in result.output and "Parquet" in result.output
