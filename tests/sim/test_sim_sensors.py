"""Sensors: who sees what, update rates, and noise with the stated statistics; determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from deconflict.geo import relative_enu_m
from deconflict.sim.scenario import (
    AircraftSpec,
    Party,
    Scenario,
    SensorSpec,
    Waypoint,
    load_scenario,
)
from deconflict.sim.simulator import Simulator, run
from deconflict.surveillance.report import REPORT_DTYPES


def _straight(sensor: SensorSpec, transponder: str = "modes", adsb: bool = True) -> Scenario:
    return Scenario(
        name="straight",
        start=pd.Timestamp("2026-01-01T00:00Z"),
        duration_s=3600,
        center=(45.0, 7.0),
        parties=(Party("p", "P"), Party("q", "Q")),
        sensors=(sensor,),
        aircraft=(
            AircraftSpec(
                "A",
                "q",
                "A320",
                (Waypoint(44.5, 7.0, 30000, 400), Waypoint(47.0, 7.0, 30000, 400)),
                icao24="abc123",
                callsign="ABC",
                squawk="1234",
                transponder=transponder,
                adsb=adsb,
            ),
        ),
        seed=11,
    )


def _reports_and_truth(sc: Scenario, seconds: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    sim = Simulator(sc, use_openap=False)
    reps, truth = [], [sim.truth()]
    for t in range(1, seconds + 1):
        reps.append(sim.advance(t))
        truth.append(sim.truth())
    return pd.concat(reps, ignore_index=True), pd.concat(truth, ignore_index=True)


def _errors(reps: pd.DataFrame, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    # Truth at each report time by linear interpolation of the 1 s truth samples (straight, level).
    tt = (truth["timestamp"] - truth["timestamp"].iloc[0]).dt.total_seconds().to_numpy()
    tr = (reps["timestamp"] - truth["timestamp"].iloc[0]).dt.total_seconds().to_numpy()
    lat = np.interp(tr, tt, truth["latitude"].to_numpy())
    lon = np.interp(tr, tt, truth["longitude"].to_numpy())
    return relative_enu_m(lat, lon, reps["latitude"].to_numpy(), reps["longitude"].to_numpy())


@pytest.mark.slow
def test_position_noise_has_the_stated_sigma_and_no_bias() -> None:
    sc = _straight(SensorSpec("adsb", "p", "adsb", 45.0, 7.0, 400, update_s=1.0, sigma_m=50.0))
    reps, truth = _reports_and_truth(sc, 800)
    e, n = _errors(reps, truth)
    k = e.size
    assert k >= 790
    for comp in (e, n):
        assert abs(comp.mean()) < 4 * 50 / np.sqrt(k)
        # chi-square 99.9 % interval of the sample variance
        lo, hi = stats.chi2.ppf([0.0005, 0.9995], k - 1) / (k - 1)
        assert lo * 50**2 < comp.var(ddof=1) < hi * 50**2
    # normality (the noise is Gaussian): Kolmogorov-Smirnov against N(0, 50)
    assert stats.kstest(e / 50, "norm").pvalue > 0.001
    assert (reps["altitude"] == 30000).all()  # ADS-B pressure altitude, 25 ft steps
    assert (reps["accuracy_m"] == 50).all()
    assert str(reps["timestamp"].dtype) == REPORT_DTYPES["timestamp"]


def test_update_rate_and_primary_radar() -> None:
    radar = SensorSpec("r", "p", "radar", 45.0, 7.0, 400, update_s=5.0, sigma_m=100.0,
                       altitude_sigma_ft=300.0)  # fmt: skip
    sim = Simulator(_straight(radar, transponder="none", adsb=False), use_openap=False)
    reps = sim.advance(1200)
    dt = reps["timestamp"].diff().dt.total_seconds().dropna().to_numpy()
    np.testing.assert_allclose(dt, 5.0, atol=1e-6)
    # a primary-only return: no identity, height with the stated noise
    assert reps["icao24"].isna().all() and reps["squawk"].isna().all()
    assert reps["track_number"].nunique() == 1 and reps["track_number"].notna().all()
    alt_err = reps["altitude"].to_numpy() - 30000
    k = alt_err.size
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], k - 1) / (k - 1)
    assert lo * 300**2 < alt_err.var(ddof=1) < hi * 300**2


def test_mode_c_altitude_is_quantised_to_100_ft() -> None:
    ssr = SensorSpec("s", "p", "ssr", 45.0, 7.0, 400, update_s=4.0, sigma_m=70.0)
    sc = _straight(ssr, transponder="modeac", adsb=False)
    reps, _ = _reports_and_truth(sc, 200)
    assert len(reps) >= 45
    assert (reps["altitude"] % 100 == 0).all()
    assert reps["icao24"].isna().all() and (reps["squawk"] == "1234").all()


def test_range_limits_what_a_sensor_sees() -> None:
    near = SensorSpec("s", "p", "adsb", 44.5, 7.0, range_nm=30, update_s=1.0)
    reps = Simulator(_straight(near), use_openap=False).advance(600)
    d_nm = np.hypot(*relative_enu_m(44.5, 7.0, reps["latitude"], reps["longitude"])) / 1852
    assert d_nm.max() < 30.5
    assert len(reps) < 600  # it flew out of range


def test_builtin_scenario_who_sees_the_drone() -> None:
    reps = run(load_scenario(), duration_s=120)
    drone = reps[reps["sensor"].isin(["red-radar"]) & reps["icao24"].isna()]
    assert len(drone) > 0  # Red's radar sees a primary-only target
    seen_by = set(reps.loc[reps["callsign"] == "REAPER01", "sensor"])
    assert seen_by == {"blue-link"}  # only Blue's own link carries its identity


def test_same_seed_same_reports_other_seed_other_noise() -> None:
    sc = load_scenario()
    a = run(sc, duration_s=60)
    b = run(sc, duration_s=60)
    pd.testing.assert_frame_equal(a, b)
    c = run(sc, duration_s=60, seed=sc.seed + 1)
    assert not np.allclose(a["latitude"].to_numpy()[:50], c["latitude"].to_numpy()[:50])


@pytest.mark.parametrize("n", [1, 50])
def test_synthetic_scenarios_run(n: int) -> None:
    from deconflict.sim.synthetic import synthetic_scenario

    sim = Simulator(synthetic_scenario(n, seed=3))
    reps = sim.advance(10)
    assert reps["icao24"].dropna().isin([a.icao24 for a in sim.scenario.aircraft]).all()
    assert len(sim.truth()) == n
