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
    feed: Annotated[
        list[str] | None,
        typer.Option(
            "--feed",
            help="PARTY=URL of a receiver or radar feed (repeatable), as `deconflict serve "
            "--feed` takes it; with feeds and no --scenario the engine runs the feeds only.",
        ),
    ] = None,
    reference: Annotated[
        str | None,
        typer.Option(help="With --feed: receiver LAT,LON for local CPR decoding of Mode S."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option("--replay", help="Replay a recording (traffic Parquet/CSV) as party replay"),
    ] = None,
    speed: Annotated[
        float,
        typer.Option("--speed", help="Scenario (or recording) seconds per wall-clock second"),
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration", help="Seconds of engine time to lead for (default: until stopped)"
        ),
    ] = None,
) -> None:
    """Run the live engine on the store at --db in its own process.

    One engine leads per store (a PostgreSQL advisory lock, or a lock file beside a SQLite
    file); another started on the same store stands by and takes over within a second of the
    leader's death (kill -9 included). The leader runs the traffic — the scenario's, a
    recording's (--replay) or the parties' own feeds (--feed) — through the store's workflows:
    alerts, conflict notices, identification requests, incidents, which every
    `deconflict serve --db` instance on the store serves on /v1. A new leader takes back from
    the log what the one before it left open (alerts, notices, requests, incidents, the crews'
    acknowledgements and answers) and carries the scenario on from the last logged time, so no
    decision is made twice. Stops on SIGTERM or Ctrl-C, printing its summary.
    """
    from deconflict.engine.leader import Leadership
    from deconflict.errors import DeconflictError
    from deconflict.service.picture_publisher import attach_publisher, open_publisher
    from deconflict.settings import Settings

    if speed <= 0:
        fail("--speed must be > 0 (scenario seconds per wall-clock second)")
    if replay is not None and (feed or scenario is not None):
        fail("--replay runs a recording alone: give it without --feed or --scenario")
    if feed and speed != 1.0:
        fail("--speed is for a scenario or a recording: feeds run on the wall clock")
    if replay is not None and not replay.is_file():
        fail(f"--replay {replay}: no such file; give a traffic Parquet or CSV recording")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        traffic = _Traffic(db, scenario, feed or [], reference, replay)
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
        session = traffic.session()
        # each party's picture, encoded once per tick, to every serve instance (picture_bus)
        stop_pictures = attach_publisher(session, publisher)
    except DeconflictError as exc:
        lead.release()
        fail(exc)
    recovered = session.engine.recovered.counts()
    typer.echo(
        f"leading after {time.monotonic() - t0:.1f} s: {traffic.what} from "
        f"{session.time(session.t_s).isoformat()} (resumed: {traffic.resumed}); "
        f"taken back from the log: {json.dumps(recovered)}"
    )
    summary: dict[str, Any] = {"led": True, "recovered": recovered}
    try:
        traffic.start()
        summary |= _lead(session, lead, stop, speed, duration)
        summary |= traffic.status()
    finally:
        stop_pictures()
        traffic.stop()
        lead.release()
        traffic.close()
    typer.echo(json.dumps(summary, default=str))


class _Traffic:
    """Where the engine's reports come from: the scenario, a recording, or the feeds (the
    ones ``deconflict serve --feed`` runs, ``cli.serve_feeds``); its store is opened when it
    leads."""

    def __init__(
        self, db: str, scenario: Path | None, feeds: list[str], reference: str | None,
        replay: Path | None,
    ) -> None:  # fmt: skip
        # what leading needs, loaded while standing by (a takeover should not wait for it)
        import deconflict.cli.serve_feeds
        import deconflict.engine.session
        import deconflict.service.live_app  # noqa: F401
        from deconflict.cli.decode import make_options
        from deconflict.errors import InputError
        from deconflict.settings import Settings
        from deconflict.sim.scenario import load_scenario
        from deconflict.surveillance.base import DecodeOptions
        from deconflict.surveillance.source import FeedSource, parse_party_feeds

        self.db, self.replay = db, replay
        self.scenario = None if (feeds and scenario is None) or replay else load_scenario(scenario)
        self.source: Any = None
        self.demo: Any = None
        self.resumed = False
        if feeds:
            settings = Settings.from_env(database_url=db)
            parsed = parse_party_feeds(feeds)
            ref = make_options("", "", None, reference or settings.feed_reference or None, None)
            self.source = FeedSource(
                parsed, DecodeOptions(reference=ref.reference),
                max_backoff_s=settings.feed_max_backoff_s,
            )  # fmt: skip
        if feeds and self.scenario is not None:
            theirs = {p.id for p in self.scenario.parties}
            extra = sorted({f.party for f in parse_party_feeds(feeds)} - theirs)
            if extra:
                raise InputError(
                    f"--feed parties {extra} are not the scenario's ({', '.join(sorted(theirs))}):"
                    " feed a party of the scenario, or run the feeds without --scenario"
                )
        if self.scenario is not None:
            from deconflict.sim.simulator import Simulator

            Simulator(self.scenario)  # loads the aircraft performance models (openap)
        names = [f.party for f in parse_party_feeds(feeds)] if feeds else []
        if self.scenario is not None:
            names += [p.id for p in self.scenario.parties if p.id not in names]
        self.parties = ["replay"] if replay is not None else names
        self.what = (
            f"recording {replay.name}" if replay is not None
            else "feeds " + ", ".join(self.source.parties) if self.scenario is None
            else f"scenario {self.scenario.name}" + (" and feeds" if feeds else "")
        )  # fmt: skip

    def session(self) -> Any:
        from deconflict.cli.serve_feeds import fed_session
        from deconflict.engine.engine import EngineConfig
        from deconflict.engine.session import Session
        from deconflict.service.live_app import open_demo_store

        self.demo = demo = open_demo_store(
            self.db, self.parties, keep_registered=self.scenario is None
        )
        self.resumed = demo.resumed
        if self.replay is not None:
            return Session.from_recording(self.replay, desk=demo.desk)
        if self.scenario is None:
            return fed_session(self.parties, [self.source], demo.desk, demo.settings)
        sc = self.scenario
        config = EngineConfig(standard=sc.standard, track_sharing=demo.settings.track_sharing)
        session = Session.resumed(sc, demo.last_time_s, desk=demo.desk, config=config)
        if self.source is not None:
            session.engine.sources.append(self.source)
        return session

    def start(self) -> None:
        if self.source is not None:
            self.source.start()

    def status(self) -> dict[str, Any]:
        return {} if self.source is None else {"feeds": self.source.status()}

    def stop(self) -> None:
        if self.source is not None:
            self.source.stop()

    def close(self) -> None:
        if self.demo is not None:
            self.demo.store.close()


def _lead(
    session: Any, lead: Any, stop: threading.Event, speed: float, duration: float | None
) -> dict[str, Any]:
    """Tick once per 1/speed s until ``duration`` of engine time or ``stop``; stop deciding if
    the lock is lost (then exit 1: another engine leads now). A scenario's traffic starts again
    at its end; a recording's end ends the run. The loop is the in-process demo's
    (``Session.run_realtime``: full garbage collections paced into the quiet part of the
    second, ``engine.pacing``); the lock is checked every 2 s between ticks."""
    begin = session.t_s
    alerts = session.engine.alerts
    catching_up = bool(alerts.inherited)
    checked = time.monotonic()

    def go_on() -> bool:
        nonlocal catching_up, checked
        if catching_up and not alerts.inherited:  # every alert taken back is decided on again
            catching_up = False
            typer.echo(
                f"caught up after {session.t_s - begin:.0f} s of engine time: "
                f"{alerts.carried_on} alerts carried on, {alerts.cleared_inherited} cleared"
            )
        now = time.monotonic()
        if now - checked >= 2.0:
            checked = now
            if not lead.held():
                fail("lost the engine's lock (its database session ended): another engine leads")
        return duration is None or session.t_s - begin < duration

    session.stop = stop  # SIGTERM and Ctrl-C stop the loop
    session.run_realtime(speed, loop=session.scenario is not None, go_on=go_on)
    with session.lock:
        session.engine.finish()
    out: dict[str, Any] = session.engine.summary()
    pictures = session.engine.pictures  # each party's tracks at the end, by label
    tracks = {p: sorted(str(x) for x in pic["label"]) for p, pic in pictures.items()}
    return {k: out[k] for k in ("ticks", "reports", "events", "incidents")} | {"tracks": tracks}
