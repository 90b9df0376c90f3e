"""Scenario files: parties, sensors, bases, areas, operations and aircraft with their routes.

A scenario is a TOML file (the built-in one is ``deconflict/data/scenarios/shared2015.toml``;
copy it and change it). The file uses the edge units of DESIGN.md — degrees, feet, knots,
seconds — and :func:`load_scenario` keeps them as given; the simulator converts to SI once.

Tables (``[[...]]`` may repeat):

``[scenario]``
    ``name``, ``description``, ``start`` (UTC, ISO 8601), ``duration_s``, ``seed`` (of every random
    draw), ``standard`` (separation standard name, e.g. ``icao-5nm``), ``center`` (``[lat, lon]``:
    origin of the simulator's plane; the middle of the scene).
``[[party]]``
    ``id``, ``name``, ``colour`` (CSS colour on the map), ``token`` (the demo login of the party),
    ``reaction_s`` (how long its crews take to start flying a recommended resolution),
    ``answer_delay_s`` (how long its duty officer takes to answer an identification request about
    one of its own aircraft; omit: it never answers), ``ack_delay_s`` (to acknowledge a hotline
    message; omit: never).
``[[sensor]]``
    ``id``, ``party``, ``kind`` — ``link`` (the party's own aircraft reporting their own
    position), ``adsb`` (ADS-B receivers: aircraft with ``adsb = true``), ``ssr`` (secondary radar:
    aircraft with a transponder), ``radar`` (primary and secondary: every aircraft; identity only
    from a transponder, height from a 3-D primary radar otherwise) — ``lat``, ``lon``,
    ``range_nm``, ``update_s``, ``sigma_m`` (1-sigma horizontal position noise),
    ``altitude_sigma_ft`` (primary height noise), ``velocity_sigma_kt``.
``[[base]]``
    ``id``, ``name``, ``party``, ``lat``, ``lon``, ``elevation_ft``.
``[[area]]``
    ``id``, ``name``, ``kind`` (``shared``: the shared area outlined on the map; ``restricted``),
    ``polygon`` (``[[lat, lon], ...]``), ``floor_ft``, ``ceiling_ft``.
``[[operation]]``
    A declared sortie volume: ``id``, ``party``, ``polygon``, ``floor_ft``, ``ceiling_ft``,
    ``start_s``, ``end_s`` (seconds after ``start``).
``[[aircraft]]``
    ``id``, ``party``, ``type`` (ICAO designator with performance figures), ``callsign``,
    ``icao24``, ``squawk``, ``transponder`` (``modes``, ``modeac`` or ``none``), ``adsb``,
    ``start_s``, ``follows_resolutions`` (whether its crew flies the recommended resolution),
    ``route``: a list of waypoints ``{lat, lon, alt_ft, speed_kt}`` or ``{base = "ID"}`` (at the
    base, on the ground: a take-off when first, a landing when last). The aircraft appears at its
    first waypoint at ``start_s`` and leaves the scene at its last.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

import pandas as pd

from deconflict.errors import InputError

SENSOR_KINDS: Final = ("link", "adsb", "ssr", "radar")
TRANSPONDERS: Final = ("modes", "modeac", "none")
AREA_KINDS: Final = ("shared", "restricted")
BUILTIN_SCENARIO: Final = "shared2015"


@dataclass(frozen=True, slots=True)
class Party:
    id: str
    name: str
    colour: str = "#888888"
    token: str = ""
    reaction_s: float = 15.0
    answer_delay_s: float | None = None
    ack_delay_s: float | None = None


@dataclass(frozen=True, slots=True)
class SensorSpec:
    id: str
    party: str
    kind: str
    lat: float = 0.0
    lon: float = 0.0
    range_nm: float = 250.0
    update_s: float = 1.0
    sigma_m: float = 10.0
    altitude_sigma_ft: float = 0.0
    velocity_sigma_kt: float = 1.0


@dataclass(frozen=True, slots=True)
class Base:
    id: str
    name: str
    party: str
    lat: float
    lon: float
    elevation_ft: float = 0.0


@dataclass(frozen=True, slots=True)
class Area:
    id: str
    name: str
    kind: str
    polygon: tuple[tuple[float, float], ...]  # (lat, lon)
    floor_ft: float = 0.0
    ceiling_ft: float = 60000.0


@dataclass(frozen=True, slots=True)
class OperationSpec:
    id: str
    party: str
    polygon: tuple[tuple[float, float], ...]
    floor_ft: float
    ceiling_ft: float
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class Waypoint:
    lat: float
    lon: float
    alt_ft: float
    speed_kt: float
    base: str | None = None


@dataclass(frozen=True, slots=True)
class AircraftSpec:
    id: str
    party: str
    type: str
    route: tuple[Waypoint, ...]
    callsign: str = ""
    icao24: str = ""
    squawk: str = ""
    transponder: str = "modes"
    adsb: bool = False
    start_s: float = 0.0
    follows_resolutions: bool = True


@dataclass(frozen=True)
class Scenario:
    """A whole scenario, as read from its file (edge units: degrees, ft, kt, s)."""

    name: str
    start: pd.Timestamp
    duration_s: float
    center: tuple[float, float]
    parties: tuple[Party, ...]
    sensors: tuple[SensorSpec, ...]
    aircraft: tuple[AircraftSpec, ...]
    bases: tuple[Base, ...] = ()
    areas: tuple[Area, ...] = ()
    operations: tuple[OperationSpec, ...] = ()
    seed: int = 0
    standard: str = "icao-5nm"
    description: str = ""
    source: str = field(default="", compare=False)

    def party(self, party_id: str) -> Party:
        for p in self.parties:
            if p.id == party_id:
                return p
        raise InputError(f"scenario {self.name!r} has no party {party_id!r}")

    def time(self, t_s: float) -> pd.Timestamp:
        """The UTC time ``t_s`` seconds after the scenario's start."""
        return self.start + pd.Timedelta(seconds=float(t_s))


def builtin_scenario_path(name: str = BUILTIN_SCENARIO) -> Path:
    """Path of a scenario file shipped in the package (copy it to make your own)."""
    ref = resources.files("deconflict") / "data" / "scenarios" / f"{name}.toml"
    return Path(str(ref))


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario file (default: the built-in one) and check it."""
    p = builtin_scenario_path() if path is None else Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read scenario file {p}: {exc.strerror}; check the path") from None
    return parse_scenario(text, source=str(p))


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Parse and check the TOML text of a scenario."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"scenario {source} is not valid TOML: {exc}") from None
    return _build(doc, source)


def _req(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise InputError(f"{where} has no {key!r}; add it (see deconflict.sim.scenario)")
    return table[key]


def _given(table: dict[str, Any], **convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The keys of ``table`` named in ``convert``, each converted; keys the file leaves out take
    their dataclass defaults (each default is stated once, on its dataclass)."""
    return {key: conv(table[key]) for key, conv in convert.items() if key in table}


def _choice(value: str, choices: tuple[str, ...], where: str) -> str:
    if value not in choices:
        raise InputError(f"{where} is {value!r}; use one of {', '.join(choices)}")
    return value


def _one_of(choices: tuple[str, ...], where: str) -> Callable[[Any], str]:
    """Conversion of a value to one of ``choices`` (see ``_choice``)."""
    return lambda value: _choice(str(value), choices, where)


def _polygon(raw: Any, where: str) -> tuple[tuple[float, float], ...]:
    try:
        pts = tuple((float(a), float(b)) for a, b in raw)
    except (TypeError, ValueError):
        raise InputError(f"{where}.polygon must be a list of [lat, lon] pairs") from None
    if len(pts) < 3:
        raise InputError(f"{where}.polygon has {len(pts)} points; a polygon needs at least 3")
    return pts


def _build(doc: dict[str, Any], source: str) -> Scenario:
    head = _req(doc, "scenario", source)
    where = f"{source} [scenario]"
    try:
        start = pd.Timestamp(_req(head, "start", where))
    except ValueError:
        raise InputError(
            f"{where}.start is not an ISO 8601 time; write e.g. 2015-10-10T06:00Z"
        ) from None
    start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    center = tuple(float(v) for v in _req(head, "center", where))
    if len(center) != 2:
        raise InputError(f"{where}.center must be [lat, lon]")

    parties = tuple(
        Party(
            id=str(_req(t, "id", f"{source} [[party]]")),
            name=str(t.get("name", t["id"])),
            **_given(
                t, colour=str, token=str, reaction_s=float, answer_delay_s=float, ack_delay_s=float
            ),
        )
        for t in doc.get("party", [])
    )
    party_ids = {p.id for p in parties}
    if not parties:
        raise InputError(f"{source} declares no [[party]]; a scenario needs at least one")

    def check_party(pid: str, w: str) -> str:
        if pid not in party_ids:
            raise InputError(f"{w} names party {pid!r}, which has no [[party]] table")
        return pid

    sensors = []
    for t in doc.get("sensor", []):
        w = f"{source} [[sensor]] {t.get('id', '?')}"
        s = SensorSpec(
            id=str(_req(t, "id", w)),
            party=check_party(str(_req(t, "party", w)), w),
            kind=_choice(str(_req(t, "kind", w)), SENSOR_KINDS, f"{w}.kind"),
            lat=float(t.get("lat", center[0])),
            lon=float(t.get("lon", center[1])),
            **_given(
                t,
                range_nm=float,
                update_s=float,
                sigma_m=float,
                altitude_sigma_ft=float,
                velocity_sigma_kt=float,
            ),
        )
        if s.update_s <= 0 or s.sigma_m < 0 or s.range_nm <= 0:
            raise InputError(f"{w}: update_s and range_nm must be > 0 and sigma_m >= 0")
        sensors.append(s)

    bases = {
        str(t["id"]): Base(
            id=str(t["id"]),
            name=str(t.get("name", t["id"])),
            party=check_party(str(_req(t, "party", f"{source} [[base]]")), f"{source} [[base]]"),
            lat=float(_req(t, "lat", f"{source} [[base]] {t['id']}")),
            lon=float(_req(t, "lon", f"{source} [[base]] {t['id']}")),
            **_given(t, elevation_ft=float),
        )
        for t in doc.get("base", [])
    }

    areas = tuple(
        Area(
            id=str(t["id"]),
            name=str(t.get("name", t["id"])),
            kind=_choice(str(t.get("kind", "restricted")), AREA_KINDS, f"area {t['id']}.kind"),
            polygon=_polygon(_req(t, "polygon", f"area {t['id']}"), f"area {t['id']}"),
            **_given(t, floor_ft=float, ceiling_ft=float),
        )
        for t in doc.get("area", [])
    )
    operations = tuple(
        OperationSpec(
            id=str(t["id"]),
            party=check_party(str(t["party"]), f"operation {t['id']}"),
            polygon=_polygon(_req(t, "polygon", f"operation {t['id']}"), f"operation {t['id']}"),
            floor_ft=float(t.get("floor_ft", 0.0)),
            ceiling_ft=float(t.get("ceiling_ft", 60000.0)),
            start_s=float(t.get("start_s", 0.0)),
            end_s=float(t.get("end_s", head.get("duration_s", 3600.0))),
        )
        for t in doc.get("operation", [])
    )

    aircraft = []
    seen: set[str] = set()
    for t in doc.get("aircraft", []):
        w = f"{source} [[aircraft]] {t.get('id', '?')}"
        aid = str(_req(t, "id", w))
        if aid in seen:
            raise InputError(f"{w}: aircraft id {aid!r} appears twice; ids must be unique")
        seen.add(aid)
        route = []
        for i, wp in enumerate(_req(t, "route", w)):
            if "base" in wp:
                b = bases.get(str(wp["base"]))
                if b is None:
                    raise InputError(f"{w}.route[{i}] names base {wp['base']!r}, not declared")
                route.append(Waypoint(b.lat, b.lon, b.elevation_ft, float("nan"), base=b.id))
            else:
                wi = f"{w}.route[{i}]"
                route.append(
                    Waypoint(
                        float(_req(wp, "lat", wi)),
                        float(_req(wp, "lon", wi)),
                        float(_req(wp, "alt_ft", wi)),
                        float(_req(wp, "speed_kt", wi)),
                    )
                )
        if len(route) < 2:
            raise InputError(f"{w}.route has {len(route)} waypoints; a route needs at least 2")
        aircraft.append(
            AircraftSpec(
                id=aid,
                party=check_party(str(_req(t, "party", w)), w),
                type=str(_req(t, "type", w)),
                route=tuple(route),
                callsign=str(t.get("callsign", aid)),
                **_given(
                    t,
                    icao24=lambda v: str(v).lower(),
                    squawk=str,
                    transponder=_one_of(TRANSPONDERS, f"{w}.transponder"),
                    adsb=bool,
                    start_s=float,
                    follows_resolutions=bool,
                ),
            )
        )
    return Scenario(
        name=str(head.get("name", Path(source).stem)),
        start=start,
        duration_s=float(head.get("duration_s", 3600.0)),
        center=(center[0], center[1]),
        **_given(head, seed=int, standard=str, description=str),
        parties=parties,
        sensors=tuple(sensors),
        bases=tuple(bases.values()),
        areas=areas,
        operations=operations,
        aircraft=tuple(aircraft),
        source=source,
    )
