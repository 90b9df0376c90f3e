"""The region holding the ownship's current value, and the resolutions, from a dimension's bands,
with DAIDALUS's relative comparisons (SI values: rad, m/s, m).

DAIDALUS compares band values with ``Util.almost_equals(a, b, DaidalusParameters.ALMOST_)``,
where ``ALMOST_ = Util.PRECISION5 = 2^40`` units in the last place: two doubles are equal when at
most 2^40 representable doubles lie between them, a relative tolerance between 2^-13 and 2^-12
(about 1.2e-4 to 2.4e-4; 0.5 m at an altitude of 3,000 m) and 1e-5 absolute around zero. An
ownship a few feet from a band edge is therefore *on* that edge, and the region and resolutions
follow from ``BandsRange.index_of`` and ``BandsHysteresis.bandsHysteresis`` (no hysteresis: a
fresh DAIDALUS object).
"""

from __future__ import annotations

import math
import struct

__all__ = ["ALMOST_ULPS", "Band", "almost_equals", "index_of", "resolutions"]

#: DaidalusParameters.ALMOST_ = Util.PRECISION5 (maximum units in the last place)
ALMOST_ULPS = 1 << 40
_ZERO_TOL = 1.0e-5  # Util.almost_equals's absolute tolerance at zero for PRECISION5
_DEFAULT_ULPS = 16348  # Util.PRECISION_DEFAULT (about 13 digits), used by Util.modulo

Band = tuple[float, float, str]  # (lo, hi, region)

_RESOLUTION = {"NONE", "RECOVERY"}
_ORDER = {"NONE": 0, "RECOVERY": 0, "FAR": 1, "MID": 2, "NEAR": 3}  # orderOfConflictRegion


def _ordered(x: float) -> int:
    """The bits of a double as a lexicographically ordered integer."""
    bits = int(struct.unpack("<q", struct.pack("<d", x))[0])
    return bits if bits >= 0 else -(bits + (1 << 63))


def almost_equals(a: float, b: float, max_ulps: int = ALMOST_ULPS) -> bool:
    """``Util.almost_equals(a, b, maxUlps)``: at most ``max_ulps`` doubles apart (relative)."""
    if a == b:
        return True
    if a == 0.0 or b == 0.0:
        tol = _ZERO_TOL if max_ulps == ALMOST_ULPS else 1.0e-13
        if abs(a) < tol and abs(b) < tol:
            return True
    if not (a < b or b < a) or math.isinf(a) or math.isinf(b):
        return False
    return abs(_ordered(a) - _ordered(b)) <= max_ulps


def almost_less(a: float, b: float) -> bool:
    return not almost_equals(a, b) and a < b


def almost_leq(a: float, b: float) -> bool:
    return a <= b or almost_equals(a, b)


def safe_modulo(x: float, mod: float) -> float:
    """``Util.safe_modulo``: ``x`` in ``[0, mod)`` when ``mod > 0``, else ``x``."""
    if mod <= 0:
        return x
    r = x - math.floor(x / mod) * mod
    return 0.0 if almost_equals(r, mod, _DEFAULT_ULPS) else r


def _almost_in(x: float, lo: float, hi: float) -> bool:
    """``Interval.almost_in(x, true, true, ALMOST_)``."""
    return (lo < x or almost_equals(lo, x)) and (x < hi or almost_equals(hi, x))


def index_of(bands: list[Band], val: float, mod: float) -> int:
    """``BandsRange.index_of``: index of the band holding ``val``, -1 if none. On a boundary the
    conflict-free side wins, else the less severe one (DAIDALUS's own rules, kept as they are)."""
    val = safe_modulo(val, mod)
    last = len(bands) - 1
    for i, (lo, hi, region) in enumerate(bands):
        if not (
            _almost_in(val, lo, hi)
            or (i == last and almost_equals(safe_modulo(hi - val, mod), 0.0))
        ):
            continue
        if region in _RESOLUTION:
            return i
        if almost_equals(val, lo):
            other = i - 1 if i > 0 else (last if mod > 0 else -1)
        elif almost_less(val, hi):
            return i
        else:
            other = i + 1 if i < last else (0 if mod > 0 else -1)
        if other > 0 and region != "UNKNOWN":
            prefer_i = bands[other][2] == "UNKNOWN" or _ORDER[region] <= _ORDER[bands[other][2]]
            return i if prefer_i else other
        return other
    return -1


def _to_the_left(a: float, b: float, mod: float) -> bool:
    if almost_equals(a, b):
        return True
    if mod == 0:
        return almost_less(a, b)
    return almost_less(safe_modulo(b - a, mod), mod / 2.0)


def resolutions(bands: list[Band], idx: int, val: float, mod: float) -> tuple[float, float, bool]:
    """``BandsHysteresis.bandsHysteresis`` without history: (up, low, preferred up). NaN when the
    current band is not a conflict band (MID or NEAR), ±inf when there is none that way."""
    up = low = math.nan

    def conflict(j: int) -> bool:  # is_up_from_corrective_region (corrective region MID)
        return bands[j][2] in ("MID", "NEAR")

    if 0 <= idx < len(bands) and conflict(idx):
        last = len(bands) - 1
        low = -math.inf
        j = idx
        while j >= 0 and conflict(j):
            j = (
                (last if j == 0 and mod > 0 else j - 1)
                if _to_the_left(bands[j][0], val, mod)
                else -1
            )
            if j == idx:
                j = -1
        if j >= 0:
            low = 0.0 if j == last and mod > 0 else bands[j][1]
        up = math.inf
        j = idx
        while j <= last and conflict(j):
            j = (
                (0 if j == last and mod > 0 else j + 1)
                if _to_the_left(val, bands[j][1], mod)
                else last + 1
            )
            if j == idx:
                j = last + 1
        if j <= last:
            up = bands[j][0]
    if not math.isfinite(up):  # none up (or none either way): down
        preferred = False
    elif not math.isfinite(low):
        preferred = True
    else:
        preferred = almost_leq(safe_modulo(up - val, mod), safe_modulo(val - low, mod))
    return up, low, preferred
