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
``squawk`` when the frame carries them). Checks (the bit-level ones in
``deconflict.surveillance.modes_fields.check_frames``), each an error record of its own kind:
``bad-hex`` (not hexadecimal), ``bad-length`` (neither 7 nor 14 bytes), ``truncated`` (7 bytes
of a 112-bit format), ``bad-crc`` (DF11/17/18 parity mismatch), ``undecodable`` (rs1090 refused).
A 14-byte frame of a 56-bit format is accepted (``trimmed``): recorders often pad short replies.
"""

from __future__ import annotations

import contextlib
import gc
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
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
from deconflict.surveillance.cpr import CPR_PAIR_MAX_S, LastPositions, fill_local
from deconflict.surveillance.modes_fields import (
    Checked,
    altitude_ac13_ft,
    check_frames,
    hex24,
    messages_to_reports,
)
from deconflict.surveillance.report import REPORT_COLUMNS, Report

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
