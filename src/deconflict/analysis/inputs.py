"""Recorded trajectories in, one SI table out: seconds since the epoch (UTC), degrees, metres.

The table is read by ``deconflict.tables`` (the one reader: the ``traffic`` names in ft / kt, or
OpenSky's ``state_vectors_data4`` names in m / m/s, whose ``lastposupdate`` is the position's
time, so a stale position written again is the same sample and kept once).

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
from deconflict.tables import (
    ID_COLUMNS,
    LayoutName,
    TableInput,
    as_frame,
    layout_of,
    onground,
    position_time_s,
    si,
)
from deconflict.units import KT

Schema = LayoutName

CANONICAL: Final = ("id", "callsign", "t_s", "lat_deg", "lon_deg", "alt_m", "airborne")
MIN_AIRBORNE_SPEED_MPS: Final = 50.0 * KT
#: how much later than a position OpenSky may write it (its ``time`` after ``lastposupdate``):
#: a window's filtered read reaches this far past its end
POSITION_AGE_S: Final = 60.0
_NEED: Final = ("timestamp", "id", "latitude", "longitude", "altitude")


def detect_schema(columns: list[str], where: str) -> Schema:
    """The schema a list of column names belongs to; InputError when mixed or incomplete."""
    return layout_of(columns, where, need=_NEED).name


def _categories(values: pd.Series, strip: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Codes into sorted distinct str values (missing values: ``""``).

    Each distinct value is converted once, so the per-row work stays in integer arrays.
    """
    codes, uniques = pd.factorize(values)
    names = [str(u).strip() if strip else str(u) for u in uniques]
    merged, inverse = np.unique(np.array([*names, ""], dtype=str), return_inverse=True)
    table = inverse.reshape(-1).astype(np.int64)
    return table[np.where(codes < 0, len(uniques), codes)], merged.astype(object)


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


def normalise(table: TableInput, where: str = "input") -> pd.DataFrame:
    """The canonical SI table (see module note) of a traffic- or OpenSky-style table (a frame,
    a ``traffic`` object, a mapping of arrays or a file)."""
    frame = as_frame(table)
    layout = layout_of(frame.columns, where, need=_NEED)
    lat, lon = si(frame, layout, "latitude"), si(frame, layout, "longitude")
    alt_m = si(frame, layout, "altitude")
    speed_col = layout.columns.get("groundspeed", "groundspeed")
    speed_unit = "m/s" if layout.name == "opensky" else "kt"
    t_s = position_time_s(frame, layout, where)
    id_codes, id_names = _categories(frame[layout.columns["id"]])
    if layout.has("callsign"):
        cs_codes, cs_names = _categories(frame[layout.columns["callsign"]], strip=True)
    else:
        cs_codes, cs_names = np.zeros(len(frame), dtype=np.int64), np.array([""], dtype=object)
    speed = si(frame, layout, "groundspeed") if layout.has("groundspeed") else None
    ground = onground(frame, layout)
    if ground is not None:
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
    def late_s(self) -> float:
        """How much later than its position a row may be written (OpenSky: POSITION_AGE_S)."""
        return POSITION_AGE_S if self.schema == "opensky" else 0.0

    @property
    def time_column(self) -> str:
        return "time" if self.schema == "opensky" else "timestamp"

    def _dataset(self) -> pads.Dataset:
        try:
            if self.fmt == "parquet":
                return pads.dataset(str(self.path), format="parquet")
            return pads.dataset(str(self.path), format="csv")
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{self.path}: cannot read as {self.fmt} ({exc})") from None

    def time_range_s(self) -> tuple[float, float] | None:
        """First and last time in the file (s since the epoch), None when it holds no rows."""
        names = set(self._dataset().schema.names)
        wanted = [c for c in (self.time_column, "lastposupdate") if c in names]
        frame = self.read_columns(wanted if self.schema == "opensky" else wanted[:1])
        t = position_time_s(frame, layout_of(frame.columns), str(self.path))
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
        if t1_s <= self.t_min_s - self.late_s or t0_s > self.t_max_s:
            return pd.DataFrame({c: [] for c in CANONICAL})
        dataset = self._dataset()
        field = dataset.schema.field(self.time_column)
        names = set(dataset.schema.names)
        id_col = next(c for c in ID_COLUMNS if c in names)
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
                hi_s = t1_s + self.late_s
                hi = pa.scalar(int(np.ceil(hi_s * scale)), type=pa.int64()).cast(field.type)
                expr = (pads.field(self.time_column) >= lo) & (pads.field(self.time_column) < hi)
                expr = expr if by_id is None else expr & by_id
                frame = dataset.to_table(filter=expr).to_pandas()
            elif pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
                expr = (pads.field(self.time_column) >= t0_s) & (
                    pads.field(self.time_column) < t1_s + self.late_s
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
