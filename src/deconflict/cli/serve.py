"""``deconflict serve``: run the shared service (FastAPI app under uvicorn)."""

from __future__ import annotations

from pathlib import Path
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
    replay: Annotated[
        Path | None,
        typer.Option(help="Replay a recording (traffic Parquet/CSV) on the live map as well"),
    ] = None,
    speed: Annotated[float, typer.Option(help="With --replay: recording seconds per second")] = 1.0,
) -> None:
    """Serve the strategic deconfliction API: operations, constraints, events, /openapi.json.

    With --replay, the live picture of the recording is served too, with the map on /.
    """
    import uvicorn

    if replay is not None:
        from deconflict.cli.demo import _serve

        if not replay.is_file():
            fail(f"--replay {replay}: no such file; give a traffic Parquet or CSV recording")
        if speed <= 0:
            fail(f"--speed must be positive, not {speed}")
        _serve(None, replay, db, speed, host or "127.0.0.1", port or 8700)
        return

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
