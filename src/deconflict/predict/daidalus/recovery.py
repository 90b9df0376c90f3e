"""Recovery bands (``DaidalusRealBands.compute_recovery_bands``), in SI units (m, s).

Used when no conflict-free value is left at the corrective or a more severe region: if some
manoeuvre avoids the NMAC cylinder, search (0.5 s binary search) the earliest time B after which
some manoeuvre stays out of the corrective volume without entering the recovery cylinder
before B; recovery time = B + stability time. Without one, shrink the cylinder by the
collision-avoidance factor (n_factor counts the shrinks) down to the NMAC size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from deconflict.predict.daidalus.candidates import Dimension, Traffic
from deconflict.predict.daidalus.config import DaidalusConfig
from deconflict.predict.daidalus.detection import cylinder
from deconflict.predict.daidalus.nonesets import Intervals, RegionAircraft, none_set, region_green

__all__ = ["RecoveryInfo", "recovery_bands"]


@dataclass(frozen=True)
class RecoveryInfo:
    """Outcome of the recovery-band search of one dimension (DAIDALUS RecoveryInformation)."""

    computed: bool = False
    saturated: bool = False
    time_to_recovery_s: float = math.nan
    horizontal_distance_m: float = math.nan
    vertical_distance_m: float = math.nan
    n_factor: int = -1


def recovery_bands(
    dim: Dimension, traffic: Traffic, ra: RegionAircraft, config: DaidalusConfig
) -> tuple[RecoveryInfo, Intervals]:
    """DaidalusRealBands.compute_recovery_bands for the corrective region's aircraft."""
    bc = config.bands
    n = traffic.n
    nmac = cylinder(bc.horizontal_nmac_m, bc.vertical_nmac_m, n)
    none = none_set(dim, region_green(dim, traffic, ra, 0.0, vol_override=nmac))
    if not none:
        return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, 0), none
    horizontal, vertical = bc.min_horizontal_recovery_m, bc.min_vertical_recovery_m
    factor = 1.0 - bc.ca_factor
    lookahead = config.lookahead_s
    n_factor = 0
    while horizontal > bc.horizontal_nmac_m or vertical > bc.vertical_nmac_m:
        cyl = cylinder(horizontal, vertical, n)
        none = none_set(dim, region_green(dim, traffic, ra, 0.0, vol_override=cyl))
        if not none and not bc.ca_bands:
            return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, n_factor), none
        if none:
            pivot_red, pivot_green = 0.0, lookahead + 1.0
            pivot = pivot_green - 1.0
            while pivot_green - pivot_red > 0.5:
                none = none_set(dim, region_green(dim, traffic, ra, pivot, rec=cyl))
                if none:
                    pivot_green = pivot
                else:
                    pivot_red = pivot
                pivot = (pivot_red + pivot_green) / 2.0
            if pivot_green <= lookahead:
                recovery_time = min(lookahead, pivot_green + bc.recovery_stability_time_s)
            else:
                recovery_time = pivot_red
            none = none_set(dim, region_green(dim, traffic, ra, recovery_time, rec=cyl))
            if none:
                info = RecoveryInfo(True, False, recovery_time, horizontal, vertical, n_factor)
                return info, none
            if not bc.ca_bands:
                return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, n_factor), none
        n_factor += 1
        horizontal = max(bc.horizontal_nmac_m, horizontal * factor)
        vertical = max(bc.vertical_nmac_m, vertical * factor)
    return RecoveryInfo(True, True, -math.inf, -math.inf, -math.inf, n_factor), []
