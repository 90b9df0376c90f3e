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


def _pass_abeam(
    make_track: Callable[..., pd.DataFrame], alt_a: object, alt_b: object, abeam_nm: float = 0.5
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Head-on pass ``abeam_nm`` abeam at t = 1000 s (10 s samples), altitudes set per sample."""
    from deconflict.geo import destination_deg

    t = np.arange(0.0, 2000.0 + 1e-9, 10.0)
    lat1, lon1 = destination_deg(46.0, 7.0, 90.0, abeam_nm * NM)
    a = make_track("aaaaaa", 46.0, 7.0, 0.0, 240.0, 0.0, t, 1000.0)
    b = make_track("bbbbbb", float(lat1), float(lon1), 180.0, 240.0, 0.0, t, 1000.0)
    a["altitude"] = np.broadcast_to(np.asarray(alt_a, dtype=float), t.shape)
    b["altitude"] = np.broadcast_to(np.asarray(alt_b, dtype=float), t.shape)
    return a, b


def test_during_the_loss_closest_horizontal_and_least_vertical(
    write_tracks: Callable[..., Path], make_track: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    """Two aircraft 850 ft apart passing 0.5 NM abeam (neither on a flight level): the loss's
    closest horizontal distance is 0.5 NM at the pass, its least vertical distance 850 ft."""
    a, b = _pass_abeam(make_track, 30350.0, 29500.0)
    ev = analyse_files([write_tracks(a, b)], tmp_path / "o", engine="local", progress=False)
    e = ev.iloc[0]
    assert e.loss and e.category == "loss"
    assert e.loss_min_h_nm == pytest.approx(0.5, abs=1e-3)
    assert (e.loss_min_h_t - pd.Timestamp(0, tz="UTC")).total_seconds() == pytest.approx(
        1000.0, abs=0.05
    )
    assert e.loss_min_v_ft == pytest.approx(850.0, abs=1e-6)


@pytest.mark.parametrize(
    ("alt_b", "tolerance_ft", "category"),
    [
        (29025.0, 200.0, "adjacent_levels"),  # Mode C 25 ft step under FL300 over FL290
        (29100.0, 200.0, "adjacent_levels"),  # 100 ft steps (Gillham), 900 ft apart
        (29025.0, 0.0, "loss"),  # the rule off: the geometry alone
        (29500.0, 200.0, "loss"),  # 500 ft off any level: not a level, a loss
        (29250.0, 200.0, "loss"),  # 250 ft off FL290: beyond the RVSM tolerance
        (29250.0, 300.0, "adjacent_levels"),  # within the non-RVSM tolerance (Doc 4444)
    ],
)
def test_adjacent_levels_are_reported_apart_from_losses(
    write_tracks: Callable[..., Path],
    make_track: Callable[..., pd.DataFrame],
    tmp_path: Path,
    alt_b: float,
    tolerance_ft: float,
    category: str,
) -> None:
    a, b = _pass_abeam(make_track, 30000.0, alt_b)
    ev = analyse_files(
        [write_tracks(a, b)],
        tmp_path / "o",
        engine="local",
        progress=False,
        level_tolerance_ft=tolerance_ft,
    )
    assert len(ev) == 1
    e = ev.iloc[0]
    assert e.category == category
    assert bool(e.loss) == (category == "loss")
    assert (e.severity == "E") == (category == "adjacent_levels")  # B or C for a loss
    # the geometry during the loss is reported either way
    assert e.loss_min_h_nm == pytest.approx(0.5, abs=1e-3)
    assert e.loss_min_v_ft == pytest.approx(30000.0 - alt_b, abs=1e-6)


def test_climbing_through_an_adjacent_level_is_a_loss(
    write_tracks: Callable[..., Path], make_track: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    """b climbs at 600 ft/min through FL290 while a is level at FL300 and they pass 0.5 NM
    abeam: the loss starts as b crosses 29,000 ft (within 200 ft of FL290) but goes on after b
    leaves the band: a loss, its least vertical distance at the loss's end, with its time."""
    t = np.arange(0.0, 2000.0 + 1e-9, 10.0)
    climb = np.clip(28000.0 + (t - 885.0) * 10.0, 28000.0, 31000.0)  # 29,000 ft at 985 s
    a, b = _pass_abeam(make_track, 30000.0, climb)
    ev = analyse_files([write_tracks(a, b)], tmp_path / "o", engine="local", progress=False)
    assert len(ev) == 1
    e = ev.iloc[0]
    assert e.loss and e.category == "loss"
    # horizontal loss ends when the two are 5 NM apart again, after the pass at 1000 s
    end_s = 1000.0 + float(np.sqrt((5 * NM) ** 2 - (0.5 * NM) ** 2)) / 480.0
    assert (e.loss_min_v_t - pd.Timestamp(0, tz="UTC")).total_seconds() == pytest.approx(
        end_s, abs=0.1
    )
    assert e.loss_min_v_ft == pytest.approx(30000.0 - (29000.0 + (end_s - 985.0) * 10.0), abs=2.0)


def test_level_tolerance_is_checked(tmp_path: Path, real_data: Path) -> None:
    from deconflict.errors import InputError

    with pytest.raises(InputError, match="Doc 4444"):
        analyse_files(
            [real_data / "traffic" / "switzerland.parquet"],
            tmp_path,
            engine="local",
            progress=False,
            level_tolerance_ft=600.0,
        )
