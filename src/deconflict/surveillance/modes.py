"""Mode S / ADS-B frames (hex strings) to reports, through rs1090's batch decoder.

Units at the output edge: altitude ft (barometric), groundspeed kt, track deg true, vertical_rate
ft/min, latitude/longitude deg WGS84, accuracy_m metres (1-sigma), times UTC.

Wire layout (ICAO Annex 10 vol. IV): a frame is 56 bits (DF0/4/5/11) or 112 bits (DF16-24);
the first 5 bits are the downlink format (DF). The last 24 bits are parity: for DF17/18
(extended squitter) and DF11 (all-call) they are a plain CRC-24 (residual 0, or the interrogator
id for DF11); for DF0/4/5/16/20/21 they are the CRC XOR'ed with the transponder address (AP).

- DF0/16 (ACAS), DF4/20 (surveillance/Comm-B altitude reply): 13-bit altitude code at bits 20-32.
- DF5/21 (identity reply): 13-bit Mode A code (squawk) at bits 20-32.
- DF20/21 also carry a 56-bit Comm-B register (BDS 2,0 callsign; BDS 5,0 track and turn;
  BDS 6,0 heading and speed); registers are inferred, not addressed, so an ambiguous one is ignored.
- DF17/18: 24-bit address (bits 9-32) and a 56-bit ME field whose first 5 bits are the type code:
  TC 1-4 identification (callsign), TC 5-8 surface position, TC 9-18 airborne position with
  barometric altitude (20-22 with GNSS height), TC 19 airborne velocity. Positions are CPR
  encoded: an even/odd pair less than 10 s apart decodes globally; a single message decodes
  locally against a reference (the receiver, or the aircraft's last known position).

Every frame that passes the checks below yields one report (at least ``icao24``; ``altitude`` or
``squawk`` when the frame carries them). Checks, each an error record of its own kind:
``bad-hex`` (not hexadecimal), ``bad-length`` (neither 7 nor 14 bytes), ``truncated`` (7 bytes
of a 112-bit format), ``bad-crc`` (DF11/17/18 parity mismatch), ``undecodable`` (rs1090 refused).
A 14-byte frame of a 56-bit format is accepted (``trimmed``): recorders often pad short replies.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from itertools import repeat
from typing import Any, Final, cast

import numpy as np
import pandas as pd
import rs1090

from deconflict.errors import DecodeError
from deconflict.surveillance.base import (
    DecodeOptions,
    DecodeResult,
    ErrorLog,
    check_time_order,
    make_result,
    report_from_row,
)
from deconflict.surveillance.crc import residual
from deconflict.surveillance.report import Report

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


def frame_bytes(df: int) -> int:
    """Length in bytes of a frame of downlink format ``df`` (7 below DF16, else 14)."""
    return 14 if df >= 16 else 7


def _to_matrix(frames: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hex strings to a (n, 14) uint8 matrix (zero padded) and the byte length of each (-1 where
    the text is not hexadecimal). One C-level pass when every frame is clean."""
    n = len(frames)
    lengths = {len(f) for f in frames}
    if len(lengths) == 1 and lengths <= {14, 28}:
        width = lengths.pop() // 2
        try:
            flat = np.frombuffer(bytes.fromhex("".join(frames)), dtype=np.uint8)
        except ValueError:
            pass
        else:
            matrix = np.zeros((n, 14), dtype=np.uint8)
            matrix[:, :width] = flat.reshape(n, width)
            return matrix, np.full(n, width, dtype=np.int64)
    matrix = np.zeros((n, 14), dtype=np.uint8)
    nbytes = np.full(n, -1, dtype=np.int64)
    for i, text in enumerate(frames):
        if len(text) % 2 or not _HEX.fullmatch(text):
            continue
        raw = bytes.fromhex(text)
        nbytes[i] = len(raw)
        raw = raw[:14]
        matrix[i, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return matrix, nbytes


def check_frames(
    frames: list[str], errors: ErrorLog, counts: Counter[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Validate hex frames; returns (mask of frames to decode, downlink format of each).

    Records one error for each rejected frame (see the module docstring for the kinds).
    """
    matrix, nbytes = _to_matrix(frames)
    df = (matrix[:, 0] >> 3).astype(np.int64)
    df = np.where(df >= 24, 24, df)  # DF24 (ELM) uses only its first two bits
    need = np.where(df >= 16, 14, 7)
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
    return ok, df


def _accuracy(nucp: list[Any]) -> np.ndarray:
    return np.array(
        [NUCP_RC_M.get(v, np.nan) / RAYLEIGH_95 if v is not None else np.nan for v in nucp],
        dtype=np.float64,
    )


def _column(messages: list[dict[str, Any]], key: str) -> list[Any]:
    return list(map(dict.get, messages, repeat(key)))


def _floats(n: int, at: np.ndarray, values: list[Any]) -> np.ndarray:
    out = np.full(n, np.nan)
    if len(at):
        out[at] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    return out


def _strings(n: int, at: np.ndarray, values: list[Any]) -> pd.api.extensions.ExtensionArray:
    out = np.full(n, None, dtype=object)
    out[at] = values
    return pd.array(out, dtype="string")


def messages_to_reports(
    messages: list[dict[str, Any]],
    df: np.ndarray,
    times_ns: np.ndarray,
    options: DecodeOptions,
    source: str,
) -> pd.DataFrame:
    """rs1090 message dicts (one per report, downlink format ``df`` of each) to a report table.

    Only the keys each downlink format can carry are read, which keeps this step cheap beside
    rs1090 itself (see bench/decode_throughput.py).
    """
    n = len(messages)
    squitter = np.flatnonzero((df == 17) | (df == 18))
    alt_at = np.flatnonzero(np.isin(df, (0, 4, 16, 20)))
    id_at = np.flatnonzero((df == 5) | (df == 21))
    es = [messages[i] for i in squitter]
    alt_es = _column(es, "altitude")
    gnss = [s is not None and s != "barometric" for s in _column(es, "source")]
    alt_es = [None if g else a for a, g in zip(alt_es, gnss, strict=True)]
    altitude = _floats(n, squitter, alt_es)
    altitude[alt_at] = _floats(
        len(alt_at), np.arange(len(alt_at)), _column([messages[i] for i in alt_at], "altitude")
    )
    callsign = np.full(n, None, dtype=object)
    callsign[squitter] = _column(es, "callsign")
    groundspeed = _floats(n, squitter, _column(es, "groundspeed"))
    track = _floats(n, squitter, _column(es, "track"))
    for i in np.flatnonzero((df == 20) | (df == 21)):  # Comm-B: BDS 2,0 and unambiguous 5,0
        m = messages[i]
        if "bds20" in m:
            callsign[i] = m["bds20"].get("callsign")
        if "bds50" in m and "bds60" not in m:
            groundspeed[i] = (
                np.nan if m["bds50"].get("groundspeed") is None else m["bds50"]["groundspeed"]
            )
            track[i] = np.nan if m["bds50"].get("track") is None else m["bds50"]["track"]
    accuracy = np.full(n, np.nan)
    accuracy[squitter] = _accuracy(_column(es, "NUCp"))
    table = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(times_ns, utc=True),
            "party": pd.array(np.full(n, options.party, dtype=object), dtype="string"),
            "sensor": pd.array(np.full(n, options.sensor, dtype=object), dtype="string"),
            "source": pd.array(np.full(n, source, dtype=object), dtype="string"),
            "icao24": pd.array(_column(messages, "icao24"), dtype="string"),
            "callsign": pd.array(callsign, dtype="string"),
            "squawk": _strings(n, id_at, _column([messages[i] for i in id_at], "squawk")),
            "track_number": pd.array(np.full(n, None, dtype=object), dtype="Int64"),
            "latitude": _floats(n, squitter, _column(es, "latitude")),
            "longitude": _floats(n, squitter, _column(es, "longitude")),
            "altitude": altitude,
            "groundspeed": groundspeed,
            "track": track,
            "vertical_rate": _floats(n, squitter, _column(es, "vertical_rate")),
            "accuracy_m": accuracy,
        }
    )
    return table


#: Local CPR decoding is unambiguous within 180 NM of the reference; a last known position is
#: used as reference only if younger than this (at 600 kt an aircraft covers 100 NM).
LOCAL_REFERENCE_MAX_AGE_S: Final = 600.0
#: Global CPR decoding pairs an even and an odd message at most this far apart.
CPR_PAIR_MAX_S: Final = 10.0


def _local_positions(
    out: list[dict[str, Any]],
    squitter: np.ndarray,
    reference: tuple[float, float] | None,
    last: dict[str, tuple[float, float, float]],
) -> int:
    """Local CPR decoding of the positions the batch left undecoded (after a gap, before the
    next even/odd pair): against the aircraft's own last position (``last``: icao24 -> lat,
    lon, time s) if recent, else against the receiver ``reference``. Returns how many were
    filled in; updates ``last``."""
    filled = 0
    for k in squitter:
        m = out[k]
        if "lat_cpr" not in m:
            continue
        if m.get("latitude") is not None:
            last[m["icao24"]] = (m["latitude"], m["longitude"], m["timestamp"])
            continue
        seen = last.get(m["icao24"])
        if seen is not None and 0 <= m["timestamp"] - seen[2] < LOCAL_REFERENCE_MAX_AGE_S:
            ref: tuple[float, float] | None = (seen[0], seen[1])
        else:
            ref = reference
        if ref is None:
            continue
        single = rs1090.decode(m["frame"], reference=ref)
        if single.get("latitude") is not None:
            out[k] = {**m, "latitude": single["latitude"], "longitude": single["longitude"]}
            last[m["icao24"]] = (single["latitude"], single["longitude"], m["timestamp"])
            filled += 1
    return filled


def _rs1090_batch(
    frames: list[str], times_s: list[float], reference: tuple[float, float] | None
) -> list[dict[str, Any]]:
    if not frames:
        return []
    return cast(list[dict[str, Any]], rs1090.decode(frames, times_s, reference=reference))


def _align(sent: list[str], times: list[float], out: list[dict[str, Any]]) -> np.ndarray:
    """Index into ``sent`` of each rs1090 output (it drops the frames it cannot decode)."""
    if len(out) == len(sent):
        return np.arange(len(sent))
    index = np.empty(len(out), dtype=np.int64)
    j = 0
    for k, m in enumerate(out):
        while sent[j] != m["frame"] or times[j] != m["timestamp"]:
            j += 1
        index[k] = j
        j += 1
    return index


class ModeSDecoder:
    """Stateful Mode S decoder for a stream of batches: keeps, between calls, the last even and
    odd airborne position frame of each aircraft (so a CPR pair split across two batches still
    decodes globally) and each aircraft's last position (for local decoding)."""

    def __init__(self, options: DecodeOptions = DecodeOptions(), source: str = "modes") -> None:
        self.options = options
        self.source = source
        self.last: dict[str, tuple[float, float, float]] = {}
        self.carry: dict[tuple[str, str], tuple[str, float]] = {}  # (icao24, parity) -> frame

    def _carried(self, first_s: float) -> tuple[list[str], list[float]]:
        kept = sorted((t, f) for f, t in self.carry.values() if 0 <= first_s - t < CPR_PAIR_MAX_S)
        return [f for _, f in kept], [t for t, _ in kept]

    def _remember(self, out: list[dict[str, Any]], squitter: np.ndarray) -> None:
        for k in squitter:
            m = out[k]
            parity = m.get("parity")
            if parity is not None and "lat_cpr" in m and m.get("bds") == "05":
                self.carry[(m["icao24"], parity)] = (m["frame"], m["timestamp"])

    def decode(
        self, frames: Sequence[str], times_ns: np.ndarray, positions: np.ndarray | None = None
    ) -> DecodeResult:
        """Decode hex frames received at ``times_ns`` (int64 ns since the Unix epoch, UTC).

        ``positions`` (default: the frame index) is what error records cite, e.g. byte offsets.
        """
        frames = [f.strip().lower() for f in frames]
        times_ns = np.asarray(times_ns, dtype=np.int64)
        if len(times_ns) != len(frames):
            raise DecodeError(f"{len(frames)} frames but {len(times_ns)} timestamps: pass one each")
        errors = ErrorLog()
        counts: Counter[str] = Counter()
        ok, df = check_frames(frames, errors, counts)
        idx = np.flatnonzero(ok)
        sent = [frames[i] for i in idx]
        times_s = (times_ns[idx] / 1e9).tolist()
        pre_f, pre_t = self._carried(times_s[0]) if (self.carry and sent) else ([], [])
        out = _rs1090_batch(pre_f + sent, pre_t + times_s, self.options.reference)
        got = _align(pre_f + sent, pre_t + times_s, out)
        keep = got >= len(pre_f)
        out = [m for m, k in zip(out, keep, strict=True) if k]
        got = got[keep] - len(pre_f)
        lost = np.ones(len(sent), dtype=bool)
        lost[got] = False
        for k in np.flatnonzero(lost):
            i = idx[k]
            errors.add(int(i), "undecodable", f"DF{df[i]} frame not decodable", frames[i])
        decoded = idx[got]
        squitter = np.flatnonzero((df[decoded] == 17) | (df[decoded] == 18))
        counts["local_cpr"] = _local_positions(out, squitter, self.options.reference, self.last)
        self._remember(out, squitter)
        reports = messages_to_reports(
            out, df[decoded], times_ns[decoded], self.options, self.source
        )
        for value, number in zip(*np.unique(df[decoded], return_counts=True), strict=True):
            counts[f"df{value}"] = int(number)
        counts.update(check_time_order(times_ns[decoded] / 1e9, errors, positions=decoded))
        errors.relocate(np.arange(len(frames)) if positions is None else np.asarray(positions))
        return make_result(reports, errors, len(frames), counts)


def decode_frames(
    frames: Sequence[str],
    times_ns: np.ndarray,
    options: DecodeOptions = DecodeOptions(),
    *,
    source: str = "modes",
    positions: np.ndarray | None = None,
) -> DecodeResult:
    """Decode a batch of hex frames received at ``times_ns`` (int64 ns since the epoch, UTC)."""
    return ModeSDecoder(options, source).decode(frames, times_ns, positions)


def decode_message(
    frame: str,
    timestamp: pd.Timestamp | None = None,
    *,
    reference: tuple[float, float] | None = None,
) -> Report:
    """Decode one hex frame into a ``Report``; raises ``DecodeError`` saying what was wrong.

    A single airborne position decodes only with ``reference`` (local CPR decoding).
    """
    when = pd.Timestamp.now(tz="UTC") if timestamp is None else pd.Timestamp(timestamp)
    result = decode_frames([frame], np.array([when.value]), DecodeOptions(reference=reference))
    if len(result.reports) == 0:
        bad = result.errors[result.errors["level"] == "error"].iloc[0]
        raise DecodeError(f"cannot decode frame {frame!r}: {bad['kind']}: {bad['message']}")
    return report_from_row(result.reports.iloc[0].to_dict())
