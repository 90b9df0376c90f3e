"""Recorded trajectories in, one SI table out: seconds since the epoch (UTC), degrees, metres.

Two schemas are recognised by their columns:

- ``traffic`` (the `traffic` library and our own convention): ``timestamp`` (UTC), ``icao24``
  (or ``id`` / ``flight_id``), ``latitude``, ``longitude``, ``altitude`` (ft), optional
  ``groundspeed`` (kt), ``callsign``, ``onground``;
- ``opensky`` (OpenSky ``state_vectors_data4``): ``time``, ``icao24``, ``lat``, ``lon``,
  ``baroaltitude`` (m), optional ``velocity`` (m/s), ``callsign``, ``onground``.

A file holding columns of both (``altitude`` and ``baroaltitude``, ``groundspeed`` and
``velocity``) has mixed units and is refused, as is a speed column whose values disagree with the
speed the positions imply by the factor between knots and m/s.

The canonical table has the columns of ``CANONICAL``: ``id`` (str), ``callsign`` (str),
``t_s`` (float, s since 1970-01-01 UTC), ``lat_deg``, ``lon_deg``, ``alt_m`` (barometric) and
``airborne`` (bool). Without an on-ground flag, a sample is airborne when its ground speed is at
least ``MIN_AIRBORNE_SPEED_MPS`` (50 kt) or unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.dataset as pads  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from deconflict.errors import InputError
from deconflict.geo import distance_m
from deconflict.units import FT, KT

Schema = Literal["traffic", "opensky"]

CANONICAL: Final = ("id", "callsign", "t_s", "lat_deg", "lon_deg", "alt_m", "airborne")
MIN_AIRBORNE_SPEED_MPS: Final = 50.0 * KT

_REQUIRED: Final[dict[Schema, tuple[str, ...]]] = {
    "traffic": ("timestamp", "latitude", "longitude", "altitude"),
    "opensky": ("time", "lat", "lon", "baroaltitude", "icao24"),
}
_TIME: Final[dict[Schema, str]] = {"traffic": "timestamp", "opensky": "time"}
_CLASHES: Final = (("altitude", "baroaltitude"), ("groundspeed", "velocity"))
_ID_COLUMNS: Final = ("flight_id", "id", "icao24")


def detect_schema(columns: list[str], where: str) -> Schema:
    """The schema a list of column names belongs to; InputError when mixed or incomplete."""
    cols = set(columns)
    for ours, theirs in _CLASHES:
        if ours in cols and theirs in cols:
            raise InputError(
                f"{where}: mixed units, both {ours!r} (traffic convention, ft / kt) and "
                f"{theirs!r} (OpenSky convention, m / m/s) are present; keep one convention per "
                "file (drop or rename the other columns)"
            )
    if {"time", "lat", "lon", "baroaltitude"} & cols:
        schema: Schema = "opensky"
    else:
        schema = "traffic"
    missing = [c for c in _REQUIRED[schema] if c not in cols]
    if schema == "traffic" and not any(c in cols for c in _ID_COLUMNS):
        missing.append("icao24 (or id / flight_id)")
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)} for the {schema} schema; expected "
            f"{', '.join(_REQUIRED[schema])} plus an aircraft identifier (found: "
            f"{', '.join(sorted(cols)) or 'none'})"
        )
    return schema


def _epoch_s(values: pd.Series, where: str) -> np.ndarray:
    """Seconds since the epoch from datetimes (naive = UTC) or numbers (epoch seconds)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        stamps = pd.to_datetime(values, utc=True)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: unreadable time values ({exc}); use ISO 8601 UTC") from None
    ns = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    out = ns.astype(np.float64) / 1e9
    out[stamps.isna().to_numpy()] = np.nan
    return out


def _categories(values: pd.Series, strip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes into sorted distinct str values (missing values: ``""``).

    Each distinct value is converted once, so the per-row work stays in integer arrays.
    """
    codes, uniques = pd.factorize(values)
    names = [str(u).strip() if strip else str(u) for u in uniques]
    merged, inverse = np.unique(np.array([*names, ""], dtype=str), return_inverse=True)
    table = inverse.reshape(-1).astype(np.int64)
    return table[np.where(codes < 0, len(uniques), codes)], merged.astype(object)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _check_speed_units(
    ids: np.ndarray,
    t_s: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    speed_mps: np.ndarray,
    column: str,
    unit: str,
    where: str,
) -> None:
    """Refuse a speed column whose values are off by the kt ↔ m/s factor from the positions."""
    same = (ids[1:] == ids[:-1]) & (np.diff(t_s) > 0) & (np.diff(t_s) <= 60)
    idx = np.flatnonzero(same)
    if idx.size < 20:
        return
    if idx.size > 20_000:  # a median needs no more
        idx = idx[:: idx.size // 20_000]
    moved = distance_m(lat[idx], lon[idx], lat[idx + 1], lon[idx + 1]) / np.diff(t_s)[idx]
    reported = 0.5 * (speed_mps[idx] + speed_mps[idx + 1])
    ok = np.isfinite(moved) & np.isfinite(reported) & (reported > 30.0)
    if ok.sum() < 20:
        return
    ratio = float(np.median(moved[ok] / reported[ok]))
    if not 0.75 < ratio < 1.33:
        raise InputError(
            f"{where}: column {column!r} should be in {unit}, but the positions imply speeds "
            f"{ratio:.2f} times larger (the kt / m/s factor is 1.94): mixed units; convert the "
            "column or use the other schema's column names"
        )


def first_samples(id_code: np.ndarray, t_s: np.ndarray) -> np.ndarray:
    """Row positions sorted by (id, t_s), keeping the first row of each (id, t_s)."""
    order = np.lexsort((t_s, id_code))
    id_sorted, t_sorted = id_code[order], t_s[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (id_sorted[1:] != id_sorted[:-1]) | (t_sorted[1:] != t_sorted[:-1])
    return order[first]


def normalise(frame: pd.DataFrame, where: str = "input") -> pd.DataFrame:
    """The canonical SI table (see module note) of a traffic- or OpenSky-style frame."""
    schema = detect_schema([str(c) for c in frame.columns], where)
    if schema == "traffic":
        id_col = next(c for c in _ID_COLUMNS if c in frame.columns)
        lat, lon = _column(frame, "latitude"), _column(frame, "longitude")
        alt_m = _column(frame, "altitude") * FT
        speed_col, speed_unit, speed_k = "groundspeed", "kt", KT
    else:
        id_col = "icao24"
        lat, lon = _column(frame, "lat"), _column(frame, "lon")
        alt_m = _column(frame, "baroaltitude")
        speed_col, speed_unit, speed_k = "velocity", "m/s", 1.0
    t_s = _epoch_s(frame[_TIME[schema]], where)
    id_codes, id_names = _categories(frame[id_col])
    if "callsign" in frame.columns:
        cs_codes, cs_names = _categories(frame["callsign"], strip=True)
    else:
        cs_codes, cs_names = np.zeros(len(frame), dtype=np.int64), np.array([""], dtype=object)
    speed = _column(frame, speed_col) * speed_k if speed_col in frame.columns else None
    if "onground" in frame.columns:
        ground = frame["onground"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        airborne = ~ground
    elif speed is not None:
        airborne = ~(speed < MIN_AIRBORNE_SPEED_MPS)
    else:
        airborne = np.ones(len(frame), dtype=bool)
    good = np.isfinite(t_s) & np.isfinite(lat) & np.isfinite(lon) & np.isfinite(alt_m)
    good &= id_names[id_codes] != ""
    if np.any(good & ((np.abs(lat) > 90) | (np.abs(lon) > 360))):
        raise InputError(f"{where}: latitude/longitude out of range; they must be degrees WGS84")
    out = pd.DataFrame(
        {
            "id": pd.Categorical.from_codes(id_codes[good], categories=pd.Index(id_names)),
            "callsign": pd.Categorical.from_codes(cs_codes[good], categories=pd.Index(cs_names)),
            "t_s": t_s[good],
            "lat_deg": lat[good],
            "lon_deg": lon[good],
            "alt_m": alt_m[good],
            "airborne": airborne[good],
            "speed_mps": speed[good] if speed is not None else np.nan,
        }
    )
    out = out.iloc[first_samples(id_codes[good], out["t_s"].to_numpy())].reset_index(drop=True)
    if speed is not None:
        _check_speed_units(
            out["id"].cat.codes.to_numpy(),
            out["t_s"].to_numpy(),
            out["lat_deg"].to_numpy(),
            out["lon_deg"].to_numpy(),
            out["speed_mps"].to_numpy(),
            speed_col,
            speed_unit,
            where,
        )
    out = out.drop(columns="speed_mps")
    return out


@dataclass(frozen=True)
class Source:
    """One recording file: its path, format (parquet / csv), schema and time column."""

    path: Path
    fmt: Literal["parquet", "csv"]
    schema: Schema
    t_min_s: float = float("-inf")  # time span, once known: windows outside it skip the file
    t_max_s: float = float("inf")

    @property
    def time_column(self) -> str:
        return _TIME[self.schema]

    def _dataset(self) -> pads.Dataset:
        try:
            if self.fmt == "parquet":
                return pads.dataset(str(self.path), format="parquet")
            return pads.dataset(str(self.path), format="csv")
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{self.path}: cannot read as {self.fmt} ({exc})") from None

    def time_range_s(self) -> tuple[float, float] | None:
        """First and last time in the file (s since the epoch), None when it holds no rows."""
        col = self.read_columns([self.time_column])[self.time_column]
        t = _epoch_s(col, str(self.path))
        t = t[np.isfinite(t)]
        return (float(t.min()), float(t.max())) if t.size else None

    def read_columns(self, columns: list[str] | None = None) -> pd.DataFrame:
        try:
            frame: pd.DataFrame = self._dataset().to_table(columns=columns).to_pandas()
            return frame
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"{self.path}: corrupt or unreadable {self.fmt} file ({exc})"
            ) from None

    def read_window(self, t0_s: float, t1_s: float, ids: set[str] | None = None) -> pd.DataFrame:
        """Canonical rows with ``t0_s <= t_s < t1_s`` (a filtered read for Parquet), of the
        aircraft ``ids`` only if given."""
        if t1_s <= self.t_min_s or t0_s > self.t_max_s:
            return pd.DataFrame({c: [] for c in CANONICAL})
        dataset = self._dataset()
        field = dataset.schema.field(self.time_column)
        names = set(dataset.schema.names)
        id_col = (
            "icao24" if self.schema == "opensky" else next(c for c in _ID_COLUMNS if c in names)
        )
        by_id = None
        id_type = dataset.schema.field(id_col).type
        if ids is not None and (pa.types.is_string(id_type) or pa.types.is_large_string(id_type)):
            by_id = pads.field(id_col).isin(sorted(ids))
        try:
            if by_id is not None and not (
                pa.types.is_timestamp(field.type)
                or pa.types.is_integer(field.type)
                or pa.types.is_floating(field.type)
            ):
                frame = dataset.to_table(filter=by_id).to_pandas()
            elif pa.types.is_timestamp(field.type):
                unit = field.type.unit
                scale = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
                lo = pa.scalar(int(np.floor(t0_s * scale)), type=pa.int64()).cast(field.type)
                hi = pa.scalar(int(np.ceil(t1_s * scale)), type=pa.int64()).cast(field.type)
                expr = (pads.field(self.time_column) >= lo) & (pads.field(self.time_column) < hi)
                expr = expr if by_id is None else expr & by_id
                frame = dataset.to_table(filter=expr).to_pandas()
            elif pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
                expr = (pads.field(self.time_column) >= t0_s) & (
                    pads.field(self.time_column) < t1_s
                )
                expr = expr if by_id is None else expr & by_id
                frame = dataset.to_table(filter=expr).to_pandas()
            else:
                frame = dataset.to_table().to_pandas()
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"{self.path}: corrupt or unreadable {self.fmt} file ({exc})"
            ) from None
        out = normalise(frame, str(self.path))
        keep = (out["t_s"].to_numpy() >= t0_s) & (out["t_s"].to_numpy() < t1_s)
        if ids is not None:  # exact, whatever the id column's type (the read filters strings only)
            keep &= out["id"].isin(ids).to_numpy()
        return out[keep].reset_index(drop=True)


def open_source(path: str | Path) -> Source:
    """Inspect a file (Parquet or CSV), detect its schema; InputError when unusable."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file; give Parquet or CSV recordings")
    suffix = p.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        try:
            names = list(pq.read_schema(p).names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(
                f"{p}: not a readable Parquet file ({exc}); re-export it or leave it out"
            ) from None
        fmt: Literal["parquet", "csv"] = "parquet"
    elif suffix == ".csv":
        try:
            reader = pacsv.open_csv(p)
            names = list(reader.schema.names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{p}: not a readable CSV file ({exc})") from None
        fmt = "csv"
    else:
        raise InputError(f"{p}: unknown file type {suffix!r}; use .parquet or .csv")
    return Source(p, fmt, detect_schema(names, str(p)))
