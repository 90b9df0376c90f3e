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
  Here rs1090's batch call decodes the pairs; positions it leaves undecoded (before the first
  pair, after a gap) are decoded locally (``deconflict.surveillance.cpr``): against the
  aircraft's own position of the last 600 s, else against the receiver
  (``DecodeOptions.reference``), checked with the other parity. Local decoding is only right
  within half a CPR zone of its reference: 180 NM airborne, 45 NM on the surface; a decode that
  cannot be shown to be within it is refused (``cpr-out-of-range``, ``cpr-unchecked``).

Phantom aircraft: DF0/4/5/16/20/21 carry no address of their own, only parity XOR address, so any
garbled frame "recovers" some address. A stream decoder (``require_announced``, as receivers do)
accepts such an address only for an aircraft heard in DF11/17/18 (whose parity is checked) in the
last ``ANNOUNCED_TTL_S`` or in the same batch, or vouched for by the input (a CSV column);
others are refused (``unknown-address``). ``decode_frames`` (one batch the caller chose) accepts
them all unless asked.

Every frame that passes the checks below yields one report (at least ``icao24``; ``altitude`` or
``squawk`` when the frame carries them). Checks, each an error record of its own kind:
``bad-hex`` (not hexadecimal), ``bad-length`` (neither 7 nor 14 bytes), ``truncated`` (7 bytes
of a 112-bit format), ``bad-crc`` (DF11/17/18 parity mismatch), ``undecodable`` (rs1090 refused).
A 14-byte frame of a 56-bit format is accepted (``trimmed``): recorders often pad short replies.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from itertools import repeat
from typing import Any, Final, NamedTuple, cast

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
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
from deconflict.surveillance.cpr import CPR_PAIR_MAX_S, LastPositions, fill_local
from deconflict.surveillance.crc import residual
from deconflict.surveillance.report import REPORT_COLUMNS, Report

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


#: An address heard in DF11/17/18 vouches for parity-recovered addresses this long (s).
ANNOUNCED_TTL_S: Final = 300.0
#: Downlink formats whose address is recovered from the parity (AP).
AP_FORMATS: Final = (0, 4, 5, 16, 20, 21)


def _read_here(checked: Checked) -> np.ndarray:
    """Frames whose every reported field ``messages_to_reports`` reads from the bits: DF11
    (address), DF5 (squawk) and DF0/4/16 with a 25 ft altitude code (or none). Sparing them
    rs1090 (about 40 % of a receiver's frames) cuts the feed's CPU by about a third."""
    df = checked.df
    _, simple = altitude_ac13_ft(checked.field13)
    return np.asarray((df == 11) | (df == 5) | (np.isin(df, (0, 4, 16)) & simple))


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


def _clean(frames: Sequence[str]) -> bool:
    """True if every frame is already lowercase letters and digits (no need to normalise)."""
    try:
        raw = "".join(frames).encode("ascii")
    except UnicodeEncodeError:
        return False
    codes = np.frombuffer(raw, dtype=np.uint8)
    return bool((((codes >= 48) & (codes <= 57)) | ((codes >= 97) & (codes <= 122))).all())


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch allocates tens of thousands of dicts
    (none of them cyclic): its repeated full passes would otherwise cost a fifth of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class ModeSDecoder:
    """Stateful Mode S decoder for a stream of batches: keeps, between calls, the last even and
    odd airborne position frame of each aircraft (so a CPR pair split across two batches still
    decodes globally), each aircraft's last position (for local decoding) and the addresses
    heard in DF11/17/18 (``require_announced``: see the module docstring)."""

    def __init__(
        self,
        options: DecodeOptions = DecodeOptions(),
        source: str = "modes",
        stateful: bool = True,
        *,
        require_announced: bool | None = None,
    ) -> None:
        self.options = options
        self.source = source
        self.stateful = stateful  # False: one batch only, nothing kept for the next
        self.require_announced = stateful if require_announced is None else require_announced
        self.last: LastPositions = {}
        self.carry: dict[tuple[str, str], tuple[str, float]] = {}  # (icao24, parity) -> frame
        self.announced: dict[int, float] = {}  # address -> time s last heard in DF11/17/18

    def _carried(self, first_s: float, wanted: set[str]) -> tuple[list[str], list[float]]:
        """Held position frames of the aircraft in ``wanted`` young enough to pair (a few per
        batch, not every aircraft's: re-decoding them all cost more than the batch itself)."""
        kept = sorted(
            (t, f)
            for (icao, _), (f, t) in self.carry.items()
            if icao in wanted and 0 <= first_s - t < CPR_PAIR_MAX_S
        )
        return [f for _, f in kept], [t for t, _ in kept]

    def _remember(self, out: list[dict[str, Any]], squitter: np.ndarray) -> None:
        for k in squitter:
            m = out[k]
            parity = m.get("parity")
            if parity is not None and "lat_cpr" in m and m.get("bds") == "05":
                self.carry[(m["icao24"], parity)] = (m["frame"], m["timestamp"])
        if len(self.carry) > 4 * len(self.last) + 1024 and len(out):  # forget old aircraft
            now = float(out[-1]["timestamp"])
            self.carry = {k: v for k, v in self.carry.items() if now - v[1] < CPR_PAIR_MAX_S}

    def decode(
        self,
        frames: Sequence[str],
        times_ns: np.ndarray,
        positions: np.ndarray | None = None,
        *,
        vouched: Collection[int] = (),
    ) -> DecodeResult:
        """Decode hex frames received at ``times_ns`` (int64 ns since the Unix epoch, UTC).

        ``positions`` (default: the frame index) is what error records cite, e.g. byte offsets.
        ``vouched``: addresses the input itself names (e.g. an icao24 column), accepted for
        parity-recovered frames like those heard in DF11/17/18.
        """
        if not _clean(frames):
            frames = [f.strip().lower() for f in frames]
        elif not isinstance(frames, list):
            frames = list(frames)
        with _gc_paused():
            return self._decode(frames, times_ns, positions, vouched)

    def _unannounced(
        self, checked: Checked, times_ns: np.ndarray, vouched: Collection[int], errors: ErrorLog
    ) -> np.ndarray:
        """Parity-recovered addresses not heard before in DF11/17/18 (in the last
        ``ANNOUNCED_TTL_S``, or earlier in this batch): refused, so that how a stream is cut into
        batches does not change what is accepted."""
        ok, df, address = checked.ok, checked.df, checked.address.astype(np.int64)
        heard_at = np.flatnonzero(ok & np.isin(df, (11, 17, 18)))
        ap = ok & np.isin(df, AP_FORMATS)
        bad = np.zeros(len(df), dtype=bool)
        if ap.any():
            known = np.fromiter(self.announced, dtype=np.int64, count=len(self.announced))
            if vouched:
                known = np.concatenate([known, np.fromiter(vouched, dtype=np.int64)])
            ap_at = np.flatnonzero(ap)
            unknown = ap_at[~np.isin(address[ap_at], known)]
            if len(unknown) and len(heard_at):  # heard earlier in this batch?
                first, where = np.unique(address[heard_at], return_index=True)
                k = np.clip(np.searchsorted(first, address[unknown]), 0, len(first) - 1)
                earlier = (first[k] == address[unknown]) & (heard_at[where[k]] < unknown)
                unknown = unknown[~earlier]
            bad[unknown] = True
            for i in unknown:
                errors.add(
                    int(i),
                    "unknown-address",
                    f"DF{df[i]} address {int(address[i]):06x} (recovered from the parity) was "
                    "not heard in DF11/17/18 before: a garbled frame or a phantom aircraft",
                )
        if len(heard_at):
            t_s = times_ns[heard_at] / 1e9
            self.announced.update(zip(address[heard_at].tolist(), t_s.tolist(), strict=True))
            if len(self.announced) > 4096:
                now = float(t_s.max())
                self.announced = {
                    a: t for a, t in self.announced.items() if now - t < ANNOUNCED_TTL_S
                }
        return bad

    def _decode(
        self,
        frames: list[str],
        times_ns: np.ndarray,
        positions: np.ndarray | None,
        vouched: Collection[int],
    ) -> DecodeResult:
        times_ns = np.asarray(times_ns, dtype=np.int64)
        if len(times_ns) != len(frames):
            raise DecodeError(f"{len(frames)} frames but {len(times_ns)} timestamps: pass one each")
        errors = ErrorLog()
        counts: Counter[str] = Counter()
        checked = check_frames(frames, errors, counts)
        if self.require_announced:
            checked = checked._replace(
                ok=checked.ok & ~self._unannounced(checked, times_ns, vouched, errors)
            )
        ok, df = checked.ok, checked.df
        own = ok & _read_here(checked)  # every field read from the bits: rs1090 not needed
        idx = np.flatnonzero(ok & ~own)
        sent = frames if len(idx) == len(frames) else [frames[i] for i in idx]
        times_s = (times_ns[idx] / 1e9).tolist()
        pre_f: list[str] = []
        pre_t: list[float] = []
        if self.carry and sent:
            tc = checked.tc[idx].astype(np.int64)
            airborne = np.isin(df[idx], (17, 18)) & (
                ((tc >= 9) & (tc <= 18)) | ((tc >= 20) & (tc <= 22))
            )
            if airborne.any():
                wanted = set(hex24(checked.address[idx][airborne]).tolist())
                pre_f, pre_t = self._carried(times_s[0], wanted)
        out = _rs1090_batch(pre_f + sent, pre_t + times_s, self.options.reference)
        got = _align(pre_f + sent, pre_t + times_s, out)
        keep = got >= len(pre_f)
        if pre_f:
            out = [m for m, k in zip(out, keep, strict=True) if k]
            got = got[keep] - len(pre_f)
        lost = np.ones(len(sent), dtype=bool)
        lost[got] = False
        for k in np.flatnonzero(lost):
            i = idx[k]
            errors.add(int(i), "undecodable", f"DF{df[i]} frame not decodable", frames[i])
        decoded = idx[got]
        if own.any():  # merge the frames read here back in frame order (empty rs1090 dicts)
            decoded = np.concatenate([decoded, np.flatnonzero(own)])
            order = np.argsort(decoded, kind="stable")
            decoded = decoded[order]
            joined = [*out, *({} for _ in range(int(own.sum())))]
            out = [joined[k] for k in order]
        reports, placed = messages_to_reports(
            out,
            Checked(*(a[decoded] for a in checked)),
            times_ns[decoded],
            self.options,
            self.source,
        )
        when = times_ns[decoded]
        counts["local_cpr"] = self._fill_local(reports, when, out, placed, decoded, errors)
        if self.stateful:
            self._remember(out, placed)
        for value, number in zip(*np.unique(df[decoded], return_counts=True), strict=True):
            counts[f"df{value}"] = int(number)
        counts.update(check_time_order(times_ns[decoded] / 1e9, errors, positions=decoded))
        errors.relocate(np.arange(len(frames)) if positions is None else np.asarray(positions))
        return make_result(reports, errors, len(frames), counts)

    def _fill_local(
        self,
        reports: pd.DataFrame,
        when: np.ndarray,
        out: list[dict[str, Any]],
        placed: np.ndarray,
        decoded: np.ndarray,
        errors: ErrorLog,
    ) -> int:
        """Local CPR decoding of the positions rs1090 left out (``deconflict.surveillance.cpr``)."""
        if not len(placed):
            return 0
        lat = reports["latitude"].to_numpy()[placed].copy()
        lon = reports["longitude"].to_numpy()[placed].copy()
        tc = np.fromiter((out[k].get("tc", 0) or 0 for k in placed), dtype=np.int64)
        last = self.last if self.stateful else {}
        filled = fill_local(
            lat,
            lon,
            reports["icao24"].to_numpy()[placed].tolist(),
            when[placed] / 1e9,
            [out[k] for k in placed],
            (tc >= 5) & (tc <= 8),
            self.options.reference,
            last,
            errors,
            decoded[placed],
            self.carry if self.stateful else None,
        )
        if filled:
            reports.iloc[placed, _LAT] = lat
            reports.iloc[placed, _LON] = lon
        return filled


_LAT: Final = REPORT_COLUMNS.index("latitude")
_LON: Final = REPORT_COLUMNS.index("longitude")


def decode_frames(
    frames: Sequence[str],
    times_ns: np.ndarray,
    options: DecodeOptions = DecodeOptions(),
    *,
    source: str = "modes",
    positions: np.ndarray | None = None,
    require_announced: bool = False,
) -> DecodeResult:
    """Decode a batch of hex frames received at ``times_ns`` (int64 ns since the epoch, UTC).

    ``require_announced``: refuse parity-recovered addresses not heard in DF11/17/18 in the
    batch (see the module docstring)."""
    decoder = ModeSDecoder(options, source, stateful=False, require_announced=require_announced)
    return decoder.decode(frames, times_ns, positions)


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
