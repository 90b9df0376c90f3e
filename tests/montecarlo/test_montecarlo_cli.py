"""``deconflict montecarlo``: outputs written, the report compares two sets, bad input is a
one-line error naming the field, a rerun resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.montecarlo.procedures import builtin_procedures_path


@pytest.mark.slow
def test_study_outputs_and_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["montecarlo", "shared2015", "--runs", "6", "--batch-size", "3", "--engine", "local",
            "--out", str(out), "--quiet"]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["runs"] == 12
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["procedures"].unique()) == ["hotline-fast", "memorandum-2015"]
    assert (runs["nmac"] <= runs["los"]).all()
    summary = pd.read_parquet(out / "summary.parquet")
    los = summary[(summary["metric"] == "los") & (summary["procedures"] == "hotline-fast")]
    sub = runs[runs["procedures"] == "hotline-fast"]
    assert float(los["value"].iloc[0]) == sum(sub["los"]) / sum(sub["flight_hours"])
    comparison = pd.read_parquet(out / "comparison.parquet")
    assert set(comparison["metric"]) == {"los", "nmac", "unresolved_unknown"}
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "memorandum-2015" in page and "hotline-fast" in page
    for png in ("rates.png", "distributions.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    batches = sorted((out / "runs").glob("*/runs-*.parquet"))
    assert len(batches) == 4  # 2 sets x 2 batches of 3 runs
    written = {b: (b.stat().st_ino, b.stat().st_mtime_ns) for b in batches}
    again = CliRunner().invoke(app, args)  # every batch already there: nothing runs again
    assert again.exit_code == 0
    assert {b: (b.stat().st_ino, b.stat().st_mtime_ns) for b in batches} == written
    assert sorted((out / "runs").glob("*/runs-*.parquet")) == batches
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), runs)


def test_bad_procedures_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = builtin_procedures_path("hotline-fast").read_text()
    bad.write_text(text.replace("alert_lead_time_s = 300", "alert_lead_time_s = -1"))
    res = CliRunner().invoke(
        app, ["montecarlo", "shared2015", "--runs", "2", "--procedures", str(bad),
              "--out", str(tmp_path / "o"), "--engine", "local", "--quiet"],
    )  # fmt: skip
    assert res.exit_code == 2
    assert "alert_lead_time_s" in res.output and "bad.toml" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(
        app, ["montecarlo", str(tmp_path / "missing.toml"), "--runs", "2",
              "--out", str(tmp_path / "o"), "--engine", "local", "--quiet"],
    )  # fmt: skip
    assert res.exit_code == 2 and "cannot read scenario file" in res.output
