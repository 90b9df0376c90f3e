"""The one reader of aircraft tables: which column holds what, in which unit, and when.

Every command and API that takes a table of aircraft (``detect``, ``analyze``, ``track``,
``serve --replay``, the ``opensky`` / ``trajectory`` decoders) reads it here, so the same names,
units and time rules hold everywhere. Accepted layouts (names as the sources write them):

- ``traffic`` (the ``traffic`` library, DESIGN.md's edge): ``timestamp`` (UTC), ``flight_id`` /
  ``id`` / ``icao24``, ``callsign``, ``latitude``, ``longitude`` (deg WGS84), ``altitude`` (ft),
  ``groundspeed`` (kt), ``track`` (deg true), ``vertical_rate`` (ft/min), ``onground``, ``squawk``.
- ``opensky`` (OpenSky / Impala ``state_vectors_data4``): ``time``, ``icao24``, ``lat``, ``lon``,
  ``baroaltitude`` (m), ``velocity`` (m/s), ``heading`` (deg true), ``vertrate`` (m/s),
  ``onground``, ``callsign``, ``squawk``, ``lastposupdate`` (unix s). The position's time is
  ``lastposupdate`` where given (``time`` is when the state vector was written: a position that
  did not change is repeated with a newer ``time``), so a repeated stale position is not a fresh
  report (``repeated``).

Input: a pandas DataFrame, a ``traffic`` ``Traffic`` / ``Flight`` (any object with a ``.data``
DataFrame), a mapping of column name to array, or a CSV / Parquet / JSON / JSON-lines file.
Times without a zone are UTC; numbers are unix seconds. Values come out in the edge units above
(``edge``) or in SI (``si``: m, m/s, s); a file mixing both conventions is refused.
"""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.units import FPM, FT, KT

LayoutName = Literal["traffic", "opensky"]
TableInput = pd.DataFrame | Mapping[str, Any] | str | Path | Any

#: traffic name -> (OpenSky column, factor from OpenSky's unit to the edge unit)
OPENSKY_NAMES: Final[dict[str, tuple[str, float]]] = {
    "timestamp": ("time", 1.0),
    "latitude": ("lat", 1.0),
    "longitude": ("lon", 1.0),
    "altitude": ("baroaltitude", 1.0 / FT),
    "geoaltitude": ("geoaltitude", 1.0 / FT),
    "groundspeed": ("velocity", 1.0 / KT),
    "track": ("heading", 1.0),
    "vertical_rate": ("vertrate", 1.0 / FPM),
}
#: edge unit -> SI factor of the traffic names that carry a unit (the others are degrees or text)
EDGE_TO_SI: Final[dict[str, float]] = {
    "altitude": FT,
    "geoaltitude": FT,
    "groundspeed": KT,
    "vertical_rate": FPM,
}
#: the identifier columns, in order of preference (a traffic ``flight_id`` names one flight)
ID_COLUMNS: Final = ("flight_id", "id", "icao24")
_OPENSKY_MARKS: Final = {"time", "lat", "lon", "baroaltitude", "velocity", "lastposupdate"}
_UNITS: Final = {"altitude": "ft", "groundspeed": "kt", "vertical_rate": "ft/min"}


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each traffic name is in one table, and the factor from its unit to the edge's."""

    name: LayoutName
    columns: Mapping[str, str]  # traffic name -> the table's column (present ones only)
    to_edge: Mapping[str, float]  # traffic name -> factor to the edge unit (absent: 1)
    id_column: str | None
    position_time: str | None  # OpenSky's lastposupdate, when the table has it

    def has(self, name: str) -> bool:
        return name in self.columns

    def to_si(self, name: str) -> float:
        """Factor from the table's unit of ``name`` to SI (exact: m stays m)."""
        if self.name == "opensky" and name in OPENSKY_NAMES:
            return 1.0
        return EDGE_TO_SI.get(name, 1.0)


def accepted(name: str) -> str:
    """The names accepted for the traffic name ``name``, for error messages."""
    if name == "id":
        return "flight_id, id or icao24"
    if name in OPENSKY_NAMES:
        theirs = OPENSKY_NAMES[name][0]
        unit = _UNITS.get(name)
        return f"{name}{f' in {unit}' if unit else ''} or OpenSky's {theirs}"
    return name


def layout_of(names: Iterable[object], where: str = "input", need: Iterable[str] = ()) -> Layout:
    """The layout of a table with these column names; InputError when the table mixes the two
    conventions or lacks one of ``need`` (traffic names; ``id`` for an identifier), naming what
    is missing, the names accepted and the nearest column found."""
    cols = [str(c) for c in names]
    have = set(cols)
    for ours, (theirs, factor) in OPENSKY_NAMES.items():  # the same quantity in two units
        if ours in have and theirs in have and factor != 1.0 and ours != theirs:
            raise InputError(
                f"{where}: mixed units, both {ours!r} (traffic convention, ft / kt) and "
                f"{theirs!r} (OpenSky convention, m / m/s) are present; keep one convention per "
                "table (drop or rename the other columns)"
            )
    opensky = bool(_OPENSKY_MARKS & have) and not {"latitude", "longitude"} & have
    columns: dict[str, str] = {}
    to_edge: dict[str, float] = {}
    for ours, (theirs, factor) in OPENSKY_NAMES.items():
        if opensky and theirs in have:
            columns[ours], to_edge[ours] = theirs, factor
        elif ours in have:
            columns[ours] = ours
    if opensky and "timestamp" not in columns and "timestamp" in have:
        columns["timestamp"] = "timestamp"
    for other in ("icao24", "callsign", "squawk", "onground", "flight_id"):
        if other in have:
            columns[other] = other
    id_column = next((c for c in ID_COLUMNS if c in have), None)
    if id_column is not None:
        columns["id"] = id_column
    position_time = "lastposupdate" if opensky and "lastposupdate" in have else None
    missing = [n for n in need if n not in columns and not (n == "timestamp" and position_time)]
    if missing:
        known = {*ID_COLUMNS, *OPENSKY_NAMES, *(t for t, _ in OPENSKY_NAMES.values())}
        hints = []
        for m in missing:
            close = difflib.get_close_matches(m, [c for c in cols if c not in known], n=1)
            hint = f"{m} (did you mean {close[0]!r}?)" if close else m
            hints.append(f"{hint} [{accepted(m)}]" if accepted(m) != m else hint)
        raise InputError(
            f"{where}: missing column(s): {'; '.join(hints)}. Accepted: the traffic names "
            "(timestamp, flight_id/id/icao24, latitude, longitude deg, altitude ft, groundspeed "
            "kt, track deg, vertical_rate ft/min) or OpenSky's (time, icao24, lat, lon, "
            f"baroaltitude m, velocity m/s, heading, vertrate m/s); found: {', '.join(cols[:20])}"
        )
    return Layout("opensky" if opensky else "traffic", columns, to_edge, id_column, position_time)


def read_file(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet, JSON (a list of rows or ``{"states": [...]}``) or JSON-lines file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file; give the path of a CSV, Parquet or JSON file")
    suffix = p.suffix.lower()
    text_ids = {"icao24": str, "squawk": str, "callsign": str}
    try:
        if suffix in {".parquet", ".pq"}:
            return pd.read_parquet(p)
        if suffix in {".csv", ".txt"}:
            return pd.read_csv(p, dtype=text_ids)
        if suffix in {".jsonl", ".ndjson"}:
            return pd.read_json(p, lines=True, dtype=text_ids)
        if suffix == ".json":
            data = json.loads(p.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "states" in data:
                data = data["states"]
            if not isinstance(data, list):
                raise InputError(
                    f'{p}: JSON must be a list of rows or {{"states": [...]}}, '
                    f"got {type(data).__name__}"
                )
            return pd.DataFrame.from_records(data)
    except InputError:
        raise
    except Exception as exc:  # pyarrow / pandas / json raise many types
        raise InputError(
            f"{p}: cannot read as {suffix.lstrip('.') or 'a table'} ({exc.__class__.__name__}: "
            f"{exc}); check the file is complete and of that format"
        ) from None
    raise InputError(f"{p}: unknown file type {suffix!r}; use .csv, .parquet, .json or .jsonl")


PARQUET_MAGIC: Final = b"PAR1"


def read_bytes(data: bytes, where: str = "input") -> pd.DataFrame:
    """A table from a file's bytes: Parquet (by its magic bytes) or CSV with a header line."""
    try:
        if data[:4] == PARQUET_MAGIC:
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data), dtype={"icao24": str, "squawk": str, "callsign": str})
    except Exception as exc:  # pyarrow and the csv parser raise many kinds
        raise InputError(
            f"{where}: cannot read the table ({exc}); give a Parquet or CSV file"
        ) from None


def as_frame(table: TableInput) -> pd.DataFrame:
    """Any accepted input (DataFrame, ``traffic`` object, mapping of arrays, file) as a frame."""
    if isinstance(table, str | Path):
        return read_file(table)
    if isinstance(table, pd.DataFrame):
        return table
    data = getattr(table, "data", None)  # a traffic.core.Traffic / Flight object
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(table, Mapping):
        try:
            return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in table.items()})
        except ValueError as exc:
            raise InputError(f"columns must all have the same length: {exc}") from None
    raise InputError(
        f"cannot read aircraft from a {type(table).__name__}: give a pandas DataFrame, a traffic "
        "Traffic/Flight, a mapping of column name to array, or a CSV/Parquet/JSON file path"
    )


def numbers(
    frame: pd.DataFrame, column: str | None, default: float = np.nan
) -> NDArray[np.float64]:
    """Column ``column`` as float64 (NaN where not a number), or ``default`` when absent."""
    if column is None or column not in frame:
        return np.full(len(frame), default)
    col = frame[column]
    if col.dtype.kind not in "fiu":  # strings, objects, nullable or mixed: parse, NaN if not
        col = pd.to_numeric(col, errors="coerce")
    return np.asarray(col.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def edge(
    frame: pd.DataFrame, layout: Layout, name: str, default: float = np.nan
) -> NDArray[np.float64]:
    """Traffic name ``name`` in the edge unit (deg, ft, kt, ft/min); ``default`` when absent."""
    values = numbers(frame, layout.columns.get(name), default)
    factor = layout.to_edge.get(name, 1.0)
    return values if factor == 1.0 or name not in layout.columns else values * factor


def si(
    frame: pd.DataFrame, layout: Layout, name: str, default: float = np.nan
) -> NDArray[np.float64]:
    """Traffic name ``name`` in SI (deg for angles, m, m/s); ``default`` (SI) when absent."""
    values = numbers(frame, layout.columns.get(name), default)
    factor = layout.to_si(name)
    return values if factor == 1.0 or name not in layout.columns else values * factor


NO_TIME: Final = np.iinfo(np.int64).min  # the int64 of NaT


def epoch_ns(values: pd.Series, where: str = "input") -> NDArray[np.int64]:
    """Nanoseconds since 1970-01-01 UTC of datetimes or ISO strings (without a zone: UTC, never
    the machine's local time) or numbers (unix seconds); ``NO_TIME`` where missing."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        secs = values.to_numpy(dtype=np.float64, na_value=np.nan)
        ns = np.round(np.where(np.isfinite(secs), secs, 0.0) * 1e9).astype(np.int64)
        return np.where(np.isfinite(secs), ns, NO_TIME)
    try:
        stamps = pd.to_datetime(values, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: unreadable time values ({exc}); use ISO 8601 UTC") from None
    return np.asarray(stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64))


def seconds(ns: NDArray[np.int64]) -> NDArray[np.float64]:
    """``epoch_ns`` values as float seconds, NaN for ``NO_TIME``."""
    out = ns.astype(np.float64) / 1e9
    out[ns == NO_TIME] = np.nan
    return out


def epoch_s(values: pd.Series, where: str = "input") -> NDArray[np.float64]:
    """Seconds since the epoch (UTC) of a time column (see ``epoch_ns``); NaN where missing."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    return seconds(epoch_ns(values, where))


def position_time_ns(
    frame: pd.DataFrame, layout: Layout, where: str = "input"
) -> NDArray[np.int64]:
    """Each row's position time (ns since the epoch, UTC): OpenSky's ``lastposupdate`` where
    given, else the row's time; ``NO_TIME`` where the table has none."""
    column = layout.columns.get("timestamp")
    ns = epoch_ns(frame[column], where) if column else np.full(len(frame), NO_TIME)
    if layout.position_time is not None:
        pos = epoch_ns(frame[layout.position_time], where)
        ns = np.where(pos != NO_TIME, pos, ns)
    return ns


def position_time_s(
    frame: pd.DataFrame, layout: Layout, where: str = "input"
) -> NDArray[np.float64]:
    """``position_time_ns`` in seconds (NaN where missing)."""
    column = layout.columns.get("timestamp")
    if layout.position_time is None and column is not None:
        return epoch_s(frame[column], where)
    return seconds(position_time_ns(frame, layout, where))


def strings(frame: pd.DataFrame, layout: Layout, name: str) -> pd.Series:
    """Traffic name ``name`` as stripped text (``<NA>`` where missing or empty)."""
    column = layout.columns.get(name)
    if column is None:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    text = frame[column].astype("string").str.strip()
    return text.mask(text == "")


def onground(frame: pd.DataFrame, layout: Layout) -> NDArray[np.bool_] | None:
    """The on-ground flag (missing: airborne), or None when the table has none."""
    column = layout.columns.get("onground")
    if column is None:
        return None
    flag = frame[column]
    if flag.dtype == object or pd.api.types.is_string_dtype(flag):
        flag = flag.astype("string").str.lower().map({"true": True, "1": True, "false": False,
                                                     "0": False})  # fmt: skip
    return np.asarray(flag.astype("boolean").fillna(False).to_numpy(dtype=bool))


def repeated(ids: NDArray[Any], times: NDArray[Any]) -> NDArray[np.bool_]:
    """Rows that repeat an earlier row's (aircraft, position time): a stale position written
    again (OpenSky writes a state vector every second whether or not the position changed)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=bool)
    keys = pd.DataFrame({"id": ids, "t": times})
    return np.array(keys.duplicated(keep="first").to_numpy(), dtype=bool)


def to_traffic(table: TableInput, where: str = "input") -> pd.DataFrame:
    """Any accepted table as one in the traffic convention (the edge units), one row per fresh
    position in input order: ``timestamp`` (UTC; the position's time), ``icao24`` (lower case),
    ``callsign``, ``squawk``, ``latitude``, ``longitude``, ``altitude``, ``groundspeed``,
    ``track``, ``vertical_rate``, ``onground`` and ``flight_id`` (where the table has one).
    Rows with no time or position are dropped; the index is the input's row position."""
    frame = as_frame(table)
    layout = layout_of(frame.columns, where, need=("timestamp", "latitude", "longitude"))
    t_ns = position_time_ns(frame, layout, where)
    icao = strings(frame, layout, "icao24" if layout.has("icao24") else "id").str.lower()
    out = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(t_ns, utc=True),
            "icao24": icao,
            "callsign": strings(frame, layout, "callsign"),
            "squawk": squawk(strings(frame, layout, "squawk")),
            **{
                n: edge(frame, layout, n)
                for n in ("latitude", "longitude", "altitude", "groundspeed", "track")
            },
            "vertical_rate": edge(frame, layout, "vertical_rate"),
        },
        index=pd.RangeIndex(len(frame)),
    )
    ground = onground(frame, layout)
    if ground is not None:
        out["onground"] = ground
    if "flight_id" in layout.columns:
        out["flight_id"] = strings(frame, layout, "flight_id").to_numpy()
    ident = strings(frame, layout, "id").to_numpy(dtype=object, na_value="")
    keep = (t_ns != NO_TIME) & np.isfinite(out["latitude"].to_numpy())
    keep &= np.isfinite(out["longitude"].to_numpy())
    if layout.position_time is not None:
        keep &= ~repeated(ident, t_ns)
    fresh: pd.DataFrame = out[keep]
    return fresh


def squawk(text: pd.Series) -> pd.Series:
    """Squawk codes as 4 octal digits (an integer column lost its leading zeros: pad them)."""
    return text.str.replace(r"\.0$", "", regex=True).str.zfill(4)
