"""Operations and their 4D volumes: degrees, feet or flight levels and UTC at the edge, SI inside.

Pydantic v2 models, frozen, so the service can use them as request bodies and the kernel as
values. A ``Volume4D`` is a footprint (a GeoJSON-like polygon or a circle), altitude bounds
(``ft`` or ``FL``, barometric) and a time interval (timezone-aware, stored in UTC). An
``Operation`` is one or more volumes, a priority (higher wins, as in ASTM F3548), the aircraft
that fly it, its owner party and how to reach them, its state, a version number and an opaque
version token (the OVN of F3548) that changes at every write.

``parse_operation`` / ``parse_volume`` turn untrusted input into models and raise ``InputError``
naming every problem (constructing the models directly raises pydantic's ``ValidationError``,
whose messages are the same). The geometry rules are in ``deconflict.strategic.validate``.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from deconflict.errors import InputError, PermissionDeniedError
from deconflict.strategic import validate
from deconflict.strategic.states import OperationState, check_transition
from deconflict.units import FT, NM

#: Altitudes outside this band (ft) are taken for a mistake in units.
ALTITUDE_RANGE_FT = (-2_000.0, 100_000.0)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Altitude(_Frozen):
    """A barometric altitude: ``value`` in ``units`` (``ft``, or ``FL`` = hundreds of feet)."""

    value: float
    units: Literal["ft", "FL"] = "ft"

    @field_validator("value")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise InputError(f"altitude value is {v}: give a finite number")
        return v

    @model_validator(mode="after")
    def _in_range(self) -> Altitude:
        lo, hi = ALTITUDE_RANGE_FT
        if not lo <= self.ft <= hi:
            raise InputError(
                f"altitude {self.value:g} {self.units} is outside {lo:,.0f} to {hi:,.0f} ft: "
                "check the units (ft or FL)"
            )
        return self

    @property
    def ft(self) -> float:
        return self.value * 100.0 if self.units == "FL" else self.value

    @property
    def m(self) -> float:
        return self.ft * FT


class Circle(_Frozen):
    """A circular footprint: centre in degrees WGS84, radius in metres."""

    latitude: float
    longitude: float
    radius_m: float

    @model_validator(mode="after")
    def _check(self) -> Circle:
        validate.check_circle(self.latitude, self.longitude, self.radius_m)
        return self


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


class Volume4D(_Frozen):
    """A footprint (exactly one of ``polygon`` or ``circle``), altitude bounds and time bounds.

    ``polygon`` is the ``coordinates`` of a GeoJSON Polygon: one ring of ``[lon, lat]`` (a third
    number, GeoJSON's altitude, is dropped). It is stored closed, counter-clockwise, as pairs
    (see ``deconflict.strategic.validate``).
    """

    polygon: tuple[tuple[tuple[float, ...], ...], ...] | None = None
    circle: Circle | None = None
    altitude_lower: Altitude
    altitude_upper: Altitude
    time_start: AwareDatetime
    time_end: AwareDatetime

    @field_validator("polygon", mode="before")
    @classmethod
    def _cap(cls, v: Any) -> Any:
        validate.check_vertex_count(validate.count_raw_vertices(v))
        return v

    @field_validator("polygon", mode="after")
    @classmethod
    def _ring(
        cls, v: tuple[tuple[tuple[float, ...], ...], ...] | None
    ) -> tuple[tuple[tuple[float, ...], ...], ...] | None:
        return None if v is None else (validate.normalise_ring(v),)

    @field_validator("time_start", "time_end", mode="after")
    @classmethod
    def _to_utc(cls, v: datetime) -> datetime:
        return _utc(v)

    @model_validator(mode="after")
    def _check(self) -> Volume4D:
        if (self.polygon is None) == (self.circle is None):
            raise InputError("a volume needs exactly one footprint: a polygon or a circle")
        if self.altitude_lower.m >= self.altitude_upper.m:
            raise InputError(
                f"altitude_lower ({self.altitude_lower.value:g} {self.altitude_lower.units}) is "
                f"not below altitude_upper ({self.altitude_upper.value:g} "
                f"{self.altitude_upper.units}): swap them"
            )
        if self.time_end <= self.time_start:
            raise InputError(
                f"time_end ({self.time_end.isoformat()}) is not after time_start "
                f"({self.time_start.isoformat()}): swap them or extend the end"
            )
        return self

    @property
    def n_vertices(self) -> int:
        return 0 if self.polygon is None else len(self.polygon[0]) - 1

    @property
    def start_s(self) -> float:
        """Start, seconds since the Unix epoch."""
        return self.time_start.timestamp()

    @property
    def end_s(self) -> float:
        return self.time_end.timestamp()


class DeclaredVolume(Volume4D):
    """A volume as a party declares it: RFC 7946 held strictly (a clockwise ring, or a polygon
    crossing the antimeridian, is refused with the fix rather than handled; see
    ``deconflict.strategic.validate``), and times that are real: a number is seconds since the
    Unix epoch (negative numbers and numbers that look like milliseconds are refused), and every
    time lies between 1970 and ``validate.MAX_YEARS_AHEAD`` years after the clock's now. Stored
    like any ``Volume4D``."""

    @field_validator("time_start", "time_end", mode="before")
    @classmethod
    def _seconds(cls, v: Any, info: ValidationInfo) -> Any:
        return validate.epoch_seconds(v, str(info.field_name))

    @field_validator("time_start", "time_end", mode="after")
    @classmethod
    def _real_time(cls, v: datetime, info: ValidationInfo) -> datetime:
        return validate.check_declared_time(_utc(v), str(info.field_name))

    @field_validator("polygon", mode="after")
    @classmethod
    def _ring(
        cls, v: tuple[tuple[tuple[float, ...], ...], ...] | None
    ) -> tuple[tuple[tuple[float, ...], ...], ...] | None:
        return None if v is None else (validate.normalise_ring(v, strict=True),)


def new_token() -> str:
    """A fresh, unguessable version token (OVN)."""
    return secrets.token_urlsafe(16)


class Operation(_Frozen):
    """A planned operation: volumes, priority, aircraft, owner, state, version and token.

    ``owner`` is the party that declared it, ``contact`` how another party reaches that owner
    (the only thing besides the intersecting volumes that need-to-know lets others see).
    ``token`` changes with every version: another party proves awareness by presenting it.
    """

    id: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=200)
    contact: str = Field(default="", max_length=500)
    volumes: tuple[Volume4D, ...] = Field(min_length=1, max_length=validate.MAX_VOLUMES)
    priority: int = 0
    aircraft_ids: tuple[str, ...] = ()
    state: OperationState = OperationState.ACCEPTED
    version: int = Field(default=1, ge=1)
    token: str = Field(default_factory=new_token, min_length=1)

    @model_validator(mode="after")
    def _total_vertices(self) -> Operation:
        n = sum(v.n_vertices for v in self.volumes)
        if n > validate.MAX_OPERATION_VERTICES:
            raise InputError(
                f"operation has {n:,} polygon vertices in all; the limit is "
                f"{validate.MAX_OPERATION_VERTICES:,}: simplify the outlines"
            )
        return self

    @property
    def time_start(self) -> datetime:
        return min(v.time_start for v in self.volumes)

    @property
    def time_end(self) -> datetime:
        return max(v.time_end for v in self.volumes)

    def revised(self, **changes: Any) -> Operation:
        """The next version: ``changes`` applied (validated), version + 1 and a new token.

        A change of ``state`` must be an allowed F3548 transition (``IllegalTransitionError``).
        """
        if "state" in changes:
            check_transition(self.state, OperationState(changes["state"]))
        data = self.model_dump()
        data.update(changes)
        data["version"] = self.version + 1
        data["token"] = new_token()
        return parse_operation(data)


class OperationDraft(_Frozen):
    """What a party submits for an operation: everything but the identity and versioning that
    the host assigns (id, owner, version, token). A request body for the service."""

    volumes: tuple[Volume4D, ...] = Field(min_length=1, max_length=validate.MAX_VOLUMES)
    priority: int = 0
    aircraft_ids: tuple[str, ...] = ()
    contact: str = Field(default="", max_length=500)
    state: OperationState = OperationState.ACCEPTED


def build_operation(
    draft: OperationDraft, operation_id: str, owner: str, previous: Operation | None = None
) -> Operation:
    """The operation a draft makes: version 1 with a fresh token, or the next version of
    ``previous`` (same owner required). Checks the F3548 transition (``IllegalTransitionError``)
    and the operation-wide limits (``InputError``)."""
    if previous is not None and previous.owner != owner:
        raise PermissionDeniedError(
            f"operation {operation_id!r} belongs to another party; choose another id"
        )
    check_transition(None if previous is None else previous.state, draft.state)
    return parse_operation(
        {
            **draft.model_dump(),
            "id": operation_id,
            "owner": owner,
            "version": 1 if previous is None else previous.version + 1,
            "token": new_token(),
        }
    )


def _messages(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def parse_volume(data: Mapping[str, Any] | Volume4D) -> Volume4D:
    """A ``Volume4D`` from untrusted data; ``InputError`` listing every problem."""
    if isinstance(data, Volume4D):
        return data
    try:
        return Volume4D.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"invalid volume: {_messages(exc)}") from None


def parse_operation(data: Mapping[str, Any] | Operation) -> Operation:
    """An ``Operation`` from untrusted data; ``InputError`` listing every problem."""
    if isinstance(data, Operation):
        return data
    try:
        return Operation.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"invalid operation: {_messages(exc)}") from None


class _Separation(Protocol):
    @property
    def horizontal_m(self) -> float: ...
    @property
    def vertical_m(self) -> float: ...


class _StandardLike(Protocol):
    @property
    def separation(self) -> _Separation: ...


@dataclass(frozen=True, slots=True)
class Buffers:
    """Separation minima (m) by which volumes are widened before they are compared.

    Two volumes conflict where their horizontal gap is below ``horizontal_m`` and their vertical
    gap below ``vertical_m`` (both less ``tolerance_m``, so volumes exactly one minimum apart,
    such as adjacent flight levels, are separated) while their times overlap. With both minima 0
    this is InterUSS's rule: the interiors overlap.
    """

    horizontal_m: float = 0.0
    vertical_m: float = 0.0
    tolerance_m: float = 0.01

    def __post_init__(self) -> None:
        for name in ("horizontal_m", "vertical_m", "tolerance_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0.0):
                raise InputError(f"buffer {name} is {v}; give a finite number ≥ 0 (metres)")

    @classmethod
    def from_units(cls, horizontal_nm: float = 0.0, vertical_ft: float = 0.0) -> Buffers:
        """Buffers from the usual units: nautical miles and feet."""
        return cls(horizontal_m=horizontal_nm * NM, vertical_m=vertical_ft * FT)

    @classmethod
    def from_standard(cls, standard: _StandardLike) -> Buffers:
        """The separation minima of a ``deconflict.predict.standards.Standard``."""
        sep = standard.separation
        return cls(horizontal_m=float(sep.horizontal_m), vertical_m=float(sep.vertical_m))


NO_BUFFERS = Buffers()
