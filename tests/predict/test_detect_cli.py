"""``deconflict detect``: the JSON shape, the table, and file runs that skip bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from deconflict.cli import app

ROWS = [
    {
        "id": "A",
        "latitude": 50.0,
        "longitude": 8.0,
        "altitude": 35000,
        "groundspeed": 450,
        "track": 90,
        "vertical_rate": 0,
    },
    {
        "id": "B",
        "latitude": 50.0,
        "longitude": 8.5,
        "altitude": 35000,
        "groundspeed": 450,
        "track": 270,
        "vertical_rate": 0,
    },
    {
        "id": "C",
        "latitude": 95.0,
        "longitude": 8.0,
        "altitude": 35000,
        "groundspeed": 450,
        "track": 0,
        "vertical_rate": 0,
    },
    {
        "id": "D",
        "latitude": 50.2,
        "longitude": 8.2,
        "altitude": 35000,
        "groundspeed": -3,
        "track": 0,
        "vertical_rate": 0,
    },
    {
        "id": "E",
        "latitude": 50.4,
        "longitude": 9.0,
        "altitude": 20000,
        "groundspeed": 300,
        "track": 0,
        "vertical_rate": 0,
    },
]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_shape_and_bad_rows_skipped(tmp_path: Path) -> None:
    path = tmp_path / "states.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    code, out, err = run("detect", str(path))
    assert code == 0
    payload = json.loads(out)
    assert payload["standard"] == "icao-5nm"
    assert payload["skipped_rows"] == 2
    (conflict,) = payload["conflicts"]
    assert {"a", "b", "t_in_s", "t_out_s", "tcpa_s", "dcpa_nm", "dalt_cpa_ft", "level"} <= set(
        conflict
    )
    assert (conflict["a"], conflict["b"]) == ("A", "B")
    assert (
        "row 2 (id 'C'): latitude beyond" in err and "row 3 (id 'D'): negative groundspeed" in err
    )


def test_table_standard_and_lookahead(tmp_path: Path) -> None:
    path = tmp_path / "states.json"
    path.write_text(json.dumps(ROWS[:2]))
    code, out, _ = run("detect", str(path), "--format", "table", "--standard", "icao-3nm")
    assert code == 0 and "icao-3nm" in out and "1 conflict(s)" in out
    code, out, _ = run("detect", str(path), "--lookahead", "30")
    assert code == 0 and json.loads(out)["conflicts"] == []  # LoS starts after ~57 s


def test_user_standard_from_toml(tmp_path: Path) -> None:
    std = tmp_path / "std.toml"
    std.write_text("[standards.wide]\nhorizontal_nm = 50\nvertical_ft = 20000\nlookahead_s = 60\n")
    path = tmp_path / "states.csv"
    pd.DataFrame([ROWS[0], ROWS[4]]).to_csv(path, index=False)
    code, out, _ = run("detect", str(path), "--standards", str(std), "--standard", "wide")
    assert code == 0 and len(json.loads(out)["conflicts"]) == 1


def test_wrong_files_fail_cleanly(tmp_path: Path) -> None:
    garbage = tmp_path / "states.parquet"
    garbage.write_bytes(b"\x00\x01 not parquet")
    code, out, err = run("detect", str(garbage))
    assert code == 2 and out == "" and "cannot read as parquet" in err and "Traceback" not in err
    missing_col = tmp_path / "states.csv"
    pd.DataFrame(ROWS).drop(columns=["track"]).to_csv(missing_col, index=False)
    code, _, err = run("detect", str(missing_col))
    assert code == 2 and "missing column(s): track" in err
    code, _, err = run("detect", str(tmp_path / "nope.csv"))
    assert code == 2 and "no such file" in err
    code, _, err = run("detect", str(missing_col), "--format", "xml")
    assert code == 2 and "--format" in err
    code, _, err = run("detect", str(missing_col), "--standard", "icao-9nm")
    assert code == 2 and "unknown separation standard" in err
