"""Bounds on what one client may make the service hold (sizes in bytes, times in seconds).

* Request bodies: :class:`BodyLimit`, an ASGI middleware, counts the bytes of each request body
  as they arrive and answers ``413`` naming the limit (``Settings.max_body_bytes``) as soon as
  they pass it: at once when ``Content-Length`` says so, before a byte of the body is read; else
  when the running count passes it. Nothing beyond the limit is held, nothing of it is parsed.
  A body over :data:`AUTH_FIRST_BYTES` (or of unknown length) is read only when its bearer
  token is known (401 otherwise), so an outsider never makes the event loop parse a large body.
* WebSocket sends: :func:`send_or_drop` gives a send ``Settings.ws_send_timeout_s``; a client
  that does not read for that long is a slow consumer: nothing more is sent, and the close
  frame (:data:`SLOW_CONSUMER`, 1013 "try again later", the reason naming where to resume)
  follows what is already buffered (a client that reads again gets it; one that never does is
  left after :data:`CLOSE_WAIT_S`). With the server's flow control (uvicorn pauses a transport
  whose buffer is full) a socket holds at most one message of the service's beside the
  transport's and the kernel's buffers.
* Logs: :class:`RedactSecrets` blanks the values of ``token``, ``access_token`` and ``key``
  query parameters in uvicorn's log lines (its access log and its WebSocket lines carry the
  query string), so a token sent in a URL by an old client is never written to a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

#: A body larger than this (bytes) is read only from a known token's caller: an outsider cannot
#: make the event loop parse more than this.
AUTH_FIRST_BYTES = 64 * 1024
UNKNOWN_TOKEN = (
    "a request body over 64 KiB needs a known bearer token before it is read: send "
    "'Authorization: Bearer TOKEN' with the token `deconflict party add` printed"
)
#: Close code for a slow consumer (RFC 6455 1013 "Try Again Later").
SLOW_CONSUMER = 1013
#: How long a dropped slow consumer's close frame may wait for the client to read (s).
CLOSE_WAIT_S = 60.0


def too_large_message(limit: int) -> str:
    return (
        f"the request body is larger than this service's limit of {limit} bytes "
        "(setting max_body_bytes): send a smaller body (split a large operation into several)"
    )


class _TooLarge(HTTPException):
    """Raised by the counting ``receive``: FastAPI passes an HTTPException through, so the
    app's error handler answers 413 in the one error shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


class BodyLimit:
    """Refuse (413) any HTTP request whose body passes ``max_bytes``, counting as it arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared, chunked, token = 0, False, ""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                with contextlib.suppress(ValueError):
                    declared = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].decode("latin-1").strip()
        if declared > limit:
            await self._refuse(send)
            return
        if (declared > AUTH_FIRST_BYTES or chunked) and not await _known(scope, token):
            await _answer(send, 401, "unauthenticated", UNKNOWN_TOKEN, "send a known token")
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:  # read outside FastAPI's handlers: answer here
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        message = too_large_message(self.max_bytes)
        await _answer(send, 413, "too_large", message, "send a smaller body")


async def _known(scope: Scope, token: str) -> bool:
    """Whether ``token`` is the admin's or a party's (looked up off the event loop)."""
    from deconflict.errors import DeconflictError
    from deconflict.service.auth import party_for_token

    state = scope["app"].state
    try:
        await run_in_threadpool(party_for_token, state, token or None)
    except DeconflictError:
        return False
    return True


async def _answer(send: Send, status: int, code: str, message: str, hint: str) -> None:
    """An error answer in the one shape (``service.errors``), the connection then closed."""
    body = json.dumps({"error": {"code": code, "message": message, "hint": hint}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_or_drop(
    websocket: WebSocket, data: str | bytes, timeout_s: float, resume: str
) -> bool:
    """Send ``data``; False (and the socket closed with :data:`SLOW_CONSUMER`, the reason
    saying ``resume``) when the client has not taken it within ``timeout_s``."""
    try:
        if isinstance(data, bytes):
            await asyncio.wait_for(websocket.send_bytes(data), timeout_s)
        else:
            await asyncio.wait_for(websocket.send_text(data), timeout_s)
    except TimeoutError:
        reason = f"slow consumer: not read for {timeout_s:g} s; reconnect {resume}"
        if websocket.application_state is not WebSocketState.DISCONNECTED:
            # the close frame waits behind what the client has not read: a client that reads
            # again within CLOSE_WAIT_S gets it after the rest; one that never does, a dead
            # connection once this gives up (the buffers it holds are bounded meanwhile)
            with contextlib.suppress(TimeoutError, RuntimeError):
                await asyncio.wait_for(websocket.close(SLOW_CONSUMER, reason[:120]), CLOSE_WAIT_S)
        return False
    return True


_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|key)=)[^&\s\"']*")


def redact(text: str) -> str:
    """``text`` with the values of secret-bearing query parameters replaced."""
    return _SECRET_QUERY.sub(r"\1REDACTED", text)


class RedactSecrets(logging.Filter):
    """Blank token values in query strings of a log record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


def install_log_redaction(names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")) -> None:
    """Put :class:`RedactSecrets` on uvicorn's loggers (once; logging config keeps filters)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
