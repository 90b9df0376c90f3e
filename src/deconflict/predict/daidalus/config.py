"""The DO-365B configuration of NASA DAIDALUS (``DO_365B_no_SUM.conf``) as data, in SI units.

Distances in m, speeds in m/s, times in s, angles in rad, accelerations in m/s².
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from deconflict.units import FPM, FT, G0, KT, NM

__all__ = [
    "ALERTERS",
    "DO365B",
    "REGIONS",
    "AlertLevel",
    "Alerter",
    "BandsConfig",
    "DaidalusConfig",
    "Volume",
]

#: band regions, least to most severe (FAR is unused by DO-365B, RECOVERY only when no NONE)
REGIONS: tuple[str, ...] = ("NONE", "FAR", "MID", "NEAR")


@dataclass(frozen=True)
class Volume:
    """A well-clear volume of the WCV_TAUMOD / WCV_TCOA detector."""

    dthr_m: float
    zthr_m: float
    tthr_s: float
    tcoa_s: float = 0.0


@dataclass(frozen=True)
class AlertLevel:
    """One alert level of an alerter: its volume, alerting times and band region."""

    volume: Volume
    alerting_time_s: float
    early_alerting_time_s: float
    region: str


@dataclass(frozen=True)
class Alerter:
    """An alerter: levels 1 (preventive), 2 (corrective), 3 (warning)."""

    name: str
    levels: tuple[AlertLevel, AlertLevel, AlertLevel]


def _alerter(
    name: str,
    dthr_m: float,
    tthr_s: float,
    zthr_prev_m: float,
    times_s: tuple[float, float, float],
    early_s: tuple[float, float, float],
) -> Alerter:
    zthr = 450 * FT
    regions = ("NONE", "MID", "NEAR")
    levels = tuple(
        AlertLevel(
            Volume(dthr_m, zthr_prev_m if i == 0 else zthr, tthr_s),
            times_s[i],
            early_s[i],
            regions[i],
        )
        for i in range(3)
    )
    return Alerter(name, levels)  # type: ignore[arg-type]


#: the three DO-365B alerters, by alerter index 1, 2, 3
ALERTERS: dict[int, Alerter] = {
    1: _alerter("DWC_Phase_I", 0.66 * NM, 35.0, 700 * FT, (55, 55, 25), (75, 75, 55)),
    2: _alerter("DWC_Phase_II", 1500 * FT, 0.0, 450 * FT, (45, 45, 45), (75, 75, 75)),
    3: _alerter("DWC_Non_Coop", 2200 * FT, 0.0, 450 * FT, (55, 55, 25), (110, 110, 90)),
}


@dataclass(frozen=True)
class BandsConfig:
    """Ranges, steps and kinematics of the manoeuvre guidance bands."""

    left_hdir_rad: float = math.pi
    right_hdir_rad: float = math.pi
    min_hs_mps: float = 10 * KT
    max_hs_mps: float = 700 * KT
    min_vs_mps: float = -6000 * FPM
    max_vs_mps: float = 6000 * FPM
    min_alt_m: float = 100 * FT
    max_alt_m: float = 50000 * FT
    step_hdir_rad: float = math.radians(1.0)
    step_hs_mps: float = 5 * KT
    step_vs_mps: float = 100 * FPM
    step_alt_m: float = 100 * FT
    turn_rate_rad_s: float = math.radians(3.0)
    horizontal_accel_mps2: float = 2.0
    vertical_accel_mps2: float = 0.25 * G0
    vertical_rate_mps: float = 500 * FPM
    min_airspeed_mps: float = 10 * KT
    # recovery
    min_horizontal_recovery_m: float = 0.66 * NM
    min_vertical_recovery_m: float = 450 * FT
    ca_bands: bool = True
    ca_factor: float = 0.1
    horizontal_nmac_m: float = 500 * FT
    vertical_nmac_m: float = 100 * FT
    recovery_stability_time_s: float = 3.0


@dataclass(frozen=True)
class DaidalusConfig:
    """Lookahead, corrective level and the alerters and bands of one configuration."""

    lookahead_s: float
    corrective_level: int
    alerters: dict[int, Alerter]
    bands: BandsConfig


#: ``Configurations/DO_365B_no_SUM.conf`` (= ``Daidalus.set_DO_365B(true, false)``)
DO365B = DaidalusConfig(
    lookahead_s=180.0, corrective_level=2, alerters=ALERTERS, bands=BandsConfig()
)
