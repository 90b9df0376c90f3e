"""Blind checks (``disclosure = "blind"``): the relay, outcomes, blind declarations.

Routes parse and shape; the workflows are ``workflows.blind``. Every endpoint is a party's (the
host's admin token is refused) and answers 403 while the procedures are open.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from deconflict.errors import InputError
from deconflict.service.auth import MemberDep, StoreDep
from deconflict.settings import Settings
from deconflict.store.blind import BlindRecord, mailbox, operations_of
from deconflict.strategic.states import OperationState
from deconflict.workflows import blind, blind_relay

router = APIRouter(prefix="/v1/blind", tags=["blind"])
BlindId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]+$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Envelope(_In):
    """A relayed check message (``blind.protocol``): ``body`` is opaque to the host."""

    check: str = Field(min_length=32, max_length=32, pattern=r"^[0-9a-f]+$")
    round: int = Field(ge=1, le=4)
    sender: str = Field(min_length=1, max_length=200)
    recipient: str = Field(min_length=1, max_length=200)
    time_s: float
    body: dict[str, str]
    meta: dict[str, Any]
    signature: str = Field(default="", max_length=200)
    key_id: str | None = Field(default=None, max_length=64)


class OutcomeIn(_In):
    """A finished check's outcome and both parties' signatures (``a``: the declarer's)."""

    outcome: dict[str, Any]
    signatures: dict[str, str]


class BlindDeclaration(_In):
    """A blind operation: a commitment to its volumes, never the volumes."""

    commitment: str = Field(min_length=64, max_length=64, pattern=r"^[0-9a-f]+$")
    contact: str = Field(default="", max_length=500)
    priority: int = 0
    state: OperationState = OperationState.ACCEPTED
    expires: datetime = Field(description="ISO 8601 with a time zone: when it has ended at last")
    checks: list[str] = Field(default_factory=list, max_length=1000)


class BlindRevision(BlindDeclaration):
    token: str = Field(min_length=1, max_length=64)


def _settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    blind.require_blind(s)
    return s


def _view(r: BlindRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "commitment": r.commitment,
        "contact": r.contact,
        "priority": r.priority,
        "state": r.state,
        "version": r.version,
        "token": r.token,
        "expires_s": r.expires_s,
    }


def _declaration(body: BlindDeclaration) -> blind.Declaration:
    if body.expires.tzinfo is None:
        raise InputError("expires has no time zone: add Z or +00:00")
    return blind.Declaration(
        body.commitment,
        body.contact,
        body.priority,
        body.state,
        body.expires.timestamp(),
        body.checks,
    )


@router.get("/grid")
def grid(party: MemberDep, request: Request) -> dict[str, Any]:
    """The space-time grid and the minima every node makes its cells with."""
    return blind.grid_view(_settings(request))


@router.get("/parties")
def parties(party: MemberDep, store: StoreDep, request: Request) -> list[dict[str, Any]]:
    """The other parties, their keys and contacts; ``live``: a declaration must be checked
    with them."""
    _settings(request)
    return blind.parties_view(store, party, time.time())


@router.post("/messages", status_code=202)
def send(body: Envelope, party: MemberDep, store: StoreDep, request: Request) -> dict[str, Any]:
    """Relay one check message to its recipient (the host logs its hash only)."""
    _settings(request)
    return blind_relay.relay(store, party, body.model_dump(), time.time())


@router.get("/messages")
def receive(
    party: MemberDep,
    store: StoreDep,
    request: Request,
    after: Annotated[
        int, Query(ge=-1, le=2**62, description="the last seq read: those are dropped")
    ] = -1,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """The check messages waiting for this party, oldest first."""
    _settings(request)
    return {"messages": mailbox(store, party.id, after, limit)}


@router.post("/outcomes", status_code=201)
def outcome(body: OutcomeIn, party: MemberDep, store: StoreDep, request: Request) -> dict[str, Any]:
    """Record a finished check's outcome, signed by both parties, in the log."""
    _settings(request)
    return blind_relay.record_outcome(store, party, body.outcome, body.signatures)


@router.post("/operations", status_code=201)
def declare(
    body: BlindDeclaration, party: MemberDep, store: StoreDep, request: Request
) -> dict[str, Any]:
    """Declare a blind operation. 409 (``missing``) names each party whose check of this
    commitment is missing or stale."""
    s = _settings(request)
    rec = blind.declare(store, s, party, _declaration(body), time.time())
    return _view(rec)


@router.put("/operations/{operation_id}")
def revise(
    operation_id: BlindId,
    body: BlindRevision,
    party: MemberDep,
    store: StoreDep,
    request: Request,
) -> dict[str, Any]:
    """A new version (or state) of one's own blind operation, given its current token."""
    s = _settings(request)
    rec = blind.declare(
        store,
        s,
        party,
        _declaration(body),
        time.time(),
        op_id=operation_id,
        expected_token=body.token,
    )
    return _view(rec)


@router.get("/operations")
def mine(party: MemberDep, store: StoreDep, request: Request) -> list[dict[str, Any]]:
    """One's own blind operations (every state)."""
    _settings(request)
    return [_view(r) for r in operations_of(store, party.id)]
