"""Registering parties: an API token (shown once) and an Ed25519 public key, given or made."""

from __future__ import annotations

from typing import Any

from deconflict.hotline.keys import (
    generate_private_key,
    private_key_to_pem,
    public_key_from_b64,
    public_key_to_b64,
)
from deconflict.store import Party, Store


def party_view(party: Party) -> dict[str, Any]:
    """What the host (or the party itself) sees of a party; never a token."""
    return {
        "id": party.id,
        "name": party.name,
        "role": party.role,
        "public_key": party.public_key,
        "contact": party.contact,
    }


def register_party(
    store: Store,
    name: str,
    *,
    public_key: str | None = None,
    contact: str = "",
    role: str = "party",
) -> dict[str, Any]:
    """Register a party and return its view plus ``token`` (and ``private_key_pem`` when the
    key pair was made here: the only time either is shown)."""
    private_pem: str | None = None
    if public_key is None:
        key = generate_private_key()
        public_key = public_key_to_b64(key.public_key())
        private_pem = private_key_to_pem(key).decode("ascii")
    else:
        public_key = public_key_to_b64(public_key_from_b64(public_key))
    party, token = store.add_party(name, public_key=public_key, contact=contact, role=role)
    out = {**party_view(party), "token": token}
    if private_pem is not None:
        out["private_key_pem"] = private_pem
    return out
