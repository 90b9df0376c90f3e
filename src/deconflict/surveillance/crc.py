"""Mode S CRC-24 (generator 0x1FFF409), vectorised over frames; no physical units (bits, bytes).

``residual(frames)`` divides each whole frame (data + 24-bit parity) by the generator: 0 for an
intact DF17/18 squitter, the interrogator identifier for DF11, and the transponder's 24-bit
address for the address/parity replies (DF0/4/5/16/20/21).
"""

from __future__ import annotations

from typing import Final

import numpy as np

GENERATOR: Final = 0xFFF409


def _table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint32)
    for byte in range(256):
        crc = byte << 16
        for _ in range(8):
            crc = ((crc << 1) ^ GENERATOR) if crc & 0x800000 else (crc << 1)
        table[byte] = crc & 0xFFFFFF
    return table


TABLE: Final = _table()


def residual(frames: np.ndarray) -> np.ndarray:
    """CRC residual of each row of ``frames`` (uint8, shape (n, 7) or (n, 14)) as uint32.

    The last three bytes of each row are the parity field; the result is the CRC of the data bytes
    XOR the parity, which is what the standard calls AP/PI residual.
    """
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim != 2 or frames.shape[1] < 4:
        raise ValueError("frames must be a 2-D uint8 array of whole Mode S frames")
    crc = np.zeros(frames.shape[0], dtype=np.uint32)
    for k in range(frames.shape[1] - 3):
        index = ((crc >> 16) ^ frames[:, k]) & 0xFF
        crc = ((crc << 8) & 0xFFFFFF) ^ TABLE[index]
    parity = (
        (frames[:, -3].astype(np.uint32) << 16)
        | (frames[:, -2].astype(np.uint32) << 8)
        | frames[:, -1].astype(np.uint32)
    )
    return crc ^ parity
