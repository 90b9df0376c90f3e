"""``alert``: DO-365 alerting, bands and resolutions for one encounter (edge units in, JSON out).

Inputs follow the project's edge convention (deg, ft, kt, ft/min); inside everything is SI; the
result is a JSON-safe dict in edge units (deg, kt, ft/min, ft, s).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deconflict.errors import UnknownNameError
from deconflict.predict.daidalus.alerting import compute_alerts
from deconflict.predict.daidalus.bands import DimensionBands, compute_bands
from deconflict.predict.daidalus.config import DO365B
from deconflict.predict.daidalus.encounter import read_encounter
from deconflict.units import FPM, FT, KT, NM

__all__ = ["STANDARDS", "alert"]

#: standards ``alert`` knows
STANDARDS: tuple[str, ...] = ("do365",)

_LEVEL_NAMES = ("none", "preventive", "corrective", "warning")
# dimension -> (output key, SI -> edge unit factor, unit, up name, down name)
_DIMS: dict[str, tuple[str, float, str, str, str]] = {
    "hdir": ("hdir_deg", 180.0 / math.pi, "deg", "right", "left"),
    "hs": ("hs_kt", 1.0 / KT, "kt", "up", "down"),
    "vs": ("vs_fpm", 1.0 / FPM, "ft/min", "up", "down"),
    "alt": ("alt_ft", 1.0 / FT, "ft", "up", "down"),
}


def _num(x: float, digits: int = 6) -> float | str | None:
    """JSON-safe number: NaN -> None, ±inf -> "inf"/"-inf", else rounded."""
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return round(float(x), digits)


def _resolution_entry(name: str, dim: DimensionBands) -> dict[str, Any]:
    _, factor, _unit, up_name, down_name = _DIMS[name]
    unit_key = _DIMS[name][0].split("_", 1)[1]
    return {
        f"{name}_{up_name}_{unit_key}": _num(dim.resolution_up * factor),
        f"{name}_{down_name}_{unit_key}": _num(dim.resolution_low * factor),
        f"{name}_preferred": up_name if dim.preferred_up else down_name,
    }


def _change(name: str, dim: DimensionBands, value: float) -> float:
    if name == "hdir":
        return (value - dim.own_value + math.pi) % (2.0 * math.pi) - math.pi
    return value - dim.own_value


def _recommend(bands: dict[str, DimensionBands]) -> dict[str, Any] | None:
    """The smallest conflict-free turn; else the smallest vertical-speed change, then altitude,
    then horizontal speed. None when the ownship is not in conflict."""
    for name in ("hdir", "vs", "alt", "hs"):
        dim = bands[name]
        options = [
            (abs(_change(name, dim, v)), v, side)
            for v, side in (
                (dim.resolution_up, _DIMS[name][3]),
                (dim.resolution_low, _DIMS[name][4]),
            )
            if math.isfinite(v)
        ]
        if options:
            _, value, side = min(options)
            factor, unit = _DIMS[name][1], _DIMS[name][2]
            return {
                "dimension": name,
                "direction": side,
                "value": _num(value * factor),
                "change": _num(_change(name, dim, value) * factor),
                "unit": unit,
            }
    return None


def alert(encounter: Mapping[str, Any] | str | Path, standard: str = "do365") -> dict[str, Any]:
    """DO-365 (DAIDALUS) alerting, manoeuvre bands and resolutions for the ownship.

    ``encounter`` is a dict, or a path to a JSON file, ``{"ownship": STATE, "intruders":
    [STATE, ...], "wind": {"to_deg": .., "speed_kt": ..}}`` (wind optional). A STATE has ``id``,
    ``latitude``, ``longitude`` (deg; or ``x_nmi``, ``y_nmi`` east/north in a local plane, for all
    aircraft alike), ``altitude`` (ft), ``groundspeed`` (kt), ``track`` (deg), ``vertical_rate``
    (ft/min) and optionally ``alerter`` (1 DWC Phase I, the default; 2 DWC Phase II;
    3 non-cooperative) and ``timestamp`` (seconds or ISO-8601; given for all aircraft, the
    intruders are first projected to the ownship's time, otherwise all states are taken as
    simultaneous). Evaluation is a snapshot, as a fresh DAIDALUS object gives it (no hysteresis).

    Returns a JSON-safe dict: ``intruders`` (per intruder ``id``, ``alerter``, ``alert_level``
    0-3, ``alert``, ``time_to_violation_s`` of the corrective volume, ``time_out_of_violation_s``,
    ``in_violation``), ``bands`` (for ``hdir_deg`` track, or heading with wind; ``hs_kt`` ground
    speed, or airspeed with wind; ``vs_fpm``; ``alt_ft``: lists of ``[lo, hi, region]`` covering
    the range, regions NONE/MID/NEAR/RECOVERY; plus ``current_region`` and ``recovery``) and
    ``resolution`` (nearest conflict-free value each way, the preferred side, and one
    ``recommended`` manoeuvre). Infinite values are the strings ``"inf"``/``"-inf"`` (e.g. no
    violation within the 180 s lookahead, or no resolution that way); not-applicable values
    (NaN, e.g. resolutions when not in conflict) are ``null``.

    Raises :class:`deconflict.errors.InputError` for bad input (naming the field and the fix) and
    :class:`deconflict.errors.UnknownNameError` for a standard other than ``"do365"``.
    """
    if standard not in STANDARDS:
        raise UnknownNameError(
            f"standard {standard!r} has no alerting/bands logic here; use one of {list(STANDARDS)}"
        )
    enc = read_encounter(encounter)
    alerts = compute_alerts(enc.own_s, enc.own_v, enc.intr_s, enc.intr_v, enc.alerter, DO365B)
    bands = compute_bands(enc.own_s, enc.own_v, enc.intr_s, enc.intr_v, enc.alerter, DO365B)
    intruders = [
        {
            "id": ident,
            "alerter": int(enc.alerter[i]),
            "alert_level": int(alerts.alert_level[i]),
            "alert": _LEVEL_NAMES[int(alerts.alert_level[i])],
            "time_to_violation_s": _num(float(alerts.time_to_violation_s[i])),
            "time_out_of_violation_s": _num(float(alerts.time_out_of_violation_s[i])),
            "in_violation": bool(alerts.in_violation[i]),
        }
        for i, ident in enumerate(enc.intr_ids)
    ]
    wind = bool(enc.wind_v.any())
    bands_out: dict[str, Any] = {
        "direction": "heading" if wind else "track",
        "speed": "airspeed" if wind else "groundspeed",
    }
    resolution: dict[str, Any] = {}
    for name, dim in bands.items():
        key, factor = _DIMS[name][0], _DIMS[name][1]
        bands_out[key] = [
            [_num(lo * factor), _num(hi * factor), region] for lo, hi, region in dim.bands
        ]
        resolution.update(_resolution_entry(name, dim))
    bands_out["current_region"] = {name: dim.current_region for name, dim in bands.items()}
    bands_out["recovery"] = {
        name: {
            "computed": dim.recovery.computed,
            "saturated": dim.recovery.saturated,
            "time_to_recovery_s": _num(dim.recovery.time_to_recovery_s),
            "horizontal_distance_nmi": _num(dim.recovery.horizontal_distance_m / NM),
            "vertical_distance_ft": _num(dim.recovery.vertical_distance_m / FT),
            "n_factor": dim.recovery.n_factor,
        }
        for name, dim in bands.items()
    }
    resolution["recommended"] = _recommend(bands)
    return {
        "standard": standard,
        "ownship": enc.own_id,
        "intruders": intruders,
        "bands": bands_out,
        "resolution": resolution,
    }
