"""Sensor sites (TOML configuration) and radar polar plots to geographic positions; inside SI
(m, rad), the configuration in deg and ft, ranges in NM at the ASTERIX edge.

Configuration file::

    [sensors."25/11"]          # sensor id: "SAC/SIC" for ASTERIX radars
    latitude = 45.81           # deg WGS84
    longitude = 15.97          # deg WGS84
    altitude_ft = 1200         # antenna height above the ellipsoid, ft
    party = "hr-ansp"          # optional: the party that owns the sensor

Polar to geographic (``polar_to_geographic``): a radar measures slant range ``rho`` (straight
line, antenna to target) and azimuth ``theta`` (clockwise from true north at the site). With the
target's height ``h_t`` (from its flight level) and the antenna's ``h_r``, the triangle centre of
the earth - antenna - target, on a sphere of the local Gaussian radius of curvature ``R`` at the
site, gives the central angle ``c``:
``cos c = ((R+h_r)² + (R+h_t)² - rho²) / (2 (R+h_r)(R+h_t))``; the ground (arc) distance is
``R c``, and the target lies at that geodesic distance along azimuth ``theta`` from the site on
the WGS84 ellipsoid (pyproj ``Geod.fwd``, Karney's exact algorithm). Error budget: against an
exact straight-ray solution in ECEF on the ellipsoid (tests/surveillance), the sphere
approximation of the elevation geometry is off by under 0.5 m up to 250 NM and FL450. Taking the
flight level (pressure altitude) as geometric height costs about |dh| * sin(elevation), e.g.
300 m of non-standard atmosphere at FL330 and 200 NM is about 10 m. For comparison, taking the
slant range as ground range errs by 380-870 m at FL330-450, and a flat earth by up to 430 m.
Refraction is not modelled (it bends the beam, not the measured range, to first order).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from pyproj import Geod

from deconflict.errors import ConfigError
from deconflict.units import FT, NM

WGS84: Final = Geod(ellps="WGS84")
_A: Final = 6378137.0
_E2: Final = 6.69437999014e-3


@dataclass(frozen=True, slots=True)
class SensorSite:
    """Where a sensor is: latitude/longitude deg WGS84, antenna height m (ellipsoidal)."""

    sensor: str
    latitude: float
    longitude: float
    height_m: float = 0.0
    party: str = ""


@dataclass(frozen=True, slots=True)
class SensorConfig:
    """Sensor id -> site."""

    sites: dict[str, SensorSite]

    def get(self, sensor: str) -> SensorSite | None:
        return self.sites.get(sensor)


def parse_sensors(text: str, source: str = "the sensor configuration") -> SensorConfig:
    """Parse the TOML configuration; raises ``ConfigError`` saying which entry is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML ({exc}): fix the syntax") from exc
    table = data.get("sensors")
    if not isinstance(table, dict) or not table:
        raise ConfigError(f'{source} has no [sensors."ID"] tables: add one per sensor')
    sites: dict[str, SensorSite] = {}
    for name, entry in table.items():
        sites[str(name)] = _site(str(name), entry, source)
    return SensorConfig(sites)


def _site(name: str, entry: Any, source: str) -> SensorSite:
    if not isinstance(entry, dict):
        raise ConfigError(f"{source}: sensors.{name} must be a table with latitude and longitude")
    try:
        lat = float(entry["latitude"])
        lon = float(entry["longitude"])
        alt_ft = float(entry.get("altitude_ft", 0.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{source}: sensors.{name} needs numeric latitude, longitude (deg) and altitude_ft"
        ) from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not math.isfinite(alt_ft):
        raise ConfigError(f"{source}: sensors.{name} position {lat}, {lon} is out of range")
    if not -1500 <= alt_ft <= 30000:
        raise ConfigError(f"{source}: sensors.{name} altitude_ft {alt_ft} is implausible")
    return SensorSite(name, lat, lon, alt_ft * FT, str(entry.get("party", "")))


def load_sensors(path: str | Path) -> SensorConfig:
    """Read a sensor configuration file (see the module docstring)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read sensor configuration {path}: {exc}") from exc
    return parse_sensors(text, str(path))


def gaussian_radius_m(latitude_deg: float) -> float:
    """Gaussian mean radius of curvature sqrt(M N) of WGS84 at a latitude, m."""
    s2 = math.sin(math.radians(latitude_deg)) ** 2
    w = 1.0 - _E2 * s2
    return _A * math.sqrt(1.0 - _E2) / w


def ground_range_m(
    slant_m: np.ndarray, radar_h_m: float, target_h_m: np.ndarray, radius_m: float
) -> np.ndarray:
    """Arc distance on a sphere of ``radius_m`` under a slant range (see the module docstring).

    Where the triangle is impossible (slant range shorter than the height difference), the
    target is taken straight above or below the radar (distance 0)."""
    r1 = radius_m + radar_h_m
    r2 = radius_m + np.asarray(target_h_m, dtype=np.float64)
    cos_c = (r1**2 + r2**2 - np.asarray(slant_m, dtype=np.float64) ** 2) / (2.0 * r1 * r2)
    return np.asarray(radius_m * np.arccos(np.clip(cos_c, -1.0, 1.0)))


def polar_to_geographic(
    site: SensorSite,
    rho_nm: np.ndarray,
    theta_deg: np.ndarray,
    altitude_ft: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude, longitude (deg) of radar plots; a NaN altitude is taken at the antenna height."""
    rho_m = np.asarray(rho_nm, dtype=np.float64) * NM
    height = np.asarray(altitude_ft, dtype=np.float64) * FT
    height = np.where(np.isnan(height), site.height_m, height)
    dist = ground_range_m(rho_m, site.height_m, height, gaussian_radius_m(site.latitude))
    n = len(rho_m)
    lon, lat, _ = WGS84.fwd(
        np.full(n, site.longitude), np.full(n, site.latitude), np.asarray(theta_deg), dist
    )
    return np.asarray(lat), np.asarray(lon)


def geographic_to_polar(
    site: SensorSite,
    latitude_deg: np.ndarray,
    longitude_deg: np.ndarray,
    altitude_ft: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Slant range (NM) and azimuth (deg true, 0-360) of targets seen from ``site``: the inverse
    of ``polar_to_geographic`` (the same sphere for the elevation geometry, the same WGS84
    geodesic for the ground distance); a NaN altitude is taken at the antenna height."""
    lat = np.asarray(latitude_deg, dtype=np.float64)
    n = lat.size
    az, _, dist = WGS84.inv(
        np.full(n, site.longitude),
        np.full(n, site.latitude),
        np.asarray(longitude_deg, dtype=np.float64),
        lat,
    )
    height = np.asarray(altitude_ft, dtype=np.float64) * FT
    height = np.where(np.isnan(height), site.height_m, height)
    radius = gaussian_radius_m(site.latitude)
    r1, r2 = radius + site.height_m, radius + height
    c = np.asarray(dist) / radius
    slant = np.sqrt(np.maximum(r1**2 + r2**2 - 2.0 * r1 * r2 * np.cos(c), 0.0))
    return slant / NM, np.asarray(az) % 360.0
