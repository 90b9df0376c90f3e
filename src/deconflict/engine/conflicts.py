"""The conflicts the engine alerts on, predicted in the shared scene (edge units in, the
``deconflict.predict.detect`` table out): between two parties' own aircraft, and between a
party's unknown (or pending) track and that party's own aircraft (the owner of an unknown track
cannot be told). The whole scene at each tick, or only the pairs of a few new tracks between
two ticks (``engine.intake``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.engine.picture import SceneIndex
from deconflict.predict.detect import COLUMNS as CONFLICT_COLUMNS
from deconflict.predict.detect import detect_states
from deconflict.predict.standards import Standard
from deconflict.predict.states import States
from deconflict.units import FPM, FT, KT


def no_conflicts() -> pd.DataFrame:
    return pd.DataFrame(columns=list(CONFLICT_COLUMNS))


def scene_states(scene: pd.DataFrame) -> States:
    """The scene's tracks as the detector's states (SI), identified by their keys."""
    n = len(scene)
    return States(
        ids=scene["key"].to_numpy(dtype=object),
        lat_deg=scene["latitude"].to_numpy(float),
        lon_deg=scene["longitude"].to_numpy(float),
        alt_m=scene["altitude"].to_numpy(float) * FT,
        gs_mps=scene["groundspeed"].to_numpy(float) * KT,
        trk_deg=scene["track"].to_numpy(float),
        vs_mps=scene["vertical_rate"].to_numpy(float) * FPM,
        alerter=np.ones(n, dtype=np.int64),
        zone_h_m=np.zeros(n),
        zone_v_m=np.zeros(n),
    )


def scene_conflicts(
    scene: pd.DataFrame,
    index: SceneIndex,
    standard: Standard,
    query: NDArray[np.int64] | None = None,
) -> pd.DataFrame:
    """The conflicts of the scene that matter to a party (``index``: the scene's); with
    ``query`` (row numbers) only those with at least one of these rows."""
    n = len(scene)
    if n < 2:
        return no_conflicts()
    pairs = detect_states(scene_states(scene), standard, query=query)
    if not len(pairs):
        return pairs
    ia = index.rows(pairs["a"].tolist())
    ib = index.rows(pairs["b"].tolist())
    ident = scene["identity"].to_numpy(dtype=object)
    party = scene["party"].to_numpy(dtype=object)
    own_a, own_b = ident[ia] == "own", ident[ib] == "own"
    cross = own_a & own_b & (party[ia] != party[ib])
    # an unknown track matters to the party that sees it, against its own aircraft
    unknown_own = (own_a ^ own_b) & (party[ia] == party[ib])
    kept: pd.DataFrame = pairs[cross | unknown_own].reset_index(drop=True)
    return kept


__all__ = ["no_conflicts", "scene_conflicts", "scene_states"]
