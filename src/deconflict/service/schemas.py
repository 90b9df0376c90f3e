"""Request and response bodies of the service API (degrees, ft/FL and UTC, as at every edge)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from deconflict.strategic.model import Volume4D
from deconflict.strategic.states import OperationState
from deconflict.strategic.validate import MAX_VOLUMES

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\w .@:/+-]+$")]
Text = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]
Token = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\w-]+$")]
AircraftId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: str
    log_seq: int


class PartyIn(_In):
    name: Name
    public_key: str | None = Field(
        None, description="Ed25519 public key, raw 32 bytes in base64; omitted: a pair is made"
    )
    contact: Text = ""
    role: Literal["party", "admin"] = "party"


class PartyOut(BaseModel):
    id: str
    name: str
    role: str
    public_key: str
    contact: str


class PartyCreated(PartyOut):
    token: str = Field(description="The party's API token: shown this once, stored only hashed")
    private_key_pem: str | None = Field(
        None, description="The private key made for the party (when none was given): shown once"
    )


class OperationIn(_In):
    volumes: list[Volume4D] = Field(min_length=1, max_length=MAX_VOLUMES)
    priority: int = Field(0, ge=-1000, le=1000, description="Higher wins (ASTM F3548)")
    aircraft_ids: list[AircraftId] = Field(default_factory=list, max_length=100)
    state: Literal["Accepted", "Activated"] = "Accepted"
    keys: list[Token] = Field(
        default_factory=list,
        max_length=10_000,
        description="Version tokens of every operation this one conflicts with: proof of "
        "awareness. A 409 lists those missing.",
    )


class OperationUpdate(_In):
    token: Token = Field(description="The operation's current version token")
    volumes: list[Volume4D] = Field(min_length=1, max_length=MAX_VOLUMES)
    priority: int = Field(0, ge=-1000, le=1000)
    aircraft_ids: list[AircraftId] = Field(default_factory=list, max_length=100)
    state: OperationState = OperationState.ACCEPTED
    keys: list[Token] = Field(default_factory=list, max_length=10_000)


class StateChange(_In):
    token: Token = Field(description="The operation's current version token")
    state: OperationState
    keys: list[Token] = Field(default_factory=list, max_length=10_000)


class OperationOut(BaseModel):
    """An operation as its owner sees it: everything."""

    shared: Literal[False] = False
    id: str
    owner: str
    contact: str
    version: int
    token: str
    state: OperationState
    priority: int
    aircraft_ids: list[str]
    volumes: list[dict[str, Any]]
    flags: list[dict[str, Any]] = Field(
        description="Why it was accepted with reservations: conflicts, constraints entered"
    )


class SharedOperation(BaseModel):
    """Another party's operation, need-to-know: only the parts of its volumes that meet the
    viewer's own, and how to reach its owner."""

    shared: Literal[True] = True
    id: str
    version: int
    token: str = Field(description="Present it in `keys` to prove awareness")
    owner: str = Field(description="The owner's party name")
    contact: str
    parts: list[dict[str, Any]] = Field(
        description="Intersecting parts: polygon, altitude bounds (ft), time bounds, and which "
        "of the viewer's operations and volumes each meets"
    )


OperationView = Annotated[OperationOut | SharedOperation, Field(discriminator="shared")]


class OperationList(BaseModel):
    operations: list[OperationView]


class ConstraintIn(_In):
    kind: Literal["restricted", "no-fly"]
    name: Name
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon (one ring, [lon, lat])")
    altitude_lower: dict[str, Any] = Field(description='{"value": 0, "units": "ft" | "FL"}')
    altitude_upper: dict[str, Any]
    time_start: str = Field(description="ISO 8601 with a time zone")
    time_end: str


class ConstraintOut(BaseModel):
    id: str
    owner: str
    kind: str
    name: str
    geometry: dict[str, Any]
    altitude_lower_ft: float
    altitude_upper_ft: float
    time_start: str
    time_end: str


class ConstraintList(BaseModel):
    constraints: list[ConstraintOut]


class EventOut(BaseModel):
    seq: int
    time_s: float
    author: str
    key_id: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    signature: str


class EventPage(BaseModel):
    events: list[EventOut]
    next: int = Field(description="Pass as `after` to resume after the last event given")
