"""Mode S frame checks and the fields at fixed bit positions, read vectorised from the bits.

What ``deconflict.surveillance.modes`` (the stream decoder) reads without rs1090, and the step
that turns rs1090's message dicts into a report table (``messages_to_reports``).

Wire layout (ICAO Annex 10 vol. IV), as read here: frames are hex strings of 7 or 14 bytes, taken
into a zero-padded (n, 14) byte matrix. Byte 0 bits 1-5: the downlink format (DF; DF24 uses only
its first two bits). The last 24 bits: parity (CRC-24 residual, ``deconflict.surveillance.crc``).
Bits 9-32: the 24-bit address (AA) of DF11/17/18; for DF0/4/5/16/20/21 the address is the parity
residual (AP). Bits 20-32: the 13-bit AC (altitude) or ID (Mode A) field of DF0/4/5/16/20/21.
Bits 33-37: the ADS-B type code (first 5 ME bits) of DF17/18; bit 54: the CPR format (odd) bit.

- 13-bit AC field (``altitude_ac13_ft``), MSB first: C1 A1 C2 A2 C4 A4 M B1 Q B2 D2 B4 D4; with
  M = 0 and Q = 1 the altitude is 25 N - 1000 ft (N the 11 other bits); Gillham (Q = 0) and
  metric (M = 1) codes are left to rs1090.
- 13-bit ID field (``squawk_id13``), MSB first: C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4.
- NUCp of each ADS-B position type code (DO-260: TC 5-8 surface, 9-18 baro, 20-22 GNSS) to
  ``accuracy_m`` (1-sigma, m) through its 95 % containment radius (``NUCP_RC_M``).

Checks (``check_frames``), each an error record of its own kind: ``bad-hex`` (not hexadecimal),
``bad-length`` (neither 7 nor 14 bytes), ``truncated`` (7 bytes of a 112-bit format), ``bad-crc``
(DF11/17/18 parity mismatch). A 14-byte frame of a 56-bit format is accepted (counted as
``trimmed``): recorders often pad short replies.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import repeat
from typing import Any, Final, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

from deconflict.surveillance.base import DecodeOptions, ErrorLog
from deconflict.surveillance.crc import residual

_HEX: Final = re.compile(r"[0-9a-fA-F]*")
#: Downlink formats rs1090 decodes into reports.
KNOWN_DF: Final = frozenset({0, 4, 5, 11, 16, 17, 18, 20, 21})
#: 95 % horizontal containment radius (m) for each NUCp (DO-260), used for ``accuracy_m``.
NUCP_RC_M: Final[dict[int, float]] = {
    9: 3.0,
    8: 10.0,
    7: 185.2,
    6: 463.0,
    5: 926.0,
    4: 1852.0,
    3: 9260.0,
    2: 18520.0,
}
#: A 95 % radius over this factor is the 1-sigma of a circular normal error (Rayleigh).
RAYLEIGH_95: Final = 2.4477


def _to_matrix(frames: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hex strings to a (n, 14) uint8 matrix (zero padded) and the byte length of each (-1 where
    the text is not hexadecimal). One C-level pass per frame length (14 and 28 digits) when
    those frames are clean; frame by frame only for the rest."""
    n = len(frames)
    matrix = np.zeros((n, 14), dtype=np.uint8)
    nbytes = np.full(n, -1, dtype=np.int64)
    lengths = np.fromiter(map(len, frames), dtype=np.int64, count=n)
    for digits in (14, 28):
        at = np.flatnonzero(lengths == digits)
        if not len(at):
            continue
        group = frames if len(at) == n else [frames[i] for i in at]
        try:
            flat = np.frombuffer(bytes.fromhex("".join(group)), dtype=np.uint8)
        except ValueError:
            continue  # some frame of this length is not hex: frame by frame below
        if flat.size != len(at) * (digits // 2):  # fromhex skipped white space inside one
            continue
        matrix[at, : digits // 2] = flat.reshape(len(at), digits // 2)
        nbytes[at] = digits // 2
    for i in np.flatnonzero(nbytes < 0):
        text = frames[i]
        if len(text) % 2 or not _HEX.fullmatch(text):
            continue
        raw = bytes.fromhex(text)
        nbytes[i] = len(raw)
        raw = raw[:14]
        matrix[i, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return matrix, nbytes


class Checked(NamedTuple):
    """What ``check_frames`` learns from the bits of each frame, before rs1090 decodes it."""

    ok: np.ndarray  # bool: frame passes the checks
    df: np.ndarray  # downlink format
    address: np.ndarray  # 24-bit address: AA field (DF11/17/18) or CRC residual (AP)
    field13: np.ndarray  # 13-bit AC/ID field (bits 20-32) of DF0/4/5/16/20/21
    tc: np.ndarray  # ADS-B type code (first 5 ME bits) of DF17/18
    odd: np.ndarray  # CPR format bit (ME bit 22) of DF17/18 position messages


def check_frames(frames: list[str], errors: ErrorLog, counts: Counter[str]) -> Checked:
    """Validate hex frames and read their fixed-position fields (see ``Checked``).

    Records one error for each rejected frame (see the module docstring for the kinds).
    """
    matrix, nbytes = _to_matrix(frames)
    df = (matrix[:, 0] >> 3).astype(np.int64)
    df = np.where(df >= 24, 24, df)  # DF24 (ELM) uses only its first two bits
    need = np.where(df >= 16, 14, 7)  # frame length in bytes: 7 below DF16, else 14
    ok = nbytes >= 0
    for i in np.flatnonzero(~ok):
        errors.add(i, "bad-hex", "frame is not an even number of hex digits", frames[i])
    bad_len = ok & (nbytes != 7) & (nbytes != 14)
    for i in np.flatnonzero(bad_len):
        errors.add(i, "bad-length", f"{nbytes[i]} bytes: a Mode S frame has 7 or 14", frames[i])
    short = ok & ~bad_len & (nbytes < need)
    for i in np.flatnonzero(short):
        errors.add(i, "truncated", f"DF{df[i]} needs 14 bytes, got {nbytes[i]}", frames[i])
    ok &= ~bad_len & ~short
    counts["trimmed"] += int((ok & (nbytes > need)).sum())
    long_ = ok & (need == 14)
    res = np.zeros(len(frames), dtype=np.uint32)
    if long_.any():
        res[long_] = residual(matrix[long_, :14])
    short_ = ok & (need == 7)
    if short_.any():
        res[short_] = residual(matrix[short_, :7])
    squitter = ok & ((df == 17) | (df == 18))
    bad_crc = squitter & (res != 0)
    bad_crc |= ok & (df == 11) & ((res & 0xFFFF80) != 0)
    for i in np.flatnonzero(bad_crc):
        errors.add(i, "bad-crc", f"DF{df[i]} parity residual {res[i]:06x}, not 0", frames[i])
    ok &= ~bad_crc
    announced = (df == 11) | (df == 17) | (df == 18)
    aa = (
        (matrix[:, 1].astype(np.uint32) << 16)
        | (matrix[:, 2].astype(np.uint32) << 8)
        | matrix[:, 3].astype(np.uint32)
    )
    field13 = ((matrix[:, 2].astype(np.int64) & 0x1F) << 8) | matrix[:, 3]
    odd = (matrix[:, 6] >> 2) & 1
    return Checked(ok, df, np.where(announced, aa, res), field13, matrix[:, 4] >> 3, odd)


def _column(messages: list[dict[str, Any]], key: str) -> list[Any]:
    return list(map(dict.get, messages, repeat(key)))


def _floats(n: int, at: np.ndarray, values: list[Any]) -> np.ndarray:
    out = np.full(n, np.nan)
    if len(at):
        out[at] = np.array(values, dtype=np.float64)  # None becomes NaN
    return out


_HEX_DIGITS: Final = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLES: Final = np.array([20, 16, 12, 8, 4, 0], dtype=np.uint32)


def hex24(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """24-bit integers as 6 lowercase hex digits, vectorised (a "string" array)."""
    digits = _HEX_DIGITS[(np.asarray(values, dtype=np.uint32)[:, None] >> _NIBBLES) & 0xF]
    fixed = np.ascontiguousarray(digits).view("S6").ravel()
    return pd.arrays.ArrowStringArray(pa.array(fixed).cast(pa.large_string()))


def _strings(values: list[Any] | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A pandas "string" array built through pyarrow (much cheaper than ``pd.array``)."""
    seq = values.tolist() if isinstance(values, np.ndarray) else values
    return pd.arrays.ArrowStringArray(pa.array(seq, type=pa.large_string()))


def altitude_ac13_ft(field13: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Altitude (ft) of 13-bit AC fields in 25 ft steps (Q bit set, M bit clear), vectorised.

    Layout, MSB first: C1 A1 C2 A2 C4 A4 M B1 Q B2 D2 B4 D4; with M = 0 and Q = 1 the 11 other
    bits are N and the altitude is 25 N - 1000 ft. Returns (altitude, done): a field of 0 means
    no altitude (NaN, done); ``done`` is False where the field is a Gillham (Q = 0) or metric
    (M = 1) code, which is left to rs1090."""
    f = np.asarray(field13, dtype=np.int64)
    m_bit = (f >> 6) & 1
    q_bit = (f >> 4) & 1
    n = ((f >> 7) << 5) | (((f >> 5) & 1) << 4) | (f & 0xF)
    simple = (m_bit == 0) & (q_bit == 1)
    alt = np.where(simple, n * 25.0 - 1000.0, np.nan)
    return alt, simple | (f == 0)


def squawk_id13(field13: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Mode A codes (4 octal digits, text) of 13-bit ID fields, vectorised.

    Layout, MSB first: C1 A1 C2 A2 C4 A4 X B1 D1 B2 D2 B4 D4 (bit 12 down to bit 0)."""
    f = np.asarray(field13, dtype=np.int64)

    def digit(b4: int, b2: int, b1: int) -> np.ndarray:
        return np.asarray(((f >> b4) & 1) * 4 + ((f >> b2) & 1) * 2 + ((f >> b1) & 1))

    digits = np.stack([digit(7, 9, 11), digit(1, 3, 5), digit(8, 10, 12), digit(0, 2, 4)], 1)
    text = np.ascontiguousarray((digits + 48).astype(np.uint8)).view("S4").ravel()
    return pd.arrays.ArrowStringArray(pa.array(text).cast(pa.large_string()))


#: NUCp of each ADS-B position type code (DO-260: TC 5-8 surface, 9-18 baro, 20-22 GNSS).
_NUCP_OF_TC: Final = np.array(
    [0, 0, 0, 0, 0, 9, 8, 7, 6, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 9, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
)
_RC_OF_NUCP: Final = np.array([NUCP_RC_M.get(k, np.nan) / RAYLEIGH_95 for k in range(10)])


def messages_to_reports(
    messages: list[dict[str, Any]],
    checked: Checked,
    times_ns: np.ndarray,
    options: DecodeOptions,
    source: str,
) -> tuple[pd.DataFrame, np.ndarray]:
    """rs1090 message dicts (one per report) and the bit fields of the same frames
    (``checked``, from ``check_frames``) to a report table.

    What sits at fixed bit positions is read vectorised from the frames: the address, the
    DF0/4/16/20 altitude (25 ft codes; Gillham codes are rs1090's), the DF5/21 squawk, the ADS-B
    type code (which message kind, barometric or GNSS altitude, NUCp). From rs1090's dicts only
    the keys each message kind carries are read (CPR-decoded positions, velocities, callsigns,
    Comm-B registers), which keeps this step cheap beside rs1090 itself (see
    bench/decode_throughput.py). Also returns the rows of position messages, in order.
    """
    n = len(messages)
    df, tc = checked.df, checked.tc.astype(np.int64)
    squitter = (df == 17) | (df == 18)
    kinds = {
        "05": np.flatnonzero(squitter & (((tc >= 9) & (tc <= 18)) | ((tc >= 20) & (tc <= 22)))),
        "06": np.flatnonzero(squitter & (tc >= 5) & (tc <= 8)),
        "08": np.flatnonzero(squitter & (tc >= 1) & (tc <= 4)),
        "09": np.flatnonzero(squitter & (tc == 19)),
    }
    sub = {code: [messages[i] for i in at] for code, at in kinds.items()}
    alt_at = np.flatnonzero(np.isin(df, (0, 4, 16, 20)))
    id_at = np.flatnonzero((df == 5) | (df == 21))

    baro = kinds["05"][tc[kinds["05"]] <= 18]  # TC 20-22 carry GNSS height, not pressure altitude
    altitude = _floats(n, baro, _column([messages[i] for i in baro], "altitude"))
    coded, done = altitude_ac13_ft(checked.field13[alt_at])
    altitude[alt_at] = coded
    hard = alt_at[~done]
    altitude[hard] = _floats(
        len(hard), np.arange(len(hard)), _column([messages[i] for i in hard], "altitude")
    )
    callsign = np.full(n, None, dtype=object)
    callsign[kinds["08"]] = _column(sub["08"], "callsign")
    moving = np.concatenate([kinds["06"], kinds["09"]])
    moving_msgs = sub["06"] + sub["09"]
    groundspeed = _floats(n, moving, _column(moving_msgs, "groundspeed"))
    track = _floats(n, moving, _column(moving_msgs, "track"))
    placed = np.concatenate([kinds["05"], kinds["06"]])
    placed_msgs = sub["05"] + sub["06"]
    for i in np.flatnonzero((df == 20) | (df == 21)):  # Comm-B: BDS 2,0 and unambiguous 5,0
        m = messages[i]
        if "bds20" in m:
            callsign[i] = m["bds20"].get("callsign")
        if "bds50" in m and "bds60" not in m:
            speed, angle = m["bds50"].get("groundspeed"), m["bds50"].get("track")
            groundspeed[i] = np.nan if speed is None else speed
            track[i] = np.nan if angle is None else angle
    accuracy = np.full(n, np.nan)
    accuracy[placed] = _RC_OF_NUCP[_NUCP_OF_TC[tc[placed]]]
    squawk = np.full(n, None, dtype=object)
    squawk[id_at] = np.asarray(squawk_id13(checked.field13[id_at]), dtype=object)
    table = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(times_ns.astype("datetime64[ns]"), tz="UTC"),
            "party": _strings([options.party] * n),
            "sensor": _strings([options.sensor] * n),
            "source": _strings([source] * n),
            "icao24": hex24(checked.address),
            "callsign": _strings(callsign),
            "squawk": _strings(squawk),
            "track_number": pd.arrays.IntegerArray(
                np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
            ),
            "latitude": _floats(n, placed, _column(placed_msgs, "latitude")),
            "longitude": _floats(n, placed, _column(placed_msgs, "longitude")),
            "altitude": altitude,
            "groundspeed": groundspeed,
            "track": track,
            "vertical_rate": _floats(n, kinds["09"], _column(sub["09"], "vertical_rate")),
            "accuracy_m": accuracy,
        }
    )
    return table, np.sort(placed)
