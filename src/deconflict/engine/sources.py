"""Where reports come from: a source hands the engine every report up to ``now`` (UTC).

A source is anything with ``poll(now) -> report table`` (columns of
``deconflict.surveillance.report``) returning the reports timestamped after the previous poll
and up to ``now``. ``ReplaySource`` replays a recording — any table ``deconflict.tables``
reads: the ``traffic`` convention or OpenSky's state vectors, a file, a DataFrame or a
``traffic`` object — as one party's reports, shifted in time so that the recording starts at
the engine's start.
``deconflict.sim.source.SimSource`` is the simulator's. A source whose reports arrive on their
own (``deconflict.surveillance.source.ReportBuffer``) is also polled between two ticks
(``polled_between_ticks``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from deconflict.errors import InputError
from deconflict.surveillance.report import REPORT_COLUMNS, REPORT_DTYPES, empty_reports
from deconflict.tables import TableInput, to_traffic


class ReportSource(Protocol):
    """Reports up to ``now``, each once."""

    def poll(self, now: pd.Timestamp) -> pd.DataFrame: ...


def polled_between_ticks(source: object) -> bool:
    """Whether the engine's intakes between two ticks poll ``source`` (``engine.intake``):
    those whose reports arrive on their own (a live feed's buffer) say so with a true
    ``between_ticks`` attribute; the others (a simulator makes its reports when polled, one
    step per tick) are polled at the ticks only."""
    return bool(getattr(source, "between_ticks", False))


def read_recording(recording: TableInput) -> pd.DataFrame:
    """A recording (a file, a DataFrame or a ``traffic`` object, in the traffic or OpenSky
    convention) as a table in the traffic convention, one row per fresh position
    (``deconflict.tables.to_traffic``)."""
    if isinstance(recording, str | Path) and not Path(recording).is_file():
        raise InputError(f"recording {recording} does not exist; give a Parquet or CSV file")
    return to_traffic(recording, f"recording {recording}" if isinstance(recording, str | Path)
                      else "recording")  # fmt: skip


class ReplaySource:
    """A recording replayed as one party's reports (sensor ``replay``), shifted in time so that
    it begins at ``start`` (as recorded when None)."""

    def __init__(
        self,
        recording: TableInput,
        *,
        party: str,
        start: pd.Timestamp | None = None,
        sensor: str = "replay",
        accuracy_m: float = 30.0,
    ) -> None:
        frame = read_recording(recording)
        ts = frame["timestamp"]
        order = np.argsort(ts.to_numpy(), kind="stable")
        frame = frame.iloc[order]
        ts = ts.iloc[order]
        first = ts.iloc[0] if len(ts) else pd.Timestamp(0, tz="UTC")
        self.start = first if start is None else start
        self.offset = self.start - first
        self.duration_s = float((ts.iloc[-1] - first).total_seconds()) if len(ts) else 0.0
        n = len(frame)
        out = {}
        for col in REPORT_COLUMNS:
            if col == "timestamp":
                out[col] = (ts + self.offset).to_numpy()
            elif col in frame.columns:
                out[col] = frame[col].to_numpy()
            else:
                out[col] = np.full(n, np.nan)
        out["party"] = np.full(n, party, dtype=object)
        out["sensor"] = np.full(n, sensor, dtype=object)
        out["source"] = np.full(n, "replay", dtype=object)
        out["accuracy_m"] = np.full(n, accuracy_m)
        table = pd.DataFrame(out)
        for col, dtype in REPORT_DTYPES.items():
            if dtype.startswith("datetime"):
                table[col] = pd.to_datetime(table[col], utc=True)
            elif dtype == "Int64":
                table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
            else:
                table[col] = table[col].astype(dtype)  # type: ignore[call-overload]
        self.reports = table.reset_index(drop=True)
        self._times = (
            self.reports["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
        )  # naive UTC datetime64[ns], for searchsorted
        self._next = 0

    def poll(self, now: pd.Timestamp) -> pd.DataFrame:
        ts = pd.Timestamp(now)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        stop = int(np.searchsorted(self._times, ts.tz_localize(None).to_datetime64(), side="right"))
        if stop <= self._next:
            return empty_reports()
        out = self.reports.iloc[self._next : stop]
        self._next = stop
        return out.reset_index(drop=True)
