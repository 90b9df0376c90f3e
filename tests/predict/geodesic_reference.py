"""An independent reference for conflict detection: fly every aircraft along its WGS84 geodesic
(pyproj, Karney) at fixed time steps and measure exact geodesic distances. Slow, simple, and
sharing no code with deconflict.predict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
FT = 0.3048
KT = 1852.0 / 3600.0
FPM = FT / 60.0


@dataclass(frozen=True)
class RefPair:
    a: str
    b: str
    in_conflict: bool
    min_dist_m: float  # minimum horizontal distance over the lookahead
    t_min_s: float
    t_in_s: float  # first sample in loss of separation (nan if none)


def geodesic_conflicts(
    states: pd.DataFrame,
    h_m: float,
    v_m: float,
    lookahead_s: float,
    step_s: float = 0.5,
    tol_m: float = FT,
    screen_m: float | None = None,
) -> dict[tuple[str, str], RefPair]:
    """Every pair within ``screen_m`` now (default: could meet within the lookahead)."""
    ids = states["id"].astype(str).to_numpy()
    lat = states["latitude"].to_numpy(float)
    lon = states["longitude"].to_numpy(float)
    alt = states["altitude"].to_numpy(float) * FT
    gs = states["groundspeed"].to_numpy(float) * KT
    trk = states["track"].to_numpy(float)
    vs = states.get("vertical_rate", pd.Series(0.0, index=states.index)).to_numpy(float) * FPM
    t = np.arange(0.0, lookahead_s + 1e-9, step_s)
    n = len(ids)
    # positions of every aircraft at every time (n, len(t))
    lons, lats, _ = GEOD.fwd(
        np.repeat(lon, len(t)),
        np.repeat(lat, len(t)),
        np.repeat(trk, len(t)),
        np.outer(gs, t).ravel(),
    )
    lons = np.asarray(lons).reshape(n, len(t))
    lats = np.asarray(lats).reshape(n, len(t))
    alts = alt[:, None] + np.outer(vs, t)
    if screen_m is None:
        screen_m = h_m + 2 * float(gs.max(initial=0.0)) * lookahead_s + 1000.0
    out: dict[tuple[str, str], RefPair] = {}
    for i in range(n):
        j = np.arange(i + 1, n)
        if len(j) == 0:
            continue
        d0 = np.asarray(
            GEOD.inv(np.full(len(j), lon[i]), np.full(len(j), lat[i]), lon[j], lat[j])[2]
        )
        j = j[d0 <= screen_m]
        for jj in j:
            d = np.asarray(GEOD.inv(lons[i], lats[i], lons[jj], lats[jj])[2])
            dz = np.abs(alts[i] - alts[jj])
            los = (d < h_m) & (dz < v_m - tol_m)
            k = int(np.argmin(d))
            t_min, d_min = _refine_minimum(
                (lon[i], lat[i], trk[i], gs[i]), (lon[jj], lat[jj], trk[jj], gs[jj]),
                max(t[k] - step_s, 0.0), min(t[k] + step_s, lookahead_s),
            )  # fmt: skip
            out[(ids[i], ids[jj])] = RefPair(
                ids[i], ids[jj], bool(los.any()), d_min, t_min,
                float(t[np.argmax(los)]) if los.any() else float("nan"),
            )  # fmt: skip
    return out


def _refine_minimum(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float], lo: float, hi: float
) -> tuple[float, float]:
    """Golden-section search of the geodesic distance between two geodesic flights on [lo, hi]."""

    def dist(t: float) -> float:
        la = GEOD.fwd(a[0], a[1], a[2], a[3] * t)
        lb = GEOD.fwd(b[0], b[1], b[2], b[3] * t)
        return float(GEOD.inv(la[0], la[1], lb[0], lb[1])[2])

    g = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if dist(m1) < dist(m2):
            hi = m2
        else:
            lo = m1
    t = 0.5 * (lo + hi)
    return t, dist(t)
