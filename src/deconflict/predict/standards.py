"""Separation standards as data: minima in metres and seconds, alert levels, lookahead.

A standard names the protected volume whose violation is a loss of separation, the lookahead over
which losses are predicted, and its alert levels. A level is raised when that level's volume is
predicted to be violated before the level's alerting time (``t_in < alerting_time_s``, or already
violated), as DAIDALUS does (reference/daidalus_notes.md §5).

Built in: ``icao-5nm``, ``icao-3nm``, ``do365`` (DAIDALUS DO_365B_no_SUM alerters 1–3) and ``tcas``
(TCAS II v7.1 TA/RA thresholds by sensitivity level). Users add their own from a TOML file
(``load_standards``). Vertical separation is lost only where |Δaltitude| < vertical minimum −
``vertical_tolerance_m`` (1 ft by default): aircraft on adjacent flight levels are separated.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from deconflict.errors import ConfigError, UnknownNameError
from deconflict.units import FT, NM

VolumeKind = Literal["cylinder", "wcv"]


@dataclass(frozen=True, slots=True)
class Volume:
    """A protected volume.

    ``cylinder``: |horizontal| < horizontal_m and |vertical| < vertical_m.
    ``wcv``: DO-365 well-clear volume with modified tau (DAIDALUS WCV_TAUMOD + WCV_TCOA):
    horizontal_m is DTHR (= DMOD = HMD), vertical_m is ZTHR, tau_s is TTHR, tcoa_s is TCOA.
    """

    kind: VolumeKind
    horizontal_m: float
    vertical_m: float
    tau_s: float = 0.0
    tcoa_s: float = 0.0

    def horizontal_reach_m(self, closing_speed_mps: float) -> float:
        """Largest horizontal distance (m) at which the volume can be violated at this closure."""
        return self.horizontal_m + self.tau_s * closing_speed_mps

    def vertical_reach_m(self, vertical_closing_mps: float) -> float:
        return self.vertical_m + self.tcoa_s * vertical_closing_mps


@dataclass(frozen=True, slots=True)
class AlertLevel:
    """One alert level: raised when ``volume`` is entered before ``alerting_time_s``."""

    level: int
    name: str
    volume: Volume
    alerting_time_s: float
    region: str = "NONE"  # manoeuvre-band region this level paints (DAIDALUS: NONE/MID/NEAR)


@dataclass(frozen=True, slots=True)
class Standard:
    """A separation standard. ``level_sets`` maps a selector key to the levels that apply:
    ``"default"`` always exists; ``do365`` adds alerters ``"1"``, ``"2"``, ``"3"``; ``tcas``
    adds sensitivity levels chosen by altitude (``altitude_bands_ft``)."""

    name: str
    description: str
    separation: Volume
    lookahead_s: float
    level_sets: Mapping[str, tuple[AlertLevel, ...]]
    vertical_tolerance_m: float = 1.0 * FT
    altitude_bands_ft: tuple[tuple[float, str], ...] = ()  # (floor_ft, level-set key), ascending
    #: when set, a pair's separation volume is this level's volume in the pair's own level set
    #: (DAIDALUS: each alerter's corrective volume; TCAS: each sensitivity level's RA volume)
    separation_level: int | None = None

    def separation_volume(self, key: str = "default") -> Volume:
        """The separation volume for one level set (see ``separation_level``)."""
        if self.separation_level is None:
            return self.separation
        levels = self.level_sets[key]
        for lv in levels:
            if lv.level == self.separation_level:
                return lv.volume
        return levels[-1].volume

    @property
    def levels(self) -> tuple[AlertLevel, ...]:
        return self.level_sets["default"]

    def with_lookahead(self, lookahead_s: float | None) -> Standard:
        return self if lookahead_s is None else replace(self, lookahead_s=float(lookahead_s))

    def all_volumes(self) -> list[Volume]:
        vols = [self.separation]
        for levels in self.level_sets.values():
            vols.extend(lv.volume for lv in levels)
        return vols

    def level_names(self) -> dict[int, str]:
        names = {0: "none"}
        for levels in self.level_sets.values():
            for lv in levels:
                names.setdefault(lv.level, lv.name)
        return names


def _time_levels(volume: Volume, lookahead_s: float, warning_s: float) -> tuple[AlertLevel, ...]:
    return (
        AlertLevel(1, "conflict", volume, lookahead_s),
        AlertLevel(2, "warning", volume, warning_s),
        AlertLevel(3, "loss", volume, 0.0),
    )


def _icao(name: str, nm: float, lookahead_s: float, warning_s: float, text: str) -> Standard:
    vol = Volume("cylinder", nm * NM, 1000.0 * FT)
    return Standard(
        name=name,
        description=text,
        separation=vol,
        lookahead_s=lookahead_s,
        level_sets={"default": _time_levels(vol, lookahead_s, warning_s)},
    )


def _dwc(
    dthr_m: float, times: tuple[float, float, float], tau: float, z1_ft: float
) -> tuple[AlertLevel, ...]:
    return (
        AlertLevel(1, "preventive", Volume("wcv", dthr_m, z1_ft * FT, tau), times[0], "NONE"),
        AlertLevel(2, "corrective", Volume("wcv", dthr_m, 450 * FT, tau), times[1], "MID"),
        AlertLevel(3, "warning", Volume("wcv", dthr_m, 450 * FT, tau), times[2], "NEAR"),
    )


def _do365() -> Standard:
    # the one table of the DO-365B alerters (DAIDALUS DO_365B_no_SUM): DTHR, alerting times of
    # levels 1-3, TTHR, preventive ZTHR; ``predict.daidalus.config.ALERTERS`` is built from it
    phase1 = _dwc(0.66 * NM, (55.0, 55.0, 25.0), 35.0, 700.0)
    phase2 = _dwc(1500 * FT, (45.0, 45.0, 45.0), 0.0, 450.0)
    noncoop = _dwc(2200 * FT, (55.0, 55.0, 25.0), 0.0, 450.0)
    return Standard(
        name="do365",
        description="RTCA DO-365B detect-and-avoid well clear (NASA DAIDALUS DO_365B_no_SUM): "
        "alerter 1 DWC Phase I (default), 2 Phase II, 3 non-cooperative; lookahead 180 s",
        separation=phase1[1].volume,
        lookahead_s=180.0,
        level_sets={"default": phase1, "1": phase1, "2": phase2, "3": noncoop},
        separation_level=2,
    )


# TCAS II v7.1 thresholds (reference/domain_primer.md §c, from DAIDALUS TCASTable):
# SL, floor ft, TA tau s, TA DMOD NM, TA ZTHR ft, RA tau s, RA DMOD NM, RA ZTHR ft
_TCAS_TABLE: tuple[tuple[int, float, float, float, float, float, float, float], ...] = (
    (2, -1e9, 20, 0.30, 850, 0, 0, 0),
    (3, 1000, 25, 0.33, 850, 15, 0.20, 600),
    (4, 2350, 30, 0.48, 850, 20, 0.35, 600),
    (5, 5000, 40, 0.75, 850, 25, 0.55, 600),
    (6, 10000, 45, 1.00, 850, 30, 0.80, 600),
    (7, 20000, 48, 1.30, 850, 35, 1.10, 700),
    (8, 42000, 48, 1.30, 1200, 35, 1.10, 800),  # "SL7 above FL420": larger vertical thresholds
)


def _tcas() -> Standard:
    sets: dict[str, tuple[AlertLevel, ...]] = {}
    bands: list[tuple[float, str]] = []
    for sl, floor, ta_tau, ta_dmod, ta_z, ra_tau, ra_dmod, ra_z in _TCAS_TABLE:
        key = f"SL{sl}" if sl <= 7 else "SL7+"
        ta = Volume("wcv", ta_dmod * NM, ta_z * FT, ta_tau, ta_tau)
        levels = [AlertLevel(1, "TA", ta, 0.0)]
        if ra_tau > 0:
            levels.append(
                AlertLevel(2, "RA", Volume("wcv", ra_dmod * NM, ra_z * FT, ra_tau, ra_tau), 0.0)
            )
        sets[key] = tuple(levels)
        bands.append((floor, key))
    sets["default"] = sets["SL7"]
    return Standard(
        name="tcas",
        description="TCAS II v7.1 traffic (TA) and resolution (RA) advisory thresholds by "
        "sensitivity level (pressure altitude stands in for radio altitude below 2,350 ft); "
        "modified-tau volumes with vertical time to co-altitude; a pair uses the more "
        "sensitive of its two aircraft's levels; lookahead 60 s",
        separation=sets["SL7"][-1].volume,
        lookahead_s=60.0,
        level_sets=sets,
        altitude_bands_ft=tuple(bands),
        separation_level=2,
    )


_BUILTIN: dict[str, Standard] = {
    s.name: s
    for s in (
        _icao(
            "icao-5nm",
            5.0,
            300.0,
            120.0,
            "ICAO en-route radar separation: 5 NM / 1,000 ft, lookahead 300 s, warning 120 s",
        ),
        _icao(
            "icao-3nm",
            3.0,
            120.0,
            60.0,
            "ICAO terminal radar separation: 3 NM / 1,000 ft, lookahead 120 s, warning 60 s",
        ),
        _do365(),
        _tcas(),
    )
}
_REGISTRY: dict[str, Standard] = dict(_BUILTIN)


def standard_names() -> list[str]:
    """Names of every registered standard."""
    return sorted(_REGISTRY)


def get_standard(standard: str | Standard) -> Standard:
    """The standard of this name (or the object itself). Raises UnknownNameError."""
    if isinstance(standard, Standard):
        return standard
    try:
        return _REGISTRY[standard]
    except KeyError:
        raise UnknownNameError(
            f"unknown separation standard {standard!r}: use one of {', '.join(standard_names())}, "
            "or load your own with deconflict.load_standards(FILE.toml)"
        ) from None


def register_standard(standard: Standard) -> None:
    """Register a standard under its name (replacing a user-defined one of that name)."""
    if standard.name in _BUILTIN:
        raise ConfigError(f"{standard.name!r} is built in; give your standard another name")
    _REGISTRY[standard.name] = standard


def _num(table: Mapping[str, object], key: str, where: str, default: float | None = None) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
    if value < 0:
        raise ConfigError(f"{where}: {key} must not be negative, got {value}")
    return float(value)


def standard_from_dict(name: str, table: Mapping[str, object]) -> Standard:
    """Build a cylinder standard from a TOML table (see ``load_standards``)."""
    where = f"standard {name!r}"
    if "horizontal_nm" not in table and "horizontal_m" not in table:
        raise ConfigError(f"{where}: give horizontal_nm (or horizontal_m)")
    if "vertical_ft" not in table and "vertical_m" not in table:
        raise ConfigError(f"{where}: give vertical_ft (or vertical_m)")
    h_m = (
        _num(table, "horizontal_nm", where) * NM
        if "horizontal_nm" in table
        else _num(table, "horizontal_m", where)
    )
    v_m = (
        _num(table, "vertical_ft", where) * FT
        if "vertical_ft" in table
        else _num(table, "vertical_m", where)
    )
    if h_m <= 0 or v_m <= 0:
        raise ConfigError(f"{where}: the minima must be positive")
    lookahead = _num(table, "lookahead_s", where, 300.0)
    warning = _num(table, "warning_s", where, min(120.0, lookahead))
    tol_ft = _num(table, "vertical_tolerance_ft", where, 1.0)
    vol = Volume("cylinder", h_m, v_m)
    levels = _time_levels(vol, lookahead, warning)
    raw_levels = table.get("levels")
    if raw_levels is not None:
        if not isinstance(raw_levels, list) or not raw_levels:
            raise ConfigError(f"{where}: levels must be a non-empty array of tables")
        built = []
        for k, lv in enumerate(raw_levels, start=1):
            if not isinstance(lv, dict) or "name" not in lv:
                raise ConfigError(f"{where}: level {k} needs a name and alerting_time_s")
            built.append(AlertLevel(k, str(lv["name"]), vol, _num(lv, "alerting_time_s", where)))
        levels = tuple(built)
    description = table.get("description", f"user-defined: {h_m / NM:g} NM / {v_m / FT:g} ft")
    return Standard(
        name=name,
        description=str(description),
        separation=vol,
        lookahead_s=lookahead,
        level_sets={"default": levels},
        vertical_tolerance_m=tol_ft * FT,
    )


def load_standards(path: str | Path) -> list[Standard]:
    """Register the standards of a TOML file and return them.

    Format::

        [standards.military-1nm]
        description = "..."          # optional
        horizontal_nm = 1.0          # or horizontal_m
        vertical_ft = 500            # or vertical_m
        lookahead_s = 120            # default 300
        warning_s = 60               # default min(120, lookahead)
        vertical_tolerance_ft = 1    # default 1
        # optional explicit levels, least severe first:
        # levels = [{name = "advisory", alerting_time_s = 120},
        #           {name = "loss", alerting_time_s = 0}]
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"standards file {p} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"standards file {p} is not valid TOML: {exc}") from None
    tables = data.get("standards")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"standards file {p} has no [standards.NAME] tables")
    out = []
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"standards file {p}: standards.{name} must be a table")
        std = standard_from_dict(name, table)
        register_standard(std)
        out.append(std)
    return out
