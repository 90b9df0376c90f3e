"""Time windows with overlap: one unit of work of the analysis, in seconds and metres.

A window owns the grid steps ``[k0, k1)`` and looks at ``[k0 − overlap, k1 + overlap)``. It keeps
exactly the encounters whose first step lies in ``[k0, k1)``: every encounter has one first step
on the common grid, so it belongs to one window — never lost, never counted twice. Its first
step is seen as such because the overlap before holds at least one step; an owned encounter that
still runs at the end of the look-ahead is not cut: the window widens its look-ahead (doubling it)
until the encounter ends or the recording does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from deconflict.analysis.encounters import Encounters, encounters
from deconflict.analysis.inputs import CANONICAL, Source, first_samples
from deconflict.analysis.screen import resample, screen
from deconflict.geo import direction_deg
from deconflict.units import FT, NM

EVENT_COLUMNS: Final = (
    "a",
    "b",
    "callsign_a",
    "callsign_b",
    "t_cpa",
    "dcpa_nm",
    "dalt_ft",
    "duration_s",
    "severity",
    "loss",
    "ratio",
    "t_start",
    "t_end",
    "latitude",
    "longitude",
    "altitude_ft",
    "category",
    "loss_min_h_nm",
    "loss_min_h_t",
    "loss_min_v_ft",
    "loss_min_v_t",
)


@dataclass(frozen=True)
class Params:
    """Everything that decides the result of a window (a resumed run must use the same)."""

    standard: str
    h_m: float  # separation minima of the standard
    v_m: float
    tol_m: float
    screen_h_m: float
    screen_v_m: float
    step_s: float
    max_gap_s: float
    window_s: float
    overlap_s: float
    start_s: float = float("-inf")  # data outside [start_s, stop_s) is left out
    stop_s: float = float("inf")
    level_tol_m: float = 0.0  # adjacent flight levels within this of their levels (encounters)


def plan(t_min_s: float, t_max_s: float, window_s: float) -> list[tuple[float, float]]:
    """Windows ``[w0, w1)`` of ``window_s`` aligned on multiples of it, covering the data."""
    first = np.floor(t_min_s / window_s) * window_s
    n = int(np.floor((t_max_s - first) / window_s)) + 1
    return [(float(first + i * window_s), float(first + (i + 1) * window_s)) for i in range(n)]


def read_canonical(
    sources: Sequence[Source], t0_s: float, t1_s: float, ids: set[str] | None = None
) -> pd.DataFrame:
    """Canonical rows of every source with ``t0_s <= t_s < t1_s`` (of the aircraft ``ids``
    if given), sorted by (id, t_s)."""
    parts = [src.read_window(t0_s, t1_s, ids) for src in sources]
    parts = [p for p in parts if len(p)]
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype=float) for c in CANONICAL})
        empty["id"] = pd.Categorical([], categories=[])
        empty["callsign"] = pd.Categorical([], categories=[])
        return empty
    if len(parts) == 1:
        return parts[0]
    from pandas.api.types import union_categoricals

    id_cat = union_categoricals([p["id"] for p in parts], sort_categories=True)
    calls = union_categoricals([p["callsign"] for p in parts], sort_categories=True)
    frame = pd.concat([p.drop(columns=["id", "callsign"]) for p in parts], ignore_index=True)
    frame.insert(0, "id", pd.Series(id_cat))
    frame.insert(1, "callsign", pd.Series(calls))
    return frame.iloc[first_samples(id_cat.codes, frame["t_s"].to_numpy())].reset_index(drop=True)


def _callsigns(
    frame: pd.DataFrame, code: np.ndarray, who: np.ndarray, t_s: np.ndarray
) -> list[str]:
    """Callsign of aircraft ``who`` at its last sample at or before ``t_s`` (else its first)."""
    if len(who) == 0:
        return []
    cat = frame["callsign"].cat
    names = np.asarray(cat.categories, dtype=object)
    blank = names == ""
    cs = pd.Series(np.where(blank[cat.codes.to_numpy()], np.nan, cat.codes.to_numpy()))
    filled = cs.groupby(code).ffill().groupby(code).bfill().to_numpy()
    calls = np.where(np.isnan(filled), "", names[np.nan_to_num(filled).astype(np.int64)])
    t_rel = np.rint((frame["t_s"].to_numpy() - frame["t_s"].min()) * 100).astype(np.int64)
    base = 10**11
    keys = code.astype(np.int64) * base + t_rel
    want = who.astype(np.int64) * base + np.rint((t_s - frame["t_s"].min()) * 100).astype(np.int64)
    pos = np.searchsorted(keys, want, side="right") - 1
    pos = np.clip(pos, 0, keys.size - 1)
    # before the aircraft's first sample: take its first sample
    wrong = code[pos] != who
    pos = np.where(wrong, np.searchsorted(keys, who.astype(np.int64) * base), pos)
    return [str(c) for c in calls[pos]]


def _utc(t_s: np.ndarray) -> pd.DatetimeIndex:
    """UTC timestamps to the microsecond; NaT where the time is NaN."""
    us = np.where(np.isfinite(t_s), np.rint(t_s * 1e6), np.nan)
    return pd.to_datetime(us, unit="us", utc=True)


def _frame(
    enc: Encounters, names: np.ndarray, data: pd.DataFrame, code: np.ndarray, step_s: float
) -> pd.DataFrame:
    lat, lon = direction_deg(enc.cpa_xyz_m)
    # one callsign lookup for both aircraft of every encounter: a's, then b's
    n = len(enc)
    calls = _callsigns(
        data, code, np.concatenate((enc.a, enc.b)), np.concatenate((enc.t_cpa_s, enc.t_cpa_s))
    )
    frame = pd.DataFrame(
        {
            "a": names[enc.a].astype(str),
            "b": names[enc.b].astype(str),
            "callsign_a": calls[:n],
            "callsign_b": calls[n:],
            "t_cpa": _utc(enc.t_cpa_s),
            "dcpa_nm": enc.dcpa_m / NM,
            "dalt_ft": enc.dalt_m / FT,
            "duration_s": enc.loss_s,
            "severity": enc.severity.astype(str),
            "loss": enc.loss,
            "ratio": enc.ratio,
            "t_start": _utc(enc.k_start * step_s),
            "t_end": _utc(enc.k_end * step_s),
            "latitude": lat,
            "longitude": lon,
            "altitude_ft": enc.cpa_alt_m / FT,
            "category": np.where(
                enc.loss, "loss", np.where(enc.adjacent_levels, "adjacent_levels", "approach")
            ),
            "loss_min_h_nm": enc.loss_h_m / NM,
            "loss_min_h_t": _utc(enc.loss_h_t_s),
            "loss_min_v_ft": enc.loss_v_m / FT,
            "loss_min_v_t": _utc(enc.loss_v_t_s),
        },
        columns=list(EVENT_COLUMNS),
    )
    for col in ("a", "b", "callsign_a", "callsign_b", "severity", "category"):
        frame[col] = frame[col].astype(str)
    return frame


def empty_events() -> pd.DataFrame:
    """An event table with no rows and the right columns."""
    i0, f0 = np.zeros(0, dtype=np.int64), np.zeros(0)
    none = Encounters(
        a=i0,
        b=i0,
        k_start=i0,
        k_end=i0,
        t_cpa_s=f0,
        dcpa_m=f0,
        dalt_m=f0,
        ratio=f0,
        loss_s=f0,
        loss=np.zeros(0, dtype=bool),
        cpa_xyz_m=np.zeros((0, 3)),
        cpa_alt_m=f0,
        severity=np.zeros(0, dtype="<U1"),
        loss_h_m=f0,
        loss_h_t_s=f0,
        loss_v_m=f0,
        loss_v_t_s=f0,
        adjacent_levels=np.zeros(0, dtype=bool),
    )
    frame = pd.DataFrame({"callsign": pd.Series([], dtype=str), "t_s": f0})
    return _frame(none, np.zeros(0, dtype=object), frame, i0, 1.0)


def _pass(
    sources: Sequence[Source],
    params: Params,
    k_lo: int,
    k_hi: int,
    only: set[str] | None,
) -> tuple[Encounters, np.ndarray, pd.DataFrame, np.ndarray] | None:
    """Encounters over grid steps ``[k_lo, k_hi)``, of the aircraft ``only`` if given."""
    step = params.step_s
    data = read_canonical(
        sources,
        max(k_lo * step - params.max_gap_s, params.start_s),
        min(k_hi * step + params.max_gap_s, params.stop_s),
        only,
    )
    if len(data) == 0:
        return None
    names = np.asarray(data["id"].cat.categories, dtype=object)
    code = data["id"].cat.codes.to_numpy().astype(np.int64)
    grid = resample(
        code,
        data["t_s"].to_numpy(np.float64),
        data["lat_deg"].to_numpy(np.float64),
        data["lon_deg"].to_numpy(np.float64),
        data["alt_m"].to_numpy(np.float64),
        data["airborne"].to_numpy(bool),
        step,
        k_lo,
        k_hi,
        params.max_gap_s,
    )
    i, j = screen(grid, params.screen_h_m, params.screen_v_m)
    enc = encounters(grid, i, j, step, params.h_m, params.v_m, params.tol_m, params.level_tol_m)
    return enc, names, data, code


def analyse_window(
    sources: Sequence[Source], params: Params, w0_s: float, w1_s: float, data_end_s: float
) -> pd.DataFrame:
    """Every encounter owned by the window ``[w0_s, w1_s)`` (see module note), as events.

    Encounters still running at the end of the look-ahead are redone, for their aircraft only,
    with a look-ahead twice as long (an encounter depends on its two aircraft alone).
    """
    step = params.step_s
    k0, k1 = int(np.ceil(w0_s / step - 1e-9)), int(np.ceil(w1_s / step - 1e-9))
    before = max(int(np.ceil(params.overlap_s / step)), 1)
    after = before
    only: set[str] | None = None
    wanted: set[tuple[str, str, int]] | None = None
    parts: list[pd.DataFrame] = []
    while True:
        k_hi = k1 + after
        found = _pass(sources, params, k0 - before, k_hi, only)
        if found is None:
            break
        enc, names, data, code = found
        owned = enc.take((enc.k_start >= k0) & (enc.k_start < k1))
        if wanted is not None:
            keep = [
                (names[a], names[b], int(k)) in wanted
                for a, b, k in zip(owned.a, owned.b, owned.k_start, strict=True)
            ]
            owned = owned.take(np.array(keep, dtype=bool))
        cut = owned.k_end >= k_hi - 2
        last = k_hi * step > data_end_s + params.max_gap_s + step
        if last or not np.any(cut):
            parts.append(_frame(owned, names, data, code, step))
            break
        parts.append(_frame(owned.take(~cut), names, data, code, step))
        wanted = {
            (names[a], names[b], int(k))
            for a, b, k in zip(owned.a[cut], owned.b[cut], owned.k_start[cut], strict=True)
        }
        only = {x for (a, b, _) in wanted for x in (a, b)}
        after = max(2 * after, 64)
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_events()
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return frame.sort_values(["a", "b", "t_start"], kind="stable").reset_index(drop=True)
