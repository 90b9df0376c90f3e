"""Parties: the host registers them (admin token); each party can read its own record."""

from __future__ import annotations

from fastapi import APIRouter

from deconflict.service.auth import AdminDep, PartyDep, StoreDep
from deconflict.service.parties import party_view, register_party
from deconflict.service.schemas import PartyCreated, PartyIn, PartyOut

router = APIRouter(prefix="/v1/parties", tags=["parties"])


@router.post("", status_code=201)
def add_party(body: PartyIn, _admin: AdminDep, store: StoreDep) -> PartyCreated:
    """Register a party: its API token (and key pair, if no public key is given) are returned
    this once."""
    out = register_party(
        store, body.name, public_key=body.public_key, contact=body.contact, role=body.role
    )
    return PartyCreated(**out)


@router.get("")
def list_parties(_admin: AdminDep, store: StoreDep) -> list[PartyOut]:
    """Every registered party (host only)."""
    return [PartyOut(**party_view(p)) for p in store.list_parties()]


@router.get("/me")
def me(party: PartyDep) -> PartyOut:
    """The calling party's own record."""
    return PartyOut(**party_view(party))
