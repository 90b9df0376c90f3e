"""Geodesy for Deconflict: positions in degrees WGS84 at the edge, metres and radians inside.

Every horizontal computation goes through Earth-centred, Earth-fixed (ECEF) coordinates of points
on the WGS84 ellipsoid (height 0), and local east-north-up (ENU) frames built from them. That has
no singularity at the antimeridian or the poles, and no projection zone to choose.

Horizontal distances between two aircraft are taken in the ENU frame at their midpoint: the chord
between the two surface points, which is shorter than the geodesic by about d³ / (24 R²) — under
0.01 m at 10 NM, 0.5 m at 80 km, 5 m at 170 km (tested against pyproj's exact geodesic in
tests/geo/test_geo.py). Altitudes are barometric and never enter the horizontal geometry.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

F64 = NDArray[np.float64]

WGS84_A_M: Final = 6_378_137.0
WGS84_F: Final = 1.0 / 298.257223563
WGS84_E2: Final = WGS84_F * (2.0 - WGS84_F)


def ecef_m(lat_deg: ArrayLike, lon_deg: ArrayLike) -> F64:
    """ECEF coordinates (m), shape ``(..., 3)``, of points on the WGS84 ellipsoid."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    out = np.empty((*np.broadcast_shapes(lat.shape, lon.shape), 3))  # cheaper than np.stack
    out[..., 0] = n * cos_lat * np.cos(lon)
    out[..., 1] = n * cos_lat * np.sin(lon)
    out[..., 2] = n * (1.0 - WGS84_E2) * sin_lat
    return out


def enu_basis(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[F64, F64, F64]:
    """Unit vectors east, north, up (each shape ``(..., 3)``) of the local frame at a point."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat, lon = np.broadcast_arrays(lat, lon)
    sl, cl = np.sin(lat), np.cos(lat)
    so, co = np.sin(lon), np.cos(lon)
    east = np.zeros((*lat.shape, 3))  # filled in place: cheaper than np.stack
    north = np.empty((*lat.shape, 3))
    up = np.empty((*lat.shape, 3))
    east[..., 0], east[..., 1] = -so, co
    north[..., 0], north[..., 1], north[..., 2] = -sl * co, -sl * so, cl
    up[..., 0], up[..., 1], up[..., 2] = cl * co, cl * so, sl
    return east, north, up


def ground_velocity_ecef_mps(
    lat_deg: ArrayLike, lon_deg: ArrayLike, track_deg: ArrayLike, groundspeed_mps: ArrayLike
) -> F64:
    """Horizontal velocity (m/s) as an ECEF vector, shape ``(..., 3)``, from track and speed."""
    trk = np.radians(np.asarray(track_deg, dtype=np.float64))
    gs = np.asarray(groundspeed_mps, dtype=np.float64)
    east, north, _ = enu_basis(lat_deg, lon_deg)
    return (gs * np.sin(trk))[..., None] * east + (gs * np.cos(trk))[..., None] * north


def direction_deg(p_ecef_m: F64) -> tuple[F64, F64]:
    """Latitude and longitude (degrees) of the surface point in the direction of ECEF vectors
    (shape ``(..., 3)``)."""
    lon = np.degrees(np.arctan2(p_ecef_m[..., 1], p_ecef_m[..., 0]))
    hyp = np.hypot(p_ecef_m[..., 0], p_ecef_m[..., 1])
    # geodetic latitude of the direction, via one Bowring-style step (exact enough for a frame)
    lat = np.degrees(np.arctan2(p_ecef_m[..., 2], hyp * (1.0 - WGS84_E2)))
    return lat, lon


def midpoint_deg(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> tuple[F64, F64]:
    """Geocentric-direction midpoint of two points (degrees), antimeridian and pole safe."""
    return direction_deg(ecef_m(lat1_deg, lon1_deg) + ecef_m(lat2_deg, lon2_deg))


def relative_enu_m(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> tuple[F64, F64]:
    """East and north offsets (m) of point 2 from point 1, in the ENU frame at their midpoint."""
    d = ecef_m(lat2_deg, lon2_deg) - ecef_m(lat1_deg, lon1_deg)
    mlat, mlon = midpoint_deg(lat1_deg, lon1_deg, lat2_deg, lon2_deg)
    east, north, _ = enu_basis(mlat, mlon)
    return np.einsum("...i,...i->...", d, east), np.einsum("...i,...i->...", d, north)


def distance_m(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> F64:
    """Horizontal distance (m): the midpoint-ENU chord (see module note for its error)."""
    de, dn = relative_enu_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg)
    return np.hypot(de, dn)


def geodesic_m(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> F64:
    """Exact WGS84 geodesic distance (m), by pyproj (Karney). Slower; for references and reports."""
    from pyproj import Geod

    lat1, lon1, lat2, lon2 = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (lat1_deg, lon1_deg, lat2_deg, lon2_deg))
    )
    _, _, dist = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=np.float64)


def destination_deg(
    lat_deg: ArrayLike, lon_deg: ArrayLike, azimuth_deg: ArrayLike, distance_m_: ArrayLike
) -> tuple[F64, F64]:
    """Point reached along the WGS84 geodesic from a start, azimuth and distance (pyproj)."""
    from pyproj import Geod

    lat, lon, az, dist = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (lat_deg, lon_deg, azimuth_deg, distance_m_))
    )
    lon2, lat2, _ = Geod(ellps="WGS84").fwd(lon, lat, az, dist)
    return np.asarray(lat2, dtype=np.float64), np.asarray(lon2, dtype=np.float64)


def bearing_deg(
    lat1_deg: ArrayLike, lon1_deg: ArrayLike, lat2_deg: ArrayLike, lon2_deg: ArrayLike
) -> F64:
    """Bearing (degrees true, 0–360) from point 1 to point 2 in the midpoint ENU frame."""
    de, dn = relative_enu_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg)
    return np.degrees(np.arctan2(de, dn)) % 360.0


def local_xy_m(lat_deg: ArrayLike, lon_deg: ArrayLike, lat0_deg: float, lon0_deg: float) -> F64:
    """East/north coordinates (m), shape ``(..., 2)``, of points in the ENU frame at one origin
    (``LocalFrame(lat0_deg, lon0_deg).to_xy``)."""
    return LocalFrame(lat0_deg, lon0_deg).to_xy(lat_deg, lon_deg)


def centre_deg(lat_deg: ArrayLike, lon_deg: ArrayLike) -> tuple[float, float]:
    """Centre (degrees) of a set of surface points: the direction of their mean ECEF position.

    Antimeridian and pole safe. The points must not be spread around the globe (their mean must
    not be near the Earth's centre).
    """
    lat, lon = direction_deg(ecef_m(lat_deg, lon_deg).reshape(-1, 3).mean(axis=0))
    return float(lat), float(lon)


class LocalFrame:
    """The one local projection: the tangent plane of WGS84 at ``lat0_deg``, ``lon0_deg``.

    A point on the ellipsoid goes along the origin's vertical onto the plane (orthographic): exact
    in direction at the origin, with a scale error of about (d/R)²/2 at distance d (0.01 % at
    90 km), so a gap between two features at distance D from the origin reads short by a factor
    cos(D/R), under 0.2 % at 400 km. Built from ECEF, it has no antimeridian or pole to avoid.
    ``to_latlon`` inverts it exactly (the plane's point moved along the vertical to the
    ellipsoid, a quadratic), and velocities given as track and speed at the aircraft are rotated
    through ECEF and lifted back to the local horizontal by ``track_speed_at``, so positions,
    speeds and tracks survive a round trip but for round-off. Used by the tracker, the strategic
    volumes, constraints and cells, and the incidents' geometry.
    """

    __slots__ = ("_basis_t", "_east", "_north", "_origin", "_up", "lat0_deg", "lon0_deg")

    def __init__(self, lat0_deg: float, lon0_deg: float) -> None:
        self.lat0_deg = float(lat0_deg)
        self.lon0_deg = float(lon0_deg)
        self._east, self._north, self._up = enu_basis(self.lat0_deg, self.lon0_deg)
        self._origin = ecef_m(self.lat0_deg, self.lon0_deg)
        self._basis_t = np.stack((self._east, self._north), axis=1)  # (3, 2)

    def __repr__(self) -> str:
        return f"LocalFrame({self.lat0_deg!r}, {self.lon0_deg!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LocalFrame):
            return NotImplemented
        return (self.lat0_deg, self.lon0_deg) == (other.lat0_deg, other.lon0_deg)

    def __hash__(self) -> int:
        return hash((self.lat0_deg, self.lon0_deg))

    @property
    def basis(self) -> F64:
        """Rows east, north (shape ``(2, 3)``) of the plane, in ECEF."""
        return self._basis_t.T

    def project_ecef(self, points_ecef_m: ArrayLike) -> F64:
        """East/north (m), shape ``(..., 2)``, of ECEF points."""
        return (np.asarray(points_ecef_m, dtype=np.float64) - self._origin) @ self._basis_t

    def to_xy(self, lat_deg: ArrayLike, lon_deg: ArrayLike) -> F64:
        """East/north (m), shape ``(..., 2)``, of points given in degrees."""
        return self.project_ecef(ecef_m(lat_deg, lon_deg))

    def to_latlon(self, xy_m: ArrayLike) -> tuple[F64, F64]:
        """Latitude and longitude (degrees), shape ``(...)``, of east/north points (m), shape
        ``(..., 2)``: the inverse of ``to_xy`` for points at height 0."""
        up = self._up
        xy = np.asarray(xy_m, dtype=np.float64)
        p = self._origin + xy[..., :1] * self._east + xy[..., 1:2] * self._north
        # |p + t up| on the ellipsoid: scale z by a/b to make it the sphere of radius a
        w = np.array([1.0, 1.0, 1.0 / np.sqrt(1.0 - WGS84_E2)])
        ps, us = p * w, up * w
        a = float(us @ us)
        b = 2.0 * (ps @ us)
        c = np.einsum("...i,...i->...", ps, ps) - WGS84_A_M**2
        t = (-b + np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
        return direction_deg(p + t[..., None] * up)

    def velocity_xy(
        self, lat_deg: ArrayLike, lon_deg: ArrayLike, track_deg: ArrayLike, speed_mps: ArrayLike
    ) -> F64:
        """Velocity (m/s) in the plane's east/north axes, from track and ground speed at points."""
        return ground_velocity_ecef_mps(lat_deg, lon_deg, track_deg, speed_mps) @ self._basis_t

    def track_speed_at(self, lat_deg: F64, lon_deg: F64, v_xy: F64) -> tuple[F64, F64]:
        """Track (degrees true, 0–360) and ground speed (m/s) at points, from plane velocities."""
        east0, north0, up0 = self._east, self._north, self._up
        east, north, up = enu_basis(lat_deg, lon_deg)
        # lift the plane velocity back to the horizontal at the point: the plane holds the
        # orthogonal projection of the motion, so the missing part is along the origin's up
        v_plane = v_xy[:, :1] * east0 + v_xy[:, 1:2] * north0
        lift = -(v_plane * up).sum(axis=1) / (up @ up0)
        v_ecef = v_plane + lift[:, None] * up0
        ve = (v_ecef * east).sum(axis=1)
        vn = (v_ecef * north).sum(axis=1)
        return np.degrees(np.arctan2(ve, vn)) % 360.0, np.hypot(ve, vn)
