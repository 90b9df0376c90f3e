"""The driver: batches resume after an interruption, Dask and the local loop agree, an
unreachable or dying scheduler and a failing worker are clear errors that keep finished batches,
damaged batch files are named."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest

from deconflict.analysis.run import ClusterError
from deconflict.errors import InputError
from deconflict.montecarlo import runner
from deconflict.montecarlo.procedures import Distribution, Procedures
from deconflict.montecarlo.runner import Batch, StudyError, run_study
from deconflict.montecarlo.study import Study
from deconflict.sim.scenario import parse_scenario

SCENE = parse_scenario(
    """
[scenario]
name = "crossing"
start = "2020-01-01T00:00:00Z"
duration_s = 400
center = [36.0, 37.5]
[[party]]
id = "a"
[[party]]
id = "b"
[[aircraft]]
id = "A1"
party = "a"
type = "A320"
route = [{ lat = 36.0, lon = 37.0, alt_ft = 30000, speed_kt = 450 },
         { lat = 36.0, lon = 38.2, alt_ft = 30000, speed_kt = 450 }]
[[aircraft]]
id = "B1"
party = "b"
type = "A320"
route = [{ lat = 35.6, lon = 37.5, alt_ft = 30000, speed_kt = 450 },
         { lat = 36.6, lon = 37.5, alt_ft = 30000, speed_kt = 450 }]
"""
)
PROCS = [
    Procedures(
        name=name,
        standard="icao-5nm",
        alert_lead_time_s=lead,
        identification_deadline_s=300.0,
        hotline_response_time_s=Distribution("lognormal", median, 0.5),
    )
    for name, lead, median in (("slow", 60.0, 120.0), ("fast", 300.0, 20.0))
]
STUDY = Study(seed=3, departure_jitter_s=60.0, route_sigma_m=2000.0)
KW = dict(study=STUDY, batch_size=4, progress=False)


class Stop(Exception):
    pass


def test_interrupted_study_resumes_and_equals_a_fresh_one(tmp_path: Path) -> None:
    seen: list[Batch] = []

    def stop_after_two(b: Batch) -> None:
        seen.append(b)
        if len(seen) == 2:
            raise Stop

    with pytest.raises(Stop):
        run_study(SCENE, PROCS, 10, tmp_path / "r", engine="local", on_batch=stop_after_two, **KW)
    kept = sorted((tmp_path / "r" / "runs").rglob("*.parquet"))
    assert len(kept) == 2
    again: list[Batch] = []
    resumed = run_study(
        SCENE, PROCS, 10, tmp_path / "r", engine="local", on_batch=again.append, **KW
    )
    assert len(again) == 6 - 2  # 3 batches per set, two sets, two already done
    fresh = run_study(SCENE, PROCS, 10, tmp_path / "f", engine="local", **KW)
    pd.testing.assert_frame_equal(resumed, fresh)
    assert list(resumed["procedures"].unique()) == ["slow", "fast"]
    assert (resumed.groupby("procedures")["run"].nunique() == 10).all()
    # more runs later: only the new batches run
    more: list[Batch] = []
    run_study(SCENE, PROCS, 14, tmp_path / "r", engine="local", on_batch=more.append, **KW)
    assert {(b.first, b.end) for b in more} == {(8, 12), (12, 14)}
    with pytest.raises(InputError, match="another study"):
        run_study(SCENE, PROCS, 10, tmp_path / "r", engine="local", batch_size=4, progress=False,
                  study=Study(seed=4))  # fmt: skip


def test_damaged_batch_file_is_named(tmp_path: Path) -> None:
    run_study(SCENE, PROCS[:1], 4, tmp_path, engine="local", **KW)
    (f,) = (tmp_path / "runs").rglob("*.parquet")
    f.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=f.name):
        run_study(SCENE, PROCS[:1], 4, tmp_path, engine="local", **KW)
    pd.DataFrame({"procedures": ["slow"], "run": [0]}).to_parquet(f)
    with pytest.raises(InputError, match="lack column"):
        run_study(SCENE, PROCS[:1], 4, tmp_path, engine="local", **KW)


@pytest.mark.slow
@pytest.mark.parametrize("processes", [False, True])
def test_dask_agrees_with_the_local_loop(tmp_path: Path, processes: bool) -> None:
    local = run_study(SCENE, PROCS, 8, tmp_path / "l", engine="local", **KW)
    dask = run_study(SCENE, PROCS, 8, tmp_path / "d", engine="dask", processes=processes, **KW)
    pd.testing.assert_frame_equal(local, dask)


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(ClusterError, match=f"cannot reach the Dask scheduler at {address}"):
        run_study(SCENE, PROCS, 8, tmp_path, engine="dask", scheduler=address,
                  scheduler_timeout_s=2.0, **KW)  # fmt: skip


@pytest.mark.slow
def test_scheduler_dying_mid_study_keeps_finished_batches(tmp_path: Path) -> None:
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )
    address = cluster.scheduler_address

    def kill(_: Batch) -> None:
        cluster.close()

    with pytest.raises(ClusterError, match=f"{address}.*rerun the same command to resume"):
        run_study(SCENE, PROCS, 24, tmp_path, engine="dask", scheduler=address, on_batch=kill, **KW)
    kept = list((tmp_path / "runs").rglob("*.parquet"))
    assert 1 <= len(kept) < 12
    resumed = run_study(SCENE, PROCS, 24, tmp_path, engine="local", **KW)
    fresh = run_study(SCENE, PROCS, 24, tmp_path / "f", engine="local", **KW)
    pd.testing.assert_frame_equal(resumed, fresh)


@pytest.mark.slow
def test_failing_worker_is_a_clear_error_and_keeps_finished_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner.simulate_run

    def flaky(p, proc, study, run):  # type: ignore[no-untyped-def]
        if proc.name == "fast" and run >= 4:
            raise RuntimeError("worker lost its disk")
        return real(p, proc, study, run)

    monkeypatch.setattr(runner, "simulate_run", flaky)
    with pytest.raises(StudyError, match=r"runs 4-7 of 'fast'|runs 8-11 of 'fast'") as err:
        run_study(SCENE, PROCS, 12, tmp_path, engine="dask", processes=False, workers=1, **KW)
    assert "worker lost its disk" in str(err.value) and "rerun" in str(err.value)
    kept = {p.name for p in (tmp_path / "runs" / "slow").glob("*.parquet")}
    assert len(kept) >= 1
    with pytest.raises(StudyError, match="runs 4-7 of 'fast'"):
        run_study(SCENE, PROCS, 12, tmp_path, engine="local", **KW)
    monkeypatch.setattr(runner, "simulate_run", real)
    resumed = run_study(SCENE, PROCS, 12, tmp_path, engine="local", **KW)
    fresh = run_study(SCENE, PROCS, 12, tmp_path / "f", engine="local", **KW)
    pd.testing.assert_frame_equal(resumed, fresh)


def test_manifest_follows_the_scenario_not_its_path(tmp_path: Path) -> None:
    from dataclasses import replace

    from deconflict.montecarlo.runner import scenario_digest

    moved = replace(SCENE, source="elsewhere/crossing.toml")
    assert scenario_digest(moved) == scenario_digest(SCENE)
    longer = replace(SCENE, duration_s=500.0)
    assert scenario_digest(longer) != scenario_digest(SCENE)
    run_study(SCENE, PROCS[:1], 4, tmp_path, engine="local", **KW)
    with pytest.raises(InputError, match="scenario_digest"):
        run_study(longer, PROCS[:1], 4, tmp_path, engine="local", **KW)
