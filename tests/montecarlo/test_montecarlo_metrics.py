"""Intervals: exact Poisson (Garwood) against tabled values, coverage on synthetic Poisson data,
the rate ratio and the t interval."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.montecarlo.metrics import (
    compare,
    garwood,
    mean_interval,
    rate_interval,
    rate_ratio,
    summarise,
)


def test_garwood_matches_tabled_exact_poisson_limits() -> None:
    # Exact 95 % limits for a Poisson count (e.g. Ulm 1990, Table; Garwood 1936).
    lo, hi = garwood([0, 1, 10])
    assert hi[0] == pytest.approx(-math.log(0.025), rel=1e-6)  # 3.689
    assert lo[0] == 0.0
    assert (lo[1], hi[1]) == pytest.approx((0.0253, 5.5716), abs=1e-4)
    assert (lo[2], hi[2]) == pytest.approx((4.7954, 18.3904), abs=1e-4)


@pytest.mark.parametrize("mu", [0.5, 3.0, 20.0])
def test_garwood_coverage_on_synthetic_poisson(mu: float) -> None:
    rng = np.random.default_rng(int(mu * 100))
    k = rng.poisson(mu, 4000)
    lo, hi = garwood(k)
    cover = np.mean((lo <= mu) & (mu <= hi))
    assert cover >= 0.94  # exact intervals are conservative: at least the nominal level
    assert cover <= 0.999


def test_rate_interval_scales_with_exposure() -> None:
    r, lo, hi = rate_interval(10, 20.0)
    assert r == 0.5
    assert (lo, hi) == pytest.approx((4.7954 / 20, 18.3904 / 20), abs=1e-5)


def test_rate_ratio_coverage_on_synthetic_poisson() -> None:
    rng = np.random.default_rng(3)
    ra, rb, ha, hb = 2.0, 1.0, 5.0, 7.0
    hits = 0
    trials = 1500
    for ka, kb in zip(rng.poisson(ra * ha, trials), rng.poisson(rb * hb, trials), strict=True):
        _, lo, hi = rate_ratio(int(ka), ha, int(kb), hb)
        hits += lo <= rb / ra <= hi
    assert 0.94 <= hits / trials <= 0.995


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 200), st.integers(0, 200), st.floats(0.5, 100), st.floats(0.5, 100))
def test_rate_ratio_interval_contains_the_estimate(ka: int, kb: int, ha: float, hb: float) -> None:
    ratio, lo, hi = rate_ratio(ka, ha, kb, hb)
    assert 0.0 <= lo <= hi
    if ka > 0:
        assert lo <= ratio * (1 + 1e-9) and ratio <= hi * (1 + 1e-9)


def test_t_interval_by_hand() -> None:
    m, lo, hi = mean_interval([1, 2, 3, 4, 5, float("nan")])
    half = 2.776445 * math.sqrt(2.5) / math.sqrt(5)  # t(0.975, 4) * s / sqrt(n)
    assert m == 3.0
    assert (lo, hi) == pytest.approx((3 - half, 3 + half), abs=1e-5)


def _runs(name: str, los: list[int]) -> pd.DataFrame:
    n = len(los)
    return pd.DataFrame(
        {
            "procedures": name,
            "run": range(n),
            "flight_hours": 2.0,
            "los": los,
            "nmac": 0,
            "unresolved_unknown": 0,
            "warning_s_mean": 60.0,
            "los_duration_s": 10.0,
            "closest_nm": 3.0,
            "alerts": 1,
        }
    )


def test_summary_and_paired_comparison() -> None:
    runs = pd.concat([_runs("a", [2, 1, 3, 2]), _runs("b", [1, 1, 2, 0])], ignore_index=True)
    s = summarise(runs).set_index(["procedures", "metric"])
    assert s.loc[("a", "los"), "count"] == 8
    assert s.loc[("a", "los"), "value"] == pytest.approx(8 / 8.0)
    c = compare(runs, "a", "b").set_index("metric")
    assert c.loc["los", "rate_ratio"] == pytest.approx(4 / 8)
    assert c.loc["los", "mean_diff_per_run"] == pytest.approx(-1.0)
    assert c.loc["los", "paired_runs"] == 4
