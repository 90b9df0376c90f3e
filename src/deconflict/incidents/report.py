"""Incident reports: self-contained HTML (plots embedded as base64 PNG) and an A4 PDF document
laid out with reportlab (tables, figures, numbered pages). Distances are shown in m, NM and ft;
times in UTC and in seconds from the closest approach.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from typing import Any

import numpy as np
from jinja2 import Environment, select_autoescape
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


def render_incident_pdf(incident: Incident) -> bytes:
    """The report as an A4 document (reportlab): title and class, the closest approach and the
    aircraft as tables, the two figures, the timeline as a table; long timelines flow onto more
    pages, whose footer numbers them."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        LongTable,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    ctx = _context(incident)
    inc = ctx["inc"]
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=9, leading=11)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=9.5)
    width = A4[0] - 36 * mm
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b0b0")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
        ]
    )

    def table(rows: list[list[str]], widths: list[float], long: bool = False) -> Table:
        data = [[Paragraph(escape(str(v)), cell) for v in row] for row in rows]
        kind = LongTable if long else Table
        out = kind(data, colWidths=[w * width for w in widths], repeatRows=1)
        out.setStyle(grid)
        return out

    def figure(fig: Figure) -> Image:
        png = figure_png(fig, dpi=200)
        w_in, h_in = fig.get_size_inches()
        return Image(io.BytesIO(png), width=width, height=width * h_in / w_in)

    banner = ParagraphStyle(
        "banner", parent=body, textColor=colors.white, backColor=colors.HexColor(ctx["colour"]),
        borderPadding=(3, 4, 3, 4), fontSize=10, leading=13,
    )  # fmt: skip
    story = [
        Paragraph(escape(f"Incident {incident.incident_id} — {inc['kind_text']}"), styles["Title"]),
        Paragraph(
            escape(f"Class {inc['severity']}: {inc['severity_text']} — {inc['when_utc']} UTC"),
            banner,
        ),
        Spacer(1, 4 * mm),
        Paragraph(escape(incident.severity_reason), body),
        Paragraph(
            escape(
                f"Standard {inc['standard']} ({inc['h_min_nm']} NM / {inc['v_min_ft']} ft); "
                f"reporting distance {inc['close_m']} m."
            ),
            body,
        ),
        Spacer(1, 3 * mm),
        KeepTogether(
            [
                Paragraph("Closest approach", styles["Heading3"]),
                table([["quantity", "value"], *[[n, v] for n, v in ctx["rows"]]], [0.3, 0.7]),
            ]
        ),
        Paragraph("Aircraft", styles["Heading3"]),
        table(
            [["party", "aircraft", "samples", "altitude at CPA (ft)"]]
            + [
                [t["party"], t["aircraft_id"], t["samples"], t["altitude_ft"]]
                for t in ctx["tracks"]
            ],
            [0.25, 0.35, 0.15, 0.25],
        ),
        KeepTogether(
            [
                Paragraph("Plan view and vertical profile", styles["Heading3"]),
                figure(plan_and_profile(incident)),
            ]
        ),
        KeepTogether(
            [
                Paragraph("Separation timeline", styles["Heading3"]),
                figure(separation_timeline(incident)),
            ]
        ),
        Paragraph("Timeline (UTC; seconds from the closest approach)", styles["Heading3"]),
        table(
            [["UTC", "s", "what", "detail"]]
            + [[e["utc"], f"{e['rel_s']:+.1f}", e["what"], e["text"]] for e in ctx["events"]],
            [0.24, 0.1, 0.2, 0.46],
            long=True,
        ),
    ]

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(18 * mm, 10 * mm, f"Deconflict incident {incident.incident_id}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    buf = io.BytesIO()
    SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=f"Incident {incident.incident_id}", author="Deconflict",
    ).build(story, onFirstPage=footer, onLaterPages=footer)  # fmt: skip
    return buf.getvalue()
