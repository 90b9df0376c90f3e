"""The tracker's local frame: degrees WGS84 at the edge, east/north metres and m/s inside.

The frame is the tangent plane at one origin (``deconflict.geo.local_xy_m``): a point on the
WGS84 ellipsoid is projected orthogonally onto the plane. ``to_latlon`` inverts that projection
exactly (a Newton solve for the height above the plane), so a round trip loses nothing but
round-off. Velocities given as track (degrees true) and speed at the aircraft are rotated into
the origin's axes through ECEF (the plane holds their orthogonal projection) and lifted back to
the local horizontal on the way out, so speeds and tracks survive the round trip exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray

from deconflict.geo import WGS84_A_M, WGS84_E2, ecef_m, enu_basis, ground_velocity_ecef_mps

F64 = NDArray[np.float64]

__all__ = ["LocalFrame"]


@dataclass(frozen=True)
class LocalFrame:
    """A tangent-plane frame at ``lat0_deg``, ``lon0_deg``."""

    lat0_deg: float
    lon0_deg: float

    @cached_property
    def _frame(self) -> tuple[F64, F64, F64, F64]:
        east, north, up = enu_basis(self.lat0_deg, self.lon0_deg)
        return ecef_m(self.lat0_deg, self.lon0_deg), east, north, up

    def to_xy(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> F64:
        """East/north (m), shape ``(n, 2)``, of points given in degrees."""
        origin, east, north, _ = self._frame
        d = ecef_m(lat_deg, lon_deg) - origin
        return np.stack((d @ east, d @ north), axis=-1)

    def to_latlon(self, xy_m: F64) -> tuple[F64, F64]:
        """Latitude and longitude (degrees) of east/north points (m), shape ``(n, 2)``."""
        origin, east, north, up = self._frame
        xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
        base = origin + xy[:, :1] * east + xy[:, 1:2] * north
        b2 = WGS84_A_M**2 * (1.0 - WGS84_E2)
        w = np.array([1.0 / WGS84_A_M**2, 1.0 / WGS84_A_M**2, 1.0 / b2])
        # Solve |P(u)|_W = 1 for P(u) = base + u up with Newton, from the sphere guess.
        u = -(xy[:, 0] ** 2 + xy[:, 1] ** 2) / (2.0 * WGS84_A_M)
        for _ in range(4):
            p = base + u[:, None] * up
            f = (p * p) @ w - 1.0
            df = 2.0 * (p @ (w * up))
            u = u - f / df
        p = base + u[:, None] * up
        lon = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
        # geodetic latitude of a point on the ellipsoid: normal direction
        lat = np.degrees(np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1]) * (1.0 - WGS84_E2)))
        return lat, lon

    def velocity_xy(
        self, lat_deg: ArrayLike, lon_deg: ArrayLike, track_deg: ArrayLike, speed_mps: ArrayLike
    ) -> F64:
        """Velocity (m/s) in the frame's east/north axes, from track and ground speed at points."""
        _, east, north, _ = self._frame
        v = ground_velocity_ecef_mps(lat_deg, lon_deg, track_deg, speed_mps)
        return np.stack((v @ east, v @ north), axis=-1)

    def track_speed_at(self, lat_deg: F64, lon_deg: F64, v_xy: F64) -> tuple[F64, F64]:
        """Track (degrees true, 0–360) and ground speed (m/s) at points, from frame velocities."""
        _, east0, north0, up0 = self._frame
        east, north, up = enu_basis(lat_deg, lon_deg)
        # lift the plane velocity back to the horizontal at the point: the plane holds the
        # orthogonal projection of the motion, so the missing part is along the origin's up
        v_plane = v_xy[:, :1] * east0 + v_xy[:, 1:2] * north0
        lift = -(v_plane * up).sum(axis=1) / (up @ up0)
        v_ecef = v_plane + lift[:, None] * up0
        ve = (v_ecef * east).sum(axis=1)
        vn = (v_ecef * north).sum(axis=1)
        return np.degrees(np.arctan2(ve, vn)) % 360.0, np.hypot(ve, vn)
