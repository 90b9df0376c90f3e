"""The DO-365 detect-and-avoid logic as NASA DAIDALUS implements it: ownship-centred alerting,
manoeuvre guidance bands, resolutions and recovery bands (SI inside; the project's edge units,
deg / ft / kt / ft/min, outside). ``alert`` is the entry point; the modules hold the parts:
``projection`` (ENU), ``encounter`` (input), ``alerting``, ``kinematics`` (manoeuvre samples),
``candidates`` (the four dimensions), ``greens`` and ``detection`` (conflict-free tests, numpy),
``_kernels`` (the same, compiled), ``nonesets``, ``recovery``, ``regions`` (current region and
resolutions), ``bands`` and ``config`` (the DO-365B parameters)."""

from deconflict.predict.daidalus.alerting import Alerts, compute_alerts
from deconflict.predict.daidalus.api import STANDARDS, alert
from deconflict.predict.daidalus.bands import DimensionBands, RecoveryInfo, compute_bands
from deconflict.predict.daidalus.config import DO365B, DaidalusConfig
from deconflict.predict.daidalus.encounter import Encounter, read_encounter

__all__ = [
    "DO365B",
    "STANDARDS",
    "Alerts",
    "DaidalusConfig",
    "DimensionBands",
    "Encounter",
    "RecoveryInfo",
    "alert",
    "compute_alerts",
    "compute_bands",
    "read_encounter",
]
