"""The live picture as one binary WebSocket frame: a JSON head and the track table in columns.

The JSON encoding of a 10,000-track picture is ~0.8 MB and takes tens of milliseconds to
build; this frame is about a third of the bytes and is built in a few milliseconds (numpy
writes the numbers; the strings are joined once). Layout (little-endian)::

    0   b"DCPB"                   magic
    4   uint32 head_len           bytes of the head
    8   head (UTF-8 JSON, padded)  {"type": "picture", "seq", "tick_wall_s", ..., "n",
                                   "columns": [{"name", "type", "offset", "bytes", ...}], ...}
    8 + head_len              the columns, each ``offset`` bytes further (multiples of 8)

Column types: ``f32`` (n float32, NaN where unknown), ``dict8`` (n uint8 codes into the
column's ``values``), ``str`` (the n strings in UTF-8 joined by U+001F). The head holds every
other field of the picture message (party, time_s, alerts, requests, messages, incidents), so
``decode_frame`` gives back the same message as the JSON encoding, numbers as float32.

What the WebSocket sends is that frame compressed (``compress_frame``, magic ``DCPZ``): a small
uncompressed JSON head (type, seq, tick_wall_s, party) and then the zlib-compressed ``DCPB``
frame.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
import pandas as pd
from isal import isal_zlib
from numpy.typing import NDArray

from deconflict.errors import DeconflictError

MAGIC = b"DCPB"
ZMAGIC = b"DCPZ"
SEP = "\x1f"
NUMERIC = ("latitude", "longitude", "altitude", "groundspeed", "track", "vertical_rate")
# the info panel's (``GET /v1/live/track`` on an instance beside the engine process): seconds
# before the picture's time_s (float32 holds an age to the millisecond, not a Unix time)
AGES = ("first_seen_ago_s", "last_update_ago_s")
CODED = ("owner", "identity", "status", "sensors")  # sensors: names joined by SENSOR_SEP
TEXT = ("key", "label", "icao24", "squawk", "callsign")  # icao24, squawk: the map's search
PANEL = ("status", "sensors", "callsign", *AGES)  # not in the JSON picture message
SENSOR_SEP = ","


def _pad(n: int) -> int:
    return (-n) % 8


def strings(col: pd.Series) -> list[str]:
    """A column as text, missing values as empty strings."""
    return _text(col.to_numpy(dtype=object))


def _text(values: NDArray[Any]) -> list[str]:
    """An object array as text: missing values (None, NaN, NA) empty, others ``str``."""
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = ""
    out: list[Any] = values.tolist()
    if all(type(v) is str for v in out):
        return out
    return [str(v) for v in out]


def _joined(values: NDArray[Any]) -> bytes:
    """The strings of an object array joined by SEP, as UTF-8 (missing values empty; a SEP
    inside a value becomes a space)."""
    n = len(values)
    try:  # the usual case: every value text already, joined in one pass
        text = SEP.join(values.tolist())
    except TypeError:  # a missing value (None, NaN, NA) or a number
        text = SEP.join(_text(values))
    if n > 1 and text.count(SEP) != n - 1:  # a value holds SEP
        text = SEP.join(s.replace(SEP, " ") for s in _text(values))
    return text.encode()


def dumps(value: Any) -> bytes:
    """JSON of ``value`` (orjson: numpy numbers as numbers, NaN and infinities as null)."""
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def encode_frame(
    head: dict[str, Any],
    frame: pd.DataFrame,
    extra: Mapping[str, NDArray[Any]] | None = None,
) -> bytes:
    """The binary picture frame: ``head`` (JSON-safe fields, first ones first) and the track
    columns of ``frame`` and of ``extra`` (columns beside the frame's, one value per row)."""
    n = len(frame)
    more = dict(extra or {})

    def column(name: str, dtype: Any) -> NDArray[Any] | None:
        if name in more:
            return np.asarray(more[name], dtype=dtype)
        if name not in frame.columns:
            return None
        col = frame[name]
        if dtype is object or (isinstance(col.dtype, np.dtype) and col.dtype.kind == "f"):
            return col.to_numpy(dtype=dtype)  # missing values: None, NaN, NA, as they are
        return col.to_numpy(dtype=float, na_value=np.nan)

    blocks: list[bytes] = []
    columns: list[dict[str, Any]] = []
    for name in (*NUMERIC, *AGES):
        arr = column(name, float)
        if arr is None:
            continue
        arr = np.where(np.isfinite(arr), arr, np.nan).astype("<f4")
        blocks.append(arr.tobytes())
        columns.append({"name": name, "type": "f32"})
    for name in CODED:
        values = column(name, object)
        if values is None:
            continue
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        missing = bool((codes < 0).any())
        if len(uniques) + missing <= 256:  # a missing value: the empty string, coded last
            if missing:
                uniques = np.append(uniques.astype(object), "")
                codes = np.where(codes < 0, len(uniques) - 1, codes)
            blocks.append(codes.astype(np.uint8).tobytes())
            columns.append({"name": name, "type": "dict8", "values": _text(np.asarray(uniques))})
        else:
            blocks.append(_joined(values))
            columns.append({"name": name, "type": "str"})
    for name in TEXT:
        values = column(name, object)
        if values is None:
            continue
        blocks.append(_joined(values))
        columns.append({"name": name, "type": "str"})
    offset = 0
    for c, b in zip(columns, blocks, strict=True):
        c["offset"], c["bytes"] = offset, len(b)
        offset += len(b) + _pad(len(b))
    raw = dumps({**head, "n": n, "columns": columns})
    raw += b" " * _pad(8 + len(raw))  # the columns start on a multiple of 8
    parts = [MAGIC, struct.pack("<I", len(raw)), raw]
    for b in blocks:
        parts.append(b)
        parts.append(b"\0" * _pad(len(b)))
    return b"".join(parts)


def compress_frame(frame: bytes, head: dict[str, Any], level: int = 1) -> bytes:
    """A ``DCPZ`` frame: ``head`` (a few small fields, readable without inflating) and the
    whole ``DCPB`` frame in the zlib format (the browser's ``DecompressionStream("deflate")``,
    Python's ``zlib.decompress``), compressed once per party and tick, what per-message deflate
    could not do. The compressor is Intel's ISA-L (``isal``, level 1): about 2.1 ms of CPU for a
    10,000-aircraft tick's three frames where the standard library's zlib at level 1 takes 13.8
    ms, for 7 % more bytes (``bench/picture_frame_cost.py``); both without the GIL."""
    raw = dumps(head)
    raw += b" " * _pad(8 + len(raw))
    body = isal_zlib.compress(frame, level)
    return b"".join([ZMAGIC, struct.pack("<I", len(raw)), raw, body])


def decode_frame(data: bytes) -> dict[str, Any]:
    """The picture message of a frame (what the map page's decoder does; for tests and tools):
    the head's fields and ``tracks`` as lists (None where unknown)."""
    if data[:4] == ZMAGIC:
        (head_len,) = struct.unpack_from("<I", data, 4)
        data = zlib.decompress(data[8 + head_len :])
    if data[:4] != MAGIC:
        raise DeconflictError("not a picture frame (no DCPB or DCPZ magic): is it JSON text?")
    (head_len,) = struct.unpack_from("<I", data, 4)
    head: dict[str, Any] = json.loads(data[8 : 8 + head_len])
    base = 8 + head_len
    n = int(head.pop("n"))
    tracks: dict[str, list[Any]] = {}
    for c in head.pop("columns"):
        off, size = base + int(c["offset"]), int(c["bytes"])
        if c["type"] == "f32":
            arr = np.frombuffer(data, dtype="<f4", count=n, offset=off).astype(float)
            tracks[c["name"]] = [None if not np.isfinite(v) else float(v) for v in arr]
        elif c["type"] == "dict8":
            codes = np.frombuffer(data, dtype=np.uint8, count=n, offset=off)
            tracks[c["name"]] = [c["values"][k] for k in codes]
        else:
            text = data[off : off + size].decode()
            tracks[c["name"]] = text.split(SEP) if n else []
    head["tracks"] = tracks
    return head
