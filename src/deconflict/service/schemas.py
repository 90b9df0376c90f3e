"""Request and response bodies of the service API (degrees, ft/FL and UTC, as at every edge)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from deconflict.strategic.model import DeclaredVolume
from deconflict.strategic.states import OperationState
from deconflict.strategic.validate import MAX_VOLUMES

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\w .@:/+-]+$")]
Text = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]
Token = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\w-]+$")]
AircraftId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignedIn(_In):
    """What a party writes to the hotline carries its own signature (``hotline.authorship``)."""

    time_s: float | None = Field(None, description="Time signed with (needed with a signature)")
    signature: str | None = Field(
        None,
        max_length=200,
        description="The party's Ed25519 signature (base64) by its registered key over the "
        "canonical JSON of what it writes (hotline.authorship: message_content, "
        "acknowledgement_content or answer_content); required from a party, not sent by the "
        "host",
    )
    key_id: str | None = Field(None, max_length=32, description="Id of the signing key")


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


class OperationIn(SignedIn):
    volumes: list[DeclaredVolume] = Field(min_length=1, max_length=MAX_VOLUMES)
    priority: int = Field(0, ge=-1000, le=1000, description="Higher wins (ASTM F3548)")
    aircraft_ids: list[AircraftId] = Field(default_factory=list, max_length=100)
    state: Literal["Accepted", "Activated"] = "Accepted"
    keys: list[Token] = Field(
        default_factory=list,
        max_length=10_000,
        description="Version tokens of every operation this one conflicts with: proof of "
        "awareness. A 409 lists those missing.",
    )


class OperationUpdate(SignedIn):
    token: Token = Field(description="The operation's current version token")
    volumes: list[DeclaredVolume] = Field(min_length=1, max_length=MAX_VOLUMES)
    priority: int = Field(0, ge=-1000, le=1000)
    aircraft_ids: list[AircraftId] = Field(default_factory=list, max_length=100)
    state: OperationState = OperationState.ACCEPTED
    keys: list[Token] = Field(default_factory=list, max_length=10_000)


class StateChange(SignedIn):
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
    """Restricted or no-fly areas as GeoJSON: a FeatureCollection or one Feature, each with
    properties ``name``, ``kind`` (``restricted`` | ``no-fly``), ``lower``, ``upper``, ``units``
    (``ft`` | ``FL``), and optionally ``start`` / ``end`` (ISO 8601; absent: always)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["FeatureCollection", "Feature"]


class ConstraintOut(BaseModel):
    id: str
    kind: str
    name: str
    owner: str = Field(description="Who made it: `host`, or the name of the admin party")
    volume: dict[str, Any] = Field(description="Footprint, altitude bounds and times")


class ConstraintList(BaseModel):
    constraints: list[ConstraintOut]


class TrackState(_In):
    """A live track's state, in the ``traffic`` library's units."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    timestamp: AwareDatetime
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    altitude: float = Field(ge=-2000, le=100_000, description="ft")
    groundspeed: float = Field(0.0, ge=0, le=2000, description="kt")
    track: float = Field(0.0, ge=0, le=360, description="degrees true")
    vertical_rate: float = Field(0.0, ge=-30_000, le=30_000, description="ft/min")


class TracksIn(_In):
    tracks: list[TrackState] = Field(min_length=1, max_length=10_000)


class ProximityAlert(BaseModel):
    track: str
    constraint: str
    name: str
    kind: str
    time_to_entry_s: float


class ProximityAlerts(BaseModel):
    alerts: list[ProximityAlert]
    horizon_s: float


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
    format: int = Field(1, description="Log format: 2 (RFC 8785 canonical JSON) or 1 (earlier)")


class EventPage(BaseModel):
    events: list[EventOut]
    next: int = Field(description="Pass as `after` to resume after the last event given")
