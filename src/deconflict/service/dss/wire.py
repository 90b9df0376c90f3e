"""F3548-21 bodies in and out: untrusted JSON to Deconflict's models, records to F3548 shapes.

Volumes arrive as F3548 ``Volume4D`` (WGS84 ellipsoidal heights in metres, ``reference: W84``)
and become Deconflict's ``Volume4D`` (barometric feet) through ``deconflict.strategic.heights``
at the volume's centre; nothing else converts heights. Every refusal names the field and the
fix (``WireError``, HTTP 400).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from uas_standards.astm.f3548.v21 import api
from uas_standards.astm.f3548.v21.constants import OiMaxVertices

from deconflict.errors import InputError
from deconflict.store import OperationRecord
from deconflict.store.dss import ConstraintReferenceRecord, IntentWire, SubscriptionRecord
from deconflict.strategic.heights import w84_to_barometric_ft
from deconflict.strategic.model import ALTITUDE_RANGE_FT, Volume4D, parse_volume

#: Largest area (km²) a query or subscription may cover (InterUSS's DSS limit).
MAX_AREA_KM2 = 2500.0
#: A subscription lasts at most this long (F3548 DSSMaxSubscriptionDurationHours).
MAX_SUBSCRIPTION_S = 24 * 3600.0
_FAR_PAST_S = 0.0
_FAR_FUTURE_S = 4_102_444_800.0  # 2100-01-01


class WireError(InputError):
    """A malformed F3548 body (HTTP 400 ``{"message": ...}``)."""


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireError(f"{where} must be a JSON object, not {type(value).__name__}")
    return value


def _num(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WireError(f"{where} must be a finite number, not {value!r}")
    return float(value)


def entity_id(text: str, where: str = "entityid") -> uuid.UUID:
    """An F3548 entity id (a UUID, version 4 in the standard); 400 otherwise."""
    try:
        return uuid.UUID(text)
    except ValueError:
        raise WireError(
            f"{where} {text!r} is not a UUID: give one like 3f2504e0-4f89-41d3-9a0c-0305e82c3301"
        ) from None


def parse_time(value: Any, where: str) -> datetime:
    t = _obj(value, where)
    fmt = t.get("format", "RFC3339")
    if fmt != "RFC3339":
        raise WireError(f"{where}.format is {fmt!r}: only 'RFC3339' is defined")
    raw = t.get("value")
    if not isinstance(raw, str):
        raise WireError(
            f"{where}.value is missing: give an RFC 3339 time like 2025-01-01T12:00:00Z"
        )
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise WireError(
            f"{where}.value {raw!r} is not an RFC 3339 time: give one like 2025-01-01T12:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise WireError(f"{where}.value {raw!r} has no time zone: add Z or +00:00")
    return parsed.astimezone(UTC)


def _height_m(value: Any, where: str) -> float:
    alt = _obj(value, where)
    if alt.get("reference") != "W84":
        raise WireError(
            f"{where}.reference is {alt.get('reference')!r}: F3548 heights are 'W84' (metres "
            "above the WGS84 ellipsoid); convert and send reference W84"
        )
    if alt.get("units") != "M":
        raise WireError(f"{where}.units is {alt.get('units')!r}: send metres, units 'M'")
    return _num(alt.get("value"), f"{where}.value")


def _latlng(value: Any, where: str) -> tuple[float, float]:
    p = _obj(value, where)
    lat = _num(p.get("lat"), f"{where}.lat")
    lng = _num(p.get("lng"), f"{where}.lng")
    if not -90.0 <= lat <= 90.0:
        raise WireError(f"{where}.lat {lat} is outside -90..90: check lat and lng are not swapped")
    if not -180.0 <= lng <= 180.0:
        raise WireError(f"{where}.lng {lng} is outside -180..180 degrees")
    return lat, lng


def _footprint(volume: dict[str, Any], where: str) -> tuple[dict[str, Any], float, float, float]:
    """(strategic footprint fields, centre lat, centre lon, area km²)."""
    poly = volume.get("outline_polygon")
    circle = volume.get("outline_circle")
    if (poly is None) == (circle is None):
        raise WireError(
            f"{where} needs exactly one of outline_polygon and outline_circle: give one"
        )
    if poly is not None:
        verts = _obj(poly, f"{where}.outline_polygon").get("vertices")
        if not isinstance(verts, list) or len(verts) < 3:
            raise WireError(
                f"{where}.outline_polygon.vertices needs at least 3 points, a list of {{lat, lng}}"
            )
        if len(verts) > OiMaxVertices:
            raise WireError(
                f"{where}.outline_polygon has {len(verts)} vertices; the limit is "
                f"{OiMaxVertices}: simplify it"
            )
        pts = [_latlng(v, f"{where}.outline_polygon.vertices[{i}]") for i, v in enumerate(verts)]
        lat0 = sum(p[0] for p in pts) / len(pts)
        lon0 = sum(p[1] for p in pts) / len(pts)
        k = math.cos(math.radians(lat0)) * 111.32
        xy = [((p[1] - lon0) * k, (p[0] - lat0) * 110.57) for p in pts]
        area = (
            abs(
                sum(
                    x0 * y1 - x1 * y0
                    for (x0, y0), (x1, y1) in zip(xy, xy[1:] + xy[:1], strict=True)
                )
            )
            / 2.0
        )
        return {"polygon": [[[p[1], p[0]] for p in pts]]}, lat0, lon0, area
    c = _obj(circle, f"{where}.outline_circle")
    lat, lng = _latlng(c.get("center"), f"{where}.outline_circle.center")
    radius = _obj(c.get("radius"), f"{where}.outline_circle.radius")
    if radius.get("units", "M") != "M":
        raise WireError(f"{where}.outline_circle.radius.units must be 'M' (metres)")
    r = _num(radius.get("value"), f"{where}.outline_circle.radius.value")
    circle_fields = {"latitude": lat, "longitude": lng, "radius_m": r}
    return {"circle": circle_fields}, lat, lng, math.pi * (r / 1000.0) ** 2


def parse_volume4d(
    value: Any,
    where: str,
    *,
    need_altitudes: bool = True,
    need_times: bool = True,
    max_area_km2: float | None = None,
) -> Volume4D:
    """An F3548 ``Volume4D`` as Deconflict's (barometric) ``Volume4D``; ``WireError`` naming
    the field. Without ``need_*``, missing bounds are open (all heights, all times)."""
    v4 = _obj(value, where)
    volume = _obj(v4.get("volume"), f"{where}.volume")
    fields, lat0, lon0, area = _footprint(volume, f"{where}.volume")
    if max_area_km2 is not None and area > max_area_km2:
        raise WireError(
            f"{where}.volume covers about {area:,.0f} km²; the limit is {max_area_km2:,.0f} km²: "
            "query a smaller area"
        )
    lo_ft, hi_ft = ALTITUDE_RANGE_FT
    bounds = {}
    for name, default in (("altitude_lower", lo_ft), ("altitude_upper", hi_ft)):
        raw = volume.get(name)
        if raw is None:
            if need_altitudes:
                raise WireError(
                    f"{where}.volume.{name} is missing: give {{value, reference: W84, units: M}}"
                )
            bounds[name] = default
        else:
            h = _height_m(raw, f"{where}.volume.{name}")
            bounds[name] = w84_to_barometric_ft(h, lat0, lon0)
    times = {}
    for name, default_s in (("time_start", _FAR_PAST_S), ("time_end", _FAR_FUTURE_S)):
        raw = v4.get(name)
        if raw is None:
            if need_times:
                raise WireError(
                    f"{where}.{name} is missing: give {{value: RFC 3339 time, format: RFC3339}}"
                )
            times[name] = datetime.fromtimestamp(default_s, UTC)
        else:
            times[name] = parse_time(raw, f"{where}.{name}")
    if bounds["altitude_lower"] > bounds["altitude_upper"]:
        raise WireError(f"{where}.volume.altitude_lower is above altitude_upper: swap them")
    if bounds["altitude_lower"] == bounds["altitude_upper"]:
        bounds["altitude_upper"] += 0.01 / 0.3048  # a flat volume: 1 cm thick
    try:
        return parse_volume(
            {
                **fields,
                "altitude_lower": {"value": bounds["altitude_lower"], "units": "ft"},
                "altitude_upper": {"value": bounds["altitude_upper"], "units": "ft"},
                "time_start": times["time_start"],
                "time_end": times["time_end"],
            }
        )
    except InputError as exc:
        raise WireError(f"{where}: {exc}") from None


def area_of_interest(body: dict[str, Any]) -> Volume4D:
    """The ``area_of_interest`` of a query's body: open heights and times, at most
    ``MAX_AREA_KM2``."""
    if body.get("area_of_interest") is None:
        raise WireError("area_of_interest is missing: give the Volume4D to search")
    return parse_volume4d(
        body["area_of_interest"],
        "area_of_interest",
        need_altitudes=False,
        need_times=False,
        max_area_km2=MAX_AREA_KM2,
    )


def parse_extents(value: Any, where: str = "extents") -> list[Volume4D]:
    if not isinstance(value, list) or not value:
        raise WireError(f"{where} must be a non-empty list of Volume4D")
    return [parse_volume4d(v, f"{where}[{i}]") for i, v in enumerate(value)]


def text(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise WireError(f"{name} is missing: give it (a string)")
        return None
    if not isinstance(value, str):
        raise WireError(f"{name} must be a string, not {type(value).__name__}")
    return value


def base_url(body: dict[str, Any], name: str = "uss_base_url") -> str:
    url = text(body, name)
    assert url is not None
    if not url.startswith(("http://", "https://")) or url.endswith("/"):
        raise WireError(f"{name} {url!r} must be an http(s) URL without a trailing '/'")
    return url


def flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise WireError(f"{name} must be true or false, not {value!r}")
    return value


# -- out ------------------------------------------------------------------------------------


def time_of(s: float) -> dict[str, str]:
    t = datetime.fromtimestamp(s, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return {"value": t, "format": "RFC3339"}


def intent_reference(
    op_id: str,
    manager: str,
    version: int,
    state: str,
    ovn: str | None,
    time_start_s: float,
    time_end_s: float,
    wire: IntentWire | None,
    availability: str,
) -> dict[str, Any]:
    out = api.OperationalIntentReference(
        id=str(uuid.UUID(op_id)) if len(op_id) == 32 else op_id,
        manager=manager,
        uss_availability=api.UssAvailabilityState(availability),
        version=version,
        state=api.OperationalIntentState(state),
        time_start=time_of(time_start_s),
        time_end=time_of(time_end_s),
        uss_base_url=wire.uss_base_url if wire is not None else "",
        subscription_id=(wire.subscription_id if wire and wire.subscription_id else None)
        or "00000000-0000-4000-8000-000000000000",
    )
    if ovn is not None:
        out["ovn"] = ovn
    return dict(out)


def record_reference(
    record: OperationRecord,
    manager: str,
    *,
    is_manager: bool,
    state: str,
    wire: IntentWire | None,
    availability: str,
) -> dict[str, Any]:
    """The F3548 reference of a stored operation (its OVN only to its manager)."""
    return intent_reference(
        record.id,
        manager,
        record.version,
        state,
        record.token if is_manager else None,
        record.time_start_s,
        record.time_end_s,
        wire,
        availability,
    )


def subscription(sub: SubscriptionRecord, dependents: Sequence[str]) -> dict[str, Any]:
    return dict(
        api.Subscription(
            id=sub.id,
            version=sub.version,
            notification_index=sub.notification_index,
            time_start=time_of(sub.time_start_s),
            time_end=time_of(sub.time_end_s),
            uss_base_url=sub.uss_base_url,
            notify_for_operational_intents=sub.notify_for_operations,
            notify_for_constraints=sub.notify_for_constraints,
            implicit_subscription=sub.implicit,
            dependent_operational_intents=[str(uuid.UUID(d)) for d in dependents],
        )
    )


def constraint_reference(
    ref: ConstraintReferenceRecord, manager: str, is_manager: bool, availability: str
) -> dict[str, Any]:
    out = api.ConstraintReference(
        id=ref.id,
        manager=manager,
        uss_availability=api.UssAvailabilityState(availability),
        version=ref.version,
        time_start=time_of(ref.time_start_s),
        time_end=time_of(ref.time_end_s),
        uss_base_url=ref.uss_base_url,
    )
    if is_manager:
        out["ovn"] = ref.ovn
    return dict(out)


def subscribers(subs: Sequence[SubscriptionRecord]) -> list[dict[str, Any]]:
    """``SubscriberToNotify`` list: the notified subscriptions grouped by USS base URL."""
    by_url: dict[str, list[dict[str, Any]]] = {}
    for s in subs:
        by_url.setdefault(s.uss_base_url, []).append(
            {"subscription_id": s.id, "notification_index": s.notification_index}
        )
    return [{"uss_base_url": u, "subscriptions": v} for u, v in sorted(by_url.items())]
