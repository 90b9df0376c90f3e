"""Bearer-token authentication: every request is scoped to the party whose token it carries.

Tokens are compared by their sha256 (the store keeps nothing else). The host's admin token is
either a party of role ``admin`` or the ``DECONFLICT_ADMIN_TOKEN`` setting.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from deconflict.errors import AuthenticationError, PermissionDeniedError
from deconflict.store import Party, Store

bearer = HTTPBearer(auto_error=False, description="The party's API token")

HOST = Party(id="host", name="host", role="admin", public_key="", contact="", created_s=0.0)


async def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def party_for_token(request_app_state: Any, token: str | None) -> Party:
    """The party a token belongs to; AuthenticationError when there is none."""
    if not token:
        raise AuthenticationError("no bearer token: send 'Authorization: Bearer TOKEN'")
    admin = request_app_state.settings.admin_token
    if admin and hmac.compare_digest(token.encode(), admin.encode()):
        return HOST
    store: Store = request_app_state.store
    party = store.party_by_token(token)
    if party is None:
        raise AuthenticationError("the bearer token is not known: ask the host for your token")
    return party


async def current_party(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Party:
    return party_for_token(request.app.state, credentials.credentials if credentials else None)


async def current_member(party: Annotated[Party, Depends(current_party)]) -> Party:
    """A party (not the host) - the caller of endpoints about one's own operations."""
    if party.role != "party":
        raise PermissionDeniedError(
            "the host's admin token cannot act as a party: use a party's token"
        )
    return party


async def current_admin(party: Annotated[Party, Depends(current_party)]) -> Party:
    if party.role != "admin":
        raise PermissionDeniedError("this endpoint is the host's: use the admin token")
    return party


PartyDep = Annotated[Party, Depends(current_party)]
MemberDep = Annotated[Party, Depends(current_member)]
AdminDep = Annotated[Party, Depends(current_admin)]
StoreDep = Annotated[Store, Depends(store_of)]
