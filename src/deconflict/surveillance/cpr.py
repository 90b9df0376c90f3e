"""Local CPR decoding of the ADS-B positions a batch left undecoded; positions deg WGS84, times s.

CPR (DO-260B 2.2.3.2.7.2 and annex A) encodes a position as its offset within a latitude zone
and a longitude zone. An even/odd pair less than ``CPR_PAIR_MAX_S`` apart decodes globally (rs1090's
batch call does that); a single message decodes locally against a reference position, and the
answer is right only if the aircraft is within half a zone of that reference:
``AIRBORNE_VALID_NM`` (180 NM: zones of 6 deg of latitude) for airborne positions,
``SURFACE_VALID_NM`` (45 NM: zones of 1.5 deg) for surface positions. A local decode always lands
near its reference, so its own answer cannot show it is wrong.

References, in order: the aircraft's own position of the last ``LOCAL_REFERENCE_MAX_AGE_S``
(100 NM at 600 kt airborne, under 45 NM on the ground at taxi and landing speeds), else the
receiver (``DecodeOptions.reference``). A receiver reference is only trusted once checked: the
aircraft's nearest message of the other parity (within ``CPR_PAIR_MAX_S``) is decoded locally
against the same reference, and the two must agree within what the aircraft can have flown
(``CHECK_BASE_NM`` + ``CHECK_SPEED_KT`` x the time between them). Even and odd zones differ in
size (6 vs 6.10 deg airborne, 1.5 vs 1.525 deg on the surface), so a reference beyond the valid
range puts the two decodes at least 1.5 NM apart (surface; 6 NM airborne). A decode that fails the
check is refused (error ``cpr-out-of-range``), as is a receiver-referenced decode with no
message of the other parity to check it against yet (warning ``cpr-unchecked``: typically an
aircraft's first position message; the pair, when it comes, decodes globally). Either way the
report is kept, without a position.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

import numpy as np
import rs1090

from deconflict.surveillance.base import ErrorLog

#: Own last position is a local reference if younger than this (s).
LOCAL_REFERENCE_MAX_AGE_S: Final = 600.0
#: Global CPR decoding pairs an even and an odd message at most this far apart (s).
CPR_PAIR_MAX_S: Final = 10.0
AIRBORNE_VALID_NM: Final = 180.0
SURFACE_VALID_NM: Final = 45.0
CHECK_BASE_NM: Final = 0.1
CHECK_SPEED_KT: Final = 600.0
_EARTH_NM: Final = 3440.065

#: icao24 -> (latitude deg, longitude deg, time s) of each aircraft's latest position.
LastPositions = dict[str, tuple[float, float, float]]


def distance_nm(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine on a sphere; enough for a range check)."""
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * _EARTH_NM * math.asin(min(1.0, math.sqrt(h)))


def _local(frame: str, ref: tuple[float, float]) -> tuple[float, float] | None:
    single = cast(dict[str, Any], rs1090.decode(frame, reference=(float(ref[0]), float(ref[1]))))
    lat, lon = single.get("latitude"), single.get("longitude")
    return None if lat is None or lon is None else (float(lat), float(lon))


def fill_local(
    lat: np.ndarray,
    lon: np.ndarray,
    icaos: Sequence[str],
    times_s: np.ndarray,
    messages: Sequence[dict[str, Any]],
    surface: np.ndarray,
    reference: tuple[float, float] | None,
    last: LastPositions,
    errors: ErrorLog,
    where: np.ndarray,
    held: Mapping[tuple[str, str], tuple[str, float]] | None = None,
) -> int:
    """Fill, in place, the positions (NaN in ``lat``/``lon``) of these position messages (one
    row each, in time order; ``surface`` marks TC 5-8) by local decoding (see the module
    docstring), and update ``last``. Refusals go to ``errors`` at ``where[row]``. ``held``:
    airborne position frames of earlier batches, (icao24, "even"/"odd") -> (frame, time s), also
    used to check a receiver reference. Returns how many were filled."""
    count = 0
    partners: dict[str, list[int]] | None = None
    for j in range(len(lat)):
        icao, now = icaos[j], float(times_s[j])
        if not math.isnan(lat[j]):
            last[icao] = (float(lat[j]), float(lon[j]), now)
            continue
        own = last.get(icao)
        if own is not None and 0 <= now - own[2] < LOCAL_REFERENCE_MAX_AGE_S:
            got = _local(messages[j]["frame"], own[:2])
        elif reference is not None:
            if partners is None:
                partners = {}
                for k, name in enumerate(icaos):
                    partners.setdefault(name, []).append(k)
            got = _checked(
                j, partners[icao], messages, times_s, surface, reference, errors, where, held
            )
        else:
            continue
        if got is not None:
            lat[j], lon[j] = got
            last[icao] = (got[0], got[1], now)
            count += 1
    return count


def _checked(
    j: int,
    same: list[int],
    messages: Sequence[dict[str, Any]],
    times_s: np.ndarray,
    surface: np.ndarray,
    reference: tuple[float, float],
    errors: ErrorLog,
    where: np.ndarray,
    held: Mapping[tuple[str, str], tuple[str, float]] | None,
) -> tuple[float, float] | None:
    """Local decode of row ``j`` against the receiver, checked with the other parity."""
    parity = messages[j].get("parity")
    kind = "surface" if surface[j] else "airborne"
    valid_nm = SURFACE_VALID_NM if surface[j] else AIRBORNE_VALID_NM
    near = [
        (str(messages[k]["frame"]), float(times_s[k]))
        for k in same
        if messages[k].get("parity") not in (None, parity)
        and surface[k] == surface[j]
        and abs(times_s[k] - times_s[j]) <= CPR_PAIR_MAX_S
    ]
    other = {"even": "odd", "odd": "even"}.get(str(parity))
    if held and other and not surface[j]:
        kept = held.get((str(messages[j].get("icao24")), other))
        if kept is not None and abs(kept[1] - times_s[j]) <= CPR_PAIR_MAX_S:
            near.append(kept)
    frame = messages[j]["frame"]
    if not near:
        errors.warn(
            int(where[j]),
            "cpr-unchecked",
            f"{kind} position decodable only locally against the receiver reference, with no "
            "message of the other parity to check the reference is within "
            f"{valid_nm:.0f} NM; left out",
            frame,
        )
        return None
    partner, when = min(near, key=lambda p: abs(p[1] - times_s[j]))
    mine, theirs = _local(frame, reference), _local(partner, reference)
    if mine is None or theirs is None:
        return None
    apart = distance_nm(mine, theirs)
    allowed = CHECK_BASE_NM + CHECK_SPEED_KT * abs(when - float(times_s[j])) / 3600.0
    if apart > allowed:
        errors.add(
            int(where[j]),
            "cpr-out-of-range",
            f"{kind} position: the receiver reference {reference[0]:.4f},{reference[1]:.4f} is "
            f"beyond the {valid_nm:.0f} NM a local decode is valid for (even and odd decodes "
            f"{apart:.1f} NM apart); give the receiver's own position as the reference",
            frame,
        )
        return None
    return mine
