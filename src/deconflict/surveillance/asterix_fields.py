"""Vectorised ASTERIX item fields for the encoders (``cat048_out``, ``cat062_out``): big-endian
integers, scaled signed values, 24-bit addresses, Mode 3/A codes, ICAO 6-bit characters, and the
packing of records into data blocks. No physical units here: the callers scale to each item's LSB.

A data block is ``CAT (1 byte) | LEN (2 bytes, big endian, whole block) | record | record ...``;
``pack_records`` scatters each item's bytes (one row per record, present or not) into one buffer
of records and cuts it greedily into blocks of at most ``max_block_bytes``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

from deconflict.errors import InputError

U8 = NDArray[np.uint8]

#: ICAO's 6-bit character set (Annex 10): index = code, "#" = not allowed
SIXBIT: Final = "#ABCDEFGHIJKLMNOPQRSTUVWXYZ##### ###############0123456789######"
_SIXBIT_OF: Final = np.full(128, 32, dtype=np.int64)  # code point -> 6-bit code (else space)
for _k, _c in enumerate(SIXBIT):
    if _c != "#":
        _SIXBIT_OF[ord(_c)] = _k

_HEX: Final = np.full(128, -1, dtype=np.int64)
for _k, _c in enumerate("0123456789abcdef"):
    _HEX[ord(_c)] = _HEX[ord(_c.upper())] = _k


def be_bytes(values: NDArray[np.int64], nbytes: int) -> U8:
    """Big-endian two's-complement bytes, one row per value."""
    v = values.astype(np.int64) & ((1 << (8 * nbytes)) - 1)
    shifts = np.arange(8 * (nbytes - 1), -1, -8, dtype=np.int64)
    return ((v[:, None] >> shifts[None, :]) & 0xFF).astype(np.uint8)


def scaled(value: NDArray[np.float64], lsb: float, bits: int) -> NDArray[np.int64]:
    """``value / lsb`` rounded and clipped to a signed field of ``bits`` bits (NaN: 0)."""
    lim = (1 << (bits - 1)) - 1
    q = np.rint(np.nan_to_num(value / lsb, nan=0.0, posinf=lim, neginf=-lim))
    return np.clip(q, -lim - 1, lim).astype(np.int64)


def codepoints(text: NDArray[np.str_], width: int) -> NDArray[np.uint32]:
    """(n, width) code points of the strings, cut or padded with NUL to ``width``."""
    fixed = np.ascontiguousarray(text.astype(f"<U{width}"))
    return np.frombuffer(fixed.tobytes(), dtype=np.uint32).reshape(text.size, width)


def hex24(text: NDArray[np.str_]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """24-bit addresses from hex strings, and where one was valid."""
    cps = codepoints(text, 6)
    digits = _HEX[np.minimum(cps, 127)]
    ok = (np.char.str_len(text) == 6) & (cps < 128).all(axis=1) & (digits >= 0).all(axis=1)
    weights = 1 << np.arange(20, -1, -4, dtype=np.int64)
    return np.where(ok, np.maximum(digits, 0) @ weights, 0), ok


def squawk_codes(text: NDArray[np.str_]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Mode 3/A codes from four octal digits, and where one was valid."""
    length = np.char.str_len(text)
    ok = (length > 0) & (length <= 4)
    if not ok.any():
        return np.zeros(text.size, dtype=np.int64), ok
    values = codepoints(np.char.zfill(text.astype("<U4"), 4), 4).astype(np.int64) - ord("0")
    octal = (values >= 0) & (values <= 7)
    ok &= octal.all(axis=1)
    values = np.where(octal, values, 0)
    codes = ((values[:, 0] * 8 + values[:, 1]) * 8 + values[:, 2]) * 8 + values[:, 3]
    return codes, ok


def sixbit48(callsign: NDArray[np.str_]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Eight ICAO 6-bit characters packed in 48 bits (a space past the end or beyond the set),
    and where a callsign was."""
    ords = codepoints(np.char.upper(callsign), 8)
    codes = _SIXBIT_OF[np.minimum(ords, 127)]
    codes[(ords >= 128) | (ords == 0)] = 32
    packed = np.zeros(callsign.size, dtype=np.int64)
    for k in range(8):
        packed = (packed << 6) | codes[:, k]
    return packed, np.char.str_len(callsign) > 0


def pack_records(
    items: list[tuple[U8, NDArray[np.bool_]]], n: int, category: int, max_block_bytes: int
) -> list[bytes]:
    """Scatter each item's bytes into one buffer of records, then cut it into data blocks."""
    if max_block_bytes < 64 or max_block_bytes > 65535:
        raise InputError(f"max_block_bytes {max_block_bytes}: use 64-65535 (a block's LEN field)")
    sizes = np.zeros(n, dtype=np.int64)
    for data, present in items:
        sizes += data.shape[1] * present
    ends = np.cumsum(sizes)
    starts = ends - sizes
    buf = np.zeros(int(ends[-1]), dtype=np.uint8)
    at = starts.copy()
    for data, present in items:
        width = data.shape[1]
        idx = np.flatnonzero(present)
        buf[at[idx, None] + np.arange(width)[None, :]] = data[idx]
        at += width * present
    if int(sizes.max()) + 3 > max_block_bytes:
        raise InputError(f"a record of {int(sizes.max())} bytes does not fit a block of "
                         f"{max_block_bytes}: raise max_block_bytes")  # fmt: skip
    blocks: list[bytes] = []
    first = 0
    while first < n:
        limit = int(starts[first]) + max_block_bytes - 3
        last = int(np.searchsorted(ends, limit, side="right"))  # records [first, last)
        body = buf[int(starts[first]) : int(ends[last - 1])].tobytes()
        blocks.append(bytes([category]) + (len(body) + 3).to_bytes(2, "big") + body)
        first = last
    return blocks
