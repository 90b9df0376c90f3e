"""``deconflict demo``: the shared air picture of a scenario, served on the map or in fast time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from deconflict.cli._app import app, echo_json, fail


@app.command("demo")
def demo(
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario file (TOML); default the built-in one"),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL for the event log (default: in memory)"),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Scenario seconds per wall-clock second")
    ] = 1.0,
    headless: Annotated[
        bool, typer.Option("--headless", help="Run in fast time without serving, then stop")
    ] = False,
    duration: Annotated[
        float | None,
        typer.Option("--duration", help="Seconds of scenario time (default: the scenario's)"),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Replay a recording (traffic Parquet/CSV) instead"),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8700,
) -> None:
    """Run a scenario through the live engine: serve the map, or --headless in fast time."""
    from deconflict.errors import DeconflictError

    if speed <= 0:
        fail("--speed must be > 0 (scenario seconds per wall-clock second)")
    try:
        if headless:
            summary = _headless(scenario, replay, db, duration)
            echo_json(summary)
            return
        _serve(scenario, replay, db, speed, host, port)
    except DeconflictError as exc:
        fail(exc)


def _sink_for(db: str | None, signers: dict[str, Any]) -> Any:
    """A sink into the store at ``db``, with the parties registered under their demo keys."""
    if db is None:
        return None
    from deconflict.engine.events import StoreSink
    from deconflict.hotline.keys import public_key_to_b64
    from deconflict.service.signing import open_signed_store
    from deconflict.settings import Settings

    settings = Settings.from_env(database_url=db)
    store, _host = open_signed_store(settings)
    ids = {}
    for p, signer in signers.items():
        party, _token = store.add_party(p, public_key=public_key_to_b64(signer.public_key))
        ids[p] = party.id
    return StoreSink(store, ids)


def _headless(
    scenario: Path | None, replay: Path | None, db: str | None, duration: float | None
) -> dict[str, Any]:
    from rich.progress import Progress

    from deconflict.engine.session import Session
    from deconflict.hotline.keys import Signer, generate_private_key
    from deconflict.sim.scenario import load_scenario

    if replay is not None:
        session = Session.from_recording(replay)
    else:
        sc = load_scenario(scenario)
        # the demo plays every party's crew: what they write is signed with the demo's keys
        signers = {p.id: Signer(p.id, generate_private_key()) for p in sc.parties}
        sink = _sink_for(db, signers)
        session = Session.from_scenario(sc, sink=sink)
        session.engine.party_signers = signers
    end = session.duration_s if duration is None else duration
    with Progress(transient=True) as progress:
        task = progress.add_task("fast time", total=end)
        summary = session.run_fast(end, lambda t: progress.update(task, completed=t))
    return summary


def _serve(
    scenario: Path | None,
    replay: Path | None,
    db: str | None,
    speed: float,
    host: str,
    port: int,
) -> None:
    import uvicorn

    from deconflict.service.live import live_app

    app_, session = live_app(scenario=scenario, replay=replay, db=db)
    typer.echo(f"Deconflict demo on http://{host}:{port}/  (log in with a party's link)")
    for party, token in app_.state.demo_tokens.items():
        typer.echo(f"  {party:8s} token: {token}")
        typer.echo(f"  {'':8s} login: http://{host}:{port}/map/{app_.state.demo_logins[party]}")
    typer.echo(
        "  (a login link carries the party's token and private signing key in its #fragment, "
        "which the browser never sends to the server)"
    )
    session.start_thread(speed)
    uvicorn.run(
        app_, host=host, port=port, log_level="warning", access_log=False,
        ws_per_message_deflate=False,
    )  # fmt: skip
    session.stop.set()
