"""Pairwise conflict detection over a whole scene, in SI inside (m, m/s, s) and edge units out.

``detect`` finds every pair of aircraft whose protected volume (the standard's separation volume,
widened by per-aircraft zones) is predicted to be violated within the lookahead, assuming straight
flight, and reports each pair once with its entry and exit times, closest approach and alert level.
Pairs are pruned spatially first (``deconflict.predict.prune``), so the cost grows with N and with
the number of nearby pairs, not with N².
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.errors import UnknownNameError
from deconflict.predict.cylinder import cpa, horizontal_interval, vertical_interval
from deconflict.predict.pairs import Relative, Scene, relative
from deconflict.predict.prune import METHODS, candidate_pairs, query_pairs
from deconflict.predict.standards import Standard, Volume, get_standard
from deconflict.predict.states import States, StatesInput, to_states
from deconflict.units import FT, NM

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

COLUMNS = (
    "a",
    "b",
    "t_in_s",
    "t_out_s",
    "tcpa_s",
    "dcpa_nm",
    "dalt_cpa_ft",
    "d_now_nm",
    "dalt_now_ft",
    "level",
    "level_name",
)


def volume_interval(
    volume: Volume,
    rel: Relative,
    lookahead_s: float,
    tol_m: float = 0.0,
    h_m: F64 | float | None = None,
    v_m: F64 | float | None = None,
) -> tuple[F64, F64]:
    """Violation interval of ``volume`` within [0, lookahead_s]: (t_in, t_out), or (inf, -inf).

    ``h_m`` / ``v_m`` override the volume's minima per pair (larger zones of some aircraft).
    """
    h = volume.horizontal_m if h_m is None else h_m
    v = volume.vertical_m if v_m is None else v_m
    if volume.kind == "wcv":
        from deconflict.predict.wcv import wcv_interval

        return wcv_interval(
            rel.sx_m, rel.sy_m, rel.sz_m, rel.vx_mps, rel.vy_mps, rel.vz_mps,
            h, v, volume.tau_s, volume.tcoa_s, lookahead_s,
        )  # fmt: skip
    h_in, h_out = horizontal_interval(rel.sx_m, rel.sy_m, rel.vx_mps, rel.vy_mps, h)
    v_in, v_out = vertical_interval(rel.sz_m, rel.vz_mps, v, tol_m)
    t_in = np.maximum(np.maximum(h_in, v_in), 0.0)
    t_out = np.minimum(h_out, v_out)
    hit = (t_in < t_out) & (t_out > 0.0) & (t_in <= lookahead_s)
    return np.where(hit, t_in, np.inf), np.where(hit, t_out, -np.inf)


def _level_keys(std: Standard, s: States, i: I64, j: I64) -> list[NDArray[np.str_]]:
    """For each pair, the level-set keys to evaluate (the pair's level is the max over them)."""
    n = len(i)
    if std.altitude_bands_ft:  # tcas: the more sensitive level of the two aircraft
        floors = np.array([f for f, _ in std.altitude_bands_ft]) * FT
        keys = np.array([k for _, k in std.altitude_bands_ft])
        alt = np.maximum(s.alt_m[i], s.alt_m[j])
        return [keys[np.searchsorted(floors, alt, side="right") - 1]]
    if {"1", "2", "3"} <= set(
        std.level_sets
    ):  # do365: each aircraft's view uses the other's alerter
        return [s.alerter[j].astype(str), s.alerter[i].astype(str)]
    return [np.full(n, "default")]


def _levels(
    std: Standard, s: States, rel: Relative, i: I64, j: I64, cache: dict[Volume, tuple[F64, F64]]
) -> F64:
    def interval(vol: Volume) -> tuple[F64, F64]:
        if vol not in cache:
            cache[vol] = volume_interval(vol, rel, std.lookahead_s, std.vertical_tolerance_m)
        return cache[vol]

    level = np.zeros(len(i))
    for keys in _level_keys(std, s, i, j):
        for key in np.unique(keys):
            sel = keys == key
            for lv in std.level_sets[str(key)]:
                t_in, _ = interval(lv.volume)
                raised = sel & np.isfinite(t_in) & ((t_in == 0.0) | (t_in < lv.alerting_time_s))
                level = np.where(raised, np.maximum(level, lv.level), level)
    return level


def _reaches(states: States, scene: Scene, std: Standard) -> tuple[float, float]:
    """How far apart (horizontal, vertical; m) two aircraft of the scene may be now and still
    raise an alert within the lookahead."""
    n = len(states)
    vmax = float(np.linalg.norm(scene.vel_mps, axis=1).max()) if n else 0.0
    vsmax = float(np.abs(states.vs_mps).max()) if n else 0.0
    vols = std.all_volumes()
    zone_h = float(states.zone_h_m.max()) if n else 0.0
    zone_v = float(states.zone_v_m.max()) if n else 0.0
    reach_h = max(max(v.horizontal_reach_m(2 * vmax) for v in vols), zone_h)
    reach_v = max(max(v.vertical_reach_m(2 * vsmax) for v in vols), zone_v)
    return reach_h, reach_v


def detect_states(
    states: States, standard: Standard, pair_search: str = "auto", query: I64 | None = None
) -> pd.DataFrame:
    """``detect`` on validated SI states (the kernel; no input checking). With ``query`` (row
    numbers), only the pairs with at least one of those rows: the same rows, for a few aircraft
    against a scene, at the cost of those few (``prune.query_pairs``)."""
    scene = Scene.from_states(states)
    reach_h, reach_v = _reaches(states, scene, standard)
    if query is None:
        i, j = candidate_pairs(scene, reach_h, reach_v, standard.lookahead_s, method=pair_search)
    else:
        i, j = query_pairs(scene, query, reach_h, reach_v, standard.lookahead_s)
    return _detect_pairs(states, scene, standard, i, j)


def _detect_pairs(states: States, scene: Scene, std: Standard, i: I64, j: I64) -> pd.DataFrame:
    """The conflict table of the candidate pairs ``i`` < ``j``."""
    rel = relative(scene, i, j)
    cache: dict[Volume, tuple[F64, F64]] = {}
    zoned = bool(states.zone_h_m.max() > 0.0 or states.zone_v_m.max() > 0.0) if len(i) else False

    def interval(vol: Volume) -> tuple[F64, F64]:
        if not zoned:
            if vol not in cache:
                cache[vol] = volume_interval(vol, rel, std.lookahead_s, std.vertical_tolerance_m)
            return cache[vol]
        h_m = np.maximum(vol.horizontal_m, np.maximum(states.zone_h_m[i], states.zone_h_m[j]))
        v_m = np.maximum(vol.vertical_m, np.maximum(states.zone_v_m[i], states.zone_v_m[j]))
        return volume_interval(vol, rel, std.lookahead_s, std.vertical_tolerance_m, h_m, v_m)

    if std.separation_level is None:
        t_in, t_out = interval(std.separation)
    else:  # the separation volume of each pair's own level set (DAIDALUS alerter, TCAS SL)
        t_in = np.full(len(i), np.inf)
        t_out = np.full(len(i), -np.inf)
        for keys in _level_keys(std, states, i, j):
            for key in np.unique(keys):
                sel = keys == key
                a, b = interval(std.separation_volume(str(key)))
                t_in = np.where(sel, np.minimum(t_in, a), t_in)
                t_out = np.where(sel, np.maximum(t_out, b), t_out)
    level = _levels(std, states, rel, i, j, cache)
    keep = np.isfinite(t_in) | (level > 0)
    return _table(std, states, rel, i, j, t_in, t_out, level, keep)


def _table(
    std: Standard,
    s: States,
    rel: Relative,
    i: I64,
    j: I64,
    t_in: F64,
    t_out: F64,
    level: F64,
    keep: NDArray[np.bool_],
) -> pd.DataFrame:
    i, j, t_in, t_out, level = i[keep], j[keep], t_in[keep], t_out[keep], level[keep]
    sx, sy, sz = rel.sx_m[keep], rel.sy_m[keep], rel.sz_m[keep]
    vx, vy, vz = rel.vx_mps[keep], rel.vy_mps[keep], rel.vz_mps[keep]
    tcpa, dcpa = cpa(sx, sy, vx, vy)
    names = std.level_names()
    lvl = level.astype(np.int64)
    name_table = np.array([names.get(k, str(k)) for k in range(max(names) + 1)], dtype=object)
    frame = pd.DataFrame(
        {
            "a": s.ids[i],
            "b": s.ids[j],
            "t_in_s": np.where(np.isfinite(t_in), t_in, np.nan),
            "t_out_s": np.where(np.isfinite(t_out), t_out, np.nan),
            "tcpa_s": tcpa,
            "dcpa_nm": dcpa / NM,
            "dalt_cpa_ft": np.abs(sz + vz * tcpa) / FT,
            "d_now_nm": np.hypot(sx, sy) / NM,
            "dalt_now_ft": np.abs(sz) / FT,
            "level": lvl,
            "level_name": name_table[lvl],
        },
        columns=list(COLUMNS),
    )
    order = np.lexsort((j, i, np.where(np.isnan(frame["t_in_s"]), np.inf, frame["t_in_s"])))
    return frame.iloc[order].reset_index(drop=True)


def detect(
    states: StatesInput,
    standard: str | Standard = "icao-5nm",
    lookahead_s: float | None = None,
    pair_search: str = "auto",
) -> pd.DataFrame:
    """Every pair of aircraft predicted to lose separation within the lookahead.

    ``states``: a pandas DataFrame (a ``traffic`` DataFrame at one instant works as is), a mapping
    of column name to array, or a CSV / Parquet / JSON file; columns as in
    ``deconflict.predict.states``. ``standard``: a name (``icao-5nm``, ``icao-3nm``, ``do365``,
    ``tcas``, or one loaded with ``load_standards``) or a ``Standard``. ``lookahead_s``: overrides
    the standard's lookahead. ``pair_search``: how candidate pairs are found before the exact
    test — ``"grid"`` (compiled), ``"kdtree"`` (scipy) or ``"auto"``; the result is the same
    (``deconflict.predict.prune``).

    Returns one row per conflicting pair (``a`` before ``b`` in input order): entry into and exit
    from loss of separation (``t_in_s`` 0 if already lost; ``t_out_s`` NaN if never), time and
    horizontal/vertical distance of the closest approach, current distances, alert ``level`` and
    ``level_name`` (0 / "none" for a conflict beyond every alerting time). Bad input raises
    ``deconflict.errors.InputError`` naming the row and the fix.
    """
    if pair_search not in METHODS:
        raise UnknownNameError(
            f"unknown pair search {pair_search!r}: use one of {', '.join(METHODS)}"
        )
    std = get_standard(standard).with_lookahead(lookahead_s)
    return detect_states(to_states(states), std, pair_search)


def conflicts_json(frame: pd.DataFrame, standard: str) -> dict[str, Any]:
    """The JSON shape of the CLI: ``{"standard": NAME, "conflicts": [...]}`` (NaN → null)."""

    def plain(value: Any) -> Any:
        value = value.item() if isinstance(value, np.generic) else value
        return None if isinstance(value, float) and not np.isfinite(value) else value

    rows = [{k: plain(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")]
    return {"standard": standard, "conflicts": rows}
