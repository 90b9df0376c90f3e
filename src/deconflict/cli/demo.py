"""``deconflict demo``: the shared air picture of a scenario, served on the map or in fast time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from deconflict.cli._app import app, echo_json, fail, run_server

if TYPE_CHECKING:
    from deconflict.engine.session import Session
    from deconflict.sim.simulator import Simulator
    from deconflict.sim.wire import WireSimSource


@app.command("demo")
def demo(
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario file (TOML); default the built-in one"),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store URL (default: served, the SQLite file .deconflict/demo.sqlite; "
            "--headless, in memory). A store the demo made before is resumed: the same "
            "parties, keys and login links, and everything logged",
        ),
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
        typer.Option(
            "--replay", help="Replay a recording (traffic or OpenSky Parquet/CSV) instead"
        ),
    ] = None,
    sensors: Annotated[
        Literal["wire", "memory"] | None,
        typer.Option(
            "--sensors",
            help="How the simulated sensors reach the engine: 'wire' (loopback servers speaking "
            "Beast, ASTERIX CAT048 and SBS, read by the feed client a real site uses) or "
            "'memory' (report tables handed over directly). Default: wire when served, memory "
            "with --headless",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8700,
) -> None:
    """Run a scenario through the live engine: serve the map, or --headless in fast time."""
    from deconflict.errors import DeconflictError

    if speed <= 0:
        fail("--speed must be > 0 (scenario seconds per wall-clock second)")
    wire = (sensors or ("memory" if headless else "wire")) == "wire" and replay is None
    try:
        if headless:
            summary = _headless(scenario, replay, db, duration, wire)
            echo_json(summary)
            return
        _serve(scenario, replay, db, speed, host, port, wire)
    except DeconflictError as exc:
        fail(exc)


def _on_the_wire(session: Session) -> WireSimSource:
    """Replace the session's in-memory simulator source by the simulated sensors on the wire
    (``deconflict.sim.wire``), following the session's simulator from cycle to cycle."""
    from deconflict.sim.source import SimSource
    from deconflict.sim.wire import WireSimSource

    def current() -> Simulator:
        assert session.simulator is not None
        return session.simulator

    wire = WireSimSource(current)
    engine = session.engine
    engine.sources = [wire if isinstance(s, SimSource) else s for s in engine.sources]
    return wire


def _headless(
    scenario: Path | None,
    replay: Path | None,
    db: str | None,
    duration: float | None,
    wire: bool = False,
) -> dict[str, Any]:
    from rich.progress import Progress

    from deconflict.engine.demo_record import record_demo
    from deconflict.engine.session import Session
    from deconflict.settings import Settings
    from deconflict.sim.scenario import load_scenario

    desk = None
    settings = Settings.from_env()
    if replay is not None:
        names = ["replay"]
    else:
        sc = load_scenario(scenario)
        names = [p.id for p in sc.parties]
    if db is not None:  # the demo's store: the same parties and keys on every run
        from deconflict.service.live_app import open_demo_store, resumed_scenario

        demo = open_demo_store(db, names)
        desk, settings = demo.desk, demo.settings
        if replay is None:
            sc = resumed_scenario(sc, demo.last_time_s)
    if replay is not None:
        session = Session.from_recording(replay, desk=desk)
    else:
        # the demo plays every party's crew: what they write is signed with the demo's keys
        session = Session.from_scenario(sc, desk=desk)
    # what the served demo records: the scenario's operations, its scene, picture samples
    record_demo(session, settings)
    sensors = _on_the_wire(session) if wire else None
    end = session.duration_s if duration is None else duration
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("fast time", total=end)
            summary = session.run_fast(end, lambda t: progress.update(task, completed=t))
    finally:
        if sensors is not None:
            sensors.close()
    session.engine.desk.close()
    if sensors is not None:
        summary["feeds"] = sensors.feeds.status()
    return summary


def _serve(
    scenario: Path | None,
    replay: Path | None,
    db: str | None,
    speed: float,
    host: str,
    port: int,
    wire: bool = True,
) -> None:

    from deconflict.service.live_app import live_app

    app_, session = live_app(scenario=scenario, replay=replay, db=db)
    sensors = _on_the_wire(session) if wire and session.simulator is not None else None
    typer.echo(f"Deconflict demo on http://{host}:{port}/  (log in with a party's link)")
    if sensors is not None:
        for feed in sensors.feeds.feeds:
            typer.echo(f"  sensor {feed.sensor:12s} {feed.party:6s} {feed.spec.url()}")
    store = app_.state.settings.database_url
    typer.echo(f"  store: {store} ({'resumed' if app_.state.demo_resumed else 'new'})")
    for party, token in app_.state.demo_tokens.items():
        typer.echo(f"  {party:8s} token: {token}")
        typer.echo(f"  {'':8s} login: http://{host}:{port}/map/{app_.state.demo_logins[party]}")
    typer.echo(
        "  (a login link carries the party's token and private signing key in its #fragment, "
        "which the browser never sends to the server)"
    )
    session.start_thread(speed)
    run_server(app_, host, port)
    session.stop.set()
    if sensors is not None:
        sensors.close()
