"""surveillance room: one decoder module per feed format, registered by key in ``DECODERS``, all
producing the same ``Report`` rows (see ``report.py``). Units at the edge follow ``traffic``
(ft, kt, deg, ft/min); times are UTC.

Batch: ``decode(data, format=...)`` -> ``DecodeResult`` (reports, error records, counters).
Single frame: ``decode_message(hex)`` -> ``Report`` or ``DecodeError``.
Streams: ``DECODERS[key].stream(options)`` -> ``StreamDecoder`` with ``feed(chunk)``.
"""

from __future__ import annotations

from pathlib import Path

from deconflict.surveillance import (  # noqa: F401  (each module registers its decoder)
    asterix,
    beast,
    hexlines,
    modes,
    pcap,
    sbs,
    tables,
)
from deconflict.surveillance.base import (
    ALIASES,
    DECODERS,
    DecodeOptions,
    Decoder,
    DecodeResult,
    StreamDecoder,
    detect_format,
    get_decoder,
)
from deconflict.surveillance.modes import ModeSDecoder, decode_frames, decode_message
from deconflict.surveillance.report import REPORT_COLUMNS, REPORT_DTYPES, Report, empty_reports


def decode(
    data: bytes | str | Path,
    format: str | None = None,
    options: DecodeOptions | None = None,
) -> DecodeResult:
    """Decode bytes, or a file (``str`` / ``Path``), in ``format`` (guessed if None)."""
    name = ""
    if isinstance(data, str | Path):
        name = str(data)
        data = Path(data).read_bytes()
    key = format or detect_format(data, name)
    return get_decoder(key).decode(data, options or DecodeOptions())


__all__ = [
    "ALIASES",
    "DECODERS",
    "REPORT_COLUMNS",
    "REPORT_DTYPES",
    "DecodeOptions",
    "DecodeResult",
    "Decoder",
    "ModeSDecoder",
    "Report",
    "StreamDecoder",
    "decode",
    "decode_frames",
    "decode_message",
    "detect_format",
    "empty_reports",
    "get_decoder",
]
