"""Local tangent-plane frames for volumes: positions in degrees at the edge, metres inside.

Every volume is handled in the east-north-up frame at a centre (``deconflict.geo``), built from
Earth-centred coordinates, so nothing depends on longitude wrapping: a polygon crossing the
antimeridian, or around a pole, is an ordinary polygon there. The projection is orthographic
(points go along the local vertical onto the tangent plane): a gap between two features at
distance D from the centre is read short by a factor cos(D/R), under 0.2 % at 400 km.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from deconflict.geo import F64, WGS84_A_M, WGS84_E2, ecef_m, enu_basis
from deconflict.geo import direction_deg as direction_deg  # re-exported: strategic.volumes uses it


def centre_deg(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[float, float]:
    """Centre (degrees) of a set of surface points: the direction of their mean ECEF position.

    Antimeridian and pole safe. The points must not be spread around the globe (their mean must
    not be near the Earth's centre); volumes are limited in size, so they are not.
    """
    lat, lon = direction_deg(ecef_m(lat_deg, lon_deg).reshape(-1, 3).mean(axis=0))
    return float(lat), float(lon)


def basis(lat0_deg: float, lon0_deg: float) -> F64:
    """Rows east, north (shape ``(2, 3)``) of the tangent plane at a centre."""
    east, north, _ = enu_basis(lat0_deg, lon0_deg)
    return np.stack((east, north))


def project_ecef(points_ecef_m: F64, lat0_deg: float, lon0_deg: float) -> F64:
    """East/north (m), shape ``(..., 2)``, of ECEF points in the tangent plane at a centre."""
    origin = ecef_m(lat0_deg, lon0_deg)
    return np.asarray((points_ecef_m - origin) @ basis(lat0_deg, lon0_deg).T, dtype=np.float64)


def unproject(xy_m: ArrayLike, lat0_deg: float, lon0_deg: float) -> tuple[F64, F64]:
    """Latitude and longitude (degrees) of tangent-plane points: the inverse of ``project_ecef``.

    The point of the plane is moved along the local vertical until it meets the WGS84 ellipsoid
    (a quadratic); its geodetic latitude is then exact for a point at height 0.
    """
    xy = np.asarray(xy_m, dtype=np.float64)
    east, north, up = enu_basis(lat0_deg, lon0_deg)
    p = ecef_m(lat0_deg, lon0_deg) + xy[..., :1] * east + xy[..., 1:2] * north
    # solve |(p + t·up)| on the ellipsoid: scale z by a/b to make it a sphere of radius a
    k = 1.0 / np.sqrt(1.0 - WGS84_E2)
    w = np.array([1.0, 1.0, k])
    ps, us = p * w, up * w
    a = float(us @ us)
    b = 2.0 * (ps @ us)
    c = np.einsum("...i,...i->...", ps, ps) - WGS84_A_M**2
    t = (-b + np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
    return direction_deg(p + t[..., None] * up)
