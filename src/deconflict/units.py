"""Unit constants. Everything inside Deconflict is SI (m, m/s, s, rad); these convert at the edges.

Multiply a value in the named unit by the constant to get SI: ``altitude_ft * FT`` is metres.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

FT: Final = 0.3048  # m per foot
NM: Final = 1852.0  # m per nautical mile
KT: Final = NM / 3600.0  # m/s per knot
FPM: Final = FT / 60.0  # m/s per foot per minute
G0: Final = 9.80665  # m/s², standard gravity


def epoch_s(value: datetime | str) -> float:
    """Seconds since 1970-01-01 UTC of a datetime or an ISO-8601 string; a time without a zone
    is UTC (the convention of DESIGN.md's edges), never the machine's local time. A string that is
    not ISO-8601 raises ValueError."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
