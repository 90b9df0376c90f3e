"""Bearer-token authentication: every request is scoped to the party whose token it carries.

Tokens are compared by their sha256 (the store keeps nothing else). The host's admin token is
either a party of role ``admin`` or the ``DECONFLICT_ADMIN_TOKEN`` setting.

A WebSocket carries its token in the ``Authorization: Bearer`` header or, where a browser cannot
set one, in its first message ``{"token": "..."}`` (:func:`websocket_caller`). Never in the URL:
URLs are logged (proxies, uvicorn's access and WebSocket lines), so a ``?token=`` is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from deconflict.errors import AuthenticationError, DeconflictError, PermissionDeniedError
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


#: How long a WebSocket that sends its token as its first message has to send it (s).
FIRST_MESSAGE_TIMEOUT_S = 10.0
#: Close code of a WebSocket refused for its credentials (RFC 6455 1008 "Policy Violation").
POLICY_VIOLATION = 1008
T = TypeVar("T")


def _bearer(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    return header[7:].strip() or None if header.lower().startswith("bearer ") else None


async def websocket_caller(websocket: WebSocket, caller_of: Callable[[str | None], T]) -> T | None:
    """Authenticate a WebSocket and accept it: the caller ``caller_of(token)`` names, or None
    when the socket was refused and closed (1008, the reason saying why). The token comes from
    the ``Authorization`` header, or from the first message ``{"token": "..."}`` (the socket is
    accepted to read it); a token in the query string is refused, never used."""
    if any(k.lower() in ("token", "access_token") for k in websocket.query_params):
        await websocket.accept()  # accepted, so that the client reads the reason
        await websocket.close(
            POLICY_VIOLATION,
            "no token in the URL (URLs are logged): send it in the Authorization header or as "
            'the first message {"token": ...}',
        )
        return None
    token = _bearer(websocket)
    if token is not None:
        try:
            caller = await run_in_threadpool(caller_of, token)
        except DeconflictError as exc:
            await websocket.close(POLICY_VIOLATION, str(exc)[:120])
            return None
        await websocket.accept()
        return caller
    await websocket.accept()
    try:
        first = await asyncio.wait_for(websocket.receive_text(), FIRST_MESSAGE_TIMEOUT_S)
        value = json.loads(first)
        sent = value.get("token") if isinstance(value, dict) else None
        caller = await run_in_threadpool(caller_of, sent if isinstance(sent, str) else None)
    except (TimeoutError, ValueError, KeyError, DeconflictError, WebSocketDisconnect) as exc:
        why = str(exc) if isinstance(exc, DeconflictError) else ""
        reason = why or 'send the token first: {"token": "..."} (or an Authorization header)'
        with contextlib.suppress(RuntimeError):  # the client went away first
            await websocket.close(POLICY_VIOLATION, reason[:120])
        return None
    return caller
