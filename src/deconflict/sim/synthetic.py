"""Synthetic scenarios of many aircraft for benchmarks and Monte Carlo; edge units (deg, ft, kt, s).

``synthetic_scenario(n)`` spreads ``n`` aircraft over a square box around a centre, each flying a
straight route across it at a random cruising level and speed, belonging to one of a few parties;
each party has a link for its own aircraft and there is one wide ADS-B network and one radar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from deconflict.sim.scenario import (
    AircraftSpec,
    Area,
    Party,
    Scenario,
    SensorSpec,
    Waypoint,
)

_TYPES = ("A320", "B738", "B77W", "A332", "F16", "SU30", "KC135")


def synthetic_scenario(
    n_aircraft: int,
    *,
    seed: int = 0,
    n_parties: int = 3,
    half_width_deg: float = 4.0,
    center: tuple[float, float] = (36.0, 37.5),
    duration_s: float = 3600.0,
) -> Scenario:
    """A scenario of ``n_aircraft`` aircraft crossing a box, all airborne from the start."""
    rng = np.random.default_rng(seed)
    lat0, lon0 = center
    parties = tuple(
        Party(id=f"p{k}", name=f"Party {k}", colour=["#2b6cb0", "#c53030", "#2f855a"][k % 3])
        for k in range(n_parties)
    )
    sensors = [
        SensorSpec(id=f"{p.id}-link", party=p.id, kind="link", update_s=2.0) for p in parties
    ]
    sensors.append(
        SensorSpec(id="adsb", party=parties[0].id, kind="adsb", lat=lat0, lon=lon0, range_nm=900)
    )
    sensors.append(
        SensorSpec(
            id="radar", party=parties[-1].id, kind="radar", lat=lat0, lon=lon0,
            range_nm=900, update_s=5.0, sigma_m=100.0, altitude_sigma_ft=300.0,
        )
    )  # fmt: skip
    h = half_width_deg
    a = rng.uniform(0, 2 * np.pi, n_aircraft)
    b = a + np.pi + rng.uniform(-0.6, 0.6, n_aircraft)
    r0 = rng.uniform(0.3, 1.0, n_aircraft) * h
    lat_a, lon_a = lat0 + r0 * np.cos(a), lon0 + r0 * np.sin(a)
    lat_b, lon_b = lat0 + h * np.cos(b), lon0 + h * np.sin(b)
    level_ft = rng.integers(100, 410, n_aircraft) * 100.0
    speed_kt = rng.uniform(250, 500, n_aircraft)
    kinds = rng.integers(0, 3, n_aircraft)  # 0: ADS-B, 1: transponder only, 2: none
    aircraft = tuple(
        AircraftSpec(
            id=f"AC{i:05d}",
            party=parties[i % n_parties].id,
            type=_TYPES[i % len(_TYPES)],
            route=(
                Waypoint(lat_a[i], lon_a[i], level_ft[i], speed_kt[i]),
                Waypoint(lat_b[i], lon_b[i], level_ft[i], speed_kt[i]),
            ),
            callsign=f"SYN{i:05d}",
            icao24=f"{0x100000 + i:06x}",
            squawk=f"{(i % 4096):04o}",
            transponder="none" if kinds[i] == 2 else "modes",
            adsb=bool(kinds[i] == 0),
        )
        for i in range(n_aircraft)
    )
    box = ((lat0 - h, lon0 - h), (lat0 + h, lon0 - h), (lat0 + h, lon0 + h), (lat0 - h, lon0 + h))
    return Scenario(
        name=f"synthetic-{n_aircraft}",
        start=pd.Timestamp("2026-01-01T00:00:00Z"),
        duration_s=duration_s,
        center=center,
        parties=parties,
        sensors=tuple(sensors),
        aircraft=aircraft,
        areas=(Area(id="box", name="Synthetic box", kind="shared", polygon=box),),
        seed=seed,
    )
