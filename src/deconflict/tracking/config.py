"""Tracker settings, in SI units (m, m/s, s, m²/s³) with the edge units named where used.

Every number that shapes the tracker's behaviour is here, with its default and why.
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from deconflict.errors import ConfigError
from deconflict.settings import Declared, setting
from deconflict.units import FT

__all__ = ["TrackerConfig"]


class TrackerConfig(Declared):
    """Settings of a `Tracker`.

    The defaults suit a mixed picture of ADS-B (1 s) and secondary radar (4–12 s) reports of
    aircraft; `TrackerConfig.for_scan_period` derives life-cycle times for one radar period.
    """

    model_config = SettingsConfigDict(env_prefix="DECONFLICT_TRACKER_")

    origin_lat_deg: float | None = setting(
        None, "Origin of the local frame (degrees); None: the mean position of the first reports."
    )
    origin_lon_deg: float | None = setting(
        None, "Origin of the local frame (degrees); None: the mean position of the first reports."
    )
    q_cv: float = setting(
        1.0, "White-noise acceleration intensity of the constant-velocity model (m²/s³, per axis)."
    )
    q_manoeuvre: float = setting(
        100.0,
        "Intensity used while a manoeuvre is detected (m²/s³): about 10 m/s² over one second.",
    )
    manoeuvre_nis_per_dim: float = setting(
        4.0,
        "Normalised innovation squared per measured dimension above which a manoeuvre is declared "
        "(below the gate, so a radar-only track sees its manoeuvre before losing its plots).",
    )
    manoeuvre_hold_s: float = setting(
        15.0, "How long the manoeuvre model stays on after the last large innovation (s)."
    )
    position_sigma_m: float = setting(
        50.0, "1-sigma horizontal position error of a report whose `accuracy_m` is NaN (m)."
    )
    velocity_sigma_mps: float = setting(
        3.0, "1-sigma error per axis of a reported velocity (groundspeed and track) (m/s)."
    )
    init_velocity_sigma_mps: float = setting(
        200.0,
        "1-sigma of the unknown velocity of a track started from a plot without velocity (m/s).",
    )
    gate_d2: float = setting(
        16.0,
        "Gate on the squared Mahalanobis distance of a plot to a track (kinematic association); 16"
        " misses 0.03 % of a track's own plots (chi-square, 2 degrees of freedom).",
    )
    max_gate_m: float = setting(
        10_000.0, "KD-tree pre-gating radius ceiling (m): no plot further than this joins a track."
    )
    reinit_d2: float = setting(
        1.0e4,
        "An identified report further than this (squared Mahalanobis) restarts its track's state.",
    )
    confirm_hits: int = setting(3, "Associated reports needed to confirm a tentative track.")
    tentative_timeout_s: float = setting(
        6.0, "A tentative track not updated for longer than this is dropped (s)."
    )
    coast_after_s: float = setting(
        10.0, "A confirmed track not updated for longer than this is coasting (s)."
    )
    drop_after_s: float = setting(
        60.0, "A confirmed or coasting track not updated for longer than this is dropped (s)."
    )
    identity_stale_after_s: float = setting(
        60.0, "An identifier (icao24, callsign, squawk) not confirmed for this long is stale (s)."
    )
    min_altitude_m: float = setting(
        -1500.0 * FT, "Barometric altitudes outside [min, max] are impossible and rejected (m)."
    )
    max_altitude_m: float = setting(
        60_000.0 * FT, "Barometric altitudes outside [min, max] are impossible and rejected (m)."
    )
    altitude_sigma_m: float = setting(
        10.0, "1-sigma of a reported altitude (m) and of a reported vertical rate (m/s)."
    )
    vertical_rate_sigma_mps: float = setting(
        1.0, "1-sigma of a reported altitude (m) and of a reported vertical rate (m/s)."
    )
    q_vertical: float = setting(1.0, "Vertical white-noise acceleration intensity (m²/s³).")
    altitude_gate_m: float = setting(
        150.0, "Altitude innovation gate: max(this, 5 sigma) (m). 150 m is about 500 ft."
    )
    altitude_reinit_count: int = setting(
        5,
        "This many consecutive rejected altitudes that agree with each other restart the channel, "
        "once the aircraft could have flown there at `max_vertical_speed_mps` (about 12,000 fpm).",
    )
    max_vertical_speed_mps: float = setting(
        60.0,
        "This many consecutive rejected altitudes that agree with each other restart the channel, "
        "once the aircraft could have flown there at `max_vertical_speed_mps` (about 12,000 fpm).",
    )
    max_clock_ahead_s: float = setting(
        5.0, "Reports stamped further ahead of `now` than this are re-timed to `now` (s)."
    )
    max_report_age_s: float = setting(
        300.0,
        "Reports older than `now` by more than this are counted as stale (still applied) (s).",
    )
    merge_d2: float = setting(
        9.0,
        "Merge two confirmed tracks whose states agree within this (squared Mahalanobis, "
        "4 dof) and whose positions are closer than `merge_radius_m`.",
    )
    merge_radius_m: float = setting(
        2_000.0,
        "Merge two confirmed tracks whose states agree within `merge_d2` and whose positions "
        "are closer than this (m).",
    )
    max_error_records: int = setting(
        10_000, "Error records kept in memory (counters are exact regardless)."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        checks = {
            "q_cv": self.q_cv > 0,
            "q_manoeuvre": self.q_manoeuvre >= self.q_cv,
            "position_sigma_m": self.position_sigma_m > 0,
            "velocity_sigma_mps": self.velocity_sigma_mps > 0,
            "gate_d2": self.gate_d2 > 0,
            "confirm_hits": self.confirm_hits >= 1,
            "coast_after_s": 0 < self.coast_after_s <= self.drop_after_s,
            "tentative_timeout_s": self.tentative_timeout_s > 0,
            "identity_stale_after_s": self.identity_stale_after_s > 0,
            "altitude band": self.min_altitude_m < self.max_altitude_m,
            "altitude_reinit_count": self.altitude_reinit_count >= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(
                f"invalid tracker settings: {', '.join(bad)}; see TrackerConfig for the ranges"
            )
        if (self.origin_lat_deg is None) != (self.origin_lon_deg is None):
            raise ConfigError("give both origin_lat_deg and origin_lon_deg, or neither")
        return self

    @classmethod
    def for_scan_period(cls, period_s: float, **overrides: float) -> TrackerConfig:
        """Settings for a radar of scan period `period_s`: a tentative track dies after two
        missed scans, a confirmed one coasts after one and is dropped after three."""
        base: dict[str, float] = {
            "tentative_timeout_s": 1.5 * period_s,
            "coast_after_s": 1.5 * period_s,
            "drop_after_s": 2.5 * period_s,
        }
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]
