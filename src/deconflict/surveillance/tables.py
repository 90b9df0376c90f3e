"""OpenSky state vectors and traffic-style trajectory tables (Parquet or CSV), for replay; the
input is in OpenSky's units (m, m/s) or traffic's (ft, kt, ft/min), the output in traffic's.

Layouts (one row per report; column names as the sources write them):

- ``opensky`` (``state_vectors_data4``): ``time`` (UTC datetime or unix s), ``icao24``, ``lat``,
  ``lon`` (deg), ``baroaltitude`` (m), ``velocity`` (m/s), ``heading`` (deg true track),
  ``vertrate`` (m/s), ``callsign``, ``squawk``, ``lastposupdate`` (the position's time: a stale
  position written again is left out, counted as ``stale_positions``).
- ``trajectory`` (the ``traffic`` library): ``timestamp`` (UTC), ``icao24`` (or ``id``),
  ``callsign``, ``latitude``, ``longitude`` (deg), ``altitude`` (ft), ``groundspeed`` (kt),
  ``track`` (deg), ``vertical_rate`` (ft/min), ``squawk`` (text, or an integer whose decimal
  digits are the octal code: zero-padded to 4).
- ``modes-table``: raw Mode S frames with their time: ``rawmsg`` or ``frame`` (hex) and
  ``mintime`` / ``timestamp`` / ``time``; decoded as in ``deconflict.surveillance.modes``.

Both are read by ``deconflict.tables`` (the one reader of aircraft tables); either decoder takes
either layout. ``table`` picks one of the three from the columns. Rows are reported in file
order (replay sorts by time). Errors (position = row index): ``bad-time`` (no time),
``bad-position`` (latitude outside ±90 or longitude outside ±180: the row is dropped), and
warnings for time order.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

import numpy as np
import pandas as pd

from deconflict import tables
from deconflict.errors import DecodeError, InputError
from deconflict.surveillance.base import (
    DecodeOptions,
    Decoder,
    DecodeResult,
    ErrorLog,
    check_time_order,
    make_result,
    register,
)
from deconflict.surveillance.modes import decode_frames
from deconflict.surveillance.report import REPORT_DTYPES

PARQUET_MAGIC: Final = tables.PARQUET_MAGIC


def read_table(data: bytes) -> pd.DataFrame:
    """Parquet (by its magic bytes) or CSV with a header line (``deconflict.tables``)."""
    try:
        return tables.read_bytes(data, "table")
    except InputError as exc:
        raise DecodeError(str(exc)) from None


def _frame_reports(
    table: pd.DataFrame, times_ns: np.ndarray, options: DecodeOptions, source: str, **cols: object
) -> DecodeResult:
    errors = ErrorLog()
    counts: Counter[str] = Counter()
    lat = np.asarray(cols["latitude"], dtype=np.float64)
    lon = np.asarray(cols["longitude"], dtype=np.float64)
    no_time = times_ns == np.iinfo(np.int64).min
    bad_pos = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    for i in np.flatnonzero(no_time):
        errors.add(i, "bad-time", "row without a time", "")
    for i in np.flatnonzero(bad_pos & ~no_time):
        errors.add(i, "bad-position", f"latitude {lat[i]} / longitude {lon[i]} out of range", "")
    keep = ~no_time & ~bad_pos
    n = int(keep.sum())
    reports = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(times_ns[keep], utc=True),
            "party": pd.array([options.party] * n, dtype="string"),
            "sensor": pd.array([options.sensor] * n, dtype="string"),
            "source": pd.array([source] * n, dtype="string"),
            **{
                name: (
                    pd.array(np.asarray(value, dtype=object)[keep], dtype=REPORT_DTYPES[name])
                    if REPORT_DTYPES[name] in ("string", "Int64")
                    else np.asarray(value, dtype=np.float64)[keep]
                )
                for name, value in cols.items()
            },
        }
    )
    for name, dtype in REPORT_DTYPES.items():
        if name not in reports:
            reports[name] = pd.Series([None] * n, dtype=dtype)
    where = np.flatnonzero(keep)
    counts.update(check_time_order(times_ns[keep] / 1e9, errors, positions=where))
    errors.rows.sort(key=lambda r: r[0])
    return make_result(reports, errors, len(table), counts)


def _nullable(series: pd.Series) -> np.ndarray:
    return np.asarray(series.astype(object).where(series.notna(), None))


def _aircraft_reports(
    table: pd.DataFrame, options: DecodeOptions, source: str, layout: tables.Layout
) -> DecodeResult:
    """Reports of a traffic- or OpenSky-layout table, read by ``deconflict.tables``; a stale
    OpenSky position written again (same ``lastposupdate``) is left out and counted."""
    times_ns = tables.position_time_ns(table, layout, source)
    icao = tables.strings(table, layout, "icao24" if layout.has("icao24") else "id")
    stale = np.zeros(len(table), dtype=bool)
    if layout.position_time is not None:
        stale = tables.repeated(icao.to_numpy(dtype=object, na_value=""), times_ns)
        stale &= times_ns != tables.NO_TIME
    keep = ~stale
    counts = {"stale_positions": int(stale.sum())} if stale.any() else {}
    result = _frame_reports(
        table[keep],
        times_ns[keep],
        options,
        source,
        icao24=_nullable(icao[keep].str.lower()),
        callsign=_nullable(tables.strings(table, layout, "callsign")[keep]),
        squawk=_nullable(tables.squawk(tables.strings(table, layout, "squawk"))[keep]),
        **{
            name: tables.edge(table, layout, name)[keep]
            for name in ("latitude", "longitude", "altitude", "groundspeed", "track")
        },
        vertical_rate=tables.edge(table, layout, "vertical_rate")[keep],
    )
    if stale.any():  # positions in the error log are the input's rows
        result.errors["position"] = np.flatnonzero(keep)[result.errors["position"].to_numpy()]
        result.counts.update(counts)
        result.counts["frames"] = len(table)
    return result


def _layout(table: pd.DataFrame, where: str, need: tuple[str, ...]) -> tables.Layout:
    try:
        return tables.layout_of(table.columns, where, need=need)
    except InputError as exc:
        raise DecodeError(str(exc)) from None


def decode_opensky_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    layout = _layout(table, "OpenSky table", ("timestamp", "latitude", "longitude"))
    if layout.name != "opensky":
        raise DecodeError("an OpenSky state vector table needs 'time', 'lat' and 'lon' columns")
    return _aircraft_reports(table, options, "opensky", layout)


def decode_trajectory_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    layout = _layout(table, "trajectory table", ("timestamp", "latitude", "longitude"))
    return _aircraft_reports(table, options, "trajectory", layout)


def decode_modes_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    frame_col = next((c for c in ("rawmsg", "frame") if c in table), None)
    time_col = next((c for c in ("mintime", "timestamp", "time") if c in table), None)
    if frame_col is None or time_col is None:
        raise DecodeError("a Mode S frame table needs 'rawmsg' or 'frame', and a time column")
    frames = table[frame_col].astype("string").fillna("").tolist()
    return decode_frames(frames, tables.epoch_ns(table[time_col]), options, source="modes")


def decode_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    """Pick the layout from the columns (see the module docstring)."""
    if "rawmsg" in table or "frame" in table:
        return decode_modes_table(table, options)
    try:
        layout = tables.layout_of(table.columns, "table", need=("timestamp", "latitude"))
    except InputError:
        layout = None
    if layout is not None:
        return _aircraft_reports(
            table, options, layout.name.replace("traffic", "trajectory"), layout
        )
    raise DecodeError(
        f"table columns {list(table.columns)[:12]} match no known layout: "
        "expected OpenSky (time, lat, lon, ...), traffic (timestamp, latitude, ...) or raw frames"
    )


def _on_bytes(decoder: object) -> object:
    def decode(data: bytes, options: DecodeOptions = DecodeOptions()) -> DecodeResult:
        return decoder(read_table(data), options)  # type: ignore[operator, no-any-return]

    return decode


def sniff_table(head: bytes) -> bool:
    if head[:4] == PARQUET_MAGIC:
        return True
    first = head.split(b"\n", 1)[0].decode("latin-1").lower()
    return ("timestamp" in first or "time" in first) and ("latitude" in first or "lat" in first)


for _key, _func, _text in (
    ("opensky", decode_opensky_table, "OpenSky state vectors table (Parquet/CSV, m and m/s)"),
    ("trajectory", decode_trajectory_table, "traffic-style trajectory table (Parquet/CSV)"),
    ("modes-table", decode_modes_table, "table of raw Mode S frames with times (Parquet/CSV)"),
    ("table", decode_table, "any of the three tables, chosen by its columns"),
):
    register(
        Decoder(
            key=_key,
            description=_text,
            decode=_on_bytes(_func),  # type: ignore[arg-type]
            sniff=sniff_table if _key == "table" else None,
            suffixes=(".parquet", ".pq") if _key == "table" else (),
        )
    )
