"""DAIDALUS's local ENU projection of lat/lon states, in m, m/s, s (angles in degrees at the edge).

A spherical earth of radius R = 6366707.0195 m (1 nmi = 1 arc-minute) and an orthographic
projection on the plane tangent at the ownship (``ENUProjection``); altitude is not transformed.
A velocity is projected by moving 10 s along the great circle with the initial track and speed
and projecting the end point, as DAIDALUS does, so an intruder a few nmi away gets a slightly
rotated velocity in the ownship frame.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_RADIUS_M", "great_circle_step", "project_enu", "project_states"]

FloatArray = NDArray[np.float64]

#: DAIDALUS's ``GreatCircle.spherical_earth_radius`` (1 nmi = 1 arc-minute)
EARTH_RADIUS_M = 6366707.0195
_TIME_STEP_S = 10.0


def _unit_sphere(lat: FloatArray, lon: FloatArray) -> FloatArray:
    cl = np.cos(lat)
    return np.stack([cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)], axis=-1)


def project_enu(
    lat0_deg: float, lon0_deg: float, lat_deg: ArrayLike, lon_deg: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """East and north (m) of points on the tangent plane at ``(lat0, lon0)``."""
    lat0 = np.radians(lat0_deg)
    lon0 = np.radians(lon0_deg)
    p = EARTH_RADIUS_M * _unit_sphere(
        np.radians(np.asarray(lat_deg, dtype=np.float64)),
        np.radians(np.asarray(lon_deg, dtype=np.float64)),
    )
    east_axis = np.array([-np.sin(lon0), np.cos(lon0), 0.0])
    north_axis = np.array(
        [-np.sin(lat0) * np.cos(lon0), -np.sin(lat0) * np.sin(lon0), np.cos(lat0)]
    )
    east: FloatArray = p @ east_axis
    north: FloatArray = p @ north_axis
    return east, north


def great_circle_step(
    lat: FloatArray, lon: FloatArray, track: FloatArray, angle: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Point (lat, lon in rad) reached from ``(lat, lon)`` (rad) along the great circle of
    initial ``track`` (rad) after the central ``angle`` (rad; negative goes backwards)."""
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    lat2 = np.arcsin(
        np.clip(sin_lat * np.cos(angle) + cos_lat * np.sin(angle) * np.cos(track), -1.0, 1.0)
    )
    dlon = np.arctan2(
        np.sin(track) * np.sin(angle) * cos_lat, np.cos(angle) - sin_lat * np.sin(lat2)
    )
    return lat2, lon + dlon


def project_states(
    lat0_deg: float,
    lon0_deg: float,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    alt_m: ArrayLike,
    vx_mps: ArrayLike,
    vy_mps: ArrayLike,
    vz_mps: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Project positions and (east, north, up) velocities into the ownship's ENU frame.

    Returns ``(s, v)``, arrays of shape ``(n, 3)``: ``s = (east_m, north_m, alt_m)`` and the
    projected velocity ``v`` (m/s), obtained from the point 10 s ahead on the great circle.
    """
    lat = np.radians(np.atleast_1d(np.asarray(lat_deg, dtype=np.float64)))
    lon = np.radians(np.atleast_1d(np.asarray(lon_deg, dtype=np.float64)))
    alt = np.atleast_1d(np.asarray(alt_m, dtype=np.float64))
    vx = np.atleast_1d(np.asarray(vx_mps, dtype=np.float64))
    vy = np.atleast_1d(np.asarray(vy_mps, dtype=np.float64))
    vz = np.atleast_1d(np.asarray(vz_mps, dtype=np.float64))
    east, north = project_enu(lat0_deg, lon0_deg, np.degrees(lat), np.degrees(lon))
    track = np.arctan2(vx, vy)
    angle = np.hypot(vx, vy) * _TIME_STEP_S / EARTH_RADIUS_M
    lat2, lon2 = great_circle_step(lat, lon, track, angle)
    east2, north2 = project_enu(lat0_deg, lon0_deg, np.degrees(lat2), np.degrees(lon2))
    s = np.stack([east, north, alt], axis=-1)
    v = np.stack([(east2 - east) / _TIME_STEP_S, (north2 - north) / _TIME_STEP_S, vz], axis=-1)
    return s, v
