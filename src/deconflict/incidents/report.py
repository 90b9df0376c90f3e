"""Incident reports: self-contained HTML (plots embedded as base64 PNG) and PDF (matplotlib
PdfPages, no external tool). Distances are shown in m, NM and ft; times in UTC and in seconds
from the closest approach.
"""

from __future__ import annotations

import base64
import io
import textwrap
from datetime import UTC, datetime
from typing import Any

import numpy as np
from jinja2 import Environment, select_autoescape
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from deconflict.incidents.plots import (
    figure_png,
    plan_and_profile,
    separation_timeline,
    timeline_events,
)
from deconflict.incidents.record import Incident
from deconflict.incidents.severity import SEVERITY_TEXT, Severity
from deconflict.incidents.template import REPORT_TEMPLATE
from deconflict.units import FT, NM

SEVERITY_COLOUR = {
    Severity.A: "#b03a2e",
    Severity.B: "#d35400",
    Severity.C: "#b7950b",
    Severity.D: "#5d6d7e",
    Severity.E: "#1e8449",
}


def _utc(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-5]


def _rows(incident: Incident) -> list[tuple[str, str]]:
    rows = [
        ("time", f"{_utc(incident.time_s)} UTC"),
        ("horizontal", f"{incident.horizontal_m:.0f} m ({incident.horizontal_m / NM:.2f} NM)"),
        ("vertical", f"{incident.vertical_m / FT:.0f} ft ({incident.vertical_m:.0f} m)"),
        ("slant range", f"{incident.slant_m:.0f} m"),
    ]
    if incident.los_start_s is not None and incident.los_end_s is not None:
        rows.append(
            (
                "loss of separation",
                f"{_utc(incident.los_start_s)} to {_utc(incident.los_end_s)} UTC "
                f"({incident.los_end_s - incident.los_start_s:.0f} s)",
            )
        )
    warning = incident.warning_time_s
    rows.append(
        ("first alert before", "no alert raised" if warning is None else f"{warning:.0f} s")
    )
    return rows


def _context(incident: Incident) -> dict[str, Any]:
    tracks = []
    for tl in incident.tracks:
        alt = np.interp(incident.time_s, tl.t_s, tl.altitude_m) / FT if len(tl.t_s) else np.nan
        tracks.append(
            {
                "party": tl.party,
                "aircraft_id": tl.aircraft_id,
                "samples": len(tl.t_s),
                "altitude_ft": f"{alt:.0f}",
            }
        )
    events = [{**e, "utc": _utc(e["time_s"])} for e in timeline_events(incident)]
    return {
        "inc": {
            "incident_id": incident.incident_id,
            "kind_text": incident.kind.replace("_", " "),
            "severity": incident.severity.value,
            "severity_text": SEVERITY_TEXT[incident.severity],
            "severity_reason": incident.severity_reason,
            "when_utc": _utc(incident.time_s),
            "standard": incident.standard,
            "h_min_nm": f"{incident.horizontal_min_m / NM:g}",
            "v_min_ft": f"{incident.vertical_min_m / FT:.0f}",
            "close_m": f"{incident.close_approach_m:.0f}",
        },
        "colour": SEVERITY_COLOUR[incident.severity],
        "rows": _rows(incident),
        "tracks": tracks,
        "events": events,
    }


def render_incident_html(incident: Incident) -> str:
    """The report as one self-contained HTML page (two embedded PNG figures)."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template = env.from_string(REPORT_TEMPLATE)
    plots = [
        ("Plan view and vertical profile", plan_and_profile(incident)),
        ("Separation timeline", separation_timeline(incident)),
    ]
    encoded = [(title, base64.b64encode(figure_png(fig)).decode("ascii")) for title, fig in plots]
    return template.render(plots=encoded, **_context(incident))


def _text_pages(incident: Incident, lines_per_page: int = 90) -> list[Figure]:
    ctx = _context(incident)
    lines = [
        f"Incident {incident.incident_id} — {ctx['inc']['kind_text']}",
        f"Class {incident.severity.value}: {SEVERITY_TEXT[incident.severity]}",
        *textwrap.wrap(incident.severity_reason, 95),
        f"Standard {incident.standard} ({ctx['inc']['h_min_nm']} NM / {ctx['inc']['v_min_ft']} ft),"
        f" reporting distance {ctx['inc']['close_m']} m",
        "",
        "Aircraft:",
        *[f"  {t['party']}: {t['aircraft_id']} ({t['samples']} samples)" for t in ctx["tracks"]],
        "",
        "Closest approach:",
        *[f"  {name}: {value}" for name, value in ctx["rows"]],
        "",
        "Timeline (UTC, s from closest approach):",
    ]
    for e in ctx["events"]:
        text = f"  {e['utc']}  {e['rel_s']:+8.1f}  {e['what']}  {e['text']}"
        lines += textwrap.wrap(text, 100, subsequent_indent=" " * 30)
    pages = []
    for start in range(0, len(lines), lines_per_page):
        fig = Figure(figsize=(8.27, 11.69))  # A4 portrait
        chunk = "\n".join(lines[start : start + lines_per_page])
        fig.text(0.06, 0.96, chunk, va="top", ha="left", family="monospace", size=8)
        pages.append(fig)
    return pages


def render_incident_pdf(incident: Incident) -> bytes:
    """The report as a PDF: text page(s), then the plan/profile and separation figures."""
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": f"Incident {incident.incident_id}"}) as pdf:
        figures = [
            *_text_pages(incident),
            plan_and_profile(incident),
            separation_timeline(incident),
        ]
        for fig in figures:
            pdf.savefig(fig)
    return buf.getvalue()
