"""Situation report: a one-page picture of the shared area from the store's log (degrees WGS84,
times UNIX seconds UTC, altitudes metres).

:func:`collect` reads what one party may see — the entries of the log addressed to it and its own
operations — or, for the host (``party=None``), the whole log and every operation, over one UTC
day (by default the day of the newest alert, request, incident or message in
scope). :func:`render` draws it with matplotlib on
the Natural Earth borders shipped for the map page: each party's operations (volume outlines),
bases (from a scenario, when given) and the tracks of a live picture (when there is one: the
demo serves one; the log itself keeps no tracks), the day's alerts, identification requests and
incidents (drawn where the log places them), and a table of counts.
The counts are also written into the file's metadata (PNG text chunk ``sitrep-counts`` / PDF
keywords) as JSON, so a reader can check them without reading pixels.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from deconflict.errors import InputError, NotFoundError
from deconflict.hotline.authorship import MESSAGE_ENTRY_KINDS
from deconflict.hotline.messages import MessageKind
from deconflict.store import Event, Store
from deconflict.store.hotline import MESSAGE as SERVICE_MESSAGE

DAY_S = 86_400.0
ALERT_KINDS = ("alert.raised",)
INCIDENT_KINDS = ("incident",)
#: Hotline messages (identification requests are ``message`` entries of their own kind).
MESSAGE_KINDS = tuple(sorted(MESSAGE_ENTRY_KINDS))
WORLD = (
    Path(__file__).parent / "service" / "static" / "vendor" / "world-atlas" / "countries-50m.json"
)
FORMATS = ("png", "pdf")


@dataclass(frozen=True)
class Marker:
    """A point of the picture: what it is, where (degrees), whose, and a short label."""

    kind: str
    party: str
    lon: float
    lat: float
    label: str
    time_s: float


@dataclass
class Sitrep:
    """What one report shows; ``counts`` is what its table prints."""

    scope: str  # a party's name, or "host"
    day_start_s: float
    parties: list[str]
    operations: dict[str, list[list[list[float]]]] = field(default_factory=dict)  # party -> rings
    bases: list[Marker] = field(default_factory=list)
    tracks: list[Marker] = field(default_factory=list)
    alerts: list[Marker] = field(default_factory=list)
    identifications: list[Marker] = field(default_factory=list)
    incidents: list[Marker] = field(default_factory=list)
    messages: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {
            "operations": sum(len(v) for v in self.operations.values()),
            "bases": len(self.bases),
            "tracks": len(self.tracks),
            "alerts": len(self.alerts),
            "identification_requests": len(self.identifications),
            "incidents": len(self.incidents),
            "hotline_messages": self.messages,
        }


def _scoped_events(store: Store, party_id: str | None) -> list[Event]:
    out: list[Event] = []
    after = -1
    while True:
        page = (
            store.log(after, 5000) if party_id is None else store.events_for(party_id, after, 5000)
        )
        out.extend(page)
        if len(page) < 5000:
            return out
        after = page[-1].seq


def _event_time_s(e: Event) -> float:
    t = e.payload.get("time_s", e.payload.get("created_s", e.time_s))
    return float(t) if isinstance(t, int | float) else e.time_s


def _day_start_s(day: str | None, times_s: Iterable[float]) -> float:
    if day is not None:
        try:
            d = dt.date.fromisoformat(day)
        except ValueError:
            raise InputError(f"day {day!r} is not a date; give it as YYYY-MM-DD") from None
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()
    newest = max(times_s, default=0.0)
    return float(np.floor(newest / DAY_S) * DAY_S)


def _position(p: Any) -> tuple[float, float] | None:
    if isinstance(p, dict):
        lon, lat = p.get("longitude"), p.get("latitude")
        if isinstance(lon, int | float) and isinstance(lat, int | float):
            return float(lon), float(lat)
    return None


def _incident_position(p: Mapping[str, Any]) -> tuple[float, float] | None:
    """Where the first aircraft of an incident was at its closest approach (``time_s``)."""
    record = p
    tracks = record.get("tracks") if isinstance(record, dict) else None
    if not tracks:
        return None
    t = tracks[0]
    t_s = np.asarray(t.get("t_s", []), dtype=float)
    if len(t_s) == 0:
        return None
    i = int(np.argmin(np.abs(t_s - float(record.get("time_s", t_s[0])))))
    return float(t["longitude_deg"][i]), float(t["latitude_deg"][i])


def _request_payload(e: Event) -> Mapping[str, Any] | None:
    """An identification request's fields (``track_id``, ``position``, ``observer``) from an
    ``identification_request`` message (the engine's name their observer, the host's own are
    the sender's); None for any other entry."""
    if e.kind == SERVICE_MESSAGE and e.payload.get("kind") == (
        MessageKind.IDENTIFICATION_REQUEST.value
    ):
        body = e.payload.get("body")
        fields = body if isinstance(body, dict) else {}
        # the engine's requests name their observer; the host's own are the sender's
        return {**fields, "observer": fields.get("observer") or e.payload.get("sender")}
    return None


def _rings(volumes: Sequence[dict[str, Any]]) -> list[list[list[float]]]:
    rings: list[list[list[float]]] = []
    for v in volumes:
        polygon = v.get("polygon") or v.get("outline_polygon") or []
        if polygon and isinstance(polygon[0][0], list | tuple):
            rings.append([list(map(float, pt[:2])) for pt in polygon[0]])
    return rings


def collect(
    store: Store,
    party: str | None = None,
    *,
    day: str | None = None,
    bases: Sequence[Any] = (),
    tracks: Sequence[Marker] = (),
) -> Sitrep:
    """The report of ``party`` (a registered name; None: the host's whole view) for one UTC
    ``day`` (``YYYY-MM-DD``; default the day of the newest entry in scope). ``bases`` are a
    scenario's bases (objects with ``id``, ``party``, ``lat``, ``lon``), kept to ``party``'s own;
    ``tracks`` the caller's live picture (:func:`picture_markers`), already scoped to it.
    Operations are the store's (its own for a party, everyone's for the host)."""
    parties = {p.id: p for p in store.list_parties() if p.role == "party"}
    by_name = {p.name: p for p in parties.values()}
    if party is not None and party not in by_name:
        raise NotFoundError(
            f"no party named {party!r}; known: {', '.join(sorted(by_name)) or 'none'}"
        )
    me = by_name[party].id if party is not None else None
    events = _scoped_events(store, me)
    shown = (*ALERT_KINDS, *INCIDENT_KINDS, *MESSAGE_KINDS)
    relevant = [_event_time_s(e) for e in events if e.kind in shown]
    start_s = _day_start_s(day, relevant or [_event_time_s(e) for e in events])
    todays = [e for e in events if start_s <= _event_time_s(e) < start_s + DAY_S]
    rep = Sitrep(
        scope=party or "host",
        day_start_s=start_s,
        parties=sorted(by_name) if party is None else [party],
    )
    owners = [me] if me is not None else list(parties)
    for pid in owners:
        ops = [
            o
            for o in store.operations_of(pid, include_ended=True)
            if o.time_end_s >= start_s and o.time_start_s < start_s + DAY_S
        ]
        rep.operations[parties[pid].name] = [r for o in ops for r in _rings(o.volumes)]
    rep.tracks = list(tracks)
    rep.bases = [
        Marker("base", str(b.party), float(b.lon), float(b.lat), str(b.id), start_s)
        for b in bases
        if party is None or b.party == party
    ]
    for e in todays:
        p, t = e.payload, _event_time_s(e)
        if e.kind in ALERT_KINDS:
            where = _position(p.get("other"))
            label = f"{p.get('own_aircraft', '?')} {p.get('level_name', p.get('kind', ''))}"
            rep.alerts.append(
                Marker("alert", str(p.get("party", "")), *(where or (np.nan,) * 2), label, t)
            )
        elif e.kind in INCIDENT_KINDS:
            where = _incident_position(p)
            label = str(p.get("incident_id", p.get("severity", "incident")))
            rep.incidents.append(Marker("incident", "", *(where or (np.nan,) * 2), label, t))
        elif e.kind in MESSAGE_KINDS:
            rep.messages += 1
        request = _request_payload(e)
        if request is not None:
            where = _position(request.get("position"))
            label = f"{request.get('track_id', '?')} asked by {request.get('observer', '?')}"
            rep.identifications.append(
                Marker(
                    "identification",
                    str(request.get("observer", "")),
                    *(where or (np.nan,) * 2),
                    label,
                    t,
                )
            )
    return rep


def picture_markers(picture: Any, time_s: float) -> list[Marker]:
    """A party's live picture (a table with ``longitude``, ``latitude``, ``owner`` and ``label``
    columns, as the engine keeps it) as track markers, coloured by owner."""
    if picture is None or len(picture) == 0:
        return []
    owners = picture["owner"] if "owner" in picture else [""] * len(picture)
    labels = picture["label"] if "label" in picture else [""] * len(picture)
    return [
        Marker("track", str(o or ""), float(lo), float(la), str(lb or ""), time_s)
        for lo, la, o, lb in zip(
            picture["longitude"], picture["latitude"], owners, labels, strict=True
        )
        if np.isfinite(lo) and np.isfinite(la)
    ]


@lru_cache(maxsize=1)
def _world_arcs() -> list[np.ndarray]:
    """The Natural Earth 1:50m borders and coasts (TopoJSON arcs), as lon/lat polylines."""
    topo = json.loads(WORLD.read_text(encoding="utf-8"))
    scale = np.asarray(topo["transform"]["scale"], dtype=float)
    shift = np.asarray(topo["transform"]["translate"], dtype=float)
    return [np.cumsum(np.asarray(a, dtype=float), axis=0) * scale + shift for a in topo["arcs"]]


def _extent(rep: Sitrep) -> tuple[float, float, float, float]:
    pts = [(m.lon, m.lat) for m in (*rep.bases, *rep.tracks, *rep.alerts, *rep.identifications)]
    pts += [(x, y) for rings in rep.operations.values() for r in rings for x, y in r]
    xy = np.asarray([p for p in pts if np.isfinite(p[0]) and np.isfinite(p[1])], dtype=float)
    if len(xy) == 0:
        return -180.0, 180.0, -80.0, 80.0
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    pad = np.maximum((hi - lo) * 0.15, 0.5)
    return lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]


def render(rep: Sitrep, fmt: str = "png") -> bytes:
    """The one-page report as PNG or PDF bytes (A4 landscape)."""
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.69, 8.27), dpi=110)
    ax = fig.add_axes((0.04, 0.08, 0.6, 0.82))
    side = fig.add_axes((0.67, 0.08, 0.31, 0.82))
    side.axis("off")
    x0, x1, y0, y1 = _extent(rep)
    ax.add_collection(LineCollection(_world_arcs(), colors="0.6", linewidths=0.5))
    colours = {name: f"C{i % 10}" for i, name in enumerate(sorted(rep.operations) or rep.parties)}
    for name in sorted(colours):
        ax.plot([], [], color=colours[name], lw=5, label=name)
    for name, rings in rep.operations.items():
        for i, ring in enumerate(rings):
            xy = np.asarray(ring + ring[:1])
            ax.plot(
                xy[:, 0],
                xy[:, 1],
                color=colours.get(name, "k"),
                lw=1.2,
                label=f"{name} operations" if i == 0 else None,
            )
    styles = (
        (rep.bases, "s", "base", 40),
        (rep.tracks, "o", "track", 9),
        (rep.alerts, "^", "alert", 40),
        (rep.identifications, "D", "identification request", 40),
        (rep.incidents, "X", "incident", 60),
    )
    for markers, symbol, what, size in styles:
        placed = [m for m in markers if np.isfinite(m.lon)]
        if placed:
            ax.scatter(
                [m.lon for m in placed],
                [m.lat for m in placed],
                marker=symbol,
                s=size,
                c=[colours.get(m.party, "0.3") for m in placed],
                edgecolors="k" if size > 10 else "none",
                linewidths=0.4,
                label=what,
                zorder=3,
            )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / max(np.cos(np.radians((y0 + y1) / 2)), 0.1))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize=7)
    day = dt.datetime.fromtimestamp(rep.day_start_s, dt.UTC).strftime("%Y-%m-%d")
    fig.suptitle(f"Situation report — {day} UTC — seen by {rep.scope}", fontsize=13)
    counts = rep.counts
    lines = [f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()]
    lines += ["", "operations by party:"] + [
        f"  {name}: {len(r)}" for name, r in sorted(rep.operations.items())
    ]
    for title, markers in (
        ("alerts", rep.alerts),
        ("identification requests", rep.identifications),
        ("incidents", rep.incidents),
    ):
        lines += ["", f"{title}:"]
        for m in markers[:8]:
            lines.append(f"  {dt.datetime.fromtimestamp(m.time_s, dt.UTC):%H:%M:%S} {m.label}")
        if len(markers) > 8:
            lines.append(f"  … and {len(markers) - 8} more")
    side.text(0, 1, "\n".join(lines), va="top", ha="left", family="monospace", fontsize=8)
    buf = io.BytesIO()
    payload = json.dumps(counts, sort_keys=True)
    meta = {"sitrep-counts": payload} if fmt == "png" else {"Keywords": payload, "Title": "sitrep"}
    fig.savefig(buf, format=fmt, metadata=meta)
    return buf.getvalue()


def write(rep: Sitrep, out: Path) -> Path:
    """Write the report to ``out``; its suffix (.png or .pdf) picks the format."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"{out}: write the report to a .png or .pdf file")
    out.write_bytes(render(rep, fmt))
    return out
