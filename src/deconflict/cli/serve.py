"""``deconflict serve``: run the shared service (FastAPI app under uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from deconflict.cli._app import app, fail


@app.command("serve")
def serve(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL (default $DECONFLICT_DATABASE_URL or sqlite file)"),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8700)")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "warning",
) -> None:
    """Serve the strategic deconfliction API: operations, constraints, events, /openapi.json."""
    import uvicorn

    from deconflict.errors import DeconflictError
    from deconflict.service import create_app
    from deconflict.settings import Settings

    try:
        settings = Settings.from_env(database_url=db, host=host, port=port)
    except DeconflictError as exc:
        fail(exc)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
    )
