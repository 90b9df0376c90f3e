"""The study's outputs: Parquet tables, plots and one HTML report (rates per flight hour).

``write_outputs`` writes into DIR, each file whole (temporary name, then renamed):
``runs.parquet`` (one row per run), ``summary.parquet`` (rates and means with intervals),
``comparison.parquet`` (the second procedure set against the first), ``rates.png``,
``distributions.png`` and ``report.html`` (self-contained: the plots are embedded).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deconflict.montecarlo.metrics import COUNTS, LABELS, compare, summarise
from deconflict.montecarlo.procedures import Procedures
from deconflict.montecarlo.study import Study
from deconflict.units import NM


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    _atomic_bytes(path, buf.getvalue())


def plot_rates(summary: pd.DataFrame) -> bytes:
    """PNG: each count metric's rate per 100 flight hours, one point with its interval per set."""
    from matplotlib.figure import Figure

    rates = summary[summary["kind"] == "rate_per_flight_hour"]
    names = list(dict.fromkeys(rates["procedures"]))
    fig = Figure(figsize=(4.2 * len(COUNTS), 3.6))
    axes = fig.subplots(1, len(COUNTS))
    for ax, metric in zip(np.atleast_1d(axes), COUNTS, strict=True):
        sub = rates[rates["metric"] == metric].set_index("procedures").reindex(names)
        v = sub["value"].to_numpy(np.float64) * 100
        lo = sub["lower"].to_numpy(np.float64) * 100
        hi = sub["upper"].to_numpy(np.float64) * 100
        pos = np.arange(len(names))
        ax.errorbar(pos, v, yerr=[v - lo, hi - v], fmt="o", capsize=6, color="#2b6cb0")
        ax.set_xticks(pos, names, rotation=15)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylim(bottom=0)
        ax.set_title(LABELS[metric], fontsize=9)
        ax.set_ylabel("per 100 flight hours (95 % CI)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def plot_distributions(runs: pd.DataFrame) -> bytes:
    """PNG: per-run distributions (losses, warning time, closest approach) of each set."""
    from matplotlib.figure import Figure

    names = list(dict.fromkeys(runs["procedures"]))
    cols = ("los", "warning_s_mean", "closest_nm")
    fig = Figure(figsize=(4.2 * len(cols), 3.6))
    axes = fig.subplots(1, len(cols))
    for ax, col in zip(axes, cols, strict=True):
        data = [runs.loc[runs["procedures"] == n, col].to_numpy(np.float64) for n in names]
        data = [d[np.isfinite(d)] for d in data]
        allv = np.concatenate(data) if data else np.zeros(0)
        if col == "los":
            top = int(allv.max()) if allv.size else 0
            bins: Any = np.arange(-0.5, top + 1.5, 1.0)
        else:
            bins = 30 if allv.size else 1
        for name, d in zip(names, data, strict=True):
            if d.size:
                weights = np.full(d.size, 1.0 / d.size)
                ax.hist(d, bins=bins, histtype="step", linewidth=1.5, label=name, weights=weights)
        ax.set_title(LABELS.get(col, col) if col != "los" else "losses of separation per run")
        ax.title.set_fontsize(9)
        ax.set_ylabel("fraction of runs (with a value)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _fmt(v: Any, digits: int = 3) -> str:
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isnan(f):
            return "–"
        if math.isinf(f):
            return "∞"
        return f"{f:.{digits}g}"
    return html.escape(str(v))


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_report(
    runs: pd.DataFrame,
    summary: pd.DataFrame,
    comparison: pd.DataFrame | None,
    procedures: Sequence[Procedures],
    scenario_name: str,
    study: Study,
    images: dict[str, bytes],
) -> str:
    """The HTML report (plots embedded as PNG)."""
    img = "".join(
        f'<figure><img alt="{html.escape(k)}" src="data:image/png;base64,'
        f'{base64.b64encode(v).decode()}"></figure>'
        for k, v in images.items()
    )
    procs = "".join(
        f"<h3>{html.escape(p.name)}</h3><p>{html.escape(p.description)}</p>"
        f"<pre>{html.escape(json.dumps(p.to_dict(), indent=1))}</pre>"
        for p in procedures
    )
    rates = summary.copy()
    per100 = rates["kind"] == "rate_per_flight_hour"
    for c in ("value", "lower", "upper"):
        rates.loc[per100, c] = rates.loc[per100, c] * 100
    rates["metric"] = [
        f"{LABELS.get(m, m)}{' per 100 FH' if k == 'rate_per_flight_hour' else ''}"
        for m, k in zip(rates["metric"], rates["kind"], strict=True)
    ]
    rates = rates.drop(columns=["kind"])
    comp = "" if comparison is None else f"<h2>Comparison</h2>{_table(comparison)}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Monte Carlo of procedures</title>
<style>body{{font-family:sans-serif;max-width:80em;margin:2em auto}}
table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
img{{max-width:100%}}pre{{background:#f6f6f6;padding:4px}}</style></head><body>
<h1>Monte Carlo of procedures: {html.escape(scenario_name)}</h1>
<p>{len(runs)} runs in all; {runs["procedures"].nunique()} procedure set(s); study seed
{study.seed}; departure jitter U(0, {study.departure_jitter_s:g} s); waypoints moved by
N(0, {study.route_sigma_m / NM:g} NM); step {study.dt_s:g} s. Run r of every set flies the same
randomised world. Rates: exact Poisson (Garwood) 95 % intervals; a dispersion index above 1 means
events cluster within runs and the Poisson interval is too narrow: read the paired per-run
difference. Means: Student t 95 % intervals.</p>
{img}
<h2>Rates and means</h2>{_table(rates)}
{comp}
<h2>Procedures</h2>{procs}
</body></html>
"""


def write_outputs(
    runs: pd.DataFrame,
    out_dir: str | Path,
    procedures: Sequence[Procedures],
    scenario_name: str,
    study: Study,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Write the study's tables, plots and report into ``out_dir``; returns a JSON summary."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise(runs, confidence)
    names = [p.name for p in procedures]
    comparison = compare(runs, names[0], names[1], confidence) if len(names) >= 2 else None
    _parquet(runs, out / "runs.parquet")
    _parquet(summary, out / "summary.parquet")
    if comparison is not None:
        _parquet(comparison, out / "comparison.parquet")
    images = {"rates": plot_rates(summary), "distributions": plot_distributions(runs)}
    for key, data in images.items():
        _atomic_bytes(out / f"{key}.png", data)
    page = render_report(runs, summary, comparison, procedures, scenario_name, study, images)
    _atomic_bytes(out / "report.html", page.encode("utf-8"))

    def clean(records: list[dict[Any, Any]]) -> list[dict[str, Any]]:
        return [
            {
                str(k): (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in r.items()
            }
            for r in records
        ]

    return {
        "runs": len(runs),
        "out": str(out),
        "summary": clean(summary.to_dict("records")),
        "comparison": None if comparison is None else clean(comparison.to_dict("records")),
    }
