"""OpenSky state vectors and traffic-style trajectory tables (Parquet or CSV), for replay; the
input is in OpenSky's units (m, m/s) or traffic's (ft, kt, ft/min), the output in traffic's.

Layouts (one row per report; column names as the sources write them):

- ``opensky`` (``state_vectors_data4``): ``time`` (UTC datetime or unix s), ``icao24``, ``lat``,
  ``lon`` (deg), ``baroaltitude`` (m), ``velocity`` (m/s), ``heading`` (deg true track),
  ``vertrate`` (m/s), ``callsign``, ``squawk``.
- ``trajectory`` (the ``traffic`` library): ``timestamp`` (UTC), ``icao24`` (or ``id``),
  ``callsign``, ``latitude``, ``longitude`` (deg), ``altitude`` (ft), ``groundspeed`` (kt),
  ``track`` (deg), ``vertical_rate`` (ft/min), ``squawk`` (text, or an integer whose decimal
  digits are the octal code: zero-padded to 4).
- ``modes-table``: raw Mode S frames with their time: ``rawmsg`` or ``frame`` (hex) and
  ``mintime`` / ``timestamp`` / ``time``; decoded as in ``deconflict.surveillance.modes``.

``table`` picks one of the three from the columns. Rows are reported in file order (replay sorts
by time). Errors (position = row index): ``bad-time`` (no time), ``bad-position`` (latitude
outside ±90 or longitude outside ±180: the row is dropped), and warnings for time order.
"""

from __future__ import annotations

import io
from collections import Counter
from typing import Final

import numpy as np
import pandas as pd

from deconflict.errors import DecodeError
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
from deconflict.units import FPM, FT, KT

PARQUET_MAGIC: Final = b"PAR1"


def read_table(data: bytes) -> pd.DataFrame:
    """Parquet (by its magic bytes) or CSV with a header line."""
    try:
        if data[:4] == PARQUET_MAGIC:
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data), dtype={"icao24": str, "squawk": str})
    except Exception as exc:  # pyarrow and the csv parser raise many kinds
        raise DecodeError(f"cannot read the table ({exc}): give a Parquet or CSV file") from exc


def _times_ns(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column):
        seconds = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
        return np.where(np.isnan(seconds), np.iinfo(np.int64).min, seconds * 1e9).astype(np.int64)
    stamps = pd.to_datetime(column, utc=True, errors="coerce")
    return np.asarray(stamps.astype("int64"))


def _floats(table: pd.DataFrame, name: str, scale: float = 1.0) -> np.ndarray:
    if name not in table:
        return np.full(len(table), np.nan)
    values = pd.to_numeric(table[name], errors="coerce").astype("float64").to_numpy()
    return values * scale


def _strings(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table:
        return pd.Series(pd.NA, index=table.index, dtype="string")
    text = table[name].astype("string").str.strip()
    return text.mask(text == "")


def _squawk(table: pd.DataFrame) -> pd.Series:
    text = _strings(table, "squawk")
    text = text.str.replace(r"\.0$", "", regex=True)
    return text.str.zfill(4)


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


def decode_opensky_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    if "time" not in table:
        raise DecodeError("an OpenSky state vector table needs a 'time' column")
    return _frame_reports(
        table,
        _times_ns(table["time"]),
        options,
        "opensky",
        icao24=_nullable(_strings(table, "icao24").str.lower()),
        callsign=_nullable(_strings(table, "callsign")),
        squawk=_nullable(_squawk(table)),
        latitude=_floats(table, "lat"),
        longitude=_floats(table, "lon"),
        altitude=_floats(table, "baroaltitude", 1.0 / FT),
        groundspeed=_floats(table, "velocity", 1.0 / KT),
        track=_floats(table, "heading"),
        vertical_rate=_floats(table, "vertrate", 1.0 / FPM),
    )


def decode_trajectory_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    if "timestamp" not in table:
        raise DecodeError("a trajectory table needs a 'timestamp' column (traffic convention)")
    ident = "icao24" if "icao24" in table else "id"
    return _frame_reports(
        table,
        _times_ns(table["timestamp"]),
        options,
        "trajectory",
        icao24=_nullable(_strings(table, ident).str.lower()),
        callsign=_nullable(_strings(table, "callsign")),
        squawk=_nullable(_squawk(table)),
        latitude=_floats(table, "latitude"),
        longitude=_floats(table, "longitude"),
        altitude=_floats(table, "altitude"),
        groundspeed=_floats(table, "groundspeed"),
        track=_floats(table, "track"),
        vertical_rate=_floats(table, "vertical_rate"),
    )


def decode_modes_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    frame_col = next((c for c in ("rawmsg", "frame") if c in table), None)
    time_col = next((c for c in ("mintime", "timestamp", "time") if c in table), None)
    if frame_col is None or time_col is None:
        raise DecodeError("a Mode S frame table needs 'rawmsg' or 'frame', and a time column")
    frames = table[frame_col].astype("string").fillna("").tolist()
    return decode_frames(frames, _times_ns(table[time_col]), options, source="modes")


def decode_table(table: pd.DataFrame, options: DecodeOptions) -> DecodeResult:
    """Pick the layout from the columns (see the module docstring)."""
    if "rawmsg" in table or "frame" in table:
        return decode_modes_table(table, options)
    if "time" in table and "lat" in table:
        return decode_opensky_table(table, options)
    if "timestamp" in table:
        return decode_trajectory_table(table, options)
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
