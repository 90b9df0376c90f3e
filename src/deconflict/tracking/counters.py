"""What the tracker counts and the error records it keeps (nothing a report says is silently lost).

``counters`` are exact; the error records describing each re-timed, late, stale or partly rejected
report are kept in memory up to ``max_error_records`` (the newest).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.tracking.batch import ReportBatch

I64 = NDArray[np.int64]

__all__ = ["COUNTER_NAMES", "TrackerLog"]

COUNTER_NAMES: Final[tuple[str, ...]] = (
    "reports",  # reports given to update
    "position_updates",  # reports whose position updated a track
    "tracks_started",
    "tracks_confirmed",
    "tracks_dropped",
    "tracks_merged",
    "identity_associations",  # by icao24 or sensor track number
    "kinematic_associations",
    "out_of_order",  # older than the track state it updated (applied by retrodiction)
    "stale_reports",  # older than max_report_age_s (still applied)
    "clock_ahead",  # stamped too far after now: re-timed to now
    "no_timestamp",  # no time: re-timed to now
    "clock_backwards",  # update called with a now earlier than the previous one
    "no_position",  # no usable position (identity and altitude still applied)
    "unassociated_no_position",  # no position and no track to give its identity to
    "altitude_rejected",  # impossible or jumping altitude, rest of the report kept
    "altitude_reinitialised",
    "track_reinitialised",  # identified report far from its track: state restarted
    "identity_conflicts",  # an icao24 moved from one track to another
)

_ERROR_COLUMNS: Final = ["time", "kind", "detail", "row", "party", "sensor", "icao24"]


class TrackerLog:
    """The tracker's counters (``counters[name]``) and its newest error records."""

    def __init__(self, max_records: int) -> None:
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self._records: deque[dict[str, Any]] = deque(maxlen=max_records)

    def count(self, name: str, k: int = 1) -> None:
        self.counters[name] += k

    def error(self, kind: str, t_s: float, batch: ReportBatch | None, i: int, detail: str) -> None:
        """Record an error of ``kind`` at ``t_s`` about report ``i`` of ``batch`` (if any)."""
        rec: dict[str, Any] = {"time_s": t_s, "kind": kind, "detail": detail}
        if batch is not None and i >= 0:
            rec.update(
                row=int(batch.row[i]),
                party=batch.party[i],
                sensor=batch.sensor[i],
                icao24=batch.icao24[i],
            )
        self._records.append(rec)

    def report_errors(
        self, kind: str, b: ReportBatch, ri: I64, which: I64, detail: Callable[[int], str]
    ) -> None:
        """Record an error of ``kind`` about each report ``ri[j]`` for ``j`` in ``which``, at
        the report's own time, described by ``detail(j)``. Only the newest ``max_records``
        are kept, so only they are described."""
        keep = self._records.maxlen
        if keep is not None and which.size > keep:
            which = which[which.size - keep :]
        for j in which.tolist():
            i = int(ri[j])
            self.error(kind, float(b.t_s[i]), b, i, detail(j))

    def frame(self) -> pd.DataFrame:
        """The error records kept: time, kind, detail, source."""
        if not self._records:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _ERROR_COLUMNS})
        out = pd.DataFrame(list(self._records))
        out["time"] = pd.to_datetime(np.round(out.pop("time_s") * 1e9), unit="ns", utc=True)
        return out.reindex(columns=_ERROR_COLUMNS)
