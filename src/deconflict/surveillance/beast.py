"""Beast binary Mode S (dump1090/readsb port 30005, and files of it); times UTC, counter in ticks.

Wire layout, one frame::

    0x1a | type (1 byte) | counter (6 bytes, big endian) | signal (1 byte) | message

- type ``'1'`` (0x31): Mode A/C, 2-byte message (no address: counted, not reported);
  ``'2'`` (0x32): Mode S short, 7 bytes; ``'3'`` (0x33): Mode S long, 14 bytes;
  ``'4'`` (0x34): receiver status, 14 bytes (counted, ignored).
- counter: the receiver's 12 MHz clock (``TICKS_PER_S``), free running; only differences count.
- every 0x1a byte after the type byte is sent twice (escape); a single 0x1a followed by a
  type byte starts a new frame, so a frame cut short shows as a new frame beginning early.

Times (``BeastClock``): counter / 12 MHz plus an offset anchored at the first frame: to the wall
clock at the moment its bytes arrived on a live feed (then lowered to the least arrival - counter
seen, since no frame arrives before it is received), to ``start_time`` (``DecodeOptions``) in a
file. A counter up to 30 s behind the highest seen is a late frame, not a new time base
(dump1090 sends a new aircraft's first message late); a counter far off (garbage, a receiver
restart) is an outlier (warning ``clock-outlier``) until three frames follow on from it, when it
becomes the new time base (warning ``clock-jump``): on a live feed anchored at their arrival, in a
file carrying on from the previous frame.

With ``DecodeOptions(beast_clock="gps")`` the counter is a GPS timestamp instead (Radarcape and
GPS-disciplined receivers, and the simulator's receivers): seconds of the UTC day in its upper 18
bits, nanoseconds in its lower 30, placed on the day nearest ``DecodeOptions.start()``.

Errors (one record each, position = byte offset): ``garbage`` (bytes outside any frame, e.g. a
stream joined mid-frame), ``truncated`` (a frame cut by the next frame's start or by the end of the
input), ``unknown-type``; then the Mode S checks of ``deconflict.surveillance.modes``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from deconflict.surveillance.base import (
    DecodeOptions,
    Decoder,
    DecodeResult,
    ErrorLog,
    StreamDecoder,
    concat_results,
    make_result,
    register,
)
from deconflict.surveillance.modes import ModeSDecoder
from deconflict.surveillance.report import empty_reports

ESC: Final = 0x1A
TICKS_PER_S: Final = 12_000_000
#: ns per tick as a fraction (1e9 / 12e6 = 250 / 3): counter * 250 // 3 stays in int64.
NS_PER_TICK_NUM: Final = 250
NS_PER_TICK_DEN: Final = 3
#: Message length in bytes by frame type.
MESSAGE_BYTES: Final[dict[int, int]] = {0x31: 2, 0x32: 7, 0x33: 14, 0x34: 14}
#: A counter this far behind the highest seen is a late frame, not a new time base.
REORDER_S: Final = 30.0
#: A counter this far ahead of the highest seen is a clock jump (files; live feeds use arrival).
CLOCK_JUMP_S: Final = 3600.0
#: On a live feed, a frame timed this much after its arrival does not fit the epoch (up to it,
#: the receiver's clock ran fast or the anchor was late, and the anchor moves back).
AHEAD_S: Final = 2.0
#: Frames that must follow on from a new time base before it is adopted.
CONFIRM_FRAMES: Final = 3
REORDER_TICKS: Final = int(REORDER_S * TICKS_PER_S)
JUMP_TICKS: Final = int(CLOCK_JUMP_S * TICKS_PER_S)
AHEAD_NS: Final = int(AHEAD_S * 1e9)
#: GPS timestamps (``DecodeOptions.beast_clock = "gps"``): ns in the low 30 bits.
GPS_NS_BITS: Final = 30
DAY_NS: Final = 86_400 * 10**9


@dataclass(slots=True)
class BeastFrames:
    """Frames split out of a Beast byte stream (Mode S ones only: types '2' and '3')."""

    messages: list[bytes] = field(default_factory=list)
    counters: list[int] = field(default_factory=list)
    signals: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    errors: ErrorLog = field(default_factory=ErrorLog)
    counts: Counter[str] = field(default_factory=Counter)


class BeastFramer:
    """Incremental Beast framing: ``feed`` bytes as they come (a frame, or an escape pair, may be
    split anywhere across chunks); complete frames come out, the rest waits for more bytes."""

    def __init__(self) -> None:
        self.buffer = b""
        self.offset = 0  # stream offset of buffer[0]

    def feed(self, chunk: bytes, final: bool = False) -> BeastFrames:
        out = BeastFrames()
        buf = self.buffer + chunk
        pos = 0
        n = len(buf)
        while pos < n:
            start = buf.find(ESC, pos)
            if start < 0:
                self._garbage(out, pos, buf[pos:])
                pos = n
                break
            if start > pos:
                self._garbage(out, pos, buf[pos:start])
            if start + 1 >= n:
                pos = start
                break
            kind = buf[start + 1]
            if kind == ESC:  # an escaped data byte outside any frame
                self._garbage(out, start, buf[start : start + 2])
                pos = start + 2
                continue
            if kind not in MESSAGE_BYTES:
                out.errors.add(
                    self.offset + start, "unknown-type", f"Beast frame type 0x{kind:02x}", b""
                )
                pos = start + 2
                continue
            body, end = _unescape(buf, start + 2, 7 + MESSAGE_BYTES[kind])
            if end < 0:  # ran out of bytes: wait for more
                pos = start
                break
            if body is None:  # a new frame started early
                out.errors.add(
                    self.offset + start, "truncated", "Beast frame cut short", buf[start:end]
                )
                pos = end
                continue
            pos = end
            out.counts[f"beast_type_{chr(kind)}"] += 1
            if kind in (0x32, 0x33):
                out.messages.append(body[7:])
                out.counters.append(int.from_bytes(body[:6], "big"))
                out.signals.append(body[6])
                out.offsets.append(self.offset + start)
        if final and pos < n:
            out.errors.add(
                self.offset + pos, "truncated", "input ends inside a Beast frame", buf[pos:]
            )
            pos = n
        self.buffer = buf[pos:]
        self.offset += pos
        return out

    def _garbage(self, out: BeastFrames, pos: int, data: bytes) -> None:
        out.counts["garbage_bytes"] += len(data)
        out.errors.add(self.offset + pos, "garbage", f"{len(data)} bytes outside any frame", data)


def _unescape(buf: bytes, pos: int, length: int) -> tuple[bytes | None, int]:
    """Read ``length`` unescaped bytes from ``buf[pos:]``: (bytes, end), (None, end) where a new
    frame starts early (end = its 0x1a), or (None, -1) where the buffer ends first."""
    chunk = buf[pos : pos + length]
    if len(chunk) == length and ESC not in chunk:
        return chunk, pos + length
    body = bytearray()
    n = len(buf)
    while len(body) < length:
        if pos >= n:
            return None, -1
        byte = buf[pos]
        if byte == ESC:
            if pos + 1 >= n:
                return None, -1
            if buf[pos + 1] != ESC:
                return None, pos
            pos += 2
        else:
            pos += 1
        body.append(byte)
    return bytes(body), pos


class BeastClock:
    """Turns 12 MHz counters into UTC nanoseconds (see the module docstring).

    An epoch is an offset (time = offset + counter / 12 MHz) and the highest counter seen in
    it. A counter up to ``REORDER_S`` behind the highest is a late frame (dump1090 sends a new
    aircraft's first message late, with its older counter): timed by its counter, the epoch
    kept. A counter that fits neither (further back, or more than ``CLOCK_JUMP_S`` ahead, or,
    on a live feed, later than the moment its bytes arrived by more than ``AHEAD_S``) starts a
    candidate epoch, adopted only once ``CONFIRM_FRAMES`` frames follow on from it (a receiver
    restart); until then such frames are outliers (garbage that passed the parity checks, or
    the first frames after a restart), timed at their arrival (live) or at the latest good time
    (a file), with a ``clock-outlier`` warning. On a live feed (``arrival_ns`` given) the epoch is
    anchored to the wall clock: its offset is the lowest of (arrival - counter) seen, since no
    frame arrives before it was received.
    """

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns
        self.offset_ns: int | None = None  # time of counter 0, ns
        self.high = 0  # highest counter of the epoch
        self.candidate: tuple[int, int, int] | None = None  # (offset ns, high counter, votes)

    def _time(self, counter: int) -> int:
        assert self.offset_ns is not None
        return self.offset_ns + counter * NS_PER_TICK_NUM // NS_PER_TICK_DEN

    def times_ns(
        self,
        counters: list[int],
        offsets: list[int],
        errors: ErrorLog,
        arrival_ns: int | None = None,
    ) -> np.ndarray:
        """UTC ns of each counter; ``arrival_ns``: when the bytes were read (live feeds)."""
        out = np.empty(len(counters), dtype=np.int64)
        if not counters:
            return out
        if self.offset_ns is None:
            self._anchor(np.asarray(counters, dtype=np.int64), arrival_ns)
        if self.offset_ns is not None and self.candidate is None:  # the usual case, vectorised
            c = np.asarray(counters, dtype=np.int64)
            t = self.offset_ns + c * NS_PER_TICK_NUM // NS_PER_TICK_DEN
            fits = (c.min() >= self.high - REORDER_TICKS) and (c.max() <= self.high + JUMP_TICKS)
            if fits and (arrival_ns is None or int(t.max()) <= arrival_ns):
                self.high = max(self.high, int(c.max()))
                return t
        for k, counter in enumerate(counters):
            out[k] = self._one(counter, offsets[k], errors, arrival_ns)
        return out

    def _anchor(self, counters: np.ndarray, arrival_ns: int | None) -> None:
        """First epoch, from the first batch's frames near its median counter (a garbage counter
        among them does not set it): a file's first such frame is at ``start_ns``; on a live
        feed the latest one was received when the batch arrived."""
        near = counters[np.abs(counters - int(np.median(counters))) <= JUMP_TICKS]
        if arrival_ns is None:
            anchor, at = int(near[0]), self.start_ns
        else:
            anchor, at = int(near.max()), arrival_ns
        self.offset_ns = at - anchor * NS_PER_TICK_NUM // NS_PER_TICK_DEN
        self.high = anchor if arrival_ns is not None else int(near[0])

    def _one(self, counter: int, offset: int, errors: ErrorLog, arrival_ns: int | None) -> int:
        ticks_ns = counter * NS_PER_TICK_NUM // NS_PER_TICK_DEN
        back = self.high - counter
        t = self._time(counter)
        ahead_ns = 0 if arrival_ns is None else t - arrival_ns
        if -JUMP_TICKS <= back <= REORDER_TICKS and ahead_ns <= AHEAD_NS:
            if ahead_ns > 0:  # the anchor was late (its first frame was): move it back
                assert self.offset_ns is not None
                self.offset_ns -= ahead_ns
                t -= ahead_ns
            self.high = max(self.high, counter)
            self.candidate = None
            return t
        guess = self._time(self.high) if arrival_ns is None else arrival_ns
        cand = self.candidate
        if cand is not None and -JUMP_TICKS <= cand[1] - counter <= REORDER_TICKS:
            offset_ns = cand[0] if arrival_ns is None else min(cand[0], arrival_ns - ticks_ns)
            self.candidate = (offset_ns, max(cand[1], counter), cand[2] + 1)
            if cand[2] + 1 >= CONFIRM_FRAMES:
                errors.warn(
                    offset,
                    "clock-jump",
                    f"Beast counter jumps by {-back / TICKS_PER_S:.3f} s and stays there "
                    "(receiver restart): new time base",
                )
                self.offset_ns, self.high = offset_ns, max(cand[1], counter)
                self.candidate = None
                return self._time(counter)
        else:
            base = guess - ticks_ns
            self.candidate = (base, counter, 1)
        errors.warn(
            offset,
            "clock-outlier",
            f"Beast counter {-back / TICKS_PER_S:+.3f} s off the receiver's clock: timed at "
            + ("the latest good time" if arrival_ns is None else "its arrival"),
        )
        return guess


def gps_times_ns(
    counters: list[int], offsets: list[int], errors: ErrorLog, reference_ns: int
) -> np.ndarray:
    """UTC ns of GPS timestamps (s of the UTC day << 30 | ns), each on the day that puts it
    nearest ``reference_ns``; an impossible one (s >= 86,400 or ns >= 10^9) is timed at the
    reference with a ``clock-outlier`` warning."""
    c = np.asarray(counters, dtype=np.int64)
    sod, ns = c >> GPS_NS_BITS, c & ((1 << GPS_NS_BITS) - 1)
    bad = (sod >= DAY_NS // 10**9) | (ns >= 10**9)
    midnight = reference_ns - reference_ns % DAY_NS
    t = midnight + sod * 10**9 + ns
    t = np.where(t - reference_ns > DAY_NS // 2, t - DAY_NS, t)
    t = np.where(t - reference_ns < -DAY_NS // 2, t + DAY_NS, t)
    for k in np.flatnonzero(bad):
        errors.warn(offsets[k], "clock-outlier", "GPS timestamp beyond the day: timed now")
    return np.where(bad, reference_ns, t)


class BeastStream(StreamDecoder):
    """Incremental Beast decoder (see ``StreamDecoder``)."""

    def __init__(self, options: DecodeOptions) -> None:
        self.framer = BeastFramer()
        self.options = options
        self.gps = options.beast_clock == "gps"
        self.clock = BeastClock(options.start().value)
        self.modes = ModeSDecoder(options, source="beast")
        self.arrival_ns: int | None = None

    def feed(self, chunk: bytes, arrival_ns: int | None = None) -> DecodeResult:
        self.arrival_ns = arrival_ns
        return self._decode(self.framer.feed(chunk))

    def close(self) -> DecodeResult:
        return self._decode(self.framer.feed(b"", final=True))

    def _decode(self, frames: BeastFrames) -> DecodeResult:
        if self.gps:
            reference = self.options.start().value
            times = gps_times_ns(frames.counters, frames.offsets, frames.errors, reference)
        else:
            times = self.clock.times_ns(
                frames.counters, frames.offsets, frames.errors, self.arrival_ns
            )
        hexes = [m.hex() for m in frames.messages]
        result = self.modes.decode(hexes, times, positions=np.asarray(frames.offsets))
        framing = make_result(empty_reports(), frames.errors, 0, frames.counts)
        joined = concat_results([result, framing])
        joined.errors = joined.errors.sort_values("position", kind="stable", ignore_index=True)
        return joined


def decode_beast(data: bytes, options: DecodeOptions = DecodeOptions()) -> DecodeResult:
    """Decode a whole Beast recording (see the module docstring)."""
    stream = BeastStream(options)
    return concat_results([stream.feed(data), stream.close()])


def sniff_beast(head: bytes) -> bool:
    """Beast if it starts (after at most a few bytes) with 0x1a and a frame type."""
    start = head.find(ESC)
    return 0 <= start < 16 and len(head) > start + 1 and head[start + 1] in MESSAGE_BYTES


BEAST = register(
    Decoder(
        key="beast",
        description="Beast binary Mode S (port 30005 and recordings)",
        decode=decode_beast,
        sniff=sniff_beast,
        stream=BeastStream,
        suffixes=(".bin", ".beast"),
    )
)
