"""``deconflict decode`` on real recordings: JSON lines, error records, summary."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deconflict.cli import app

runner = CliRunner()


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_decode_beast_file(real_data: Path) -> None:
    path = real_data / "traffic" / "sample_dump1090.bin"
    result = runner.invoke(app, ["decode", str(path), "--start", "2020-01-01T00:00:00Z"])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    reports = [r for r in lines if "timestamp" in r]
    assert len(reports) == 233  # 239 frames, 6 DF0/4/5 before their aircraft's DF11/17
    summary = lines[-1]["summary"]
    assert isinstance(summary, dict) and summary["reports"] == 233
    assert summary["errors"] == summary["error:unknown-address"] == 6
    assert all(str(r["timestamp"]).startswith("2020-01-01T00:00:") for r in reports)


def test_decode_bad_frames_give_error_records(tmp_path: Path) -> None:
    path = tmp_path / "frames.txt"
    path.write_text("*8d406b902015a678d4d220aa4bda;\n*8d406b902015a678d4d220aa4bdb;\nhello\n")
    result = runner.invoke(app, ["decode", str(path), "--format", "avr"])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    assert lines[0]["callsign"] == "EZY85MH"
    errors = [r for r in lines if "error" in r]
    assert [(e["error"], e["position"]) for e in errors] == [("bad-crc", 1), ("no-frame", 2)]
    summary = lines[-1]["summary"]
    assert isinstance(summary, dict) and summary["errors"] == 2 and summary["reports"] == 1


def test_decode_cat048_with_sensor_file(real_data: Path, tmp_path: Path) -> None:
    sensors = tmp_path / "sensors.toml"
    sensors.write_text(
        '[sensors."25/201"]\nlatitude = 45.0\nlongitude = 15.0\naltitude_ft = 1000\n'
    )
    path = real_data / "asterix" / "croatiacontrol" / "cat_034_048.pcap"
    result = runner.invoke(app, ["decode", str(path), "--sensors", str(sensors)])
    assert result.exit_code == 0, result.output
    reports = [r for r in _lines(result.stdout) if "timestamp" in r]
    placed = [r for r in reports if r["latitude"] is not None]
    assert len(reports) == 128 and {r["sensor"] for r in placed} == {"25/201"}


def test_decode_usage_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["decode", str(tmp_path / "nope.bin")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    bad = tmp_path / "sensors.toml"
    bad.write_text("[sensors.x]\nlatitude = 'north'\n")
    data = tmp_path / "x.avr"
    data.write_text("*8d406b902015a678d4d220aa4bda;\n")
    wrong = runner.invoke(app, ["decode", str(data), "--sensors", str(bad)])
    assert wrong.exit_code == 2 and "sensors.x" in wrong.output
    unknown = runner.invoke(app, ["decode", str(data), "--format", "morse"])
    # the parser refuses it and lists the formats (a typer choice, completed by the shell)
    text = " ".join(unknown.output.split())
    assert unknown.exit_code == 2 and "'morse' is not one of" in text and "'beast'" in text


def test_feed_replays_a_file_fast(real_data: Path) -> None:
    path = real_data / "asterix" / "asterix4py" / "cat062.ast"
    result = runner.invoke(app, ["feed", str(path), "--speed", "0"])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    assert len([r for r in lines if "timestamp" in r]) == 7
    summary = lines[-1]["summary"]
    assert isinstance(summary, dict) and summary["reports"] == 7


def test_feed_usage_errors(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["feed", str(tmp_path / "none.bin")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    no_port = runner.invoke(app, ["feed", "tcp://127.0.0.1"])
    assert no_port.exit_code == 2 and "port" in no_port.output
