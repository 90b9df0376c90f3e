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
from numpy.typing import NDArray

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
Obj = NDArray[np.object_]


def empty_picture() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in PICTURE_COLUMNS.items()})


def _str_or_none(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    return text or None


def _identifiers(values: Obj, strip: bool = False) -> Obj:
    """Identifiers as non-empty str or None: the tracker's are already (``ReportBatch`` strips
    them), so only other values are converted, one by one."""
    if all(v is None or (type(v) is str and v and v == v.strip()) for v in values.tolist()):
        return values
    out = np.array([_str_or_none(v) for v in values], dtype=object)
    if strip:
        out = np.array([(v or "").strip() or None for v in out], dtype=object)
    return out


class OwnerCache:
    """What a party's tracks' identifiers say, remembered from tick to tick: a track whose raw
    icao24 and callsign are those of the last tick keeps its cleaned identifiers, owner and key;
    the others are decided by ``match_owners`` (once per distinct pair of identifiers). Nothing
    but the identifiers and the registry's active operations decides an owner, so the result is
    the same as classifying every track every tick."""

    MAX_PAIRS = 1_000_000

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._active: tuple[str, ...] | None = None
        self._owner: dict[tuple[str | None, str | None], str] = {}
        #: track id -> the key it took over from an engine before this one (``adopt``)
        self.adopted: dict[int, str] = {}
        self._ids = np.empty(0, dtype=np.int64)
        self._order = np.empty(0, dtype=np.int64)
        self._last: tuple[Obj, ...] = ()  # raw icao24, raw callsign, then the outputs
        self._forget()

    def adopt(self, party: str, track_id: int, key: str) -> None:
        """Name ``party``'s track ``track_id`` by ``key`` from now on, unless it is the party's
        own aircraft (named by its identifiers): the key the log holds for the same aircraft,
        taken back after a restart renumbered the tracks (``Alerts.on_adopt``)."""
        self.adopted[int(track_id)] = key
        keys, owners = self._last[6], self._last[4]
        if keys.size:
            at = np.flatnonzero(self._ids == track_id)
            keys[at[owners[at] != party]] = key

    def _forget(self) -> None:
        self._owner = {}
        empty = np.empty(0, dtype=object)
        self._ids = np.empty(0, dtype=np.int64)
        self._order = np.empty(0, dtype=np.int64)
        self._last = (empty,) * 7

    def _owners(self, icao24: Obj, callsign: Obj, now_s: float) -> Obj:
        known = self._owner
        pairs = list(zip(icao24.tolist(), callsign.tolist(), strict=True))
        missing = list({p for p in pairs if p not in known})
        if missing:
            ic = np.array([p[0] for p in missing], dtype=object)
            cs = np.array([p[1] for p in missing], dtype=object)
            lower = np.array([v.lower() if v else None for v in ic], dtype=object)
            matched, _, _ = match_owners(self.registry, lower, cs, np.full(ic.size, None), now_s)
            known.update(zip(missing, (o or "" for o in matched.tolist()), strict=True))
        return np.array([known[p] for p in pairs], dtype=object)

    def identify(
        self, party: str, track_id: NDArray[np.int64], icao24: Obj, callsign: Obj, now_s: float
    ) -> tuple[Obj, Obj, Obj, Obj, Obj]:
        """Per track: icao24 and callsign (str or None), owner ("" where none), the name it is
        known by (callsign, else icao24) and its key in the party's picture: arrays the caller
        reads, and copies before changing (the same tracks again may get the same arrays)."""
        active = tuple(o.operation_id for o in self.registry.operations if o.active(now_s))
        if active != self._active or len(self._owner) > self.MAX_PAIRS:
            self._forget()
            self._active = active
        n = track_id.size
        last_icao, last_cs, *last_out = self._last
        same = np.zeros(n, dtype=bool)
        at: NDArray[np.int64] | None = np.zeros(n, dtype=np.int64)
        if n and n == self._ids.size and np.array_equal(self._ids, track_id):
            at = None  # the same tracks in the same order (the usual tick): no rows to take
            same = (last_icao == icao24) & (last_cs == callsign)
            if same.all():  # and the same identifiers: the same answers, as they are
                return last_out[0], last_out[1], last_out[2], last_out[3], last_out[4]
        elif self._ids.size and n:
            pos = np.searchsorted(self._ids, track_id, sorter=self._order).clip(
                0, self._ids.size - 1
            )
            at = self._order[pos]
            # over every row (most are the same): no masked copies of object arrays
            same = (
                (self._ids[at] == track_id) & (last_icao[at] == icao24) & (last_cs[at] == callsign)
            )
        new = np.flatnonzero(~same)
        icao = _identifiers(icao24[new])
        cs = _identifiers(callsign[new], strip=True)
        owner = self._owners(icao, cs, now_s)
        named = np.where(cs != None, cs, icao)  # noqa: E711
        key = np.add(f"{party}/T", track_id[new].astype(str).astype(object))
        own = owner == party
        if own.any():
            key[own] = np.add(f"{party}/", named[own].astype(str).astype(object))
        if self.adopted:
            ids = np.fromiter(self.adopted, dtype=np.int64, count=len(self.adopted))
            for j in np.flatnonzero(np.isin(track_id[new], ids) & ~own).tolist():
                key[j] = self.adopted[int(track_id[new[j]])]
            gone = ids[~np.isin(ids, track_id)].tolist()  # a track that ended keeps nothing
            for t in gone:
                del self.adopted[t]
        outs = []
        for prev, fresh in zip(last_out, (icao, cs, owner, named, key), strict=True):
            # every row taken, then the new ones (where ``at`` is no row of theirs) overwritten
            if not prev.size:
                out = np.empty(n, dtype=object)
            else:
                out = prev.copy() if at is None else prev[at]
            out[new] = fresh
            outs.append(out)
        if at is not None:
            self._ids = track_id.copy()
            self._order = np.argsort(self._ids, kind="stable")
        self._last = (icao24.copy(), callsign.copy(), *outs)
        return outs[0], outs[1], outs[2], outs[3], outs[4]


def _object_frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A table whose text columns stay numpy object arrays (no conversion to pandas' string
    dtype and back each tick: the engine reads them as arrays)."""
    return pd.DataFrame(
        {
            name: pd.Series(values, dtype=object, copy=False)
            if PICTURE_COLUMNS.get(name) is object
            else values
            for name, values in columns.items()
        }
    )


_IDENTITIES = np.array(["own", "declared", "unknown"], dtype=object)


def classify_picture(
    party: str,
    tr: TrackRows,
    registry: Registry,
    now_s: float,
    *,
    declared: Mapping[str, tuple[str, str]],
    pending: set[str],
    owners: OwnerCache | None = None,
) -> pd.DataFrame:
    """The party's tracks ``tr`` classified for it. ``declared`` maps a track key to the
    (owner, aircraft) an identification answer gave it, ``pending`` holds the keys with a request
    open; ``owners`` remembers the owners of identifiers already seen (the engine keeps one)."""
    n = tr.track_id.size
    if n == 0:
        return empty_picture()
    cache = owners or OwnerCache(registry)
    icao, cs, owner, named, key = cache.identify(party, tr.track_id, tr.icao24, tr.callsign, now_s)
    owner = owner.copy()  # declared answers are written into these
    aircraft = np.where(owner != "", named, "").astype(object, copy=False)
    own = owner == party
    # the identities' names taken from one array of three (no str made per track)
    identity = _IDENTITIES[np.where(own, 0, np.where(owner != "", 1, 2))]
    if declared or pending:
        rest = np.flatnonzero(owner == "")
        rest_keys = key[rest].tolist()
        is_declared = np.fromiter((k in declared for k in rest_keys), bool, count=rest.size)
        for i in rest[is_declared].tolist():
            owner[i], aircraft[i] = declared[key[i]]
        identity[rest[is_declared]] = "declared"
        is_pending = np.fromiter((k in pending for k in rest_keys), bool, count=rest.size)
        identity[rest[is_pending & ~is_declared]] = "pending"
    label = np.where(aircraft != "", aircraft, np.where(named != None, named, key))  # noqa: E711
    return _object_frame(
        {
            "key": key,
            "track_id": tr.track_id,
            "party": np.full(n, party, dtype=object),
            "owner": owner,
            "identity": identity,
            "aircraft": aircraft,
            "label": label.astype(object, copy=False),
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
    """Rows of the scene by track key, read column-wise (one dict per row asked for, made once
    per scene: the alerts ask for the same rows several times a tick)."""

    def __init__(self, scene: pd.DataFrame) -> None:
        self.scene = scene
        keys = scene["key"].to_numpy(dtype=object)
        self.index = dict(zip(map(str, keys.tolist()), range(keys.size), strict=True))
        self.cols = {str(c): scene[c].to_numpy() for c in scene.columns}
        self._items = tuple(self.cols.items())
        self._rows: dict[str, Row] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.index

    def row(self, key: str) -> Row:
        row = self._rows.get(key)
        if row is None:
            i = self.index[key]
            row = self._rows[key] = {c: v[i] for c, v in self._items}
        return row

    def rows(self, keys: Any) -> NDArray[np.int64]:
        """The row number of each key (KeyError for a key not in the scene)."""
        index = self.index
        return np.fromiter((index[str(k)] for k in keys), dtype=np.int64)


def num(value: Any) -> float | None:
    """A finite float, or None."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


#: An alert's kinematics of an aircraft: its name there -> the scene's column.
KINEMATICS = {
    "latitude": "latitude",
    "longitude": "longitude",
    "altitude_ft": "altitude",
    "groundspeed_kt": "groundspeed",
    "track_deg": "track",
    "vertical_rate_fpm": "vertical_rate",
}


def kinematics(row: Row) -> dict[str, Any]:
    return {name: float(row[col]) for name, col in KINEMATICS.items()}


def rounded(values: Any, digits: int | None) -> list[list[float | None]]:
    """The rows of a 2-D table of numbers as lists of floats, None where not finite (JSON-safe),
    rounded to ``digits`` decimals when given."""
    arr = np.asarray(values, dtype=float)
    if digits is not None:
        arr = np.round(arr, digits)
    finite = np.isfinite(arr)
    if finite.all():
        out: list[list[float | None]] = arr.tolist()
        return out
    obj = arr.astype(object)
    obj[~finite] = None
    out = obj.tolist()
    return out


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
    """The rows of ``frame`` as dicts of Python values (as ``to_dict("records")``)."""
    names = [str(c) for c in frame.columns]
    columns = [frame[c].tolist() for c in frame.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
