"""Rates per flight hour with confidence intervals, and the comparison of two procedure sets;
counts, hours and seconds.

* A rate is a count over the study's flight hours; its interval is the exact Poisson (Garwood)
  interval ``[chi2(a/2; 2k)/2, chi2(1 - a/2; 2k + 2)/2] / hours``. Events of one run are not
  independent (one geometry can give several), so each rate also carries the dispersion index
  (variance over mean of the per-run counts; 1 for Poisson): above 1, the Poisson interval is too
  narrow, and the paired per-run comparison below is the safer guide.
* A mean (warning time, loss duration) gets a Student t interval over runs.
* Two sets are compared by the rate ratio B / A with its exact conditional interval (given
  k_A + k_B events, k_B is binomial with p = r_B T_B / (r_A T_A + r_B T_B): a Clopper-Pearson
  interval on p, mapped to the ratio), and by the mean per-run difference B - A over the runs the
  two share (the same seeds: the same randomised world), with a paired t interval.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from deconflict.errors import InputError

F64 = npt.NDArray[np.float64]

COUNTS: Final = ("los", "nmac", "unresolved_unknown")
MEANS: Final = ("warning_s_mean", "los_duration_s", "closest_nm", "alerts")
LABELS: Final = {
    "los": "losses of separation",
    "nmac": "near mid-air collisions (500 ft / 100 ft)",
    "unresolved_unknown": "unknown tracks unresolved at the deadline",
    "warning_s_mean": "warning time before a loss (s)",
    "los_duration_s": "time in loss of separation per run (s)",
    "closest_nm": "closest approach within the vertical minimum (NM)",
    "alerts": "alerts per run",
}


def garwood(counts: npt.ArrayLike, confidence: float = 0.95) -> tuple[F64, F64]:
    """Exact Poisson interval (lower, upper) of the mean of each count."""
    k = np.asarray(counts, dtype=np.float64)
    if np.any(k < 0):
        raise InputError("counts must be >= 0")
    a = 1.0 - confidence
    lo = np.where(k > 0, stats.chi2.ppf(a / 2, 2 * np.maximum(k, 1)) / 2, 0.0)
    hi = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


def rate_interval(count: int, hours: float, confidence: float = 0.95) -> tuple[float, float, float]:
    """(rate, lower, upper) per hour of ``count`` events in ``hours``."""
    if hours <= 0:
        raise InputError(f"flight hours are {hours}; a rate needs > 0 hours")
    lo, hi = garwood([count], confidence)
    return count / hours, float(lo[0]) / hours, float(hi[0]) / hours


def rate_ratio(
    k_a: int, hours_a: float, k_b: int, hours_b: float, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(ratio, lower, upper) of rate B over rate A, exact conditional interval."""
    a = 1.0 - confidence
    n = k_a + k_b
    scale = hours_a / hours_b
    ratio = (k_b / hours_b) / (k_a / hours_a) if k_a > 0 else math.inf if k_b else math.nan
    if n == 0:
        return ratio, 0.0, math.inf
    p_lo = 0.0 if k_b == 0 else float(stats.beta.ppf(a / 2, k_b, n - k_b + 1))
    p_hi = 1.0 if k_b == n else float(stats.beta.ppf(1 - a / 2, k_b + 1, n - k_b))
    lo = p_lo / (1 - p_lo) * scale
    hi = math.inf if p_hi >= 1.0 else p_hi / (1 - p_hi) * scale
    return ratio, lo, hi


def mean_interval(values: npt.ArrayLike, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, lower, upper): Student t interval of the mean of the finite values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    if v.size == 1:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return m, m - half, m + half


def summarise(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per procedure set and metric: rates per flight hour (counts) or means."""
    rows = []
    for name, g in runs.groupby("procedures", sort=False):
        hours = float(g["flight_hours"].sum())
        for metric in COUNTS:
            k = int(g[metric].sum())
            rate, lo, hi = rate_interval(k, hours, confidence)
            mean = float(g[metric].mean())
            disp = float(g[metric].var(ddof=1) / mean) if mean > 0 and len(g) > 1 else math.nan
            rows.append(
                {
                    "procedures": name,
                    "metric": metric,
                    "kind": "rate_per_flight_hour",
                    "runs": len(g),
                    "flight_hours": hours,
                    "count": k,
                    "value": rate,
                    "lower": lo,
                    "upper": hi,
                    "dispersion": disp,
                }
            )
        for metric in MEANS:
            m, lo, hi = mean_interval(g[metric].to_numpy(np.float64), confidence)
            rows.append(
                {
                    "procedures": name,
                    "metric": metric,
                    "kind": "mean",
                    "runs": len(g),
                    "flight_hours": hours,
                    "count": int(np.isfinite(g[metric].to_numpy(np.float64)).sum()),
                    "value": m,
                    "lower": lo,
                    "upper": hi,
                    "dispersion": math.nan,
                }
            )
    return pd.DataFrame(rows)


def compare(runs: pd.DataFrame, a: str, b: str, confidence: float = 0.95) -> pd.DataFrame:
    """Procedure set ``b`` against ``a``, one row per count metric (see the module doc)."""
    ga = runs[runs["procedures"] == a].set_index("run")
    gb = runs[runs["procedures"] == b].set_index("run")
    if ga.empty or gb.empty:
        raise InputError(f"no runs of {a if ga.empty else b!r} to compare")
    shared = ga.index.intersection(gb.index)
    rows = []
    for metric in COUNTS:
        ka, kb = int(ga[metric].sum()), int(gb[metric].sum())
        ha, hb = float(ga["flight_hours"].sum()), float(gb["flight_hours"].sum())
        ratio, lo, hi = rate_ratio(ka, ha, kb, hb, confidence)
        diff = (gb.loc[shared, metric] - ga.loc[shared, metric]).to_numpy(np.float64)
        d, dlo, dhi = mean_interval(diff, confidence)
        rows.append(
            {
                "metric": metric,
                "a": a,
                "b": b,
                "count_a": ka,
                "count_b": kb,
                "rate_ratio": ratio,
                "ratio_lower": lo,
                "ratio_upper": hi,
                "paired_runs": len(shared),
                "mean_diff_per_run": d,
                "diff_lower": dlo,
                "diff_upper": dhi,
            }
        )
    return pd.DataFrame(rows)
