"""``deconflict engine``'s loop is the in-process demo's (``Session.run_realtime``): the full
garbage collections are paced into the quiet part of each tick (``engine.pacing``), automatic
ones off while it leads, as in the demo whose fan-out p99 they brought under 250 ms (issue 12)."""

from __future__ import annotations

import gc
import itertools
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.engine import pacing, session


def test_the_engine_process_ticks_through_the_paced_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[tuple[int, float]] = []  # (gc's full-collection threshold, deadline) per tick

    class Recording(pacing.PacedCollector):
        def idle_until(
            self,
            deadline: float,
            stop: threading.Event,
            work: Callable[[], object] | None = None,
            work_every_s: float = 0.0,
        ) -> None:
            waits.append((gc.get_threshold()[2], deadline))
            assert work is not None and work_every_s > 0  # the intakes between the ticks
            super().idle_until(deadline, stop, work, work_every_s)

    monkeypatch.setattr(session, "PacedCollector", Recording)
    monkeypatch.chdir(tmp_path)
    before = gc.get_threshold()
    db = f"sqlite:///{tmp_path / 'engine.sqlite'}"
    result = CliRunner().invoke(app, ["engine", "--db", db, "--duration", "6", "--speed", "20"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["led"] and summary["ticks"] == 6
    # one paced wait after each tick, 1/speed s apart, with the automatic full collections off
    assert len(waits) == 6
    assert {t for t, _ in waits} == {pacing.NO_FULL_COLLECTION}
    gaps = [b - a for (_, a), (_, b) in itertools.pairwise(waits)]
    assert all(abs(g - 0.05) < 1e-6 for g in gaps), gaps
    assert gc.get_threshold() == before  # given back when the engine stops
