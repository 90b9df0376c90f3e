"""One JSON error shape for every error the service returns: ``{"error": {code, message, hint}}``.

``code`` is a short stable word (``invalid_input``, ``not_found``, ``conflict``, ...), ``message``
says what was wrong, ``hint`` what to do. Extra fields (``missing`` for a 409 awareness failure)
sit beside them inside ``error``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconflict.errors import (
    AuthenticationError,
    AwarenessError,
    ConfigError,
    ConflictError,
    DeconflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    ProbeTooLargeError,
    StorageError,
    UnknownNameError,
    UnsignedError,
    VerificationError,
)

log = logging.getLogger("deconflict.service")


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str
    missing: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


# error class -> (HTTP status, code, hint)
_MAP: list[tuple[type[Exception], int, str, str]] = [
    (
        AuthenticationError,
        401,
        "unauthenticated",
        "send 'Authorization: Bearer TOKEN' with the token `deconflict party add` printed",
    ),
    (PermissionDeniedError, 403, "forbidden", "this needs another party's or the host's token"),
    (
        NotFoundError,
        404,
        "not_found",
        "check the id; you see only your own operations and the parts of others' that meet yours",
    ),
    (
        AwarenessError,
        409,
        "awareness_required",
        "GET each missing operation for its token, then retry with their tokens in `keys`",
    ),
    (ConflictError, 409, "conflict", "GET the current version and retry"),
    (
        ProbeTooLargeError,
        413,
        "too_large",
        "declare it in parts within the bound the message names",
    ),
    (UnknownNameError, 422, "unknown_name", "use one of the names listed in the message"),
    (InputError, 422, "invalid_input", "fix the named field; the schema is at /openapi.json"),
    (VerificationError, 422, "verification_failed", "check the signature and the key"),
    (StorageError, 503, "storage_unavailable", "retry later; the host should check the store"),
    (ConfigError, 500, "misconfigured", "the host should check the settings"),
]

_HTTP_CODES = {
    400: ("bad_request", "fix the request; the schema is at /openapi.json"),
    401: ("unauthenticated", "send 'Authorization: Bearer TOKEN'"),
    403: ("forbidden", "this needs another token"),
    404: ("not_found", "check the path; the endpoints are listed at /openapi.json"),
    405: ("method_not_allowed", "check the method; the endpoints are listed at /openapi.json"),
    413: ("too_large", "send a smaller body"),
    415: ("unsupported_media_type", "send JSON with Content-Type: application/json"),
}


def error_response(status: int, code: str, message: str, hint: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message, "hint": hint}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def for_exception(exc: Exception) -> JSONResponse:
    """The response for one of our typed errors."""
    for cls, status, code, hint in _MAP:
        if isinstance(exc, cls):
            missing = exc.missing if isinstance(exc, AwarenessError) else None
            to_sign = exc.content if isinstance(exc, UnsignedError) else None
            return error_response(status, code, str(exc), hint, missing=missing, to_sign=to_sign)
    log.exception("unexpected error", exc_info=exc)
    return error_response(
        500, "internal", f"internal error ({type(exc).__name__})", "report this to the host"
    )


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    more = len(exc.errors()) - 10
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one shape."""

    async def deconflict_error(_request: Request, exc: Exception) -> JSONResponse:
        return for_exception(exc)

    async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(
            422,
            "invalid_input",
            _validation_message(exc),
            "fix the named field; the schema is at /openapi.json",
        )

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code, hint = _HTTP_CODES.get(exc.status_code, ("http_error", "see /openapi.json"))
        return error_response(exc.status_code, code, str(exc.detail), hint)

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        return for_exception(exc)

    app.add_exception_handler(DeconflictError, deconflict_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
