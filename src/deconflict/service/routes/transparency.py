"""The transparency log: signed checkpoints, RFC 9162 proofs, parties' cosignatures.

Every party (and the host) may read checkpoints and proofs of any tree size and leaf: a proof is
hashes only — of subtrees, never an entry's content, and a leaf's hash covers the host's
signature, which only the entry's readers hold, so no one can confirm a guess of an entry from
it. A leaf's index is its entry's ``seq`` (every event and message a party receives carries it).
Only a party posts cosignatures, each its own (checked against its registered key).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from deconflict.service import periodic
from deconflict.service.auth import MemberDep, PartyDep, StoreDep
from deconflict.service.schemas import EventOut, EventPage
from deconflict.store import Store, tree
from deconflict.store import transparency as records
from deconflict.workflows import transparency

log = logging.getLogger(__name__)

Size = Annotated[int, Query(ge=0, le=2**62, description="Tree size (entries)")]
After = Annotated[int, Query(ge=-1, le=2**62, description="Last seq seen; -1 from the start")]
Limit = Annotated[int, Query(ge=1, le=10_000)]


class CheckpointOut(BaseModel):
    origin: str
    size: int
    root: str = Field(description="Root hash, standard base64")
    note: str = Field(
        description="C2SP signed note: the checkpoint, the host's signature, then "
        "every party's cosignature line"
    )
    host_key: str = Field(description="The host's C2SP verifier key")
    cosigned_by: list[str]
    quorum: int = Field(description="Cosignatures the procedures require for it to count")
    counts: bool
    time_s: float


class ProofOut(BaseModel):
    kind: str
    first: int = Field(description="Leaf index (inclusion) or the smaller tree size")
    size: int
    hashes: list[str] = Field(description="RFC 9162 proof, standard base64, as the RFC orders it")


class CosignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: int = Field(ge=1, le=2**62, description="Tree size of the checkpoint cosigned")
    cosignature: str = Field(
        min_length=10,
        max_length=400,
        description="One C2SP tlog-cosignature line: '— deconflict.witness/KEYID BASE64'",
    )


class CosignatureOut(BaseModel):
    size: int
    new: bool
    cosigned_by: list[str]
    counts: bool


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _publish(app_state: Any, fresh: bool) -> records.CheckpointRecord:
    store: Store = app_state.store
    settings = app_state.settings
    origin = transparency.log_origin(store, settings.log_origin)
    interval = 0.0 if fresh else settings.checkpoint_interval_s
    return transparency.publish(
        store, app_state.signer, origin, now_s=time.time(), min_interval_s=interval
    )


def _cadence(app: FastAPI) -> contextlib.AbstractAsyncContextManager[None]:
    """Sign a checkpoint every ``checkpoint_interval_s`` while the tree grows."""
    return periodic.every(
        lambda: max(1.0, float(app.state.settings.checkpoint_interval_s)),
        lambda: _publish(app.state, False),
        log,
        "checkpoint",
    )


router = APIRouter(prefix="/v1/log", tags=["transparency log"], lifespan=_cadence)


def _out(store: Store, request: Request, record: records.CheckpointRecord) -> CheckpointOut:
    settings = _settings(request)
    origin = transparency.log_origin(store, settings.log_origin)
    served = transparency.served(store, record, origin, request.app.state.signer)
    return CheckpointOut(**served.to_dict(settings.checkpoint_quorum))


@router.get("/checkpoint")
def get_checkpoint(
    _party: PartyDep,
    store: StoreDep,
    request: Request,
    size: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    fresh: bool = False,
) -> CheckpointOut:
    """The latest signed checkpoint (signing a new one first if the tree grew and the last is
    older than ``checkpoint_interval_s``, or ``fresh``), or the one of tree size ``size``, with
    every cosignature parties posted for it."""
    if size is None:
        record = _publish(request.app.state, fresh)
    else:
        record = transparency.checkpoint(store, size)
    return _out(store, request, record)


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@router.get("/proofs/inclusion")
def inclusion(
    _party: PartyDep,
    store: StoreDep,
    index: Annotated[int, Query(ge=0, le=2**62, description="Leaf index: the entry's seq")],
    size: Size,
) -> ProofOut:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` entries."""
    proof = tree.inclusion_proof(store, index, size)
    return ProofOut(kind="inclusion", first=index, size=size, hashes=_b64(proof))


@router.get("/proofs/consistency")
def consistency(
    _party: PartyDep,
    store: StoreDep,
    first: Annotated[int, Query(alias="from", ge=0, le=2**62)],
    to: Size,
) -> ProofOut:
    """RFC 9162 consistency proof from the tree of ``from`` entries to that of ``to``."""
    proof = tree.consistency_proof(store, first, to)
    return ProofOut(kind="consistency", first=first, size=to, hashes=_b64(proof))


@router.post("/cosignatures", status_code=201)
def cosign(
    body: CosignatureIn, party: MemberDep, store: StoreDep, request: Request
) -> CosignatureOut:
    """Post your cosignature (C2SP tlog-cosignature, by your registered key, named
    ``deconflict.witness/<your key id>``) of the checkpoint of tree size ``size``."""
    new, names = transparency.add_cosignature(
        store, party, body.size, body.cosignature, now_s=time.time()
    )
    quorum = _settings(request).checkpoint_quorum
    return CosignatureOut(size=body.size, new=new, cosigned_by=names, counts=len(names) >= quorum)


@router.get("/entries")
def own_entries(
    party: MemberDep, store: StoreDep, after: After = -1, limit: Limit = 500
) -> EventPage:
    """The entries you hold, with seq > ``after``: those addressed to you and those you
    authored (what ``deconflict witness`` checks the inclusion of)."""
    events = records.party_entries(store, party.id, after=after, limit=limit)
    return EventPage(
        events=[EventOut(**e.to_dict()) for e in events], next=events[-1].seq if events else after
    )


@router.get("/host-keys")
def host_keys(_party: PartyDep, store: StoreDep) -> list[EventOut]:
    """The host's key history: its ``host.key`` and ``host.key.rotated`` entries (each
    rotation signed by the old key and the new), so a witness learns a new key from the log."""
    return [EventOut(**e.to_dict()) for e in transparency.host_key_history(store)]
