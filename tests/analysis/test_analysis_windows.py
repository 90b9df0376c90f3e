"""Windows, engines and resumption: an encounter on a window boundary is counted once, the
local and the Dask engines agree, an interrupted run resumes, a dead scheduler is an error."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from deconflict.analysis.inputs import open_source
from deconflict.analysis.run import ClusterError, analyse_files, make_params
from deconflict.analysis.windows import analyse_window, plan
from deconflict.errors import InputError
from deconflict.geo import destination_deg
from deconflict.units import NM

SWISS = ("2018-08-01 12:00", "2018-08-01 14:00")


def _pair(make_track: Callable[..., pd.DataFrame], t_cpa: float, speed: float) -> list:
    t = np.arange(0.0, 7200.0, 10.0)
    lat1, lon1 = destination_deg(46.0, 7.0, 90.0, 2 * NM)
    return [
        make_track("aaaaaa", 46.0, 7.0, 0.0, speed, 35000, t, t_cpa),
        make_track("bbbbbb", float(lat1), float(lon1), 180.0, speed, 35500, t, t_cpa),
    ]


def _by_windows(path: Path, window_s: float, overlap_s: float) -> pd.DataFrame:
    src = open_source(path)
    lo, hi = src.time_range_s() or (0.0, 0.0)
    params = make_params([src], lo, window_s=window_s, overlap_s=overlap_s, step_s=10.0)
    parts = [analyse_window([src], params, w0, w1, hi) for w0, w1 in plan(lo, hi, window_s)]
    return pd.concat(parts, ignore_index=True)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each case runs files
)
@given(
    t_cpa=st.floats(500.0, 6500.0),
    window_s=st.sampled_from([300.0, 600.0, 1200.0]),
    overlap_s=st.sampled_from([10.0, 60.0]),
    speed=st.sampled_from([30.0, 80.0, 240.0]),
)
@pytest.mark.slow
def test_boundary_encounter_counted_once(
    write_tracks: Callable[..., Path],
    make_track: Callable[..., pd.DataFrame],
    t_cpa: float,
    window_s: float,
    overlap_s: float,
    speed: float,
) -> None:
    """Whatever the windows, one encounter, and the same one as a single window sees; slow
    pairs (30 m/s: inside the screen for 600 s) outlast the overlap and widen it."""
    path = write_tracks(*_pair(make_track, t_cpa, speed))
    whole = _by_windows(path, 8000.0, 10.0)
    split = _by_windows(path, window_s, overlap_s)
    assert len(whole) == 1
    pd.testing.assert_frame_equal(split, whole)


@pytest.mark.slow
def test_real_boundary_crossers_counted_once(real_data: Path, tmp_path: Path) -> None:
    """On real traffic, 10-min windows with a 10 s overlap give the events of 2-h windows."""
    files = [real_data / "traffic" / "switzerland.parquet"]
    one = analyse_files(
        files,
        tmp_path / "a",
        start=SWISS[0],
        stop=SWISS[1],
        engine="local",
        progress=False,
        window_s=7200,
    )
    many = analyse_files(
        files,
        tmp_path / "b",
        start=SWISS[0],
        stop=SWISS[1],
        engine="local",
        progress=False,
        window_s=600,
        overlap_s=10,
    )
    t = pd.Timestamp(SWISS[0], tz="UTC")
    on_edge = ((one.t_start - t).dt.total_seconds() // 600) != (
        (one.t_end - t).dt.total_seconds() // 600
    )
    assert on_edge.sum() >= 10  # many encounters do straddle a 10-min boundary
    pd.testing.assert_frame_equal(one, many)


@pytest.mark.slow
def test_local_equals_dask(real_data: Path, tmp_path: Path) -> None:
    files = [real_data / "traffic" / "switzerland.parquet"]
    kw = dict(start=SWISS[0], stop=SWISS[1], progress=False, window_s=1800)
    local = analyse_files(files, tmp_path / "l", engine="local", **kw)
    dask = analyse_files(files, tmp_path / "d", engine="dask", processes=False, **kw)
    assert len(local) > 50
    pd.testing.assert_frame_equal(local, dask)


class _Stop(Exception):
    pass


@pytest.mark.slow
def test_interrupted_run_resumes(real_data: Path, tmp_path: Path) -> None:
    files = [real_data / "traffic" / "switzerland.parquet"]
    kw = dict(start=SWISS[0], stop=SWISS[1], progress=False, window_s=1800, engine="local")
    done: list[tuple[float, float]] = []

    def stop_after_two(w: tuple[float, float]) -> None:
        done.append(w)
        if len(done) == 2:
            raise _Stop

    with pytest.raises(_Stop):
        analyse_files(files, tmp_path / "r", on_window=stop_after_two, **kw)
    kept = sorted((tmp_path / "r" / "windows").glob("*.parquet"))
    assert len(kept) == 2 and not (tmp_path / "r" / "events.json").exists()
    again: list[tuple[float, float]] = []
    resumed = analyse_files(files, tmp_path / "r", on_window=again.append, **kw)
    assert len(again) == 2  # only the two windows left
    fresh = analyse_files(files, tmp_path / "f", **kw)
    pd.testing.assert_frame_equal(resumed, fresh)
    with pytest.raises(InputError, match="other inputs or parameters"):
        analyse_files(files, tmp_path / "r", **{**kw, "window_s": 600})


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error(real_data: Path, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        analyse_files(
            [real_data / "traffic" / "switzerland.parquet"],
            tmp_path / "x",
            engine="dask",
            scheduler=f"tcp://127.0.0.1:{port}",
            progress=False,
        )


@pytest.mark.slow
def test_scheduler_dying_mid_run_keeps_finished_windows(real_data: Path, tmp_path: Path) -> None:
    from distributed import LocalCluster

    files = [real_data / "traffic" / "switzerland.parquet"]
    kw = dict(start=SWISS[0], stop=SWISS[1], progress=False, window_s=600)
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    )

    def kill(_: tuple[float, float]) -> None:
        cluster.close()

    with pytest.raises(ClusterError, match="rerun the same command to resume"):
        analyse_files(
            files,
            tmp_path / "k",
            engine="dask",
            scheduler=cluster.scheduler_address,
            on_window=kill,
            **kw,
        )
    kept = list((tmp_path / "k" / "windows").glob("*.parquet"))
    assert 1 <= len(kept) < 12
    resumed = analyse_files(files, tmp_path / "k", engine="local", **kw)
    fresh = analyse_files(files, tmp_path / "f", engine="local", **kw)
    pd.testing.assert_frame_equal(resumed, fresh)


def test_changed_input_is_not_resumed(
    write_tracks: Callable[..., Path], make_track: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    path = write_tracks(*_pair(make_track, 3000.0, 240.0))
    first = analyse_files([path], tmp_path / "o", engine="local", progress=False)
    assert len(first) == 1
    write_tracks(*_pair(make_track, 4000.0, 240.0))  # same path, new content
    with pytest.raises(InputError, match="other inputs or parameters"):
        analyse_files([path], tmp_path / "o", engine="local", progress=False)
