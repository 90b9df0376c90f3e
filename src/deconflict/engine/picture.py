"""Each party's picture: its own sensors' tracks, classified for it, and the shared scene.

Edge units (DESIGN.md): degrees, ft, kt, ft/min; times are Unix seconds. A track is ``own`` (an
identity of the party's own fleet), ``declared`` (another party's aircraft, by its transponder
identity or by the answer to an identification request), ``pending`` (an identification
request about it is open) or ``unknown``. Owners are matched by ``identify`` (one classifier and
one registry: ``identify.classify.match_owners`` over ``identify.registry.Registry``), an
answer "ours" counting as the strongest claim.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from deconflict.hotline.notices import AircraftState
from deconflict.identify.classify import match_owners
from deconflict.identify.registry import Registry
from deconflict.kinematics import Kinematics
from deconflict.tracking.tracker import STATUS_NAMES, TrackRows
from deconflict.units import FPM, FT, KT

IDENTITIES = ("own", "declared", "pending", "unknown")
#: The columns of a picture, with their types.
PICTURE_COLUMNS: dict[str, Any] = {
    "key": object, "track_id": np.int64, "party": object, "owner": object,
    "identity": object, "aircraft": object, "label": object, "icao24": object,
    "callsign": object, "status": object, "latitude": float, "longitude": float,
    "altitude": float, "groundspeed": float, "track": float, "vertical_rate": float,
}  # fmt: skip

Row = dict[str, Any]


def empty_picture() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in PICTURE_COLUMNS.items()})


def _str_or_none(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    return text or None


def classify_picture(
    party: str,
    tr: TrackRows,
    registry: Registry,
    now_s: float,
    *,
    declared: Mapping[str, tuple[str, str]],
    pending: set[str],
) -> pd.DataFrame:
    """The party's tracks ``tr`` classified for it. ``declared`` maps a track key to the
    (owner, aircraft) an identification answer gave it, ``pending`` holds the keys with a request
    open."""
    n = tr.track_id.size
    if n == 0:
        return empty_picture()
    icao = np.array([_str_or_none(v) for v in tr.icao24], dtype=object)
    icao_lower = np.array([v.lower() if v else None for v in icao], dtype=object)
    cs = np.array([(_str_or_none(v) or "").strip() or None for v in tr.callsign], dtype=object)
    none = np.full(n, None, dtype=object)
    matched, _, _ = match_owners(registry, icao_lower, cs, none, now_s)
    owner = np.array([o or "" for o in matched], dtype=object)
    named = np.where(cs != None, cs, icao)  # noqa: E711
    aircraft = np.where(owner != "", named, "").astype(object)
    key = np.array([f"{party}/T{t}" for t in tr.track_id], dtype=object)
    own = owner == party
    key[own] = [f"{party}/{a}" for a in aircraft[own]]
    identity = np.where(own, "own", np.where(owner != "", "declared", "unknown")).astype(object)
    if declared or pending:
        for i in np.flatnonzero(owner == ""):
            k = str(key[i])
            if k in declared:
                owner[i], aircraft[i] = declared[k]
                identity[i] = "declared"
            elif k in pending:
                identity[i] = "pending"
    label = np.where(aircraft != "", aircraft, np.where(named != None, named, key))  # noqa: E711
    return pd.DataFrame(
        {
            "key": key,
            "track_id": tr.track_id,
            "party": np.full(n, party, dtype=object),
            "owner": owner,
            "identity": identity,
            "aircraft": aircraft,
            "label": label.astype(object),
            "icao24": icao,
            "callsign": cs,
            "status": np.asarray(STATUS_NAMES, dtype=object)[tr.status.astype(np.int64)],
            "latitude": tr.lat_deg,
            "longitude": tr.lon_deg,
            "altitude": tr.alt_ft,
            "groundspeed": tr.gs_kt,
            "track": tr.track_deg,
            "vertical_rate": tr.vrate_fpm,
        }
    )


def shared_scene(pictures: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """What conflicts are predicted in: every party's own aircraft, plus each party's unknown
    and pending tracks (checked against that party's own only), with finite states."""
    parts = [
        pic[pic["identity"].isin(("own", "unknown", "pending")).to_numpy()]
        for pic in pictures.values()
        if len(pic)
    ]
    if not parts:
        return empty_picture()
    scene = pd.concat(parts, ignore_index=True)
    ok = np.isfinite(
        scene[["latitude", "longitude", "altitude", "groundspeed", "track"]].to_numpy(float)
    ).all(axis=1)
    kept: pd.DataFrame = scene[ok & ~scene["key"].duplicated().to_numpy()].reset_index(drop=True)
    kept["vertical_rate"] = kept["vertical_rate"].fillna(0.0)
    return kept


class SceneIndex:
    """Rows of the scene by track key, read column-wise (one dict per row asked for)."""

    def __init__(self, scene: pd.DataFrame) -> None:
        self.scene = scene
        self.index = {str(k): i for i, k in enumerate(scene["key"])}
        self.cols = {str(c): scene[c].to_numpy() for c in scene.columns}

    def __contains__(self, key: str) -> bool:
        return key in self.index

    def row(self, key: str) -> Row:
        i = self.index[key]
        return {c: v[i] for c, v in self.cols.items()}


def num(value: Any) -> float | None:
    """A finite float, or None."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def kinematics(row: Row) -> dict[str, Any]:
    return {
        "latitude": float(row["latitude"]),
        "longitude": float(row["longitude"]),
        "altitude_ft": float(row["altitude"]),
        "groundspeed_kt": float(row["groundspeed"]),
        "track_deg": float(row["track"]),
        "vertical_rate_fpm": float(row["vertical_rate"]),
    }


def aircraft_state(row: Row) -> AircraftState:
    """A scene row as the hotline's notices take it (SI)."""
    motion = Kinematics.from_ground_track(
        float(row["latitude"]),
        float(row["longitude"]),
        float(row["altitude"]) * FT,
        float(row["groundspeed"]) * KT,
        float(row["track"]),
        float(row["vertical_rate"]) * FPM,
    )
    return AircraftState(str(row["party"]), str(row["label"]), motion)


def records(frame: pd.DataFrame) -> list[Row]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]
