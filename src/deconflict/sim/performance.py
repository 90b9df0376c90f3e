"""Aircraft performance figures for the simulator, in SI: speeds m/s, rates m/s, turn rate rad/s.

Built-in figures (rounded public values for each type) are always available. Where the optional
extra ``sim`` is installed, civil types take their climb and descent rates, cruise Mach and
ceiling from openap (LGPL, Sun et al.), which derives them from flight data; military types and
types openap does not know keep the built-in figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cache
from typing import Final

from deconflict.errors import UnknownNameError
from deconflict.units import FPM, FT, KT

#: Standard-rate turn: 3 degrees per second (a full circle in two minutes).
STANDARD_RATE_RAD_S: Final = math.radians(3.0)


@dataclass(frozen=True, slots=True)
class Performance:
    """What one aircraft type can do (SI units)."""

    type: str
    cruise_mps: float  # typical cruise true airspeed
    max_mps: float  # never faster than this
    min_mps: float  # never slower than this in flight
    climb_mps: float  # typical climb rate
    descent_mps: float  # typical descent rate (positive)
    turn_rate_rad_s: float  # turn rate the type flies in routine manoeuvres
    max_bank_rad: float  # bank limit: caps the turn rate at high speed (g tan(bank) / v)
    accel_mps2: float  # speed change rate
    ceiling_m: float
    source: str = "built-in"


def _perf(
    type_: str,
    cruise_kt: float,
    max_kt: float,
    min_kt: float,
    climb_fpm: float,
    descent_fpm: float,
    turn_dps: float,
    bank_deg: float,
    accel_kt_s: float,
    ceiling_ft: float,
) -> Performance:
    return Performance(
        type=type_,
        cruise_mps=cruise_kt * KT,
        max_mps=max_kt * KT,
        min_mps=min_kt * KT,
        climb_mps=climb_fpm * FPM,
        descent_mps=descent_fpm * FPM,
        turn_rate_rad_s=math.radians(turn_dps),
        max_bank_rad=math.radians(bank_deg),
        accel_mps2=accel_kt_s * KT,
        ceiling_m=ceiling_ft * FT,
    )


#: Built-in figures. Airliners turn at standard rate with a 25° bank limit; fighters in routine
#: (non-combat) manoeuvres turn at 6°/s with a 60° bank limit.
BUILTIN: Final[dict[str, Performance]] = {
    p.type: p
    for p in (
        _perf("A320", 450, 480, 140, 2500, 2500, 3.0, 25, 1.0, 39000),
        _perf("B738", 455, 490, 140, 2500, 2500, 3.0, 25, 1.0, 41000),
        _perf("B77W", 490, 510, 150, 2000, 2500, 3.0, 25, 0.8, 43100),
        _perf("A332", 470, 500, 145, 2000, 2500, 3.0, 25, 0.8, 41450),
        _perf("F16", 480, 800, 150, 15000, 12000, 6.0, 60, 5.0, 50000),
        _perf("SU30", 480, 780, 160, 15000, 12000, 6.0, 60, 5.0, 56800),
        _perf("SU24", 450, 720, 170, 9000, 9000, 4.0, 45, 4.0, 36000),
        _perf("KC135", 460, 500, 160, 1500, 2000, 3.0, 25, 0.8, 50000),
        _perf("E3", 360, 460, 160, 1500, 2000, 3.0, 25, 0.8, 29000),
        _perf("MQ9", 170, 240, 80, 1000, 1000, 3.0, 30, 0.5, 50000),
        _perf("MQ1", 80, 117, 55, 600, 600, 3.0, 30, 0.3, 25000),
    )
}


def openap_available() -> bool:
    """Whether the optional openap package can be imported."""
    try:
        import openap  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def performance(type_: str, *, use_openap: bool = True) -> Performance:
    """Performance of an aircraft type (ICAO designator, case-insensitive).

    With ``use_openap`` and openap installed, openap's climb/descent rates, cruise Mach and
    ceiling replace the built-in ones for the types openap knows.
    """
    key = type_.upper()
    base = BUILTIN.get(key)
    from_openap = _from_openap(key, base) if use_openap else None
    if from_openap is not None:
        return from_openap
    if base is None:
        raise UnknownNameError(
            f"aircraft type {type_!r} has no performance figures; use one of "
            f"{', '.join(sorted(BUILTIN))}"
            + (" or a type openap knows" if openap_available() else "")
        )
    return base


def _from_openap(key: str, base: Performance | None) -> Performance | None:
    try:
        from openap import WRAP, prop
    except ImportError:
        return None
    if key.lower() not in {a.lower() for a in prop.available_aircraft()}:
        return None
    try:
        props = prop.aircraft(key.lower())
        wrap = WRAP(key.lower())
        climb = float(wrap.climb_vs_concas()["default"])
        descent = -float(wrap.descent_vs_concas()["default"])
        mach = float(wrap.cruise_mach()["default"])
    except Exception:  # openap raises plain errors for types with partial data
        return None
    cruise = mach * 295.07  # speed of sound at the tropopause, m/s
    template = base or BUILTIN["A320"]
    return replace(
        template,
        type=key,
        cruise_mps=cruise,
        max_mps=max(float(props.get("mmo", mach + 0.04)) * 295.07, cruise),
        climb_mps=climb,
        descent_mps=descent,
        ceiling_m=float(props.get("ceiling", template.ceiling_m)),
        source="openap",
    )
