"""The DO-365B configuration of NASA DAIDALUS (``DO_365B_no_SUM.conf``) as data, in SI units.

Distances in m, speeds in m/s, times in s, angles in rad, accelerations in m/s².
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from deconflict.predict import standards
from deconflict.units import FPM, FT, G0, KT, NM

__all__ = [
    "ALERTERS",
    "DO365B",
    "AlertLevel",
    "Alerter",
    "BandsConfig",
    "DaidalusConfig",
    "Volume",
]


@dataclass(frozen=True)
class Volume:
    """A well-clear volume of the WCV_TAUMOD / WCV_TCOA detector."""

    dthr_m: float
    zthr_m: float
    tthr_s: float
    tcoa_s: float = 0.0


@dataclass(frozen=True)
class AlertLevel:
    """One alert level of an alerter: its volume, alerting time and band region (NONE, MID,
    NEAR)."""

    volume: Volume
    alerting_time_s: float
    region: str


@dataclass(frozen=True)
class Alerter:
    """An alerter: levels 1 (preventive), 2 (corrective), 3 (warning)."""

    name: str
    levels: tuple[AlertLevel, AlertLevel, AlertLevel]


def _alerter(name: str, levels: tuple[standards.AlertLevel, ...]) -> Alerter:
    """An alerter from the levels of a DO-365 level set (metres and seconds already)."""
    return Alerter(
        name,
        tuple(  # type: ignore[arg-type]
            AlertLevel(
                Volume(
                    lv.volume.horizontal_m, lv.volume.vertical_m, lv.volume.tau_s, lv.volume.tcoa_s
                ),
                lv.alerting_time_s,
                lv.region,
            )
            for lv in levels
        ),
    )


_NAMES: dict[int, str] = {1: "DWC_Phase_I", 2: "DWC_Phase_II", 3: "DWC_Non_Coop"}

#: the three DO-365B alerters, by alerter index 1, 2, 3: the level sets of the ``do365``
#: standard (``deconflict.predict.standards``), the one place their numbers are written
ALERTERS: dict[int, Alerter] = {
    k: _alerter(name, standards.get_standard("do365").level_sets[str(k)])
    for k, name in _NAMES.items()
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
