"""Decoder registry and the result of a batch decode (report table, error records, counters).

Units: timestamps are UTC, report columns follow ``report.REPORT_DTYPES`` (ft, kt, deg, ft/min);
byte offsets and frame indexes are plain integers.

A decoder is registered under a key (``"beast"``, ``"sbs"``, ...) in ``DECODERS``. Every decoder
turns bytes into a ``DecodeResult``: the reports it could decode, one error record for each frame
it could not (or for each thing it noticed, such as time going backwards, at ``level="warning"``,
where the report is kept), and counters. Batch decoding never raises on bad frames; the
single-frame calls (``decode_message`` and friends) raise ``DecodeError`` instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, SupportsInt

import numpy as np
import pandas as pd

from deconflict.errors import DecodeError, InputError, UnknownNameError
from deconflict.surveillance.report import REPORT_COLUMNS, Report, empty_reports
from deconflict.surveillance.sensors import SensorConfig

#: How a Beast receiver's counter tells time (``DecodeOptions.beast_clock``).
BEAST_CLOCKS: Final = ("receiver", "gps")
#: Columns of the error table: where (frame index or byte offset), what, and the raw bytes (hex).
ERROR_COLUMNS: Final[tuple[str, ...]] = ("position", "level", "kind", "message", "raw")


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """What a decoder needs besides the bytes.

    ``party`` / ``sensor`` label every report. ``reference`` (lat, lon deg) is the receiver
    position for local CPR decoding of Mode S. ``sensors`` maps a sensor id (e.g. ``"25/11"``) to
    its site, for polar radar plots. ``start_time`` anchors relative clocks (Beast counters,
    lines without a timestamp) and places times of day (ASTERIX); None means "now": the wall
    clock, or ``clock()`` where given (a simulation's present, in fast or slowed time).
    ``beast_clock``: ``"receiver"`` (a free-running 12 MHz counter) or ``"gps"`` (a GPS
    timestamp: seconds of the UTC day in the counter's upper 18 bits, ns in its lower 30).
    """

    party: str = ""
    sensor: str = ""
    reference: tuple[float, float] | None = None
    sensors: SensorConfig | None = None
    start_time: pd.Timestamp | None = None
    beast_clock: str = "receiver"
    clock: Callable[[], pd.Timestamp] | None = None

    def __post_init__(self) -> None:
        if self.beast_clock not in BEAST_CLOCKS:
            raise InputError(
                f"Beast clock {self.beast_clock!r}: use one of {', '.join(BEAST_CLOCKS)}"
            )

    def start(self) -> pd.Timestamp:
        if self.start_time is not None:
            return pd.Timestamp(self.start_time).tz_convert("UTC")
        if self.clock is not None:
            return pd.Timestamp(self.clock()).tz_convert("UTC")
        return pd.Timestamp.now(tz="UTC")


@dataclass(slots=True)
class ErrorLog:
    """Accumulates error records while decoding (cheap appends, one table at the end)."""

    rows: list[tuple[int, str, str, str, str]] = field(default_factory=list)

    def add(self, position: SupportsInt, kind: str, message: str, raw: bytes | str = b"") -> None:
        self._add(position, "error", kind, message, raw)

    def warn(self, position: SupportsInt, kind: str, message: str, raw: bytes | str = b"") -> None:
        self._add(position, "warning", kind, message, raw)

    def _add(
        self, position: SupportsInt, level: str, kind: str, message: str, raw: bytes | str
    ) -> None:
        text = raw.hex() if isinstance(raw, bytes | bytearray) else raw
        self.rows.append((int(position), level, kind, message, text[:512]))

    def extend(self, other: ErrorLog, offset: int = 0) -> None:
        self.rows.extend((p + offset, lv, k, m, r) for p, lv, k, m, r in other.rows)

    def relocate(self, where: np.ndarray) -> None:
        """Replace each row's position ``p`` by ``where[p]`` (frame index -> byte offset)."""
        self.rows = [(int(where[p]), lv, k, m, r) for p, lv, k, m, r in self.rows]
        self.rows.sort(key=lambda row: row[0])

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return empty_errors()
        table = pd.DataFrame.from_records(self.rows, columns=list(ERROR_COLUMNS))
        table["position"] = table["position"].astype("int64")
        return table


def empty_errors() -> pd.DataFrame:
    """An empty error table with the right columns."""
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "position" else "object") for c in ERROR_COLUMNS}
    )


@dataclass(slots=True)
class DecodeResult:
    """Reports, error records and counters of one batch decode.

    ``counts`` holds at least ``frames`` (frames or records seen), ``reports`` and
    ``errors``; decoders add their own (``df17``, ``bad-crc``, ``garbage_bytes``, ...).
    """

    reports: pd.DataFrame
    errors: pd.DataFrame
    counts: dict[str, int]

    def summary(self) -> dict[str, Any]:
        """The counters as a JSON-ready record (``{"summary": {...}}`` on the command line)."""
        return {"summary": dict(sorted(self.counts.items()))}


def report_from_row(row: Mapping[Any, Any]) -> Report:
    """A ``Report`` from one row of a report table (``frame.iloc[i].to_dict()``)."""
    clean: dict[str, Any] = {str(k): (None if v is pd.NA else v) for k, v in row.items()}
    return Report(**clean)


def make_result(
    reports: pd.DataFrame, errors: ErrorLog, frames: int, extra: Counter[str] | None = None
) -> DecodeResult:
    """Assemble a ``DecodeResult``; counts errors by kind and warnings separately."""
    counts: Counter[str] = Counter(extra or {})
    counts["frames"] = frames
    counts["reports"] = len(reports)
    counts["errors"] = sum(1 for r in errors.rows if r[1] == "error")
    counts["warnings"] = sum(1 for r in errors.rows if r[1] == "warning")
    for row in errors.rows:
        counts[f"{row[1]}:{row[2]}"] += 1
    return DecodeResult(reports.loc[:, list(REPORT_COLUMNS)], errors.frame(), dict(counts))


def concat_results(results: Iterable[DecodeResult]) -> DecodeResult:
    """Join several results (e.g. one per pcap packet); counters are summed."""
    results = list(results)
    if not results:
        return DecodeResult(empty_reports(), empty_errors(), {"frames": 0, "reports": 0})
    reports = [r.reports for r in results if len(r.reports)]
    errors = [r.errors for r in results if len(r.errors)]
    counts: Counter[str] = Counter()
    for r in results:
        counts.update(r.counts)
    return DecodeResult(
        pd.concat(reports, ignore_index=True) if reports else empty_reports(),
        pd.concat(errors, ignore_index=True) if errors else empty_errors(),
        dict(counts),
    )


def check_time_order(
    times_s: np.ndarray, errors: ErrorLog, *, positions: np.ndarray | None = None
) -> Counter[str]:
    """Warn (reports are kept) where time goes backwards or jumps forward by over an hour."""
    counts: Counter[str] = Counter()
    if len(times_s) < 2:
        return counts
    step = np.diff(times_s)
    where = np.arange(1, len(times_s)) if positions is None else positions[1:]
    for i in np.flatnonzero(step < 0):
        errors.warn(int(where[i]), "time-backwards", f"time goes back by {-step[i]:.3f} s")
    for i in np.flatnonzero(step > 3600.0):
        errors.warn(int(where[i]), "time-jump", f"time jumps forward by {step[i]:.0f} s")
    counts["time_backwards"] = int((step < 0).sum())
    counts["time_jumps"] = int((step > 3600.0).sum())
    return counts


@dataclass(frozen=True, slots=True)
class Decoder:
    """One registered format: its key, a one-line description, the batch decode function, an
    optional cheap content sniffer, and an optional incremental (streaming) decoder factory."""

    key: str
    description: str
    decode: Callable[[bytes, DecodeOptions], DecodeResult]
    sniff: Callable[[bytes], bool] | None = None
    stream: Callable[[DecodeOptions], StreamDecoder] | None = None
    suffixes: tuple[str, ...] = ()


class StreamDecoder:
    """Incremental decoder: ``feed(chunk)`` returns the reports completed by that chunk; frames
    split across chunk boundaries are kept until the rest arrives. ``close()`` flushes.
    ``arrival_ns`` (UTC ns), on a live feed, is when the chunk was read: formats whose frames
    carry no absolute time (Beast counters, bare hex lines) are anchored to it."""

    def feed(
        self, chunk: bytes, arrival_ns: int | None = None
    ) -> DecodeResult:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> DecodeResult:
        return DecodeResult(empty_reports(), empty_errors(), {"frames": 0, "reports": 0})


#: A text line longer than this is cut there and decoded (as an error) so memory stays bounded.
MAX_LINE_BYTES: Final = 4096


class LineStreamDecoder(StreamDecoder):
    """A stream of text lines: a line split across chunks waits for its end; ``_lines`` decodes
    whole lines (numbering them from ``line_index``, which it advances)."""

    def __init__(self) -> None:
        self.pending = b""
        self.line_index = 0
        self.arrival_ns: int | None = None

    def feed(self, chunk: bytes, arrival_ns: int | None = None) -> DecodeResult:
        self.arrival_ns = arrival_ns
        data = self.pending + chunk
        cut = data.rfind(b"\n") + 1
        self.pending = data[cut:]
        if len(self.pending) > MAX_LINE_BYTES:  # no line end in sight (binary on a text port)
            head, self.pending = self.pending[:MAX_LINE_BYTES], b""
            return self._lines(data[:cut] + head + b"\n")
        return self._lines(data[:cut])

    def close(self) -> DecodeResult:
        rest, self.pending = self.pending, b""
        return self._lines(rest)

    def _lines(self, data: bytes) -> DecodeResult:  # pragma: no cover - interface
        raise NotImplementedError


#: Format key -> decoder. Filled by the format modules when ``deconflict.surveillance`` loads.
DECODERS: dict[str, Decoder] = {}
#: Alternative names accepted for a key.
ALIASES: dict[str, str] = {}


def register(decoder: Decoder, *aliases: str) -> Decoder:
    """Register ``decoder`` under its key (and aliases); returns it."""
    DECODERS[decoder.key] = decoder
    for alias in aliases:
        ALIASES[alias] = decoder.key
    return decoder


def get_decoder(key: str) -> Decoder:
    """The decoder registered as ``key`` (or an alias); raises ``UnknownNameError``."""
    name = ALIASES.get(key.lower(), key.lower())
    if name not in DECODERS:
        known = ", ".join(sorted([*DECODERS, *ALIASES]))
        raise UnknownNameError(f"unknown feed format {key!r}: use one of {known}")
    return DECODERS[name]


def detect_format(data: bytes, filename: str = "") -> str:
    """Guess the format key from the file name suffix, then from the first bytes."""
    lower = filename.lower()
    for decoder in DECODERS.values():
        if any(lower.endswith(s) for s in decoder.suffixes) and (
            decoder.sniff is None or decoder.sniff(data[:4096])
        ):
            return decoder.key
    for decoder in DECODERS.values():
        if decoder.sniff is not None and decoder.sniff(data[:4096]):
            return decoder.key
    raise DecodeError(
        f"cannot tell the format of {filename or 'the input'}: pass --format "
        f"(one of {', '.join(sorted(DECODERS))})"
    )
