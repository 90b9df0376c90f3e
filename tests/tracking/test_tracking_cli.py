"""``deconflict track`` on real recordings: a decoded OpenSky file and a report table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.tracking import TRACK_UPDATE_COLUMNS

pytestmark = pytest.mark.real_data


def summary_of(output: str) -> dict[str, int]:
    last = [line for line in output.splitlines() if line.startswith("{")][-1]
    return json.loads(last)["summary"]  # type: ignore[no-any-return]


def test_track_opensky_file_to_parquet(real_data: Path, tmp_path: Path) -> None:
    src = real_data / "opensky" / "state_vectors_data4_RYR2RG_2022-02-02.parquet"
    out = tmp_path / "tracks.parquet"
    res = CliRunner().invoke(app, ["track", str(src), "--format", "opensky", "--out", str(out)])
    assert res.exit_code == 0, res.output
    updates = pd.read_parquet(out)
    assert tuple(updates.columns) == TRACK_UPDATE_COLUMNS
    raw = pd.read_parquet(src)
    assert updates["track_id"].nunique() == 1
    assert set(updates["icao24"].dropna()) == set(raw["icao24"])
    # OpenSky's baro altitude is in m; the table is in ft, like the traffic convention
    assert updates["altitude"].median() == pytest.approx(
        raw["baroaltitude"].median() / 0.3048, rel=0.01
    )
    # a stale position OpenSky wrote again (same lastposupdate) is not a fresh report
    fresh = len(raw) - int(raw.duplicated(["icao24", "lastposupdate"]).sum())
    assert fresh < len(raw)
    assert summary_of(res.output)["reports"] == fresh
    # the same file without --format: read as a table by the one reader, the same reports
    guessed = CliRunner().invoke(app, ["track", str(src), "--out", str(tmp_path / "g.parquet")])
    assert guessed.exit_code == 0, guessed.output
    assert summary_of(guessed.output) == summary_of(res.output)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "g.parquet"), updates)


def test_track_report_table_csv_out_of_order(real_data: Path, tmp_path: Path) -> None:
    df = pd.read_parquet(real_data / "traffic" / "quickstart.parquet")
    part = df[df["timestamp"] < df["timestamp"].iloc[0] + pd.Timedelta("2min")].copy()
    part["party"] = "A"
    part["sensor"] = "rx1"
    # arrival order scrambled within 10 s blocks: reports up to 10 s late
    block = (part["timestamp"] - part["timestamp"].min()).dt.total_seconds() // 10
    part = part.assign(block=block).sample(frac=1.0, random_state=1)
    part = part.sort_values("block", kind="stable").drop(columns="block")
    csv = tmp_path / "reports.csv"
    part.to_csv(csv, index=False)
    res = CliRunner().invoke(app, ["track", str(csv), "--out", str(tmp_path / "t.csv")])
    assert res.exit_code == 0, res.output
    s = summary_of(res.output)
    assert s["reports"] == len(part)
    assert s["position_updates"] + s["tracks_started"] == len(part)  # none dropped
    assert s["out_of_order"] > 0
    assert s["tracks"] == part["icao24"].nunique()


def test_track_bad_input_says_what_to_do(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    res = CliRunner().invoke(app, ["track", str(bad), "--format", "reports"])
    assert res.exit_code == 2
    # what is missing, in the names accepted (traffic's and OpenSky's), and what was found
    err = " ".join(res.output.split())
    assert "missing column(s): timestamp [timestamp or OpenSky's time]; latitude" in err
    assert "found: a, b" in err
