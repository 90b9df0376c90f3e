"""Replay a report table through a tracker, in s (report times; window length ``step_s``).

Rows are taken in file order, which is their arrival order: ``now`` is the latest plausible report
time seen so far (a time more than 300 s ahead of the median of the 11 rows around it is a clock
jump and does not move it), and the rows whose ``now`` falls in one window of ``step_s`` seconds
form one update. A recording sorted by time is so replayed in time windows; rows out of time
order reach the tracker late, as they would live, and are applied as late reports (counted in
``tracker.counters``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from deconflict.errors import InputError
from deconflict.tracking.batch import latlon, report_batch
from deconflict.tracking.config import TrackerConfig
from deconflict.tracking.tracker import Tracker, TrackRows

__all__ = ["replay"]

_MEDIAN_ROWS = 11
_JUMP_S = 300.0


def replay(
    reports: pd.DataFrame,
    config: TrackerConfig | None = None,
    step_s: float = 1.0,
    tracker: Tracker | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, Tracker]:
    """Run ``reports`` through a tracker; return the track-update table and the tracker.

    ``progress(done, total)`` is called after each window (for progress bars).
    """
    if step_s <= 0:
        raise InputError(f"step_s must be positive, got {step_s}; use e.g. 1.0")
    trk = tracker or Tracker(config)
    frame = trk.ensure_frame(*latlon(reports))
    batch = report_batch(reports, frame)
    n = len(batch)
    parts: list[TrackRows] = []
    if n:
        # ``now`` is the latest report time seen, except that a time further than
        # ``_JUMP_S`` ahead of the median of its neighbouring rows does not move it: one sensor
        # whose clock jumps does not drag the replay along (its reports are re-timed instead),
        # while a gap in the whole recording does move it
        recent = (
            pd.Series(batch.t_s)
            .rolling(_MEDIAN_ROWS, min_periods=1, center=True)
            .median()
            .to_numpy()
        )
        plausible = np.isfinite(batch.t_s) & (batch.t_s <= recent + _JUMP_S)
        now = np.maximum.accumulate(np.where(plausible, batch.t_s, -np.inf))
        start = now[np.isfinite(now)][0] if np.isfinite(now).any() else 0.0
        window = np.floor((np.where(np.isfinite(now), now, start) - start) / step_s)
        bounds = np.flatnonzero(np.diff(window)) + 1
        edges = np.concatenate(([0], bounds, [n]))
        for k in range(edges.size - 1):
            lo, hi = int(edges[k]), int(edges[k + 1])
            now_s = start + (window[lo] + 1.0) * step_s
            parts.append(trk.update_batch(batch.take(slice(lo, hi)), float(now_s)))
            if progress is not None:
                progress(hi, n)
    return TrackRows.concat(parts).frame(), trk
