"""The web app factory: ``create_app(settings)`` returns the FastAPI app of the shared service.

The store is opened by the app's lifespan (and the schema upgraded), closed when it ends. Every
``/v1`` endpoint needs a bearer token and is scoped to its party; errors all have one shape
(``deconflict.service.errors``). OpenAPI is served at ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from deconflict.hotline.keys import Signer
from deconflict.service import errors, fanout, limits
from deconflict.service.notify import Notifier
from deconflict.service.schemas import Health
from deconflict.service.signing import open_signed_store
from deconflict.settings import Settings
from deconflict.store import Store
from deconflict.workflows.deconfliction import Deconflictor, buffers_for
from deconflict.workflows.disclosure import Disclosure

VERSION = "0.1.0"

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": errors.ErrorResponse, "description": text}
    for code, text in (
        (401, "Missing or unknown bearer token"),
        (403, "Not allowed for this token"),
        (404, "Not found, or not visible to this party"),
        (409, "Conflict: stale token, missing awareness, or refused by the rules"),
        (413, "Too large: beyond a bound the message names"),
        (422, "Invalid input: the message names the problem"),
    )
}


def create_app(
    settings: Settings | None = None,
    *,
    opened: tuple[Store, Signer] | None = None,
    live: bool = False,
) -> FastAPI:
    """The shared service's app; ``settings`` default to the environment's. ``opened``: a
    store already opened with ``open_signed_store(settings)`` and its host signer (the live
    engine's, when it runs in-process), used instead of opening another. ``live``: the engine
    runs in this process and serves the live picture itself (``live_app``); otherwise the
    picture comes from an engine process over the picture bus (``picture_relay``)."""
    settings = Settings.from_env() if settings is None else settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        buffers = buffers_for(settings)  # an unknown standard fails before the store opens
        if opened is not None:
            store, signer = opened
        else:
            store, signer = await run_in_threadpool(open_signed_store, settings)
        app.state.store = store
        app.state.signer = signer
        app.state.disclosure = Disclosure(store, buffers)
        app.state.deconflictor = Deconflictor(settings, store, app.state.disclosure.describe)
        app.state.notifier.bind(asyncio.get_running_loop())
        await run_in_threadpool(app.state.deconflictor.warm)
        try:
            yield
        finally:
            store.close()

    app = FastAPI(
        title="Deconflict",
        version=VERSION,
        summary="Strategic deconfliction between independent operators: declared operations, "
        "need-to-know sharing, signed log.",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    app.state.settings = settings
    app.state.notifier = Notifier()
    errors.install(app)
    app.add_middleware(limits.BodyLimit, max_bytes=settings.max_body_bytes)
    limits.install_log_redaction()  # no token in a query string reaches uvicorn's logs

    @app.get("/health", tags=["service"])
    def health() -> Health:
        """Liveness: the service answers and its store is readable."""
        store = app.state.store
        return Health(status="ok", version=VERSION, database=store.backend, log_seq=store.head()[0])

    from deconflict.service.routes import constraints, events, operations, parties

    for module in (parties, operations, constraints, events):
        app.include_router(module.router)
    from deconflict.service.routes import identification, incidents, messages

    for module in (messages, identification, incidents):
        app.include_router(module.router)
    from deconflict.service.routes import sitrep

    app.include_router(sitrep.router)
    from deconflict.service.routes import transparency

    app.include_router(transparency.router)

    from deconflict.service.routes import blind

    app.include_router(blind.router)

    from deconflict.service.dss.app import create_dss_app

    app.mount("/dss/v1", create_dss_app(app.state))  # ASTM F3548-21 DSS, same store
    app.mount("/uss/v1", create_dss_app(app.state, "uss"))  # its USS side, for /v1 parties

    from deconflict.service.routes import clock

    app.include_router(clock.router)
    fanout.attach(app)  # other instances' writes wake this one's sockets (PostgreSQL NOTIFY)
    if not live:
        from deconflict.service import picture_relay

        picture_relay.attach(app)  # the engine process's pictures (NATS or PostgreSQL)
    return app
