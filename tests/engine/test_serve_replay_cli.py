"""``deconflict serve --replay FILE`` serves the recording's live picture (wired to the demo's
live app); bad arguments fail with a message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import deconflict.cli.demo as demo
from deconflict.cli import app


def test_serve_replay_starts_the_live_app_on_the_recording(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(demo, "_serve", lambda *args: calls.append(args))
    recording = tmp_path / "rec.parquet"
    recording.write_bytes(b"x")
    result = CliRunner().invoke(
        app, ["serve", "--replay", str(recording), "--port", "8765", "--speed", "10"]
    )
    assert result.exit_code == 0, result.output
    assert calls == [(None, recording, None, 10.0, "127.0.0.1", 8765)]


def test_serve_replay_needs_a_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--replay", str(tmp_path / "missing.parquet")])
    assert result.exit_code == 2 and "no such file" in result.stderr
