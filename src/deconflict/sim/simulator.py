"""The fast-time simulator: aircraft fly a scenario's routes and each party's sensors report them.

Time is seconds after the scenario's start, passed in (``advance(t_s)``); inside, SI (m, m/s,
rad). Kinematics are flown on an azimuthal equidistant plane centred on the scenario's centre
(distances from the centre are exact; headings are true within a fraction of a degree over a few
hundred km). Every random draw comes from one generator seeded by the scenario (or ``seed``), so a
run is reproducible. Crews can be given commands (a heading, an altitude, a speed, for a while):
that is how a recommended resolution is flown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Transformer

from deconflict.errors import InputError, NotFoundError
from deconflict.sim.kinematics import Limits, step, turn_rate
from deconflict.sim.performance import performance
from deconflict.sim.scenario import Scenario
from deconflict.sim.sensors import SensorModel, TruthSample, reports_from_columns
from deconflict.surveillance.report import empty_reports
from deconflict.units import FPM, FT, KT

F64 = npt.NDArray[np.float64]


class Simulator:
    """Fast-time simulation of one scenario. Vectorised over aircraft."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        dt_s: float = 1.0,
        use_openap: bool = True,
    ) -> None:
        if dt_s <= 0:
            raise InputError(f"dt_s is {dt_s}; the simulator's step must be > 0 s")
        self.scenario = scenario
        self.rng = np.random.default_rng(scenario.seed if seed is None else seed)
        lat0, lon0 = scenario.center
        aeqd = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"
        self._fwd = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
        self._inv = Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
        ac = scenario.aircraft
        n = len(ac)
        self.ids: list[str] = [a.id for a in ac]
        self._index = {a.id: i for i, a in enumerate(ac)}
        self.party = np.array([a.party for a in ac], dtype=object)
        perf = [performance(a.type, use_openap=use_openap) for a in ac]
        self.limits = Limits(
            turn_rate_rad_s=np.array([p.turn_rate_rad_s for p in perf]),
            max_bank_rad=np.array([p.max_bank_rad for p in perf]),
            climb_mps=np.array([p.climb_mps for p in perf]),
            descent_mps=np.array([p.descent_mps for p in perf]),
            accel_mps2=np.array([p.accel_mps2 for p in perf]),
            min_mps=np.array([p.min_mps for p in perf]),
            max_mps=np.array([p.max_mps for p in perf]),
        )
        # Routes as padded arrays (aircraft x waypoint).
        m = max((len(a.route) for a in ac), default=1)
        self.n_wp = np.array([len(a.route) for a in ac], dtype=np.int64)
        self.wp_x = np.full((n, m), np.nan)
        self.wp_y = np.full((n, m), np.nan)
        self.wp_alt = np.full((n, m), np.nan)
        self.wp_spd = np.full((n, m), np.nan)
        for i, a in enumerate(ac):
            lats = np.array([w.lat for w in a.route])
            lons = np.array([w.lon for w in a.route])
            x, y = self._fwd.transform(lons, lats)
            self.wp_x[i, : len(a.route)] = x
            self.wp_y[i, : len(a.route)] = y
            self.wp_alt[i, : len(a.route)] = [w.alt_ft * FT for w in a.route]
            approach = 1.3 * perf[i].min_mps
            self.wp_spd[i, : len(a.route)] = [
                approach if w.base is not None else w.speed_kt * KT for w in a.route
            ]
        self.start_s = np.array([a.start_s for a in ac], dtype=np.float64)
        self.follows = np.array([a.follows_resolutions for a in ac], dtype=bool)
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.alt = np.zeros(n)
        self.hdg = np.zeros(n)
        self.spd = np.zeros(n)
        self.vs = np.zeros(n)
        self.cur = np.zeros(n, dtype=np.int64)
        self.active = np.zeros(n, dtype=bool)
        self.done = np.zeros(n, dtype=bool)
        self.cmd_hdg = np.full(n, np.nan)
        self.cmd_alt = np.full(n, np.nan)
        self.cmd_spd = np.full(n, np.nan)
        self.cmd_until = np.full(n, np.inf)
        self.t_s = 0.0
        self.dt_s = min([dt_s] + [s.update_s for s in scenario.sensors])
        self.sensors = []
        for s in scenario.sensors:
            sx, sy = self._fwd.transform(s.lon, s.lat)
            self.sensors.append(SensorModel(s, ac, (float(sx), float(sy)), self.rng))
        self._activate()

    # -- geometry ---------------------------------------------------------------------------

    def xy_to_latlon(self, x_m: F64, y_m: F64) -> tuple[F64, F64]:
        """(lon, lat) in degrees of plane points (the transformer's always-xy order)."""
        lon, lat = self._inv.transform(x_m, y_m)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def latlon_to_xy(self, lat_deg: F64, lon_deg: F64) -> tuple[F64, F64]:
        x, y = self._fwd.transform(lon_deg, lat_deg)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    # -- crews --------------------------------------------------------------------------------

    def index(self, aircraft_id: str) -> int:
        try:
            return self._index[aircraft_id]
        except KeyError:
            raise NotFoundError(f"no aircraft {aircraft_id!r} in scenario") from None

    def command(
        self,
        aircraft_id: str,
        *,
        heading_deg: float | None = None,
        altitude_ft: float | None = None,
        speed_kt: float | None = None,
        until_s: float = math.inf,
    ) -> None:
        """Have a crew fly a heading / altitude / speed until ``until_s``, then resume its route."""
        i = self.index(aircraft_id)
        if heading_deg is not None:
            self.cmd_hdg[i] = math.radians(heading_deg % 360.0)
        if altitude_ft is not None:
            self.cmd_alt[i] = altitude_ft * FT
        if speed_kt is not None:
            self.cmd_spd[i] = speed_kt * KT
        self.cmd_until[i] = until_s

    def release(self, aircraft_id: str, *, skip_waypoint: bool = False) -> None:
        """Cancel a crew's command: it resumes its route, direct to the first waypoint ahead
        (a waypoint is passed when the aircraft is nearer the next one than the waypoint is);
        ``skip_waypoint``: the one it was flying to when diverted is dropped too."""
        i = self.index(aircraft_id)
        self.cmd_hdg[i] = self.cmd_alt[i] = self.cmd_spd[i] = np.nan
        self.cmd_until[i] = np.inf
        if skip_waypoint and self.cur[i] < self.n_wp[i] - 1:
            self.cur[i] += 1
        while self.cur[i] < self.n_wp[i] - 1:
            c = self.cur[i]
            nx, ny = self.wp_x[i, c + 1], self.wp_y[i, c + 1]
            leg = math.hypot(nx - self.wp_x[i, c], ny - self.wp_y[i, c])
            if math.hypot(nx - self.x[i], ny - self.y[i]) >= leg:
                break
            self.cur[i] += 1

    # -- time ---------------------------------------------------------------------------------

    def _activate(self) -> None:
        new = ~self.active & ~self.done & (self.start_s <= self.t_s)
        if not new.any():
            return
        i = np.flatnonzero(new)
        self.x[i], self.y[i] = self.wp_x[i, 0], self.wp_y[i, 0]
        self.alt[i] = self.wp_alt[i, 0]
        self.spd[i] = np.where(
            np.isnan(self.wp_spd[i, 0]), self.limits.min_mps[i] * 1.1, self.wp_spd[i, 0]
        )
        self.spd[i] = np.clip(self.spd[i], self.limits.min_mps[i], self.limits.max_mps[i])
        self.hdg[i] = np.arctan2(self.wp_x[i, 1] - self.x[i], self.wp_y[i, 1] - self.y[i]) % (
            2 * np.pi
        )
        self.vs[i] = 0.0
        self.cur[i] = 1
        self.active[i] = True

    def _step(self, dt_s: float) -> None:
        expired = self.cmd_until <= self.t_s
        self.cmd_hdg[expired] = self.cmd_alt[expired] = self.cmd_spd[expired] = np.nan
        self.cmd_until[expired] = np.inf
        rows = np.arange(self.x.size)
        cur = np.minimum(self.cur, self.wp_x.shape[1] - 1)
        tx, ty = self.wp_x[rows, cur], self.wp_y[rows, cur]
        route_hdg = np.arctan2(tx - self.x, ty - self.y)
        tgt_hdg = np.where(np.isnan(self.cmd_hdg), route_hdg, self.cmd_hdg)
        tgt_alt = np.where(np.isnan(self.cmd_alt), self.wp_alt[rows, cur], self.cmd_alt)
        tgt_spd = np.where(np.isnan(self.cmd_spd), self.wp_spd[rows, cur], self.cmd_spd)
        a = self.active
        x, y, alt, hdg, spd, vs = step(
            self.x, self.y, self.alt, self.hdg, self.spd, tgt_hdg, tgt_alt, tgt_spd,
            self.limits, dt_s,
        )  # fmt: skip
        self.x = np.where(a, x, self.x)
        self.y = np.where(a, y, self.y)
        self.alt = np.where(a, alt, self.alt)
        self.hdg = np.where(a, hdg, self.hdg)
        self.spd = np.where(a, spd, self.spd)
        self.vs = np.where(a, vs, 0.0)
        self.t_s += dt_s
        # Waypoint capture: within a turn radius (plus one step) of the waypoint.
        radius = self.spd / np.maximum(turn_rate(self.limits, self.spd), 1e-6)
        dist = np.hypot(tx - self.x, ty - self.y)
        captured = a & (dist <= radius + self.spd * dt_s)
        self.cur = self.cur + captured
        finished = captured & (self.cur >= self.n_wp)
        self.active &= ~finished
        self.done |= finished
        self._activate()

    def advance(self, t_s: float, *, observe: bool = True) -> pd.DataFrame:
        """Fly to ``t_s`` (s after start); the reports every sensor made on the way (none, and
        four times faster, with ``observe`` False: a restarted engine flying the traffic on to
        where it stopped; the sensors' noise draws then differ from an unbroken run's)."""
        batches: list[dict[str, Any]] = []
        while self.t_s < t_s - 1e-9:
            dt = min(self.dt_s, t_s - self.t_s)
            self._step(dt)
            if not observe:
                continue
            truth = TruthSample(
                self.t_s, dt, self.x, self.y, self.alt, self.hdg, self.spd, self.vs, self.active
            )
            for sensor in self.sensors:
                cols = sensor.observe(truth, self.rng, self.xy_to_latlon)
                if cols is not None:
                    batches.append(cols)
        return reports_from_columns(batches, self.scenario.start)

    def truth(self) -> pd.DataFrame:
        """True state of every aircraft in the air now, in the edge units (traffic convention)."""
        i = np.flatnonzero(self.active)
        lon, lat = self.xy_to_latlon(self.x[i], self.y[i])
        ac = self.scenario.aircraft
        return pd.DataFrame(
            {
                "timestamp": self.scenario.time(self.t_s),
                "id": [self.ids[k] for k in i],
                "party": [ac[k].party for k in i],
                "callsign": [ac[k].callsign for k in i],
                "icao24": [ac[k].icao24 for k in i],
                "latitude": lat,
                "longitude": lon,
                "altitude": self.alt[i] / FT,
                "groundspeed": self.spd[i] / KT,
                "track": np.degrees(self.hdg[i]) % 360.0,
                "vertical_rate": self.vs[i] / FPM,
            }
        )


def run(
    scenario: Scenario,
    duration_s: float | None = None,
    *,
    tick_s: float = 1.0,
    seed: int | None = None,
    on_tick: Callable[[Simulator, pd.DataFrame], None] | None = None,
) -> pd.DataFrame:
    """Run a scenario without an engine: all reports, optionally calling ``on_tick`` each tick."""
    sim = Simulator(scenario, seed=seed)
    end = scenario.duration_s if duration_s is None else duration_s
    frames = []
    t = 0.0
    while t < end - 1e-9:
        t = min(t + tick_s, end)
        reports = sim.advance(t)
        if on_tick is not None:
            on_tick(sim, reports)
        frames.append(reports)
    return pd.concat(frames, ignore_index=True) if frames else empty_reports()
