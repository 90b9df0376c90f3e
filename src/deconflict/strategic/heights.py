"""Heights: WGS84 ellipsoidal heights (ASTM F3548 ``W84``, metres) and Deconflict's barometric
altitudes (feet, ISA pressure altitude), converted explicitly, with the model stated.

Deconflict's volumes are barometric (ft or FL, as aircraft fly them); F3548's are heights above
the WGS84 ellipsoid. The conversion is the one place where the two meet:

1. **Geoid.** Orthometric height (above mean sea level) = ellipsoidal height − N, with N the
   EGM96 geoid undulation at the volume's centre, from PROJ (``us_nga_egm96_15.tif``) when PROJ
   finds that grid. Without the grid N is taken as 0 and ``HEIGHT_MODEL.geoid`` says so: the
   error is then |N|, at most 107 m anywhere (EGM96 ranges from −106.2 m to +85.4 m; over
   Switzerland about +50 m, over the eastern US about −30 m). Within one volume N varies by
   well under 1 m per 10 km in most places.
2. **Pressure.** Pressure altitude = orthometric height: the ICAO standard atmosphere (QNH
   1013.25 hPa, 15 °C at sea level, −6.5 K/km). The real difference between what an altimeter
   on the standard setting shows and the true height is about 8.3 m (27 ft) per hPa that the
   sea-level pressure differs from 1013.25 hPa, plus about 4 % of the height above sea level
   per 10 °C that the air is warmer or colder than ISA: typically tens of metres, up to a few
   hundred in deep lows or cold air. Volumes are not widened by it: F3548 volumes are compared
   with F3548 volumes through the same conversion (the error cancels); a barometric operation
   and a W84 one are compared with this error, which ``docs/f3548.md`` states.

Nothing here compares a W84 height with a barometric one: callers convert first.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from deconflict.units import FT

#: EGM96's undulation range (m): the error bound when the geoid grid is missing.
EGM96_MAX_ABS_UNDULATION_M = 106.2


@dataclass(frozen=True, slots=True)
class HeightModel:
    """What the conversion assumes: the geoid in use and the atmosphere."""

    geoid: str  # "EGM96 (PROJ grid)" or "none (N = 0)"
    geoid_error_m: float  # bound on the geoid part of the error
    atmosphere: str = "ISA, QNH 1013.25 hPa: pressure altitude = height above mean sea level"


@functools.lru_cache(maxsize=1)
def _transformer() -> object | None:
    """PROJ's WGS84 ellipsoidal height → EGM96 height, or None if only the ballpark (no
    grid) transformation is available."""
    try:
        from pyproj import Transformer

        t = Transformer.from_crs("EPSG:4979", "EPSG:4326+5773", always_xy=True, only_best=True)
    except Exception:  # pyproj missing or PROJ database broken: no geoid
        return None
    if "ballpark" in t.description.lower():
        return None
    return t


def height_model() -> HeightModel:
    """The model in force on this machine."""
    if _transformer() is None:
        return HeightModel("none (N = 0: no EGM96 grid found by PROJ)", EGM96_MAX_ABS_UNDULATION_M)
    return HeightModel("EGM96 (PROJ grid us_nga_egm96_15)", 1.0)


def undulation_m(latitude_deg: float, longitude_deg: float) -> float:
    """Geoid undulation N (m): ellipsoidal height − orthometric height; 0 without a grid."""
    t = _transformer()
    if t is None:
        return 0.0
    _, _, h = t.transform(longitude_deg, latitude_deg, 0.0)  # type: ignore[attr-defined]
    return -float(h)


def w84_to_barometric_ft(height_m: float, latitude_deg: float, longitude_deg: float) -> float:
    """A WGS84 ellipsoidal height (m) at a place → the ISA pressure altitude (ft) there."""
    return (height_m - undulation_m(latitude_deg, longitude_deg)) / FT


def barometric_ft_to_w84_m(altitude_ft: float, latitude_deg: float, longitude_deg: float) -> float:
    """An ISA pressure altitude (ft) at a place → the WGS84 ellipsoidal height (m) there."""
    return altitude_ft * FT + undulation_m(latitude_deg, longitude_deg)
