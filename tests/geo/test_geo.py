"""deconflict.geo against pyproj's exact WGS84 geodesic (Karney), everywhere on the globe."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from deconflict import geo

GEOD = Geod(ellps="WGS84")
R_EARTH = 6_371_000.0


def _chord_error_bound(d_m: np.ndarray) -> np.ndarray:
    """The stated bound: the chord is shorter than the geodesic by about d³/(24 R²)."""
    return 1.3 * d_m**3 / (24 * R_EARTH**2) + 1e-6 * d_m + 1e-3


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-89.999, 89.999),
    lon=st.floats(-180, 180),
    az=st.floats(0, 360),
    dist=st.floats(1.0, 200_000.0),
)
def test_distance_matches_exact_geodesic(lat: float, lon: float, az: float, dist: float) -> None:
    lon2, lat2, _ = GEOD.fwd(lon, lat, az, dist)
    d = float(geo.distance_m(lat, lon, lat2, lon2))
    assert d <= dist + 1e-3
    assert dist - d <= float(_chord_error_bound(np.array(dist)))


def test_error_bound_stated_in_docstring() -> None:
    """The module's figures: < 0.01 m at 10 NM, ~0.5 m at 80 km, ~5 m at 170 km."""
    for dist, limit in ((18_520.0, 0.01), (80_000.0, 0.6), (170_000.0, 5.5)):
        lon2, lat2, _ = GEOD.fwd(8.0, 47.0, 37.0, dist)
        assert 0 <= dist - float(geo.distance_m(47.0, 8.0, lat2, lon2)) < limit


def test_antimeridian_and_poles() -> None:
    # 0.02° of longitude apart across the antimeridian at the equator: about 2.2 km, not 40,000
    d = float(geo.distance_m(0.0, 179.99, 0.0, -179.99))
    exact = GEOD.inv(179.99, 0.0, -179.99, 0.0)[2]
    assert abs(d - exact) < 0.01
    # across the pole: two points 1 km from the pole on opposite meridians are 2 km apart
    lon_a, lat_a, _ = GEOD.fwd(0.0, 90.0, 180.0, 1000.0)
    lat_b2, lon_b2 = geo.destination_deg(90.0, 0.0, 0.0, 1000.0)
    d_pole = float(geo.distance_m(lat_a, lon_a, lat_b2, lon_b2))
    assert abs(d_pole - 2000.0) < 0.05
    # a bearing across the antimeridian points east
    assert abs(float(geo.bearing_deg(0.0, 179.99, 0.0, -179.99)) - 90.0) < 1e-6


def test_vectorised_shapes() -> None:
    lat = np.array([10.0, 20.0, 30.0])
    lon = np.array([0.0, 90.0, -170.0])
    assert geo.ecef_m(lat, lon).shape == (3, 3)
    assert geo.distance_m(lat, lon, lat + 0.1, lon).shape == (3,)
    e, n, u = geo.enu_basis(lat, lon)
    for a, b in ((e, n), (n, u), (e, u)):
        assert np.allclose(np.einsum("ij,ij->i", a, b), 0.0)
