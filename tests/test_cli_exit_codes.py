"""One exit-status rule for every command: 0 success, 1 a run or check that failed, 2 a usage
error (a bad option, argument, input file or setting); errors go to stderr, data to stdout."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.cli._app import exit_code
from deconflict.errors import (
    ClusterError,
    ConfigError,
    InputError,
    StorageError,
    UnknownNameError,
    VerificationError,
)

runner = CliRunner()


def test_the_rule() -> None:
    for usage in (InputError("x"), UnknownNameError("x"), ConfigError("x"), "a bad option"):
        assert exit_code(usage) == 2
    for failed in (StorageError("x"), VerificationError("x"), ClusterError("x")):
        assert exit_code(failed) == 1


def _states(path: Path) -> Path:
    path.write_text(
        "id,latitude,longitude,altitude,groundspeed,track\n"
        "A,47.0,8.0,35000,450,90\nB,47.0,8.3,35000,450,270\n"
    )
    return path


@pytest.mark.parametrize(
    ("args", "code", "stderr_has"),
    [
        (["detect", "{tmp}/missing.csv"], 2, "no such file"),
        (["detect", "--standard", "icao-9nm", "{states}"], 2, "icao-9nm"),
        (["detect", "--format", "xml", "{states}"], 2, "--format"),
        (["detect", "--pair-search", "octree", "{states}"], 2, "--pair-search"),
        (["detect", "--no-such-option", "{states}"], 2, "No such option"),
        (["analyze", "{states}", "--out", "{tmp}/o", "--engine", "spark"], 2, "engine"),
        (
            ["analyze", "{traffic}", "--out", "{tmp}/o", "--scheduler", "tcp://127.0.0.1:9"],
            1,
            "scheduler",
        ),
    ],
)
def test_exit_status_and_stderr(
    tmp_path: Path, real_data: Path, args: list[str], code: int, stderr_has: str
) -> None:
    states = _states(tmp_path / "states.csv")
    values = {"tmp": str(tmp_path), "states": str(states),
              "traffic": str(real_data / "traffic" / "quickstart.parquet")}  # fmt: skip
    result = runner.invoke(app, [a.format(**values) for a in args])
    assert result.exit_code == code, result.output
    assert stderr_has.lower() in result.stderr.lower()
    assert result.stdout == ""  # nothing on stdout when the command failed


def test_success_is_zero_with_data_on_stdout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["detect", str(_states(tmp_path / "s.csv"))])
    assert result.exit_code == 0
    assert result.stdout.startswith("{") and '"conflicts"' in result.stdout
