"""``deconflict serve``: run the shared service (FastAPI app under uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deconflict.cli._app import LogLevel, app, fail, run_server


@app.command("serve")
def serve(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL (default $DECONFLICT_DATABASE_URL or sqlite file)"),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8700)")] = None,
    log_level: Annotated[LogLevel, typer.Option(help="uvicorn log level")] = "warning",
    replay: Annotated[
        Path | None,
        typer.Option(
            help="Replay a recording (traffic or OpenSky Parquet/CSV) on the live map too"
        ),
    ] = None,
    speed: Annotated[float, typer.Option(help="With --replay: recording seconds per second")] = 1.0,
    feed: Annotated[
        list[str] | None,
        typer.Option(
            "--feed",
            help="PARTY=URL of a receiver or radar feed to connect to or listen on (repeatable): "
            "tcp://HOST:PORT, tcp-listen://HOST:PORT, udp://HOST:PORT (multicast joined), "
            "FORMAT+tcp://...; its reports enter PARTY's live picture (also DECONFLICT_FEEDS).",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="With --feed: receiver LAT,LON for local CPR decoding of Mode S."),
    ] = None,
    push_party: Annotated[
        list[str] | None,
        typer.Option(
            "--push-party",
            help="A party whose agent pushes its reports (deconflict feed --push) into its live "
            "picture (repeatable).",
        ),
    ] = None,
) -> None:
    """Serve the strategic deconfliction API: operations, constraints, events, /openapi.json.

    With --replay, the live picture of the recording is served too, with the map on /.
    """

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
        if feed or settings.feeds or push_party:
            texts = [settings.feeds, *(feed or [])]
            _serve_feeds(settings, texts, reference, push_party or [], log_level)
            return
    except DeconflictError as exc:
        fail(exc)
    run_server(create_app(settings), settings.host, settings.port, log_level)


def _serve_feeds(
    settings: object, texts: list[str], reference: str | None, pushers: list[str], log_level: str
) -> None:
    """The service with host-side feeds (``deconflict.cli.serve_feeds``)."""

    from deconflict.cli.decode import make_options
    from deconflict.cli.serve_feeds import feed_app
    from deconflict.settings import Settings
    from deconflict.surveillance.source import parse_party_feeds

    assert isinstance(settings, Settings)
    feeds = parse_party_feeds(texts)
    ref = make_options("", "", None, reference or settings.feed_reference or None, None).reference
    app_, session, source = feed_app(
        feeds, settings.database_url, ref, pushers, settings.feed_max_backoff_s
    )
    typer.echo(f"Deconflict on http://{settings.host}:{settings.port}/ with feeds:")
    for f in feeds:
        typer.echo(f"  {f.party:8s} {f.spec.url()} ({f.spec.default_format()})")
    for name in pushers:
        typer.echo(f"  {name:8s} pushes its reports to POST /v1/reports")
    for party, token in app_.state.demo_tokens.items():
        typer.echo(f"  {party:8s} registered now, token: {token}")
    source.start()
    # the engine's clock is the wall clock from its first tick: the session was made before the
    # store, keys and app were ready (seconds under load), and reports wait for the engine's time
    import pandas as pd

    session.start = pd.Timestamp.now(tz="UTC")
    session.start_thread(1.0)
    try:
        run_server(app_, settings.host, settings.port, log_level)
    finally:
        session.stop.set()
        source.stop()
