"""Airspace constraints: restricted and no-fly areas, checked against operations and live tracks.

Units: degrees, feet or flight levels and UTC at the edge (GeoJSON properties, traffic columns);
metres, m/s and seconds since the epoch inside.

A ``Constraint`` is one 4D volume with a name and a kind (``restricted`` or ``no-fly``); a
GeoJSON MultiPolygon, or an airspace with several vertical layers, becomes several constraints.
``ConstraintSet`` compiles them once. ``check_operation`` lists the (operation volume, constraint)
pairs that overlap — entering a constraint uses the same exact test as operation conflicts, with
no buffers unless given — and ``ConstraintRule`` says what follows: by default a ``no-fly`` area
rejects the operation and a ``restricted`` one flags it.

``area_proximity`` predicts, for live tracks, which constraint each will enter within the
horizon (2 minutes by default), flying straight at constant ground speed, track and vertical
rate: the straight path is sampled every ``step_s`` seconds (1 s by default) in each candidate
constraint's tangent plane, after a vectorised prefilter on reach, altitude and time. A track
already inside gets 0. The time to entry is the first sample inside: late by less than
``step_s``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

from deconflict.errors import InputError
from deconflict.geo import F64, ecef_m, ground_velocity_ecef_mps
from deconflict.strategic import frames
from deconflict.strategic import volumes as vol
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation, Volume4D, parse_volume
from deconflict.units import FPM, FT, KT

#: Times given to constraints without start or end: always active.
ALWAYS_START = datetime(1970, 1, 1, tzinfo=UTC)
ALWAYS_END = datetime(9999, 12, 31, tzinfo=UTC)


class ConstraintKind(StrEnum):
    RESTRICTED = "restricted"
    NO_FLY = "no-fly"


class Constraint(BaseModel):
    """A named restricted or no-fly volume."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    name: str
    kind: ConstraintKind = ConstraintKind.RESTRICTED
    volume: Volume4D


def _feature_constraints(i: int, feature: Mapping[str, Any]) -> list[Constraint]:
    where = f"feature {i}"
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise InputError(f"{where} is not a GeoJSON Feature")
    props = feature.get("properties") or {}
    geom = feature.get("geometry") or {}
    name = str(props.get("name", feature.get("id", f"constraint-{i}")))
    cid = str(feature.get("id", props.get("id", name)))
    gtype = geom.get("type")
    if gtype == "Polygon":
        polygons = [geom.get("coordinates")]
    elif gtype == "MultiPolygon":
        polygons = list(geom.get("coordinates") or [])
    else:
        raise InputError(f"{where} ({name}): geometry type {gtype!r}; use Polygon or MultiPolygon")
    for key in ("lower", "upper"):
        if key not in props:
            raise InputError(
                f"{where} ({name}): property {key!r} is missing; give lower and upper altitudes "
                "with 'units' ft or FL"
            )
    kind = str(props.get("kind", "restricted"))
    if kind not in {k.value for k in ConstraintKind}:
        raise InputError(f"{where} ({name}): kind {kind!r}; use 'restricted' or 'no-fly'")
    units = props.get("units", "ft")
    out = []
    for k, coords in enumerate(polygons):
        try:
            v = parse_volume(
                {
                    "polygon": coords,
                    "altitude_lower": {"value": props["lower"], "units": units},
                    "altitude_upper": {"value": props["upper"], "units": units},
                    "time_start": props.get("start") or ALWAYS_START,
                    "time_end": props.get("end") or ALWAYS_END,
                }
            )
        except InputError as exc:
            raise InputError(f"{where} ({name}): {exc}") from None
        sid = cid if len(polygons) == 1 else f"{cid}#{k}"
        out.append(Constraint(id=sid, name=name, kind=ConstraintKind(kind), volume=v))
    return out


def constraints_from_geojson(obj: Mapping[str, Any]) -> list[Constraint]:
    """Constraints from a GeoJSON FeatureCollection (or one Feature).

    Feature properties: ``name``, ``kind`` (``restricted`` | ``no-fly``, default restricted),
    ``lower``, ``upper`` and ``units`` (``ft`` | ``FL``, default ft), ``start`` and ``end`` (ISO
    8601 with offset; absent: always active). The feature ``id`` (or property ``id``, or the
    name) identifies it; a MultiPolygon's parts get ``#0``, ``#1``, ... appended.
    """
    if obj.get("type") == "Feature":
        features: Sequence[Any] = [obj]
    elif obj.get("type") == "FeatureCollection":
        features = obj.get("features") or []
    else:
        raise InputError("constraints must be a GeoJSON FeatureCollection or Feature")
    return [c for i, f in enumerate(features) for c in _feature_constraints(i, f)]


def constraints_from_airspace(
    obj: Mapping[str, Any], kind: ConstraintKind | str = ConstraintKind.RESTRICTED
) -> list[Constraint]:
    """Constraints from an airspace in the ``traffic`` library's JSON: ``name``, ``type`` and
    ``shapes``, each with ``lower`` and ``upper`` in flight levels and a GeoJSON ``polygon``.
    One constraint per shape (vertical layer), with id ``name#k``."""
    name = str(obj.get("name", "airspace"))
    shapes = obj.get("shapes")
    if not isinstance(shapes, list) or not shapes:
        raise InputError(f"airspace {name!r} has no 'shapes' list")
    features = [
        {
            "type": "Feature",
            "id": f"{name}#{k}",
            "properties": {
                "name": name,
                "kind": str(ConstraintKind(kind)),
                "lower": s.get("lower"),
                "upper": s.get("upper"),
                "units": "FL",
            },
            "geometry": s.get("polygon"),
        }
        for k, s in enumerate(shapes)
    ]
    return constraints_from_geojson({"type": "FeatureCollection", "features": features})


class ConstraintSet:
    """Constraints compiled once for repeated checks."""

    def __init__(self, constraints: Iterable[Constraint]) -> None:
        self.constraints = tuple(constraints)
        self.arrays = vol.compile_volumes([c.volume for c in self.constraints])
        a = self.arrays
        bases = [
            frames.basis(float(la), float(lo))
            for la, lo in zip(a.centre_lat_deg, a.centre_lon_deg, strict=True)
        ]
        self._bases = np.stack(bases) if bases else np.zeros((0, 2, 3))
        self._shapes = self._own_frame_shapes()

    def _own_frame_shapes(self) -> NDArray[np.object_]:
        """Each footprint in its own tangent plane (circles as points), prepared."""
        a = self.arrays
        out = np.empty(len(a), dtype=object)
        for k in range(len(a)):
            lat0, lon0 = float(a.centre_lat_deg[k]), float(a.centre_lon_deg[k])
            out[k] = vol.footprints(
                a.vertices_ecef_m[k : k + 1], a.centre_ecef_m[k : k + 1], lat0, lon0
            )[0]
        shapely.prepare(out)
        return out

    def __len__(self) -> int:
        return len(self.constraints)


class ConstraintHit(NamedTuple):
    """Volume ``volume`` of an operation enters constraint number ``constraint``."""

    volume: int
    constraint: int
    constraint_id: str
    kind: ConstraintKind


def check_operation(
    op: Operation, constraints: ConstraintSet, buffers: Buffers = NO_BUFFERS
) -> list[ConstraintHit]:
    """The (operation volume, constraint) pairs that overlap in space and time."""
    if len(constraints) == 0:
        return []
    ia, ib = vol.conflict_pairs(vol.compile_volumes(op.volumes), constraints.arrays, buffers)
    cs = constraints.constraints
    return sorted(
        ConstraintHit(int(i), int(j), cs[j].id, cs[j].kind)
        for i, j in zip(ia.tolist(), ib.tolist(), strict=True)
    )


@dataclass(frozen=True, slots=True)
class ConstraintRule:
    """What entering each kind of constraint does to an operation: ``reject`` or ``flag``."""

    no_fly: Literal["reject", "flag"] = "reject"
    restricted: Literal["reject", "flag"] = "flag"

    def rejects(self, hits: Iterable[ConstraintHit]) -> list[ConstraintHit]:
        """The hits that make the operation rejected under this rule."""
        action = {ConstraintKind.NO_FLY: self.no_fly, ConstraintKind.RESTRICTED: self.restricted}
        return [h for h in hits if action[h.kind] == "reject"]


class ProximityAlerts(NamedTuple):
    """Tracks predicted to enter constraints: parallel arrays, sorted by track then time."""

    track: vol.I64
    constraint: vol.I64
    time_to_entry_s: F64


def area_proximity(
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    altitude_m: ArrayLike,
    groundspeed_mps: ArrayLike,
    track_deg: ArrayLike,
    vertical_rate_mps: ArrayLike,
    time_s: ArrayLike,
    constraints: ConstraintSet,
    horizon_s: float = 120.0,
    step_s: float = 1.0,
) -> ProximityAlerts:
    """(track, constraint, time to entry) for every track predicted, flying straight, to be
    inside a constraint within ``horizon_s`` (0 if already inside). ``time_s``: the time of each
    track's state, seconds since the epoch (scalar or per track)."""
    lat, lon, alt, gs, trk, vs, t = np.broadcast_arrays(
        *(
            np.atleast_1d(np.asarray(x, dtype=np.float64))
            for x in (
                lat_deg,
                lon_deg,
                altitude_m,
                groundspeed_mps,
                track_deg,
                vertical_rate_mps,
                time_s,
            )
        )
    )
    empty = ProximityAlerts(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(constraints) == 0 or lat.size == 0:
        return empty
    ok = np.isfinite(lat) & np.isfinite(lon) & np.isfinite(alt) & np.isfinite(t)
    gs = np.where(np.isfinite(gs), gs, 0.0)
    trk = np.where(np.isfinite(trk), trk, 0.0)
    vs = np.where(np.isfinite(vs), vs, 0.0)
    # tracks in chunks, so that the tracks x constraints prefilter stays near 10^6 cells
    chunk = max(1, 1_000_000 // len(constraints))
    parts = [
        _proximity_chunk(
            slice(k, k + chunk), (lat, lon, alt, gs, trk, vs, t), ok, constraints, horizon_s, step_s
        )
        for k in range(0, lat.size, chunk)
    ]
    return ProximityAlerts(
        np.concatenate(
            [p.track + k for p, k in zip(parts, range(0, lat.size, chunk), strict=True)]
        ),
        np.concatenate([p.constraint for p in parts]),
        np.concatenate([p.time_to_entry_s for p in parts]),
    )


def _proximity_chunk(
    rows: slice,
    tracks: tuple[F64, F64, F64, F64, F64, F64, F64],
    ok_all: NDArray[np.bool_],
    constraints: ConstraintSet,
    horizon_s: float,
    step_s: float,
) -> ProximityAlerts:
    lat, lon, alt, gs, trk, vs, t = (x[rows] for x in tracks)
    ok = ok_all[rows]
    a = constraints.arrays
    p0 = ecef_m(lat, lon)
    v = ground_velocity_ecef_mps(lat, lon, trk, gs)
    # prefilter (tracks x constraints): reach, altitude band over the horizon, active times
    d = p0[:, None, :] - a.centre_ecef_m[None, :, :]
    reach = a.reach_m[None, :] + np.abs(gs)[:, None] * horizon_s + 10.0
    near = np.einsum("ijk,ijk->ij", d, d) < reach * reach
    z_lo = np.minimum(alt, alt + vs * horizon_s)[:, None]
    z_hi = np.maximum(alt, alt + vs * horizon_s)[:, None]
    band = (z_lo < a.upper_m[None, :]) & (z_hi > a.lower_m[None, :])
    active = (t[:, None] < a.end_s[None, :]) & (t[:, None] + horizon_s >= a.start_s[None, :])
    ti, ci = np.nonzero(near & band & active & ok[:, None])
    if len(ti) == 0:
        return ProximityAlerts(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    steps = np.arange(0.0, horizon_s + step_s / 2, step_s)
    basis = constraints._bases[ci]  # (P, 2, 3)
    xy0 = np.einsum("pk,pjk->pj", p0[ti] - a.centre_ecef_m[ci], basis)
    vxy = np.einsum("pk,pjk->pj", v[ti], basis)
    x = xy0[:, :1] + vxy[:, :1] * steps
    y = xy0[:, 1:] + vxy[:, 1:] * steps
    inside = np.zeros(x.shape, dtype=bool)
    circ = a.radius_m[ci] > 0
    if circ.any():
        inside[circ] = np.hypot(x[circ], y[circ]) < a.radius_m[ci][circ, None]
    if (~circ).any():
        inside[~circ] = shapely.contains_xy(
            constraints._shapes[ci][~circ, None], x[~circ], y[~circ]
        )
    z = alt[ti, None] + vs[ti, None] * steps
    tt = t[ti, None] + steps
    inside &= (z >= a.lower_m[ci, None]) & (z < a.upper_m[ci, None])
    inside &= (tt >= a.start_s[ci, None]) & (tt < a.end_s[ci, None])
    hit = inside.any(axis=1)
    first = np.argmax(inside, axis=1)
    order = np.lexsort((steps[first][hit], ti[hit]))
    return ProximityAlerts(
        ti[hit][order].astype(np.int64), ci[hit][order].astype(np.int64), steps[first][hit][order]
    )


def area_proximity_frame(
    states: pd.DataFrame, constraints: ConstraintSet, horizon_s: float = 120.0, step_s: float = 1.0
) -> pd.DataFrame:
    """``area_proximity`` on a ``traffic``-style frame of states (``timestamp`` UTC,
    ``latitude``, ``longitude``, ``altitude`` ft, ``groundspeed`` kt, ``track`` degrees,
    ``vertical_rate`` ft/min; missing rates count as 0).

    Returns one row per alert: ``row`` (position in ``states``), ``constraint_id``, ``name``,
    ``kind``, ``time_to_entry_s``, plus ``icao24`` / ``callsign`` where the input has them.
    """
    missing = {"timestamp", "latitude", "longitude", "altitude", "groundspeed", "track"} - set(
        states.columns
    )
    if missing:
        raise InputError(f"states lack column(s) {sorted(missing)} (traffic naming, see DESIGN)")

    def col(name: str) -> F64:
        if name not in states.columns:
            return np.zeros(len(states))
        return np.asarray(pd.to_numeric(states[name], errors="coerce"), dtype=np.float64)

    ts = pd.to_datetime(states["timestamp"], utc=True)
    t = np.asarray((ts - pd.Timestamp(0, tz="UTC")).dt.total_seconds(), dtype=np.float64)
    alerts = area_proximity(
        col("latitude"),
        col("longitude"),
        col("altitude") * FT,
        col("groundspeed") * KT,
        col("track"),
        col("vertical_rate") * FPM,
        t,
        constraints,
        horizon_s=horizon_s,
        step_s=step_s,
    )
    cs = constraints.constraints
    out = pd.DataFrame(
        {
            "row": alerts.track,
            "constraint_id": [cs[k].id for k in alerts.constraint],
            "name": [cs[k].name for k in alerts.constraint],
            "kind": [str(cs[k].kind) for k in alerts.constraint],
            "time_to_entry_s": alerts.time_to_entry_s,
        }
    )
    for extra in ("icao24", "callsign"):
        if extra in states.columns:
            out.insert(1, extra, states[extra].to_numpy()[alerts.track])
    return out
