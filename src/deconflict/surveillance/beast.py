"""Beast binary Mode S (dump1090/readsb port 30005, and files of it); times UTC, counter in ticks.

Wire layout, one frame::

    0x1a | type (1 byte) | counter (6 bytes, big endian) | signal (1 byte) | message

- type ``'1'`` (0x31): Mode A/C, 2-byte message (no address: counted, not reported);
  ``'2'`` (0x32): Mode S short, 7 bytes; ``'3'`` (0x33): Mode S long, 14 bytes;
  ``'4'`` (0x34): receiver status, 14 bytes (counted, ignored).
- counter: the receiver's 12 MHz clock (``TICKS_PER_S``), free running; only differences count.
- every 0x1a byte after the type byte is sent twice (escape); a single 0x1a followed by a
  type byte starts a new frame, so a frame cut short shows as a new frame beginning early.

Times: ``start_time`` (``DecodeOptions``) + (counter - first counter) / 12 MHz. A counter that goes
back, or leaps forward by more than an hour, is a clock jump: a warning record, and the time base is
re-anchored so that time carries on from the previous frame.

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
#: Message length in bytes by frame type.
MESSAGE_BYTES: Final[dict[int, int]] = {0x31: 2, 0x32: 7, 0x33: 14, 0x34: 14}
CLOCK_JUMP_S: Final = 3600.0


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
    """Turns 12 MHz counters into UTC nanoseconds, re-anchoring on clock jumps."""

    def __init__(self, start_ns: int) -> None:
        self.base_ns = start_ns
        self.first: int | None = None
        self.last_counter = 0
        self.last_ns = start_ns

    def times_ns(self, counters: list[int], offsets: list[int], errors: ErrorLog) -> np.ndarray:
        out = np.empty(len(counters), dtype=np.int64)
        for k, counter in enumerate(counters):
            if self.first is None:
                self.first = counter
                self.last_counter = counter
            step_s = (counter - self.last_counter) / TICKS_PER_S
            if step_s < 0 or step_s > CLOCK_JUMP_S:
                errors.warn(offsets[k], "clock-jump", f"Beast counter jumps by {step_s:.3f} s")
                self.base_ns = self.last_ns
                self.first = counter
            t = self.base_ns + (counter - self.first) * 1_000_000_000 // TICKS_PER_S
            out[k] = t
            self.last_counter = counter
            self.last_ns = t
        return out


class BeastStream(StreamDecoder):
    """Incremental Beast decoder (see ``StreamDecoder``)."""

    def __init__(self, options: DecodeOptions) -> None:
        self.framer = BeastFramer()
        self.clock = BeastClock(options.start().value)
        self.modes = ModeSDecoder(options, source="beast")

    def feed(self, chunk: bytes) -> DecodeResult:
        return self._decode(self.framer.feed(chunk))

    def close(self) -> DecodeResult:
        return self._decode(self.framer.feed(b"", final=True))

    def _decode(self, frames: BeastFrames) -> DecodeResult:
        times = self.clock.times_ns(frames.counters, frames.offsets, frames.errors)
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
