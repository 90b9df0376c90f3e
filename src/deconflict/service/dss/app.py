"""The ASTM F3548-21 DSS API as a sub-application mounted at ``/dss/v1`` of the service.

It shares the service's store, deconflictor and log (``main``: the service app's state), and
has its own error shape, F3548's ``ErrorResponse`` ``{"message": ...}`` (and
``AirspaceConflictResponse`` for a 409 of missing awareness), and its own OpenAPI at
``/dss/v1/openapi.json``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from deconflict.errors import (
    AuthenticationError,
    AwarenessError,
    ConflictError,
    DeconflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from deconflict.service.dss.auth import Caller, TokenVerifier
from deconflict.strategic.states import IllegalTransitionError
from deconflict.workflows.dss import Dss, MissingConstraintsError

log = logging.getLogger("deconflict.service.dss")
T = TypeVar("T")


def message(status: int, text: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"message": text, **extra}, status_code=status, headers=headers)


class Context:
    """What a DSS route needs of the service (built on first use, after the lifespan)."""

    def __init__(self, main: Any) -> None:
        self.main = main
        self._dss: Dss | None = None
        self._verifier: TokenVerifier | None = None
        self._names: dict[str, str] = {}

    @property
    def dss(self) -> Dss:
        if self._dss is None or self._dss.deconflictor is not self.main.deconflictor:
            self._dss = Dss(self.main.store, self.main.deconflictor)
        return self._dss

    def caller(self, request: Request, allowed: frozenset[str]) -> Caller:
        if self._verifier is None or self._verifier.store is not self.main.store:
            self._verifier = TokenVerifier(self.main.settings, self.main.store)
        return self._verifier.verify(request, allowed)

    def name(self, party_id: str) -> str:
        """The USS name (party name) of a party id."""
        name = self._names.get(party_id)
        if name is None:
            try:
                name = self.main.store.get_party(party_id).name
            except NotFoundError:
                name = party_id
            self._names[party_id] = name
        return name

    async def write(self, fn: Callable[[], T]) -> T:
        """A write: in the event loop on SQLite (one writer anyway), in a thread otherwise."""
        if self.main.store.backend == "sqlite":
            return fn()
        return await run_in_threadpool(fn)


def context(request: Request) -> Context:
    ctx: Context = request.app.state.dss_context
    return ctx


async def body_of(request: Request) -> dict[str, Any]:
    """The JSON object of the request body; 400 naming the problem otherwise."""
    try:
        body = await request.json()
    except ValueError:
        raise InputError("the body is not JSON: send a JSON object") from None
    if not isinstance(body, dict):
        raise InputError(f"the body must be a JSON object, not {type(body).__name__}")
    return body


def for_exception(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, AuthenticationError):
        return message(401, str(exc))
    if isinstance(exc, PermissionDeniedError):
        return message(403, str(exc))
    if isinstance(exc, NotFoundError):
        return message(404, str(exc))
    if isinstance(exc, InputError | IllegalTransitionError):
        return message(400, str(exc))
    if isinstance(exc, AwarenessError):
        ids = [m["id"] for m in exc.missing]
        text = (
            "key lacks the current OVN of operational intent(s) "
            + ", ".join(str(uuid.UUID(i)) if len(i) == 32 else i for i in ids)
            + ": get each from its manager (GET {uss_base_url}/uss/v1/operational_intents/{id}) "
            "and add it to key"
        )
        return conflict_response(request, text, ids, [])
    if isinstance(exc, MissingConstraintsError):
        return conflict_response(request, str(exc), [], exc.missing)
    if isinstance(exc, ConflictError):
        return message(409, str(exc))
    if isinstance(exc, DeconflictError):
        return message(400, str(exc))
    log.exception("unexpected error in the DSS API", exc_info=exc)
    return message(500, f"internal error ({type(exc).__name__}): report this to the host")


def conflict_response(
    request: Request, text: str, op_ids: list[str], constraints: list[Any]
) -> JSONResponse:
    from deconflict.service.dss import wire

    ctx = context(request)
    ops = []
    for op_id in op_ids:
        try:
            record = ctx.main.store.get_operation(op_id)
        except NotFoundError:
            continue
        with ctx.dss.tables.read() as tx:
            w = tx.intent_wire(op_id)
        manager = ctx.name(record.owner_id)
        ref = wire.record_reference(
            record,
            manager,
            is_manager=False,
            state=record.state,
            wire=w,
            availability=ctx.dss.availability(manager)[0],
        )
        if w is None:  # declared through /v1: Deconflict is its USS (/uss/v1)
            ref["uss_base_url"] = f"{request.url.scheme}://{request.url.netloc}"
        ops.append(ref)
    crs = [
        wire.constraint_reference(c, ctx.name(c.owner_id), False, "Unknown") for c in constraints
    ]
    return message(409, text, missing_operational_intents=ops, missing_constraints=crs)


def create_dss_app(main: Any, api: str = "dss") -> FastAPI:
    """The ``/dss/v1`` sub-application over the service's state ``main`` (``api="uss"``: the
    ``/uss/v1`` one, the USS side for the operations of Deconflict's own parties)."""
    app = FastAPI(
        title=f"Deconflict: ASTM F3548-21 {api.upper()} API",
        version="1.0.0",
        summary=f"The {api.upper()} operations of utm.yaml 1.0.0 on Deconflict's store",
    )
    app.state.dss_context = Context(main)
    from deconflict.strategic.heights import height_model

    model = height_model()
    log.info(
        "F3548 heights: geoid %s (error bound %.0f m); %s",
        model.geoid,
        model.geoid_error_m,
        model.atmosphere,
    )

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        return for_exception(request, exc)

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        parts = []
        for err in exc.errors()[:5]:
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{loc}: {err.get('msg', 'invalid')}")
        return message(400, "; ".join(parts) or "invalid request")

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return message(exc.status_code, f"{exc.detail}: see /{api}/v1/openapi.json")

    app.add_exception_handler(DeconflictError, on_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_error)

    if api == "uss":
        from deconflict.service.dss import uss

        app.include_router(uss.router)
        return app
    from deconflict.service.dss import intents, subscriptions

    app.include_router(intents.router)
    app.include_router(subscriptions.router)
    return app
