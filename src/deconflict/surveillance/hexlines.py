"""Raw hex Mode S, one frame a line (AVR and plain); times UTC (unix seconds in the input).

Wire layout, one line each (ASCII, ``\\n`` or ``\\r\\n`` ended, blank lines and ``#`` comments
skipped):

- AVR: ``*8d4840d6202cc371c32ce0576098;`` (dump1090 port 30002), ``*`` + 14 or 28 hex + ``;``.
- AVR with MLAT counter: ``@`` + 12 hex digits of a 12 MHz counter + the frame + ``;``.
- Plain: the 14 or 28 hex digits alone.
- CSV: comma-separated fields, one of them the hex frame (14 or 28 hex digits) and one a unix time
  in seconds (e.g. ``1457996400,8d406b902015a678d4d220aa4bda,406b90,4``).

A CSV line's 6-hex-digit field (its icao24 column, as pyModeS and OpenSky write) vouches for a
DF0/4/5/16/20/21 address like one heard in DF11/17/18 (see ``deconflict.surveillance.modes``).

Lines with no time of their own get the time their bytes arrived on a live feed, else
``start_time`` (``DecodeOptions``), plus the counter for ``@`` lines. Position in error
records: the line index (0-based). Errors: ``no-frame`` (no hex frame found on a non-blank
line), then the Mode S checks of ``deconflict.surveillance.modes``.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np

from deconflict.surveillance.base import (
    DecodeOptions,
    Decoder,
    DecodeResult,
    ErrorLog,
    LineStreamDecoder,
    concat_results,
    make_result,
    register,
)
from deconflict.surveillance.beast import TICKS_PER_S
from deconflict.surveillance.modes import ModeSDecoder
from deconflict.surveillance.report import empty_reports

_HEXFRAME: Final = re.compile(r"[0-9a-fA-F]{14}(?:[0-9a-fA-F]{14})?")
_ANYHEX: Final = re.compile(r"[0-9a-fA-F]+")
_ADDRESS: Final = re.compile(r"(?:^|,)\s*\"?([0-9a-fA-F]{6})\"?\s*(?=,|$)")


def parse_line(line: str, start_ns: int) -> tuple[str, int] | None:
    """(hex frame, time ns) of one line, or None if the line holds no frame."""
    text = line.strip()
    if text.startswith(("*", "@", "%", ":")) and text.endswith(";"):
        body = text[1:-1]
        if text[0] == "@" and len(body) > 12:
            counter = int(body[:12], 16) if _ANYHEX.fullmatch(body[:12]) else 0
            return body[12:], start_ns + counter * 1_000_000_000 // TICKS_PER_S
        return body, start_ns
    if "," not in text:
        return (text, start_ns) if _ANYHEX.fullmatch(text) else None
    frame: str | None = None
    when = start_ns
    for field in text.split(","):
        field = field.strip().strip('"').lstrip("\ufeff")
        if frame is None and _HEXFRAME.fullmatch(field):
            frame = field
            continue
        try:
            value = float(field)
        except ValueError:
            continue
        if 1e8 < value < 1e10 and when == start_ns:  # plausibly unix seconds
            when = round(value * 1e9)
    return None if frame is None else (frame, when)


class HexLineStream(LineStreamDecoder):
    """Incremental decoder for hex lines: a line split across chunks waits for its end."""

    def __init__(self, options: DecodeOptions, source: str = "modes") -> None:
        super().__init__()
        self.start_ns = options.start().value
        self.modes = ModeSDecoder(options, source=source)

    def _lines(self, data: bytes) -> DecodeResult:
        lines = data.decode("ascii", errors="replace").splitlines()
        errors = ErrorLog()
        frames: list[str] = []
        times: list[int] = []
        where: list[int] = []
        vouched: set[int] = set()
        for k, line in enumerate(lines):
            index = self.line_index + k
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parsed = parse_line(line, self.start_ns)
            if parsed is None:
                errors.add(index, "no-frame", "no hex Mode S frame on this line", line.strip())
                continue
            if "," in line:  # a CSV line's own icao24 column vouches for the address
                vouched.update(int(f, 16) for f in _ADDRESS.findall(line))
            frames.append(parsed[0])
            no_time = parsed[1] == self.start_ns and self.arrival_ns is not None
            times.append(self.arrival_ns if no_time else parsed[1])  # type: ignore[arg-type]
            where.append(index)
        self.line_index += len(lines)
        result = self.modes.decode(
            frames, np.array(times, dtype=np.int64), np.array(where), vouched=vouched
        )
        return concat_results([result, make_result(empty_reports(), errors, len(errors.rows))])


def decode_hex_lines(data: bytes, options: DecodeOptions = DecodeOptions()) -> DecodeResult:
    """Decode a whole text file of hex frames (see the module docstring)."""
    stream = HexLineStream(options)
    result = concat_results([stream.feed(data), stream.close()])
    result.errors = result.errors.sort_values("position", kind="stable", ignore_index=True)
    return result


def sniff_hex_lines(head: bytes) -> bool:
    """Hex lines if the first non-blank line parses as one."""
    for line in head.decode("ascii", errors="replace").splitlines()[:5]:
        if line.strip() and not line.startswith("#"):
            parsed = parse_line(line, 0)
            return parsed is not None and bool(_HEXFRAME.fullmatch(parsed[0]))
    return False


MODES_HEX = register(
    Decoder(
        key="modes-hex",
        description="raw hex Mode S, one frame a line (AVR '*...;', '@...;', plain, CSV)",
        decode=decode_hex_lines,
        sniff=sniff_hex_lines,
        stream=HexLineStream,
        suffixes=(".avr", ".hex", ".txt", ".csv"),
    ),
    "avr",
    "hex",
    "modes",
)
