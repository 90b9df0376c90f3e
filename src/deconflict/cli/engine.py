"""``deconflict engine``: the live engine in its own process, beside any number of services."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from deconflict.cli._app import app, fail


@app.command("engine")
def engine(
    db: Annotated[str, typer.Option("--db", help="Store URL (PostgreSQL, or a SQLite file)")],
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario file (TOML); default the built-in one"),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Scenario seconds per wall-clock second")
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration", help="Seconds of scenario time to lead for (default: until stopped)"
        ),
    ] = None,
) -> None:
    """Run the live engine on the store at --db in its own process.

    One engine leads per store (a PostgreSQL advisory lock, or a lock file beside a SQLite
    file); another started on the same store stands by and takes over within a second of the
    leader's death (kill -9 included). The leader runs the scenario's traffic through the
    store's workflows — alerts, conflict notices, identification requests, incidents — which
    every `deconflict serve --db` instance on the store serves on /v1; a new leader carries on
    after the last logged time, so no decision is made twice. Stops on SIGTERM or Ctrl-C,
    printing its summary.
    """
    from deconflict.engine.engine import EngineConfig
    from deconflict.engine.leader import Leadership
    from deconflict.engine.session import Session
    from deconflict.errors import DeconflictError
    from deconflict.service.live_app import open_demo_store, resumed_scenario
    from deconflict.service.picture_bus import attach_publisher, open_publisher
    from deconflict.settings import Settings
    from deconflict.sim.scenario import load_scenario

    if speed <= 0:
        fail("--speed must be > 0 (scenario seconds per wall-clock second)")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        sc = load_scenario(scenario)
        # the picture bus is reached before leading: a takeover does not wait for it
        publisher = open_publisher(Settings.from_env(database_url=db))
        lead = Leadership(db)
    except DeconflictError as exc:
        fail(exc)
    typer.echo("standby: waiting to lead the store's engine")
    t0 = time.monotonic()
    if not lead.wait(stop):
        typer.echo(json.dumps({"led": False}))
        return
    try:
        demo = open_demo_store(db, [p.id for p in sc.parties])
        sc = resumed_scenario(sc, demo.last_time_s)
        config = EngineConfig(standard=sc.standard, track_sharing=demo.settings.track_sharing)
        session = Session.from_scenario(sc, desk=demo.desk, config=config)
        # each party's picture, encoded once per tick, to every serve instance (picture_bus)
        stop_pictures = attach_publisher(session, publisher)
    except DeconflictError as exc:
        lead.release()
        fail(exc)
    typer.echo(
        f"leading after {time.monotonic() - t0:.1f} s: scenario from "
        f"{sc.start.isoformat()} (resumed: {demo.resumed})"
    )
    summary: dict[str, Any] = {"led": True}
    try:
        summary |= _lead(session, lead, stop, speed, duration)
    finally:
        stop_pictures()
        lead.release()
        demo.store.close()
    typer.echo(json.dumps(summary, default=str))


def _lead(
    session: Any, lead: Any, stop: threading.Event, speed: float, duration: float | None
) -> dict[str, Any]:
    """Tick once per 1/speed s until ``duration`` or ``stop``; stop deciding if the lock is
    lost (then exit 1: another engine leads now)."""
    next_wall = time.monotonic()
    checked = next_wall
    while not stop.is_set() and (duration is None or session.t_s < duration):
        if session.t_s >= session.cycle_start_s + session.duration_s - 1e-9:
            session.new_cycle()
        session.step(1.0)
        now = time.monotonic()
        if now - checked >= 2.0:
            checked = now
            if not lead.held():
                fail("lost the engine's lock (its database session ended): another engine leads")
        next_wall += 1.0 / speed
        stop.wait(max(0.0, next_wall - time.monotonic()))
    with session.lock:
        session.engine.finish()
    out: dict[str, Any] = session.engine.summary()
    return {k: out[k] for k in ("ticks", "events", "incidents")}
