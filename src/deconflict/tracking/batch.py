"""Report tables as arrays for the tracker, and the track-update table, in m, m/s and s inside.

``ReportBatch`` holds one batch of reports as numpy arrays in the tracker's local frame (east and
north in m, velocity in m/s, altitude in m, times in seconds since the Unix epoch). It is built
once from a report table (``REPORT_COLUMNS`` of ``deconflict.surveillance.report``; missing
optional columns are allowed) and sliced cheaply, so a replay converts a recording only once.

``TRACK_UPDATE_DTYPES`` is the tracker's output table, in the edge units of the report table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.tracking.frame import LocalFrame
from deconflict.units import FPM, FT, KT

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Obj = NDArray[np.object_]

__all__ = [
    "TRACK_UPDATE_COLUMNS",
    "TRACK_UPDATE_DTYPES",
    "ReportBatch",
    "latlon",
    "plots_batch",
    "report_batch",
    "seconds",
]

#: The tracker's output: one row per track per update.
TRACK_UPDATE_DTYPES: Final[dict[str, str]] = {
    "timestamp": "datetime64[ns, UTC]",
    "track_id": "int64",
    "status": "string",  # tentative, confirmed, coasting, dropped
    "latitude": "float64",
    "longitude": "float64",
    "altitude": "float64",  # ft, NaN when no valid altitude yet
    "groundspeed": "float64",  # kt
    "track": "float64",  # deg true
    "vertical_rate": "float64",  # ft/min
    "icao24": "string",
    "callsign": "string",
    "identity": "string",  # fresh, stale or none (the icao24/callsign last-confirmed age)
}
TRACK_UPDATE_COLUMNS: Final[tuple[str, ...]] = tuple(TRACK_UPDATE_DTYPES)

_REQUIRED: Final = ("timestamp", "latitude", "longitude")
_NULL_TEXT: Final = pa.scalar(None, pa.string())


def seconds(ts: Any) -> float:
    """Seconds since the Unix epoch of a timestamp (pandas, datetime, ISO string or number)."""
    if isinstance(ts, int | float | np.floating | np.integer):
        return float(ts)
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return float(stamp.value) / 1e9


def _strings(col: pd.Series | None, n: int, lower: bool = False, few: bool = False) -> Obj:
    """A text column as stripped str (lowercase with ``lower``) or None. ``few``: a column of
    few distinct values (a party, a sensor) is cleaned once per distinct value and each row
    given that value's one str object, when it holds only text (pandas' string dtype)."""
    if col is None:
        return np.full(n, None, dtype=object)
    if few and isinstance(col.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(col, use_na_sentinel=True)  # missing: -1
        table = np.full(len(uniques) + 1, None, dtype=object)  # the last for code -1
        table[:-1] = _strings(pd.Series(uniques, dtype=col.dtype), len(uniques), lower)
        return np.asarray(table[codes], dtype=object)
    return _objects(_clean_text(col, lower))


def _clean_text(col: pd.Series, lower: bool = False) -> Any:
    """A column as an Arrow string array, stripped (lowercase with ``lower``), empty as null:
    cleaned in Arrow's compute kernels, with no str object made per step."""
    text = pc.utf8_trim_whitespace(pa.array(col.astype("string[pyarrow]")))
    if lower:
        text = pc.utf8_lower(text)
    return pc.if_else(pc.equal(text, ""), _NULL_TEXT, text)


def _objects(text: Any) -> Obj:
    """An Arrow string array as str objects, None where null."""
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)


def _floats(frame: pd.DataFrame, name: str, n: int) -> F64:
    if name not in frame:
        return np.full(n, np.nan)
    return np.asarray(pd.to_numeric(frame[name], errors="coerce"), dtype=np.float64)


@dataclass
class ReportBatch:
    """Reports as arrays: times (s), local positions and velocities (m, m/s), altitude (m)."""

    t_s: F64
    xy_m: F64  # (n, 2), NaN where no position
    lat_deg: F64
    lon_deg: F64
    v_mps: F64  # (n, 2), NaN where no velocity
    alt_m: F64
    vrate_mps: F64
    sigma_m: F64  # 1-sigma horizontal position error, NaN if unknown
    icao24: Obj
    callsign: Obj
    squawk: Obj
    party: Obj
    sensor: Obj
    track_number: I64  # -1 where none
    row: I64  # row number in the source table (for error records)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def take(self, index: I64 | slice) -> ReportBatch:
        """The reports at ``index`` (an index array or a slice)."""
        return ReportBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def latlon(frame: pd.DataFrame) -> tuple[F64, F64]:
    """Latitude and longitude columns (degrees) of a report table, NaN where unreadable."""
    missing = [c for c in _REQUIRED if c not in frame]
    if missing:
        raise InputError(
            f"report table lacks column(s) {', '.join(missing)}; a report table needs "
            "timestamp, latitude and longitude (see deconflict.surveillance.report)"
        )
    n = len(frame)
    return _floats(frame, "latitude", n), _floats(frame, "longitude", n)


def report_batch(frame: pd.DataFrame, frame_of: LocalFrame) -> ReportBatch:
    """Convert a report table (edge units) to a ``ReportBatch`` in ``frame_of``.

    ``id`` may stand for ``icao24``. Rows without a timestamp get NaN times (the tracker
    re-times them and records it); rows without a position are kept (they still confirm an
    identity or an altitude).
    """
    lat, lon = latlon(frame)
    n = len(frame)
    ts = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce")
    t_ns = ts.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    t_s = np.where(ts.isna().to_numpy(), np.nan, t_ns / 1e9)
    bad_pos = ~(np.isfinite(lat) & np.isfinite(lon)) | (np.abs(lat) > 90.0)
    lat = np.where(bad_pos, np.nan, lat)
    lon = np.where(bad_pos, np.nan, lon)
    xy = frame_of.to_xy(np.nan_to_num(lat), np.nan_to_num(lon))
    xy[bad_pos] = np.nan
    gs = _floats(frame, "groundspeed", n) * KT
    trk = _floats(frame, "track", n)
    has_v = np.isfinite(gs) & np.isfinite(trk) & ~bad_pos
    v = np.full((n, 2), np.nan)
    if has_v.any():
        v[has_v] = frame_of.velocity_xy(lat[has_v], lon[has_v], trk[has_v], gs[has_v])
    icao_col = frame["icao24"] if "icao24" in frame else frame.get("id")
    tn = (
        pd.to_numeric(frame["track_number"], errors="coerce")
        if "track_number" in frame
        else pd.Series(np.nan, index=frame.index)
    )
    return ReportBatch(
        t_s=t_s,
        xy_m=xy,
        lat_deg=lat,
        lon_deg=lon,
        v_mps=v,
        alt_m=_floats(frame, "altitude", n) * FT,
        vrate_mps=_floats(frame, "vertical_rate", n) * FPM,
        sigma_m=_floats(frame, "accuracy_m", n),
        icao24=_strings(icao_col, n, lower=True),
        callsign=_strings(frame.get("callsign"), n),
        squawk=_squawks(frame.get("squawk"), n),
        party=_strings(frame.get("party"), n, few=True),
        sensor=_strings(frame.get("sensor"), n, few=True),
        track_number=np.asarray(tn.fillna(-1), dtype=np.float64).astype(np.int64),
        row=np.arange(n, dtype=np.int64),
    )


def _squawks(col: pd.Series | None, n: int) -> Obj:
    """Squawks as 4-digit octal strings; integer columns lost their leading zeros."""
    if col is None:
        return np.full(n, None, dtype=object)
    text = _clean_text(col)
    out = _objects(text)
    # the usual case, four octal digits already, is checked for the whole column at once
    odd = pc.invert(pc.fill_null(pc.match_substring_regex(text, "^[0-7]{4}$"), True))
    for i in np.flatnonzero(odd.to_numpy(zero_copy_only=False)).tolist():
        code = str(out[i]).split(".")[0].zfill(4)
        out[i] = code if len(code) == 4 and set(code) <= set("01234567") else None
    return out


def plots_batch(t_s: F64, xy_m: F64, sigma_m: float | F64 = np.nan) -> ReportBatch:
    """A batch of anonymous position plots already in the local frame (m), at times ``t_s`` (s)."""
    n = int(np.asarray(xy_m).shape[0])
    none = np.full(n, None, dtype=object)
    nan = np.full(n, np.nan)
    return ReportBatch(
        t_s=np.broadcast_to(np.asarray(t_s, dtype=np.float64), (n,)).copy(),
        xy_m=np.asarray(xy_m, dtype=np.float64).reshape(n, 2),
        lat_deg=nan,
        lon_deg=nan.copy(),
        v_mps=np.full((n, 2), np.nan),
        alt_m=nan.copy(),
        vrate_mps=nan.copy(),
        sigma_m=np.broadcast_to(np.asarray(sigma_m, dtype=np.float64), (n,)).copy(),
        icao24=none,
        callsign=none.copy(),
        squawk=none.copy(),
        party=none.copy(),
        sensor=none.copy(),
        track_number=np.full(n, -1, dtype=np.int64),
        row=np.arange(n, dtype=np.int64),
    )
