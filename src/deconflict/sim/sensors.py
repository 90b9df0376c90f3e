"""Each party's surveillance of the simulated aircraft, as Report rows; SI inside (m, m/s, s).

A sensor sees an aircraft when it is in range and of the right kind (``link``: the party's own
aircraft; ``adsb``: aircraft broadcasting ADS-B; ``ssr``: aircraft with a transponder; ``radar``:
every aircraft). It reports each aircraft once per ``update_s``, at a phase drawn once per
(sensor, aircraft) pair — the moment the antenna sweeps past it — with independent Gaussian noise:
``sigma_m`` on east and north, ``velocity_sigma_kt`` on each velocity component, and
``altitude_sigma_ft`` on the height of a primary-only radar return. A transponder's altitude is
its pressure altitude quantised to 25 ft (Mode S, ADS-B, link) or 100 ft (Mode C). The reports'
edge units are those of ``deconflict.surveillance.report``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from deconflict.sim.scenario import AircraftSpec, SensorSpec
from deconflict.surveillance.report import REPORT_COLUMNS, REPORT_DTYPES, empty_reports
from deconflict.units import FPM, FT, KT, NM

F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


@dataclass(slots=True)
class TruthSample:
    """True state of every aircraft at the end of a step (arrays, SI) and the step's length."""

    t_s: float
    dt_s: float
    x_m: F64
    y_m: F64
    alt_m: F64
    hdg_rad: F64
    spd_mps: F64
    vs_mps: F64
    active: B


class SensorModel:
    """One sensor's view: which aircraft it can see, when, and with what noise."""

    def __init__(
        self,
        spec: SensorSpec,
        aircraft: tuple[AircraftSpec, ...],
        site_xy_m: tuple[float, float],
        rng: np.random.Generator,
    ) -> None:
        self.spec = spec
        self.site = site_xy_m
        n = len(aircraft)
        transponder = np.array([a.transponder != "none" for a in aircraft], dtype=bool)
        if spec.kind == "link":
            self.eligible = np.array([a.party == spec.party for a in aircraft], dtype=bool)
        elif spec.kind == "adsb":
            self.eligible = np.array([a.adsb for a in aircraft], dtype=bool)
        elif spec.kind == "ssr":
            self.eligible = transponder
        else:
            self.eligible = np.ones(n, dtype=bool)
        self.cooperative = transponder if spec.kind in ("ssr", "radar") else np.ones(n, bool)
        self.modes = np.array([a.transponder == "modes" for a in aircraft], dtype=bool)
        self.phase_s = rng.uniform(0.0, spec.update_s, size=n)
        # The sensor's own track numbers (radars number their tracks; others do not).
        self.track_number = rng.permutation(np.arange(1, n + 1) + 1000 * (1 + rng.integers(9)))
        self.icao24 = np.array([a.icao24 or None for a in aircraft], dtype=object)
        self.callsign = np.array([a.callsign or None for a in aircraft], dtype=object)
        self.squawk = np.array([a.squawk or None for a in aircraft], dtype=object)

    def due(self, t_prev_s: float, t_s: float) -> tuple[B, F64]:
        """Which aircraft this sensor reports in (t_prev, t], and when (latest scan time)."""
        u = self.spec.update_s
        k = np.floor((t_s - self.phase_s) / u)
        t_scan = self.phase_s + k * u
        return np.asarray(t_scan > t_prev_s, dtype=bool), np.asarray(t_scan, dtype=np.float64)

    def observe(
        self,
        truth: TruthSample,
        rng: np.random.Generator,
        xy_to_latlon: Callable[[F64, F64], tuple[F64, F64]],
    ) -> dict[str, Any] | None:
        """The reports this sensor makes during the step ending at ``truth.t_s`` (column arrays).

        Times are seconds after the start (``t_s``); :func:`reports_from_columns` turns the
        columns of one or more calls into a report table.
        """
        spec = self.spec
        due, t_scan = self.due(truth.t_s - truth.dt_s, truth.t_s)
        in_range = np.hypot(truth.x_m - self.site[0], truth.y_m - self.site[1]) <= (
            spec.range_nm * NM
        )
        if spec.kind == "link":
            in_range[:] = True
        idx = np.flatnonzero(due & truth.active & self.eligible & in_range)
        n = idx.size
        if n == 0:
            return None
        back = t_scan[idx] - truth.t_s  # <= 0: extrapolate back to the scan time
        hdg, spd = truth.hdg_rad[idx], truth.spd_mps[idx]
        ve, vn = spd * np.sin(hdg), spd * np.cos(hdg)
        x = truth.x_m[idx] + ve * back + rng.normal(0.0, spec.sigma_m, n)
        y = truth.y_m[idx] + vn * back + rng.normal(0.0, spec.sigma_m, n)
        alt_true_ft = (truth.alt_m[idx] + truth.vs_mps[idx] * back) / FT
        coop = self.cooperative[idx]
        modes = self.modes[idx]
        quantum = np.where((spec.kind in ("link", "adsb")) | modes, 25.0, 100.0)
        alt_ft = np.where(
            coop,
            np.round(alt_true_ft / quantum) * quantum,
            alt_true_ft + rng.normal(0.0, max(spec.altitude_sigma_ft, 1e-9), n),
        )
        sv = spec.velocity_sigma_kt * KT
        ve_n = ve + rng.normal(0.0, sv, n)
        vn_n = vn + rng.normal(0.0, sv, n)
        lon, lat = xy_to_latlon(x, y)
        # Mode S and ADS-B carry the address and flight id; Mode A/C only the squawk.
        ident = coop & (modes | (spec.kind in ("link", "adsb")))
        none = np.full(n, None, dtype=object)
        return {
            "t_s": t_scan[idx],
            "party": np.full(n, spec.party, dtype=object),
            "sensor": np.full(n, spec.id, dtype=object),
            "icao24": np.where(ident, self.icao24[idx], none),
            "callsign": np.where(ident, self.callsign[idx], none),
            "squawk": np.where(coop, self.squawk[idx], none),
            "track_number": (
                self.track_number[idx].astype(np.float64)
                if spec.kind in ("ssr", "radar")
                else np.full(n, np.nan)
            ),
            "latitude": lat,
            "longitude": lon,
            "altitude": alt_ft,
            "groundspeed": np.hypot(ve_n, vn_n) / KT,
            "track": np.degrees(np.arctan2(ve_n, vn_n)) % 360.0,
            "vertical_rate": np.where(coop, truth.vs_mps[idx] / FPM, np.nan),
            "accuracy_m": np.full(n, spec.sigma_m),
        }


def reports_from_columns(batches: list[dict[str, Any]], start: pd.Timestamp) -> pd.DataFrame:
    """One report table, in time order, from the column arrays of ``SensorModel.observe``."""
    if not batches:
        return empty_reports()
    cols = {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}
    order = np.argsort(cols["t_s"], kind="stable")
    data: dict[str, Any] = {
        "timestamp": start + pd.to_timedelta(cols["t_s"][order], unit="s"),
        "source": pd.array(np.full(order.size, "sim", dtype=object), dtype="string"),
    }
    for col in REPORT_COLUMNS:
        if col in cols:
            values = cols[col][order]
            dtype = REPORT_DTYPES[col]
            if dtype == "string":
                data[col] = pd.array(values, dtype="string")
            elif dtype == "Int64":
                data[col] = pd.array(
                    np.where(np.isnan(values), 0, values).astype(np.int64),
                    dtype="Int64",
                )
                data[col][np.isnan(values)] = pd.NA
            else:
                data[col] = values
    return pd.DataFrame(data, columns=list(REPORT_COLUMNS))
