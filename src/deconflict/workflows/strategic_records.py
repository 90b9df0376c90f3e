"""The store's records in the strategic model's terms, and the strategic model in the store's.

A validated operation becomes the draft the store keeps (``draft_for``), stored operations and
constraints become the strategic model again (``operation_of``, ``constraint_of``), and a set of
volumes gets the longitude/latitude box (degrees; margin in metres) that the store indexes and
queries by (``footprint_bbox``).

Used by the deconfliction workflow (``workflows.deconfliction``), the F3548 DSS workflows
(``workflows.dss``, ``workflows.dss_subscriptions``, ``workflows.dss_constraints``) and the
operations routes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from deconflict.store import BBox, ConstraintRecord, OperationDraft, OperationRecord, Party
from deconflict.strategic.constraints import Constraint, ConstraintKind
from deconflict.strategic.model import Operation, parse_operation, parse_volume

_M_PER_DEG = 111_320.0


def footprint_bbox(volumes: Iterable[Any], margin_m: float = 0.0) -> BBox:
    """Longitude/latitude box (degrees) around volumes, widened by ``margin_m``.

    A footprint crossing the antimeridian gets the whole band of longitudes (a superset, so
    nothing is missed); so does one within reach of a pole.
    """
    lons: list[float] = []
    lats: list[float] = []
    pad_lat = margin_m / _M_PER_DEG
    for v in volumes:
        if v.circle is not None:
            c = v.circle
            r = (c.radius_m + margin_m) / _M_PER_DEG
            lats += [c.latitude - r, c.latitude + r]
            cos = math.cos(math.radians(min(abs(c.latitude) + r, 90.0)))
            dl = 360.0 if cos < 1e-6 else r / cos
            lon = (c.longitude + 180.0) % 360.0 - 180.0
            lons += [lon - dl, lon + dl]
        else:
            ring = v.polygon[0]
            for lon, lat in ring:
                lats += [lat - pad_lat, lat + pad_lat]
                cos = math.cos(math.radians(min(abs(lat) + pad_lat, 90.0)))
                dl = 360.0 if cos < 1e-6 else pad_lat / cos
                w = (lon + 180.0) % 360.0 - 180.0
                lons += [w - dl, w + dl]
            wrapped = [(lon + 180.0) % 360.0 - 180.0 for lon, _ in ring]
            if max(wrapped) - min(wrapped) > 180.0:  # crosses the antimeridian
                lons += [-180.0, 180.0]
    lo_lon, hi_lon = min(lons), max(lons)
    if lo_lon < -180.0 or hi_lon > 180.0:
        lo_lon, hi_lon = -180.0, 180.0
    return (lo_lon, max(min(lats), -90.0), hi_lon, min(max(lats), 90.0))


def draft_for(op: Operation, owner: Party, op_id: str | None) -> OperationDraft:
    """What the store keeps of a validated operation."""
    return OperationDraft(
        owner_id=owner.id,
        state=op.state.value,
        priority=op.priority,
        volumes=[v.model_dump(mode="json") for v in op.volumes],
        aircraft=list(op.aircraft_ids),
        time_start_s=min(v.start_s for v in op.volumes),
        time_end_s=max(v.end_s for v in op.volumes),
        alt_lower_m=min(v.altitude_lower.m for v in op.volumes),
        alt_upper_m=max(v.altitude_upper.m for v in op.volumes),
        bbox=footprint_bbox(op.volumes),
        id=op_id,
    )


def operation_of(record: OperationRecord, contact: str = "") -> Operation:
    """The strategic model of a stored operation."""
    return parse_operation(
        {
            "id": record.id,
            "owner": record.owner_id,
            "contact": contact,
            "volumes": record.volumes,
            "priority": record.priority,
            "aircraft_ids": record.aircraft,
            "state": record.state,
            "version": record.version,
            "token": record.token,
        }
    )


def constraint_of(record: ConstraintRecord) -> Constraint:
    """The strategic model of a stored constraint."""
    return Constraint(
        id=record.id,
        name=record.name,
        kind=ConstraintKind(record.kind),
        volume=parse_volume(record.volume),
    )
