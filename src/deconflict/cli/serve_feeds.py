"""``deconflict serve --feed PARTY=URL``: the service with host-side feeds in its live picture.

The feeds (``deconflict.surveillance.source.FeedSource``) and the reports parties' agents push
(``POST /v1/reports``, ``deconflict.surveillance.push``) are report sources of the live engine,
ticked in real time as for ``serve --replay`` and the demo; every party named must be registered
(``deconflict party add``) or is registered here with a printed token. The host reads each
feed's counters at ``GET /v1/feeds`` (admin token).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from deconflict.engine.desk import Desk
    from deconflict.engine.session import Session
    from deconflict.engine.sources import ReportSource
    from deconflict.settings import Settings
    from deconflict.surveillance.source import FeedSource, PartyFeed


def feed_app(
    feeds: list[PartyFeed],
    db: str | None,
    reference: tuple[float, float] | None,
    push_parties: list[str] | None = None,
    max_backoff_s: float = 2.0,
) -> tuple[FastAPI, Session, FeedSource]:
    """The live app fed by ``feeds`` and by the reports ``push_parties`` push to
    ``POST /v1/reports`` (not started: call ``source.start()``, ``session.start_thread()``)."""
    from deconflict.errors import InputError
    from deconflict.service.live_app import live_app
    from deconflict.service.routes import feeds as feeds_routes
    from deconflict.service.routes import reports as reports_routes
    from deconflict.surveillance.base import DecodeOptions
    from deconflict.surveillance.push import PushedReports
    from deconflict.surveillance.source import FeedSource

    source = FeedSource(feeds, DecodeOptions(reference=reference), max_backoff_s=max_backoff_s)
    parties = list(dict.fromkeys([*source.parties, *(push_parties or [])]))
    if not parties:
        raise InputError("give a feed (--feed PARTY=URL) or a party that pushes (--push-party)")
    pushed = PushedReports(push_parties or [])

    def fed(desk: Desk, settings: Settings) -> Session:
        return fed_session(parties, [source, pushed], desk, settings)

    app, session = live_app(db=db, parties=parties, session=fed)
    app.state.feed_source = source
    app.state.pushed_reports = pushed
    app.include_router(feeds_routes.router)
    app.include_router(reports_routes.router)
    return app, session, source


def fed_session(
    parties: list[str], sources: list[ReportSource], desk: Desk, settings: Settings
) -> Session:
    """The engine on ``desk``'s store, its reports from ``sources`` (the feeds, the pushes),
    ticked on the wall clock (``serve --feed`` and ``engine --feed``)."""
    import pandas as pd

    from deconflict.engine.engine import Engine, EngineConfig
    from deconflict.engine.session import Session

    config = EngineConfig(track_sharing=settings.track_sharing)
    engine = Engine(parties, sources, desk=desk, config=config)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    return Session(engine, now, float("inf"))
