"""Unit constants. Everything inside Deconflict is SI (m, m/s, s, rad); these convert at the edges.

Multiply a value in the named unit by the constant to get SI: ``altitude_ft * FT`` is metres.
"""

from __future__ import annotations

from typing import Final

FT: Final = 0.3048  # m per foot
NM: Final = 1852.0  # m per nautical mile
KT: Final = NM / 3600.0  # m/s per knot
FPM: Final = FT / 60.0  # m/s per foot per minute
G0: Final = 9.80665  # m/s², standard gravity
