"""SBS-1 BaseStation CSV (port 30003 stream and files); altitude ft, speed kt, track deg,
vertical rate ft/min, times UTC.

Wire layout: one ASCII line per message, 22 comma-separated fields::

    MSG,type,session,aircraft,hexident,flight,date_gen,time_gen,date_log,time_log,
    callsign,altitude,groundspeed,track,latitude,longitude,vertical_rate,squawk,
    alert,emergency,spi,on_ground

- field 1 ``MSG`` (other message kinds, ``SEL ID AIR STA CLK``, are counted, not reported);
- field 2 transmission type 1-8: 1 identification (callsign), 2 surface position, 3 airborne
  position, 4 velocity, 5 surveillance altitude, 6 surveillance identity (squawk), 7 air-to-air,
  8 all-call reply; only the fields of that type are filled;
- ``hexident`` the 24-bit address in hex; date ``YYYY/MM/DD``, time ``HH:MM:SS.fff``. The
  generated date/time is the report time; it is read as UTC (dump1090/readsb write UTC; set the
  receiver to UTC if it writes local time).

Errors (position = line index): ``bad-fields`` (fewer than 17 fields, or no hexident),
``bad-time``, ``bad-value`` (a number field that is not a number).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Final

import numpy as np
import pandas as pd

from deconflict.surveillance.base import (
    DecodeOptions,
    Decoder,
    DecodeResult,
    ErrorLog,
    LineStreamDecoder,
    check_time_order,
    concat_results,
    make_result,
    register,
)
from deconflict.surveillance.report import reports_frame

_ICAO: Final = re.compile(r"~?[0-9A-Fa-f]{6}")
_NUMBER_FIELDS: Final = {
    11: "altitude",
    12: "groundspeed",
    13: "track",
    14: "latitude",
    15: "longitude",
    16: "vertical_rate",
}


def parse_sbs_line(line: str, options: DecodeOptions) -> dict[str, Any]:
    """One ``MSG`` line to a report dict; raises ``ValueError`` (kind, message) if malformed."""
    fields = [f.strip() for f in line.split(",")]
    if len(fields) < 17 or not _ICAO.fullmatch(fields[4]):
        raise ValueError("bad-fields", f"{len(fields)} fields or no hexident: not an SBS MSG line")
    try:
        when = pd.Timestamp(f"{fields[6].replace('/', '-')} {fields[7]}", tz="UTC")
    except ValueError:
        raise ValueError("bad-time", f"date/time {fields[6]!r} {fields[7]!r}") from None
    if pd.isna(when):
        raise ValueError("bad-time", "empty date/time")
    row: dict[str, Any] = {
        "timestamp": when,
        "party": options.party,
        "sensor": options.sensor,
        "source": "sbs",
        "icao24": fields[4].lstrip("~").lower(),
        "callsign": fields[10] or None,
        "squawk": (fields[17].zfill(4) if len(fields) > 17 and fields[17] else None),
    }
    for index, name in _NUMBER_FIELDS.items():
        text = fields[index]
        try:
            row[name] = float(text) if text else np.nan
        except ValueError:
            raise ValueError("bad-value", f"{name} {text!r} is not a number") from None
    return row


class SbsStream(LineStreamDecoder):
    """Incremental SBS decoder: a line split across chunks waits for its end."""

    def __init__(self, options: DecodeOptions) -> None:
        super().__init__()
        self.options = options

    def _lines(self, data: bytes) -> DecodeResult:
        lines = data.decode("latin-1").splitlines()
        errors = ErrorLog()
        counts: Counter[str] = Counter()
        rows: list[dict[str, Any]] = []
        where: list[int] = []
        frames = 0
        for k, line in enumerate(lines):
            index = self.line_index + k
            if not line.strip():
                continue
            frames += 1
            kind = line.split(",", 1)[0].strip()
            if kind != "MSG":
                counts[f"sbs_{kind or 'empty'}"] += 1
                if kind not in ("SEL", "ID", "AIR", "STA", "CLK"):
                    errors.add(index, "bad-fields", f"unknown SBS message {kind!r}", line[:80])
                continue
            try:
                rows.append(parse_sbs_line(line, self.options))
            except ValueError as exc:
                kind_, message = exc.args if len(exc.args) == 2 else ("bad-fields", str(exc))
                errors.add(index, kind_, message, line[:200])
                continue
            where.append(index)
        self.line_index += len(lines)
        reports = reports_frame(rows)
        times = reports["timestamp"].astype("int64").to_numpy() / 1e9
        counts.update(check_time_order(times, errors, positions=np.array(where, dtype=np.int64)))
        errors.rows.sort(key=lambda r: r[0])
        return make_result(reports, errors, frames, counts)


def decode_sbs(data: bytes, options: DecodeOptions = DecodeOptions()) -> DecodeResult:
    """Decode a whole SBS-1 file (see the module docstring)."""
    stream = SbsStream(options)
    return concat_results([stream.feed(data), stream.close()])


def sniff_sbs(head: bytes) -> bool:
    return head.lstrip().startswith((b"MSG,", b"SEL,", b"ID,", b"AIR,", b"STA,", b"CLK,"))


SBS = register(
    Decoder(
        key="sbs",
        description="SBS-1 BaseStation CSV (port 30003 and recordings)",
        decode=decode_sbs,
        sniff=sniff_sbs,
        stream=SbsStream,
        suffixes=(".sbs", ".sbs1"),
    ),
    "basestation",
    "sbs1",
)
