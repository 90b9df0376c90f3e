"""The ``Report`` row every decoder produces: one observation of one aircraft by one sensor.

Units at this edge follow the ``traffic`` convention (DESIGN.md): ``timestamp`` UTC, ``latitude`` /
``longitude`` degrees WGS84, ``altitude`` ft (barometric), ``groundspeed`` kt, ``track`` degrees
true, ``vertical_rate`` ft/min. A missing value is NaN (floats) or None / "" (strings).

A batch of reports is a pandas DataFrame with exactly ``REPORT_COLUMNS`` (see ``empty_reports``);
one report is a ``Report`` dataclass. Decoders return batches; ``Report`` is for single calls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

import pandas as pd

#: Column name -> pandas dtype of a report table.
REPORT_DTYPES: Final[dict[str, str]] = {
    "timestamp": "datetime64[ns, UTC]",  # time of applicability of the position
    "party": "string",  # the party whose sensor produced the report
    "sensor": "string",  # sensor id within the party (receiver, radar SAC/SIC, ...)
    "source": "string",  # decoder key: "sbs", "beast", "modes", "asterix", "opensky", ...
    "icao24": "string",  # 24-bit address, 6 lowercase hex chars, or <NA>
    "callsign": "string",
    "squawk": "string",  # 4 octal digits, or <NA>
    "track_number": "Int64",  # sensor's own track number (radar, system track), or <NA>
    "latitude": "float64",
    "longitude": "float64",
    "altitude": "float64",  # ft, barometric
    "groundspeed": "float64",  # kt
    "track": "float64",  # deg true
    "vertical_rate": "float64",  # ft/min
    "accuracy_m": "float64",  # 1-sigma horizontal position accuracy in m, NaN if unknown
}
REPORT_COLUMNS: Final[tuple[str, ...]] = tuple(REPORT_DTYPES)


@dataclass(frozen=True, slots=True)
class Report:
    """One report (single-call form). Fields as in ``REPORT_DTYPES``; None where unknown."""

    timestamp: pd.Timestamp
    party: str = ""
    sensor: str = ""
    source: str = ""
    icao24: str | None = None
    callsign: str | None = None
    squawk: str | None = None
    track_number: int | None = None
    latitude: float = float("nan")
    longitude: float = float("nan")
    altitude: float = float("nan")
    groundspeed: float = float("nan")
    track: float = float("nan")
    vertical_rate: float = float("nan")
    accuracy_m: float = float("nan")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def empty_reports() -> pd.DataFrame:
    """An empty report table with the right columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in REPORT_DTYPES.items()})


def reports_frame(rows: list[Report] | list[dict[str, Any]]) -> pd.DataFrame:
    """Build a report table from ``Report`` objects or dicts (missing fields become NA)."""
    if not rows:
        return empty_reports()
    records = [r.as_dict() if isinstance(r, Report) else r for r in rows]
    frame = pd.DataFrame.from_records(records)
    for col, dtype in REPORT_DTYPES.items():
        if col not in frame:
            frame[col] = pd.Series([None] * len(frame), dtype="object")
        if dtype.startswith("datetime"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        else:
            frame[col] = frame[col].astype(dtype)  # type: ignore[call-overload]
    return frame.loc[:, list(REPORT_COLUMNS)]
