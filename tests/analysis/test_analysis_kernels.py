"""Resampling, screening and encounter kernels against brute force and dense references."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.analysis import severity_of
from deconflict.analysis.run import analyse_files
from deconflict.analysis.screen import Grid, resample, screen
from deconflict.geo import ecef_m, geodesic_m
from deconflict.units import FT, NM


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.floats(0.5, 30.0), min_size=2, max_size=30),
    step=st.sampled_from([1.0, 2.0, 5.0, 10.0]),
)
def test_resample_is_linear_interpolation(gaps: list[float], step: float) -> None:
    t = 1000.0 + np.cumsum(gaps)
    lat = 45.0 + 0.001 * (t - t[0])
    lon = 7.0 - 0.0005 * (t - t[0])
    alt = 10000.0 + 3.0 * (t - t[0])
    aid = np.zeros(t.size, dtype=np.int64)
    grid = resample(aid, t, lat, lon, alt, np.ones(t.size, bool), step, 0, 10**6, 60.0)
    expect_k = np.arange(np.ceil(t[0] / step - 1e-9), np.floor(t[-1] / step + 1e-9) + 1)
    assert np.array_equal(grid.k, expect_k.astype(np.int64))
    tk = grid.k * step
    assert np.allclose(grid.alt_m, np.interp(tk, t, alt), atol=1e-6)
    exact = ecef_m(np.interp(tk, t, lat), np.interp(tk, t, lon))
    assert np.allclose(grid.xyz_m, exact, atol=0.05)  # chord vs arc within one sample gap


def test_resample_never_crosses_a_gap_nor_the_ground() -> None:
    t = np.array([0.0, 10.0, 20.0, 100.0, 110.0, 120.0, 130.0])
    air = np.array([True, True, True, True, True, False, False])
    grid = resample(
        np.zeros(7, np.int64),
        t,
        np.full(7, 45.0),
        np.linspace(7, 8, 7),
        np.full(7, 9000.0),
        air,
        5.0,
        0,
        100,
        60.0,
    )
    # 20 -> 100 is an 80 s gap; 110 -> 120 touches the ground
    assert list(grid.k) == [0, 1, 2, 3, 4, 20, 21, 22]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 60), steps=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_screen_equals_brute_force(n: int, steps: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(46.0, 46.5, (steps, n))
    lon = rng.uniform(7.0, 7.6, (steps, n))
    alt = rng.uniform(9000.0, 11000.0, (steps, n))
    aid = np.tile(np.arange(n), (steps, 1))
    k = np.repeat(np.arange(steps), n).reshape(steps, n)
    order = np.lexsort((k.ravel(), aid.ravel()))
    grid = Grid(
        aid.ravel()[order],
        k.ravel()[order].astype(np.int64),
        ecef_m(lat.ravel(), lon.ravel())[order],
        alt.ravel()[order],
    )
    h, v = 10 * NM, 2000 * FT
    i, j = screen(grid, h, v)
    got = {(int(grid.k[a]), int(grid.aid[a]), int(grid.aid[b])) for a, b in zip(i, j, strict=True)}
    want = set()
    for s in range(steps):
        d = geodesic_m(lat[s][:, None], lon[s][:, None], lat[s][None, :], lon[s][None, :])
        close = (d <= h) & (np.abs(alt[s][:, None] - alt[s][None, :]) <= v)
        for a, b in zip(*np.nonzero(np.triu(close, 1)), strict=True):
            want.add((s, int(a), int(b)))
    # the screen uses the chord; pairs within 1 m of the screen edge may differ
    for s, a, b in want ^ got:
        dist = geodesic_m(lat[s][a], lon[s][a], lat[s][b], lon[s][b])
        assert abs(float(dist) - h) < 1.0
    assert all(grid.aid[a] < grid.aid[b] for a, b in zip(i, j, strict=True))


def test_closest_approach_between_samples(
    write_tracks: Callable[..., Path], make_track: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    """Head-on pass 1 NM abeam, 400 ft apart, CPA at t = 1005.3 s (between 10 s samples):
    time, distances and loss duration against a dense (20 ms) geodesic reference."""
    t = np.arange(0.0, 2000.0 + 1e-9, 10.0)
    t_cpa = 1005.3
    lat0, lon0 = 46.0, 7.0
    from deconflict.geo import destination_deg

    lat1, lon1 = destination_deg(lat0, lon0, 90.0, 1 * NM)
    a = make_track("aaaaaa", lat0, lon0, 0.0, 240.0, 35000, t, t_cpa)
    b = make_track("bbbbbb", float(lat1), float(lon1), 180.0, 240.0, 35400, t, t_cpa)
    ev = analyse_files([write_tracks(a, b)], tmp_path / "out", engine="local", progress=False)
    assert len(ev) == 1
    e = ev.iloc[0]
    dense = np.arange(900.0, 1100.0, 0.02)
    pa = make_track("a", lat0, lon0, 0.0, 240.0, 0, dense, t_cpa)
    pb = make_track("b", float(lat1), float(lon1), 180.0, 240.0, 0, dense, t_cpa)
    d = geodesic_m(pa.latitude, pa.longitude, pb.latitude, pb.longitude)
    best = int(np.argmin(d))
    assert (e.t_cpa - pd.Timestamp(0, tz="UTC")).total_seconds() == pytest.approx(
        dense[best], abs=0.05
    )
    assert e.dcpa_nm * NM == pytest.approx(d[best], abs=2.0)
    assert e.dalt_ft == pytest.approx(400.0, abs=1e-6)
    assert e.duration_s == pytest.approx(np.count_nonzero(d < 5 * NM) * 0.02, abs=0.1)
    assert e.loss and e.severity == "B"  # ratio 0.4
    assert (e.a, e.b, e.callsign_a, e.callsign_b) == ("aaaaaa", "bbbbbb", "AAAAAA", "BBBBBB")


def test_severity_rule_is_the_incidents_rule() -> None:
    """Analysis classes encounters with the incidents room's A–E rule (one rule for both)."""
    from deconflict.incidents.severity import classify

    h_min, v_min = 5 * NM, 1000 * 0.3048
    dcpa = np.array([100.0, 1000.0, 4000.0, 6000.0, 9000.0, 9000.0, 20000.0])
    dalt = np.array([20.0, 100.0, 150.0, 100.0, 250.0, 290.0, 100.0])
    loss = (dcpa < h_min) & (dalt < v_min - 0.3048)
    got = list(severity_of(dcpa, dalt, loss, h_min, v_min))
    assert got == ["A", "B", "B", "C", "C", "C", "E"]
    for h, v, lost, letter in zip(dcpa, dalt, loss, got, strict=True):
        expected, _ = classify(h, v, loss_of_separation=bool(lost), horizontal_min_m=h_min,
                               vertical_min_m=v_min, data_gap_s=0.0)  # fmt: skip
        assert expected.value == letter


def test_adjacent_flight_levels_are_separated(
    write_tracks: Callable[..., Path], make_track: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    t = np.arange(0.0, 1200.0, 10.0)
    a = make_track("aaaaaa", 46.0, 7.0, 0.0, 240.0, 35000, t, 600.0)
    b = make_track("bbbbbb", 46.0, 7.0, 180.0, 240.0, 34000, t, 600.0)
    ev = analyse_files([write_tracks(a, b)], tmp_path / "o", engine="local", progress=False)
    assert len(ev) == 1 and not ev.loss.iloc[0] and ev.severity.iloc[0] == "E"
    assert ev.dcpa_nm.iloc[0] < 0.01 and ev.dalt_ft.iloc[0] == pytest.approx(1000.0)
