"""The one local projection (``deconflict.geo.LocalFrame``) against the ones it replaced, in
their hot paths, on the same inputs in the same run (CPU time, best of several repeats).

- the tracker's forward projection of each batch (unchanged but for one matrix product);
- the tracker's inverse (plane to degrees at every output row): the Newton solve that
  ``tracking/frame.py`` had, against the closed-form quadratic of ``LocalFrame.to_latlon``;
- the strategic volumes' forward projection of a few ECEF points per call (``strategic.frames``:
  now one ``LocalFrame`` built per call), against the inline basis-and-dot it had;
- the incidents' plane: pyproj's azimuthal-equidistant ``Transformer`` (built per pair, as
  ``incidents.geometry.local_plane`` did), against ``LocalFrame.to_xy``.

Each pair's largest disagreement is printed in metres. Run:
``PYTHONPATH=src .venv/bin/python bench/local_frame.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from pyproj import Transformer

from deconflict.geo import WGS84_A_M, WGS84_E2, LocalFrame, ecef_m, enu_basis
from deconflict.strategic import frames

LAT0, LON0 = 47.0, 8.0


def cpu(fn: Callable[[], Any], repeat: int = 5, number: int = 200) -> float:
    """Best CPU time of one call (s)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - t0) / number)
    return best


def newton_to_latlon(lat0: float, lon0: float, xy_m: Any) -> tuple[Any, Any]:
    """The tracker's former inverse (tracking/frame.py before the one projection)."""
    east, north, up = enu_basis(lat0, lon0)
    origin = ecef_m(lat0, lon0)
    xy = np.asarray(xy_m, dtype=np.float64).reshape(-1, 2)
    base = origin + xy[:, :1] * east + xy[:, 1:2] * north
    b2 = WGS84_A_M**2 * (1.0 - WGS84_E2)
    w = np.array([1.0 / WGS84_A_M**2, 1.0 / WGS84_A_M**2, 1.0 / b2])
    u = -(xy[:, 0] ** 2 + xy[:, 1] ** 2) / (2.0 * WGS84_A_M)
    for _ in range(4):
        p = base + u[:, None] * up
        f = (p * p) @ w - 1.0
        df = 2.0 * (p @ (w * up))
        u = u - f / df
    p = base + u[:, None] * up
    lon = np.degrees(np.arctan2(p[:, 1], p[:, 0]))
    lat = np.degrees(np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1]) * (1.0 - WGS84_E2)))
    return lat, lon


def inline_project(points: Any, lat0: float, lon0: float) -> Any:
    """strategic.frames.project_ecef before the one projection."""
    east, north, _ = enu_basis(lat0, lon0)
    return (points - ecef_m(lat0, lon0)) @ np.stack((east, north)).T


def metres(lat_a: Any, lon_a: Any, lat_b: Any, lon_b: Any) -> float:
    return float(np.max(np.linalg.norm(ecef_m(lat_a, lon_a) - ecef_m(lat_b, lon_b), axis=-1)))


def main() -> None:
    rng = np.random.default_rng(7)
    frame = LocalFrame(LAT0, LON0)
    print(
        "case                                   n    before (us)  LocalFrame (us)  ratio  max diff (m)"
    )

    # the tracker's input batches: degrees to plane (the frame built once, as the tracker does)
    east, north, _ = enu_basis(LAT0, LON0)
    origin = ecef_m(LAT0, LON0)

    def stacked(lat: Any, lon: Any) -> Any:  # tracking/frame.py's former to_xy
        d = ecef_m(lat, lon) - origin
        return np.stack((d @ east, d @ north), axis=-1)

    for n in (1, 100, 10_000):
        lat = LAT0 + rng.uniform(-2, 2, n)
        lon = LON0 + rng.uniform(-2, 2, n)
        number = 2000 if n < 1000 else 50
        old = cpu(lambda lat=lat, lon=lon: stacked(lat, lon), number=number)
        new = cpu(lambda lat=lat, lon=lon: frame.to_xy(lat, lon), number=number)
        diff = float(np.max(np.abs(stacked(lat, lon) - frame.to_xy(lat, lon))))
        print(f"tracker forward (deg -> plane)   {n:>7} {old * 1e6:12.1f} {new * 1e6:16.1f} "
              f"{old / new:6.2f} {diff:13.2e}")  # fmt: skip

    # the tracker's output rows: plane to degrees
    for n in (1, 100, 10_000):
        xy = rng.uniform(-300e3, 300e3, size=(n, 2))
        number = 2000 if n < 1000 else 50
        old = cpu(lambda xy=xy: newton_to_latlon(LAT0, LON0, xy), number=number)
        new = cpu(lambda xy=xy: frame.to_latlon(xy), number=number)
        la, lo = newton_to_latlon(LAT0, LON0, xy)
        lb, lb_lon = frame.to_latlon(xy)
        diff = metres(la, lo, lb, lb_lon)
        print(f"tracker inverse (plane -> deg)   {n:>7} {old * 1e6:12.1f} {new * 1e6:16.1f} "
              f"{old / new:6.2f} {diff:13.2e}")  # fmt: skip

    # strategic volumes: a polygon's vertices per call, a new frame each time
    for n in (5, 200):
        lat = LAT0 + rng.uniform(-0.5, 0.5, n)
        lon = LON0 + rng.uniform(-0.5, 0.5, n)
        pts = ecef_m(lat, lon)
        old = cpu(lambda pts=pts: inline_project(pts, LAT0, LON0), number=2000)
        new = cpu(lambda pts=pts: frames.project_ecef(pts, LAT0, LON0), number=2000)
        diff = float(
            np.max(np.abs(inline_project(pts, LAT0, LON0) - frames.project_ecef(pts, LAT0, LON0)))
        )
        print(f"strategic project_ecef (per call) {n:>6} {old * 1e6:12.1f} {new * 1e6:16.1f} "
              f"{old / new:6.2f} {diff:13.2e}")  # fmt: skip

    # incidents: one plane per pair, two tracks of n samples each within 20 km of the centre
    for n in (60, 600):
        lat = LAT0 + rng.uniform(-0.15, 0.15, n)
        lon = LON0 + rng.uniform(-0.2, 0.2, n)

        def aeqd(lat: Any = lat, lon: Any = lon) -> Any:
            plane = Transformer.from_crs(
                "EPSG:4326",
                f"+proj=aeqd +lat_0={LAT0} +lon_0={LON0} +datum=WGS84 +units=m",
                always_xy=True,
            )
            return plane.transform(lon, lat)

        def tangent(lat: Any = lat, lon: Any = lon) -> Any:
            return LocalFrame(LAT0, LON0).to_xy(lat, lon)

        old = cpu(aeqd, number=20)
        new = cpu(tangent, number=200)
        x, y = aeqd()
        xy = tangent()
        # the two planes differ by design away from the centre: compare distances between the
        # samples and the centre (aeqd keeps those exact), in metres
        diff = float(np.max(np.abs(np.hypot(x, y) - np.hypot(xy[:, 0], xy[:, 1]))))
        print(f"incidents plane (per pair)       {n:>7} {old * 1e6:12.1f} {new * 1e6:16.1f} "
              f"{old / new:6.2f} {diff:13.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
