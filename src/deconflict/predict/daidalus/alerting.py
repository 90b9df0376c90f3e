"""DO-365 alert levels and time to the corrective volume per intruder, in m, m/s and s.

Snapshot logic of DAIDALUS (a fresh ``Daidalus`` object, so no hysteresis): the alert level is
the most severe level L (3, 2, then 1) whose volume is violated within the lookahead with an
entry time of 0 or before that level's alerting time; the time to violation is the entry time
of the corrective (level 2) volume within the lookahead (+inf if none, 0 if violated now).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from deconflict.predict.daidalus.config import DO365B, DaidalusConfig
from deconflict.predict.wcv import wcv_interval, wcv_violated_now

__all__ = ["Alerts", "compute_alerts", "level_parameters"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Alerts:
    """Per-intruder alerting results; arrays of length n (``intervals_s``: (n, 3, 2))."""

    alert_level: NDArray[np.int64]
    time_to_violation_s: FloatArray
    time_out_of_violation_s: FloatArray
    in_violation: NDArray[np.bool_]
    intervals_s: FloatArray


def level_parameters(
    alerter: NDArray[np.int64], level: int, config: DaidalusConfig = DO365B
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """(DTHR, ZTHR, TTHR, TCOA, alerting time) of ``level`` (1..3) for each alerter index."""
    table = np.array(
        [
            [
                config.alerters[k].levels[level - 1].volume.dthr_m,
                config.alerters[k].levels[level - 1].volume.zthr_m,
                config.alerters[k].levels[level - 1].volume.tthr_s,
                config.alerters[k].levels[level - 1].volume.tcoa_s,
                config.alerters[k].levels[level - 1].alerting_time_s,
            ]
            for k in sorted(config.alerters)
        ]
    )
    rows = table[np.asarray(alerter) - 1]
    return rows[..., 0], rows[..., 1], rows[..., 2], rows[..., 3], rows[..., 4]


def compute_alerts(
    own_s: FloatArray,
    own_v: FloatArray,
    intr_s: FloatArray,
    intr_v: FloatArray,
    alerter: NDArray[np.int64],
    config: DaidalusConfig = DO365B,
) -> Alerts:
    """Alert level, time to the corrective volume and 'violated now' for every intruder."""
    s = np.asarray(own_s)[None, :] - np.asarray(intr_s).reshape(-1, 3)
    v = np.asarray(own_v)[None, :] - np.asarray(intr_v).reshape(-1, 3)
    n = s.shape[0]
    intervals = np.empty((n, 3, 2))
    level = np.zeros(n, dtype=np.int64)
    for lvl in (1, 2, 3):
        dthr, zthr, tthr, tcoa, alerting = level_parameters(alerter, lvl, config)
        t_in, t_out = wcv_interval(
            s[:, 0],
            s[:, 1],
            s[:, 2],
            v[:, 0],
            v[:, 1],
            v[:, 2],
            dthr,
            zthr,
            tthr,
            tcoa,
            config.lookahead_s,
        )
        intervals[:, lvl - 1, 0] = t_in
        intervals[:, lvl - 1, 1] = t_out
        alerting_now = np.isfinite(t_in) & ((t_in == 0.0) | (t_in < alerting))
        level = np.where(alerting_now, lvl, level)
    corr = config.corrective_level
    dthr, zthr, tthr, tcoa, _ = level_parameters(alerter, corr, config)
    now = wcv_violated_now(
        s[:, 0], s[:, 1], s[:, 2], v[:, 0], v[:, 1], v[:, 2], dthr, zthr, tthr, tcoa
    )
    return Alerts(
        alert_level=level,
        time_to_violation_s=intervals[:, corr - 1, 0].copy(),
        time_out_of_violation_s=intervals[:, corr - 1, 1].copy(),
        in_violation=np.asarray(now, dtype=bool),
        intervals_s=intervals,
    )
