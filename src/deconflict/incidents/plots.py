"""Figures of an incident: plan view, vertical profile, separation timeline (SI inside; the axes
show km, ft, NM and seconds from the closest approach, as a safety analyst reads them).

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``, Agg canvas), never
pyplot, so rendering is thread-safe and opens no window.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from deconflict.geo import LocalFrame
from deconflict.incidents.record import Incident
from deconflict.units import FT, NM

COLOURS = ("#1f4e9c", "#c0392b")


def _centre(incident: Incident) -> tuple[float, float]:
    lats, lons = [], []
    for tl in incident.tracks:
        if len(tl.t_s):
            lats.append(np.interp(incident.time_s, tl.t_s, tl.latitude_deg))
            lons.append(np.interp(incident.time_s, tl.t_s, tl.longitude_deg))
    return float(np.mean(lats)), float(np.mean(lons))


def plan_and_profile(incident: Incident) -> Figure:
    """Plan view (km east/north of the closest approach) and vertical profile (ft vs time)."""
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    plan, prof = fig.subplots(1, 2, width_ratios=[1, 1.25])
    plane = LocalFrame(*_centre(incident))
    t0 = incident.time_s
    for tl, colour in zip(incident.tracks, COLOURS, strict=True):
        if not len(tl.t_s):
            continue
        xy = plane.to_xy(tl.latitude_deg, tl.longitude_deg) / 1000.0
        x, y = xy[:, 0], xy[:, 1]
        label = f"{tl.aircraft_id} ({tl.party})"
        plan.plot(x, y, "-", color=colour, lw=1.5, label=label)
        plan.plot(x[0], y[0], "o", color=colour, ms=4, mfc="white")
        xc, yc = np.interp(t0, tl.t_s, x), np.interp(t0, tl.t_s, y)
        plan.plot(xc, yc, "X", color=colour, ms=9)
        if len(x) > 1:
            k = max(len(x) - 2, 0)
            plan.annotate(
                "", (x[-1], y[-1]), (x[k], y[k]), arrowprops={"arrowstyle": "->", "color": colour}
            )
        prof.plot(tl.t_s - t0, tl.altitude_m / FT, "-", color=colour, lw=1.5, label=label)
    plan.set_aspect("equal", adjustable="datalim")
    plan.set_xlabel("east of closest approach (km)")
    plan.set_ylabel("north (km)")
    plan.set_title("Plan view (o start, X closest approach)")
    plan.grid(alpha=0.3)
    plan.legend(loc="best", fontsize=8)
    if incident.los_start_s is not None and incident.los_end_s is not None:
        prof.axvspan(
            incident.los_start_s - t0,
            incident.los_end_s - t0,
            color="orange",
            alpha=0.25,
            label="loss of separation",
        )
    prof.axvline(0.0, color="black", lw=0.8, ls="--", label="closest approach")
    prof.set_xlabel("time from closest approach (s)")
    prof.set_ylabel("altitude (ft)")
    prof.set_title("Vertical profile")
    prof.grid(alpha=0.3)
    prof.legend(loc="best", fontsize=8)
    return fig


def separation_timeline(incident: Incident) -> Figure:
    """Horizontal (NM) and vertical (ft) separation over time, with alerts and messages marked."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    hax = fig.subplots()
    sep = incident.separation
    t0 = incident.time_s
    rel = sep.t_s - t0
    hax.plot(rel, sep.horizontal_m / NM, color="#1f4e9c", label="horizontal (NM)")
    hax.axhline(incident.horizontal_min_m / NM, color="#1f4e9c", ls=":", lw=1, label="minimum (NM)")
    hax.set_ylabel("horizontal separation (NM)")
    hax.set_xlabel("time from closest approach (s)")
    vax = hax.twinx()
    vax.plot(rel, sep.vertical_m / FT, color="#7d3c98", label="vertical (ft)")
    vax.axhline(incident.vertical_min_m / FT, color="#7d3c98", ls=":", lw=1)
    vax.set_ylabel("vertical separation (ft)")
    for alert in incident.alerts:
        x = float(alert["time_s"]) - t0
        hax.axvline(x, color="orange", lw=1.2)
        hax.annotate(
            f"alert {alert.get('level', '')}",
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="darkorange",
        )
    for msg in incident.messages:
        x = float(msg["time_s"]) - t0
        hax.axvline(x, color="green", lw=0.8, ls="--")
        hax.annotate(
            str(msg.get("kind", "message")),
            (x, 0.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="bottom",
            ha="right",
            fontsize=7,
            color="green",
        )
    hax.axvline(0.0, color="black", lw=0.8, ls="--")
    hax.set_title("Separation, alerts (orange) and messages (green)")
    hax.grid(alpha=0.3)
    lines = hax.get_legend_handles_labels()
    more = vax.get_legend_handles_labels()
    hax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=8)
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def timeline_events(incident: Incident) -> list[dict[str, Any]]:
    """The timeline table: alerts, messages, loss of separation and closest approach, in order."""
    events: list[dict[str, Any]] = []
    for a in incident.alerts:
        events.append(
            {
                "time_s": float(a["time_s"]),
                "what": "alert",
                "text": f"level {a.get('level', '?')}: {a.get('text', '')}".strip(),
            }
        )
    for m in incident.messages:
        to = m.get("to")
        dest = f" → {', '.join(to) if isinstance(to, list) else to}" if to else ""
        events.append(
            {
                "time_s": float(m["time_s"]),
                "what": f"message ({m.get('kind', '')})",
                "text": f"{m.get('sender', '?')}{dest}: {m.get('text', '')}",
            }
        )
    if incident.los_start_s is not None:
        events.append({"time_s": incident.los_start_s, "what": "separation lost", "text": ""})
    if incident.los_end_s is not None:
        events.append({"time_s": incident.los_end_s, "what": "separation regained", "text": ""})
    events.append(
        {
            "time_s": incident.time_s,
            "what": "closest approach",
            "text": f"{incident.horizontal_m:.0f} m horizontal, "
            f"{incident.vertical_m / FT:.0f} ft vertical",
        }
    )
    events.sort(key=lambda e: e["time_s"])
    for e in events:
        e["rel_s"] = e["time_s"] - incident.time_s
    return events
