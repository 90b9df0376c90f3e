"""Closest approach between two recorded tracks (SI: m, s; latitude/longitude in degrees).

Both tracks are sampled at their own times. Over the span they share, positions are projected to
the tangent plane centred on the pair (``deconflict.geo.LocalFrame``, the one local projection;
antimeridian- and pole-safe), interpolated linearly between samples on the union of both sample
times, and within each interval the relative motion is linear, so the minima of horizontal and
slant distance are found in closed form and added to the grid. The plane is then re-centred on
the closest approach and everything recomputed, so the distance there is the chord between the
two points, short of the geodesic by d³/(24 R²): under 1 cm at 10 NM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.geo import LocalFrame, centre_deg
from deconflict.units import FT

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Timeline:
    """One aircraft's recorded positions: time (Unix s), latitude, longitude (deg), altitude (m)."""

    party: str
    aircraft_id: str
    t_s: F64
    latitude_deg: F64
    longitude_deg: F64
    altitude_m: F64

    def __post_init__(self) -> None:
        n = len(self.t_s)
        arrays = (self.latitude_deg, self.longitude_deg, self.altitude_m)
        if any(len(a) != n for a in arrays):
            raise InputError(f"timeline {self.aircraft_id}: arrays of different lengths")
        if n and not np.all(np.diff(self.t_s) > 0):
            raise InputError(
                f"timeline {self.aircraft_id}: times must increase strictly; sort and drop "
                "duplicate timestamps first"
            )
        if not all(np.all(np.isfinite(a)) for a in (self.t_s, *arrays)):
            raise InputError(f"timeline {self.aircraft_id}: NaN or infinite values; drop them")

    @classmethod
    def from_arrays(
        cls,
        party: str,
        aircraft_id: str,
        t_s: Any,
        latitude_deg: Any,
        longitude_deg: Any,
        altitude_m: Any,
    ) -> Timeline:
        def f(x: Any) -> F64:
            return np.asarray(x, dtype=np.float64)

        return cls(party, aircraft_id, f(t_s), f(latitude_deg), f(longitude_deg), f(altitude_m))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, party: str, aircraft_id: str) -> Timeline:
        """From a ``traffic``-convention table: ``timestamp`` (UTC), ``latitude``,
        ``longitude`` (deg), ``altitude`` (ft). Rows with a missing value are dropped."""
        missing = {"timestamp", "latitude", "longitude", "altitude"} - set(frame.columns)
        if missing:
            raise InputError(f"track table lacks column(s) {', '.join(sorted(missing))}")
        rows = frame.dropna(subset=["timestamp", "latitude", "longitude", "altitude"])
        rows = rows.sort_values("timestamp").drop_duplicates("timestamp")
        t = pd.to_datetime(rows["timestamp"], utc=True).astype("int64").to_numpy() / 1e9
        return cls.from_arrays(
            party,
            aircraft_id,
            t,
            rows["latitude"].to_numpy(),
            rows["longitude"].to_numpy(),
            rows["altitude"].to_numpy() * FT,
        )

    def window(self, start_s: float, end_s: float) -> Timeline:
        keep = (self.t_s >= start_s) & (self.t_s <= end_s)
        return Timeline(
            self.party,
            self.aircraft_id,
            self.t_s[keep],
            self.latitude_deg[keep],
            self.longitude_deg[keep],
            self.altitude_m[keep],
        )

    def gap_at(self, t_s: float) -> float:
        """Length (s) of the sampling interval containing ``t_s``; 0 at a sample."""
        i = int(np.searchsorted(self.t_s, t_s))
        if i < len(self.t_s) and self.t_s[i] == t_s:
            return 0.0
        if i == 0 or i == len(self.t_s):
            return float("inf")
        return float(self.t_s[i] - self.t_s[i - 1])


@dataclass(frozen=True)
class Separation:
    """Separation of a pair over their common span, on the refined grid."""

    t_s: F64
    horizontal_m: F64
    vertical_m: F64  # absolute altitude difference

    @property
    def slant_m(self) -> F64:
        return np.hypot(self.horizontal_m, self.vertical_m)


def _xyz(tl: Timeline, plane: LocalFrame, grid: F64) -> F64:
    xy = plane.to_xy(tl.latitude_deg, tl.longitude_deg)
    return np.stack(
        [
            np.interp(grid, tl.t_s, xy[:, 0]),
            np.interp(grid, tl.t_s, xy[:, 1]),
            np.interp(grid, tl.t_s, tl.altitude_m),
        ],
        axis=1,
    )


def _segment_minima(t: F64, d: F64) -> F64:
    """Times of minimum |d| inside each interval, for linear d between grid points."""
    dt = np.diff(t)
    v = np.diff(d, axis=0) / dt[:, None]
    vv = np.einsum("ij,ij->i", v, v)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = np.where(vv > 0, -np.einsum("ij,ij->i", d[:-1], v) / vv, 0.0)
    tau = np.clip(tau, 0.0, dt)
    inside = (tau > 0) & (tau < dt)
    return np.asarray((t[:-1] + tau)[inside], dtype=np.float64)


def _separation_in(a: Timeline, b: Timeline, plane: LocalFrame, grid: F64) -> Separation:
    d = _xyz(b, plane, grid) - _xyz(a, plane, grid)
    if len(grid) < 2:
        return Separation(grid, np.hypot(d[:, 0], d[:, 1]), np.abs(d[:, 2]))
    extra = np.concatenate([_segment_minima(grid, d[:, :2]), _segment_minima(grid, d)])
    fine = np.unique(np.concatenate([grid, extra]))
    d = _xyz(b, plane, fine) - _xyz(a, plane, fine)
    return Separation(fine, np.hypot(d[:, 0], d[:, 1]), np.abs(d[:, 2]))


def separation(a: Timeline, b: Timeline) -> Separation:
    """Horizontal and vertical separation of ``a`` and ``b`` wherever both are recorded."""
    start = max(a.t_s[0], b.t_s[0]) if len(a.t_s) and len(b.t_s) else 0.0
    end = min(a.t_s[-1], b.t_s[-1]) if len(a.t_s) and len(b.t_s) else -1.0
    empty = np.empty(0)
    if end < start:
        return Separation(empty, empty, empty)
    grid = np.unique(np.concatenate([a.t_s, b.t_s, [start, end]]))
    grid = grid[(grid >= start) & (grid <= end)]
    plane = LocalFrame(
        *centre_deg(
            np.concatenate([a.latitude_deg, b.latitude_deg]),
            np.concatenate([a.longitude_deg, b.longitude_deg]),
        )
    )
    first = _separation_in(a, b, plane, grid)
    t0 = first.t_s[np.argmin(first.slant_m)]
    mid = 0.5 * (_xyz(a, plane, np.array([t0])) + _xyz(b, plane, np.array([t0])))[0]
    lat0, lon0 = plane.to_latlon(mid[:2])
    return _separation_in(a, b, LocalFrame(float(lat0), float(lon0)), grid)
