"""A picture to EUROCONTROL ASTERIX CAT062 (SDPS system tracks, edition 1.20) data blocks;
input in the traffic library's units (deg, ft, kt, deg true, ft/min), SI on the wire.

Pure and vectorised: one numpy pass per item over the whole picture, no per-track Python. The
decoder of the same category is ``deconflict.surveillance.asterix``.

Wire layout: a data block is ``CAT=62 (1 byte) | LEN (2 bytes, big endian, whole block) |
record | record ...``; a record is an FSPEC (7 field bits per octet, the last bit FX = another
octet follows) and the items present, in UAP order. Items written (FRN: item, bytes):

- 1: I062/010 data source, SAC and SIC (2);
- 4: I062/070 time of track information, s since UTC midnight, LSB 1/128 s (3);
- 5: I062/105 WGS-84 position, latitude then longitude, signed, LSB 180/2^25 deg (8);
- 7: I062/185 velocity, vx (east) then vy (north), signed, LSB 0.25 m/s (4); when known;
- 9: I062/060 Mode 3/A code, 12 bits octal (2); when the picture has a ``squawk``;
- 10: I062/245 target identification, STI = 0 and eight 6-bit ICAO characters (7); when known;
- 11: I062/380 aircraft derived data, subfield ADR only: the 24-bit address (1 + 3); when known;
- 12: I062/040 track number, 16 bits (2): the track id modulo 65,536;
- 13: I062/080 track status: MON/SPI/MRH/SRC/CNF = 0 (multisensor, confirmed) (1); a coasting
  track carries three extension octets more, the last with CST = 1 (4 in all);
- 17: I062/136 measured flight level, signed, LSB 1/4 FL (2); when the altitude is known;
- 19: I062/135 calculated barometric altitude, QNH = 0 then 15 bits signed, LSB 1/4 FL (2);
- 20: I062/220 rate of climb/descent, signed, LSB 6.25 ft/min (2); when known.

The FSPEC is two octets, or three when an item of FRN 15-21 is present. Values beyond an item's
range are clipped to it (a ground speed over 8,192 m/s, say), never wrapped. Records are packed
greedily into blocks of at most ``max_block_bytes`` (one UDP datagram each; 1,400 by default,
under an Ethernet MTU).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.surveillance.asterix_fields import (
    U8,
    be_bytes,
    hex24,
    pack_records,
    scaled,
    sixbit48,
    squawk_codes,
)
from deconflict.surveillance.picture_columns import float_column, text_column
from deconflict.units import KT

CATEGORY: Final = 62
DAY_S: Final = 86400.0
LATLON_LSB_DEG: Final = 180.0 / 2**25
VELOCITY_LSB_MS: Final = 0.25
FL_LSB_FT: Final = 25.0  # 1/4 FL
RATE_LSB_FPM: Final = 6.25
MAX_BLOCK_BYTES: Final = 1400


@dataclass(frozen=True)
class Cat062Source:
    """The data source identifier (I062/010) of the system that sends the tracks."""

    sac: int = 0
    sic: int = 1

    def __post_init__(self) -> None:
        for name in ("sac", "sic"):
            value = getattr(self, name)
            if not 0 <= value <= 255:
                raise InputError(f"CAT062 {name.upper()} {value} is not one byte; use 0-255")


def _sixbit(callsign: NDArray[np.str_]) -> tuple[U8, NDArray[np.bool_]]:
    """I062/245 (7 bytes: STI 0, spare, eight 6-bit characters), and where a callsign was."""
    packed, ok = sixbit48(callsign)
    out = np.zeros((callsign.size, 7), dtype=np.uint8)
    out[:, 1:] = be_bytes(packed, 6)
    return out, ok


def encode_cat062(
    picture: pd.DataFrame,
    time_s: float,
    source: Cat062Source = Cat062Source(),
    max_block_bytes: int = MAX_BLOCK_BYTES,
) -> list[bytes]:
    """The picture's tracks as CAT062 data blocks (see the module docstring for the items).

    ``picture`` has one row per track: ``track_id``, ``latitude``, ``longitude`` (deg),
    ``altitude`` (ft, barometric), ``groundspeed`` (kt), ``track`` (deg true), ``vertical_rate``
    (ft/min), ``icao24`` (hex), ``callsign``, optional ``squawk`` (octal text) and ``status``
    (``coasting`` sets CST). ``time_s`` (Unix s) is the time of every track (the picture is
    predicted to it). Rows without a position are left out."""
    if not 64 <= max_block_bytes <= 65535:
        raise InputError(f"max_block_bytes {max_block_bytes}: use 64-65535 (a block's LEN field)")
    if not np.isfinite(time_s):
        raise InputError("CAT062 needs the picture's time (Unix s), not NaN")
    lat, lon = float_column(picture, "latitude"), float_column(picture, "longitude")
    keep = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
    rows = np.flatnonzero(keep)
    n = rows.size
    if n == 0:
        return []
    lat, lon = lat[rows], (lon[rows] + 180.0) % 360.0 - 180.0
    alt_ft = float_column(picture, "altitude")[rows]
    gs_ms = float_column(picture, "groundspeed")[rows] * KT
    trk = np.radians(float_column(picture, "track")[rows])
    vr_fpm = float_column(picture, "vertical_rate")[rows]
    if "track_id" not in picture.columns:
        raise InputError("the picture has no track_id column: CAT062 needs a track number")
    track_no = picture["track_id"].to_numpy(dtype=np.int64)[rows] % 65536
    icao, has_icao = hex24(text_column(picture, "icao24")[rows])
    ident, has_ident = _sixbit(text_column(picture, "callsign")[rows])
    squawk, has_squawk = squawk_codes(text_column(picture, "squawk")[rows])
    status = text_column(picture, "status")[rows]
    coasting = status == "coasting"

    has_vel = np.isfinite(gs_ms) & np.isfinite(trk)
    has_alt = np.isfinite(alt_ft)
    has_rate = np.isfinite(vr_fpm)
    tod = int(np.rint((time_s % DAY_S) * 128.0)) % (1 << 24)
    ones = np.ones(n, dtype=bool)
    fl = scaled(alt_ft, FL_LSB_FT, 16)
    vx = scaled(np.where(has_vel, gs_ms * np.sin(trk), 0.0), VELOCITY_LSB_MS, 16)
    vy = scaled(np.where(has_vel, gs_ms * np.cos(trk), 0.0), VELOCITY_LSB_MS, 16)
    status1 = np.where(coasting, 0x01, 0x00).astype(np.uint8)[:, None]
    status_ext = np.tile(np.array([0x01, 0x01, 0x80], dtype=np.uint8), (n, 1))
    fspec3 = has_alt | has_rate
    fspec = np.zeros((n, 3), dtype=np.uint8)
    fspec[:, 0] = 0x80 | 0x10 | 0x08 | np.where(has_vel, 0x02, 0) | 0x01
    fspec[:, 1] = (
        np.where(has_squawk, 0x40, 0) | np.where(has_ident, 0x20, 0)
        | np.where(has_icao, 0x10, 0) | 0x08 | 0x04 | np.where(fspec3, 0x01, 0)
    )  # fmt: skip
    fspec[:, 2] = np.where(has_alt, 0x20 | 0x08, 0) | np.where(has_rate, 0x04, 0)
    items: list[tuple[U8, NDArray[np.bool_]]] = [
        (fspec[:, :2], ones),
        (fspec[:, 2:], fspec3),
        (np.tile(np.array([source.sac, source.sic], dtype=np.uint8), (n, 1)), ones),  # 010
        (np.tile(be_bytes(np.array([tod]), 3), (n, 1)), ones),  # 070
        (np.hstack([be_bytes(scaled(lat, LATLON_LSB_DEG, 32), 4),
                    be_bytes(scaled(lon, LATLON_LSB_DEG, 32), 4)]), ones),  # 105
        (np.hstack([be_bytes(vx, 2), be_bytes(vy, 2)]), has_vel),  # 185
        (be_bytes(squawk & 0o7777, 2), has_squawk),  # 060
        (ident, has_ident),  # 245
        (np.hstack([np.full((n, 1), 0x80, dtype=np.uint8), be_bytes(icao, 3)]),
         has_icao),  # 380/ADR
        (be_bytes(track_no, 2), ones),  # 040
        (status1, ones),  # 080, first octet
        (status_ext, coasting),  # 080, extensions up to CST
        (be_bytes(fl, 2), has_alt),  # 136
        (be_bytes(fl & 0x7FFF, 2), has_alt),  # 135 (QNH = 0)
        (be_bytes(scaled(vr_fpm, RATE_LSB_FPM, 16), 2), has_rate),  # 220
    ]  # fmt: skip
    return pack_records(items, n, CATEGORY, max_block_bytes)
