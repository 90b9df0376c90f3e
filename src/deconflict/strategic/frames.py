"""Local tangent-plane frames for volumes: positions in degrees at the edge, metres inside.

Every volume is handled in the plane of ``deconflict.geo.LocalFrame`` at its centre (the one local
projection), built from Earth-centred coordinates, so nothing depends on longitude wrapping: a
polygon crossing the antimeridian, or around a pole, is an ordinary polygon there. These are the
functional forms the strategic modules call.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from deconflict.geo import F64, LocalFrame
from deconflict.geo import centre_deg as centre_deg  # re-exported: the strategic modules use it
from deconflict.geo import direction_deg as direction_deg  # re-exported: strategic.volumes uses it


def basis(lat0_deg: float, lon0_deg: float) -> F64:
    """Rows east, north (shape ``(2, 3)``) of the tangent plane at a centre."""
    return LocalFrame(lat0_deg, lon0_deg).basis


def project_ecef(points_ecef_m: F64, lat0_deg: float, lon0_deg: float) -> F64:
    """East/north (m), shape ``(..., 2)``, of ECEF points in the tangent plane at a centre."""
    return LocalFrame(lat0_deg, lon0_deg).project_ecef(points_ecef_m)


def unproject(xy_m: ArrayLike, lat0_deg: float, lon0_deg: float) -> tuple[F64, F64]:
    """Latitude and longitude (degrees) of tangent-plane points: the inverse of ``project_ecef``."""
    return LocalFrame(lat0_deg, lon0_deg).to_latlon(xy_m)
