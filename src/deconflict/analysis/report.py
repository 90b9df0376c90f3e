"""The analysis report: one self-contained HTML page (plots embedded as PNG), NM and ft shown.

It holds a summary by severity, a map of the events (longitude / latitude, no basemap, so nothing
is fetched), the distribution of horizontal and vertical separation at closest approach, a
timeline, and the table of the losses of separation.
"""

from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from deconflict.analysis.windows import Params

from deconflict.units import FT, NM

_COLOURS = {"A": "#b2182b", "B": "#ef8a62", "C": "#f4c542", "E": "#7fa7c9"}


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _plots(events: pd.DataFrame, params: Params) -> list[tuple[str, str]]:
    from matplotlib.figure import Figure  # no pyplot: the caller's backend is left alone

    out: list[tuple[str, str]] = []
    fig = Figure(figsize=(7, 5.5))
    ax = fig.subplots()
    for sev, colour in _COLOURS.items():
        sub = events[events["severity"] == sev]
        if len(sub):
            ax.scatter(
                sub["longitude"],
                sub["latitude"],
                s=14 if sev == "E" else 28,
                c=colour,
                label=f"{sev} ({len(sub)})",
                alpha=0.8,
                edgecolors="none",
            )
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title("Closest approaches")
    if len(events):
        ax.legend(title="severity", loc="upper right")
    out.append(("Map of the events", _png(fig)))

    fig = Figure(figsize=(10, 3.8))
    axes = fig.subplots(1, 2)
    axes[0].hist(events["dcpa_nm"], bins=40, color="#4a78a8")
    axes[0].axvline(params.h_m / NM, color="k", ls="--", lw=1, label="minimum")
    axes[0].set_xlabel("horizontal separation at CPA (NM)")
    axes[0].set_ylabel("events")
    axes[0].legend()
    axes[1].hist(events["dalt_ft"], bins=40, color="#4a78a8")
    axes[1].axvline(params.v_m / FT, color="k", ls="--", lw=1, label="minimum")
    axes[1].set_xlabel("vertical separation at CPA (ft)")
    axes[1].legend()
    out.append(("Distribution of separations", _png(fig)))

    fig = Figure(figsize=(10, 3.5))
    ax = fig.subplots()
    for sev, colour in _COLOURS.items():
        sub = events[events["severity"] == sev]
        if len(sub):
            ax.scatter(sub["t_cpa"], sub["ratio"], s=12, c=colour, label=sev, edgecolors="none")
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.set_xlabel("time of closest approach (UTC)")
    ax.set_ylabel("separation / minima")
    if len(events):
        ax.legend(title="severity", ncol=4, loc="upper right")
    out.append(("Timeline", _png(fig)))
    return out


def _rows(frame: pd.DataFrame) -> str:
    """Table rows: CPA, both aircraft, aggregated closest approach, and during the loss the
    closest horizontal and smallest vertical distances."""

    def num(value: object, fmt: str) -> str:
        number = float(value)  # type: ignore[arg-type]
        return "—" if number != number else format(number, fmt)

    return "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                pd.Timestamp(str(r.t_cpa)).strftime("%Y-%m-%d %H:%M:%S"),
                f"{r.a} {r.callsign_a}",
                f"{r.b} {r.callsign_b}",
                f"{r.dcpa_nm:.2f}",
                f"{r.dalt_ft:.0f}",
                num(r.loss_min_h_nm, ".2f"),
                num(r.loss_min_v_ft, ".0f"),
                f"{r.duration_s:.0f}",
                r.severity,
            )
        )
        + "</tr>"
        for r in frame.head(500).itertuples(index=False)
    )


_HEAD = (
    "<tr><th>CPA (UTC)</th><th>aircraft a</th><th>aircraft b</th><th>dcpa (NM)</th>"
    "<th>dalt (ft)</th><th>closest horizontal during loss (NM)</th>"
    "<th>least vertical during loss (ft)</th><th>duration (s)</th><th>severity</th></tr>"
)


def render_report(events: pd.DataFrame, params: Params) -> str:
    """The HTML report of an event table (as written to ``events.parquet``)."""
    counts = events["severity"].value_counts().to_dict()
    losses = events[events["loss"].astype(bool)].sort_values("ratio")
    adjacent = events[events["category"] == "adjacent_levels"].sort_values("ratio")
    rows = _rows(losses)
    figures = "".join(
        f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
        f"src='data:image/png;base64,{data}'>"
        for title, data in _plots(events, params)
    )
    summary = ", ".join(f"{k}: {counts.get(k, 0)}" for k in ("A", "B", "C", "E"))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Deconflict analysis</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}</style></head>
<body><h1>Losses of separation and closest approaches</h1>
<p>Standard <b>{html.escape(params.standard)}</b> ({params.h_m / NM:g} NM, {params.v_m / FT:g} ft);
screening {params.screen_h_m / NM:g} NM / {params.screen_v_m / FT:g} ft; grid step
{params.step_s:g} s, no interpolation across gaps over {params.max_gap_s:g} s.</p>
<p><b>{len(events)}</b> encounters, <b>{len(losses)}</b> losses of separation,
<b>{len(adjacent)}</b> pairs on adjacent flight levels (below).
By severity: {summary} (A: inside 500 ft / 100 ft, B: loss with less than half of both
minima left, C: other losses, E: no loss).</p>
{figures}
<h2>Losses of separation</h2>
<table>{_HEAD}{rows}</table>
<h2>Pairs on adjacent flight levels (not counted as losses)</h2>
<p>Both aircraft stayed within {params.level_tol_m / FT:g} ft of flight levels at least
{params.v_m / FT:g} ft apart throughout: the reported altitudes differ from the levels' spacing
only by Mode C quantisation (25 or 100 ft steps) and altimetry (ICAO Doc 4444 §8.5.5.1: an
aircraft is at its level within ±200 ft in RVSM airspace). Tolerance 0 turns this off.</p>
<table>{_HEAD}{_rows(adjacent)}</table>
</body></html>
"""
