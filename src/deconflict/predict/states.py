"""Aircraft states at one instant, converted once from the edge units to SI arrays.

Edge columns (the ``traffic`` convention, or OpenSky's names and units: ``deconflict.tables``
reads both): ``flight_id`` / ``id`` / ``icao24``, ``latitude``, ``longitude`` (deg WGS84),
``altitude`` (ft), ``groundspeed`` (kt), ``track`` (deg true), ``vertical_rate`` (ft/min,
optional: 0 when absent). Optional: ``alerter`` (1|2|3, DAIDALUS), ``zone_nm`` / ``zone_ft``
(a larger protected zone for this aircraft: a pair uses the larger of its two aircraft's and the
standard's minima). Inside: metres, m/s, seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.tables import Layout, TableInput, as_frame, edge, layout_of, numbers
from deconflict.units import FPM, FT, KT, NM

REQUIRED = ("latitude", "longitude", "altitude", "groundspeed", "track")
OPTIONAL = ("vertical_rate", "alerter", "zone_nm", "zone_ft", "callsign", "timestamp")


@dataclass(frozen=True, slots=True)
class States:
    """N aircraft states in SI (struct of arrays)."""

    ids: NDArray[np.object_]
    lat_deg: NDArray[np.float64]
    lon_deg: NDArray[np.float64]
    alt_m: NDArray[np.float64]
    gs_mps: NDArray[np.float64]
    trk_deg: NDArray[np.float64]
    vs_mps: NDArray[np.float64]
    alerter: NDArray[np.int64]
    zone_h_m: NDArray[np.float64]  # 0 where no override
    zone_v_m: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row left out of a file run, and why."""

    row: int
    id: str
    reason: str


StatesInput = TableInput


def _check_columns(frame: pd.DataFrame) -> Layout:
    """The table's layout (traffic or OpenSky names); InputError naming any missing column."""
    return layout_of(frame.columns, "states", need=("id", *REQUIRED))


@dataclass(frozen=True, slots=True)
class _Checked:
    """The columns converted once, and each row's problem ('' where the row is good)."""

    ids: NDArray[np.object_]
    values: dict[str, NDArray[np.float64]]
    bad: NDArray[np.bool_]
    reasons: NDArray[np.object_]  # only for the bad rows, in row order


def _check_rows(frame: pd.DataFrame, layout: Layout) -> _Checked:
    """Every row check, vectorised over numpy arrays; the first failing check names the row."""
    id_col = layout.columns["id"]
    raw_ids = frame[id_col]
    str_ids = raw_ids.astype(str)
    ids = str_ids.to_numpy(dtype=object)
    empty = raw_ids.isna().to_numpy() | str_ids.str.strip().eq("").to_numpy()
    values = {name: edge(frame, layout, name) for name in (*REQUIRED, "vertical_rate")}
    checks: list[tuple[NDArray[np.bool_], str]] = [(empty, f"{id_col} is empty")]
    for name in (*REQUIRED, "vertical_rate"):
        if layout.has(name):
            column = layout.columns[name]
            checks.append((np.isnan(values[name]), f"{column} is missing or not a number"))
            checks.append((np.isinf(values[name]), f"{column} is not finite"))
    with np.errstate(invalid="ignore"):
        lon = values["longitude"]
        checks += [
            (np.abs(values["latitude"]) > 90.0, "latitude beyond ±90°"),
            ((lon < -180.0) | (lon > 360.0), "longitude outside -180..360°"),
            (values["groundspeed"] < 0.0, "negative groundspeed"),
        ]
        values["alerter"] = np.nan_to_num(numbers(frame, "alerter", 1.0), nan=1.0)
        if "alerter" in frame:
            checks.append(
                (~np.isin(values["alerter"], (1.0, 2.0, 3.0)), "alerter must be 1, 2 or 3")
            )
        for name in ("zone_nm", "zone_ft"):
            values[name] = np.nan_to_num(numbers(frame, name, 0.0), nan=0.0)
            if name in frame:
                checks.append((values[name] < 0.0, f"negative {name}"))
    if len(set(ids.tolist())) == len(ids):  # the common case, without a pandas hash table
        dup = np.zeros(len(ids), dtype=bool)
    else:
        dup = pd.Series(ids, dtype=object).duplicated(keep=False).to_numpy()
    checks.append((dup, "duplicate id (states must be at one instant: one row per aircraft)"))
    failed = np.vstack([mask for mask, _ in checks])
    bad = np.asarray(failed.any(axis=0), dtype=np.bool_)
    texts = np.array([text for _, text in checks], dtype=object)
    reasons = texts[np.argmax(failed[:, bad], axis=0)]
    values["vertical_rate"] = np.nan_to_num(values["vertical_rate"], nan=0.0)
    return _Checked(ids, values, bad, reasons)


def _to_states(checked: _Checked, keep: NDArray[np.bool_] | None = None) -> States:
    def col(name: str) -> NDArray[np.float64]:
        values = checked.values[name]
        return values if keep is None else values[keep]

    return States(
        ids=checked.ids if keep is None else checked.ids[keep],
        lat_deg=col("latitude"),
        lon_deg=col("longitude"),
        alt_m=col("altitude") * FT,
        gs_mps=col("groundspeed") * KT,
        trk_deg=np.mod(col("track"), 360.0),
        vs_mps=col("vertical_rate") * FPM,
        alerter=col("alerter").astype(np.int64),
        zone_h_m=col("zone_nm") * NM,
        zone_v_m=col("zone_ft") * FT,
    )


def to_states(states: StatesInput) -> States:
    """Validate and convert; any bad value raises InputError naming the row, value and fix."""
    frame = as_frame(states)
    if len(frame) == 0:
        raise InputError(
            "the states table is empty: give at least one aircraft state "
            "(id, latitude, longitude, altitude, groundspeed, track)"
        )
    layout = _check_columns(frame)
    id_col = layout.columns["id"]
    checked = _check_rows(frame, layout)
    if checked.bad.any():
        pos = int(np.flatnonzero(checked.bad)[0])
        ident = frame[id_col].iloc[pos]
        n_bad = int(checked.bad.sum())
        raise InputError(
            f"row {pos} ({id_col}={ident!r}): {checked.reasons[0]}"
            + (f" (and {n_bad - 1} more bad rows)" if n_bad > 1 else "")
            + "; fix or drop these rows, or run `deconflict detect FILE`, which skips and lists"
            " them"
        )
    return _to_states(checked)


def to_states_lenient(states: StatesInput) -> tuple[States | None, list[BadRow]]:
    """Like ``to_states`` but leaves out bad rows and lists them (for file runs).

    Column-level problems (a missing column, an unreadable file) still raise InputError.
    Returns ``(None, bad)`` when no good row remains.
    """
    frame = as_frame(states)
    if len(frame) == 0:
        return None, []
    checked = _check_rows(frame, _check_columns(frame))
    bad = [
        BadRow(int(i), str(checked.ids[i]), str(reason))
        for i, reason in zip(np.flatnonzero(checked.bad), checked.reasons, strict=True)
    ]
    if len(bad) == len(frame):
        return None, bad
    return _to_states(checked, ~checked.bad if bad else None), bad
