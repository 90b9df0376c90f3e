"""Kinematic tracking against ground truth: the shared Stone Soup harness's scenarios (radar plots
without identity, clutter, missed detections), one radar and two parties' radars."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from deconflict.tracking import Tracker, TrackerConfig, ospa, plots_batch

pytestmark = pytest.mark.real_data  # the harness lives beside the real recordings


@pytest.fixture(scope="module")
def harness(real_data: Path) -> ModuleType:
    tool = real_data.parent.parent / "tools" / "stonesoup_bench.py"
    if not tool.is_file():
        pytest.skip(f"shared harness not found at {tool}")
    spec = importlib.util.spec_from_file_location("stonesoup_bench", tool)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def truth_xy(scn: dict[str, Any]) -> np.ndarray:
    return np.array([tr["states"] for tr in scn["truths"]])[:, :, [0, 2]]  # (k, scans, 2)


def test_one_radar_tracks_follow_truth(harness: ModuleType) -> None:
    scn = harness.simulate(30, 7, n_scans=50)
    truth = truth_xy(scn)
    trk = Tracker(TrackerConfig.for_scan_period(4.0, position_sigma_m=100.0))
    values, ids = [], set()
    for s, sc in enumerate(scn["scans"]):
        xy = np.array([[d["x"], d["y"]] for d in sc["detections"]])
        trk.update_batch(plots_batch(np.full(len(xy), sc["t"]), xy), float(sc["t"]))
        tid, pos = trk.positions_xy(float(sc["t"]))
        ids.update(tid.tolist())
        values.append(ospa(truth[:, s], pos))
    assert np.mean(values[10:]) < 120.0  # 100 m plots, filtered; a missed target costs 1 km
    assert len(ids) <= 33  # at most a few broken or false tracks over 50 scans
    _, pos = trk.positions_xy(float(scn["scans"][-1]["t"]))
    assert abs(len(pos) - 30) <= 2


def test_two_parties_radars_one_track_per_target(harness: ModuleType) -> None:
    """Party B's radar sees the same targets 2 s after party A's, with its own noise and misses:
    each target is one track, not two."""
    scn = harness.simulate(25, 11, n_scans=40)
    truth = np.array([tr["states"] for tr in scn["truths"]])  # (k, scans, 4)
    rng = np.random.default_rng(11)
    trk = Tracker(TrackerConfig.for_scan_period(2.0, position_sigma_m=100.0))
    for s, sc in enumerate(scn["scans"]):
        t = float(sc["t"])
        a = np.array([[d["x"], d["y"]] for d in sc["detections"]])
        trk.update_batch(plots_batch(np.full(len(a), t), a), t)
        # radar B: 2 s later, 60 m noise, Pd 0.8, no clutter
        st = truth[:, s]
        pos_b = st[:, [0, 2]] + 2.0 * st[:, [1, 3]] + rng.normal(0, 60.0, (len(st), 2))
        pos_b = pos_b[rng.random(len(st)) < 0.8]
        trk.update_batch(plots_batch(np.full(len(pos_b), t + 2.0), pos_b, 60.0), t + 2.0)
    t_end = float(scn["scans"][-1]["t"]) + 2.0
    _, pos = trk.positions_xy(t_end)
    end = truth[:, -1]
    true_end = end[:, [0, 2]] + 2.0 * end[:, [1, 3]]
    d = np.hypot(*(pos[:, None, :] - true_end[None, :, :]).transpose(2, 0, 1))
    per_target = (d < 1000.0).sum(axis=0)
    assert (per_target == 1).all(), per_target
    assert len(pos) == len(true_end)
