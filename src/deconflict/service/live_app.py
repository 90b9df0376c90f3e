"""The demo's app: the shared service with a live engine in-process, the live picture and the
map, on a store that survives restarts.

``live_app`` opens the store (``db``; by default the SQLite file ``.deconflict/demo.sqlite`` in
the working directory), registers the scenario's parties with Ed25519 keys — or, on a store it
made before, takes the same parties, keys and login links back from the file beside it
(``demo_credentials``) — and runs the engine on that one store through the workflows every
``/v1`` client uses (``engine.desk``): one path for every decision. The service's clock is the
engine's (``app.state.clock``), so what a page signs with ``GET /v1/clock`` is checked against the
time the engine decides at, whatever the demo's speed.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import load_der_private_key
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from deconflict.engine.demo_record import DemoRecorder
from deconflict.engine.desk import Desk, register_parties
from deconflict.engine.session import Session
from deconflict.errors import AuthenticationError, InputError
from deconflict.hotline.keys import Signer, generate_private_key
from deconflict.service.live_picture import Broadcaster
from deconflict.service.live_routes import live_router
from deconflict.settings import Settings
from deconflict.sim.scenario import Scenario, load_scenario
from deconflict.store import Store

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Where the served demo keeps its store, relative to the working directory.
DEFAULT_DEMO_DB = Path(".deconflict") / "demo.sqlite"


def private_key_b64url(signer: Signer) -> str:
    """The party's private key as the page imports it: PKCS#8 DER in unpadded base64url."""
    der = signer.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.urlsafe_b64encode(der).decode("ascii").rstrip("=")


def signer_from_b64url(party: str, text: str) -> Signer:
    key = load_der_private_key(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), None)
    return Signer(party, key)  # type: ignore[arg-type]


def login_fragment(token: str, key: str) -> str:
    """The map page's login link fragment (``/map/#token=...&key=...``): a URL fragment is never
    sent to the server, so the private key stays in the browser."""
    return f"#token={token}&key={key}"


def demo_db_url(db: str | None) -> str:
    """``db``, or the default demo store's URL (its folder made)."""
    if db:
        return db
    DEFAULT_DEMO_DB.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DEMO_DB}"


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url[len(prefix) :] not in ("", ":memory:"):
        return Path(url[len(prefix) :])
    return None


def demo_credentials(url: str) -> Path:
    """The file that keeps the demo parties' tokens and private keys for the store at ``url``
    (beside a SQLite file; in ``.deconflict/`` for another database), mode 0600."""
    file = _sqlite_file(url)
    if file is not None:
        return file.with_name(file.name + ".logins.json")
    digest = base64.urlsafe_b64encode(url.encode()).decode()[:16]
    return Path(".deconflict") / f"demo-{digest}.logins.json"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


@dataclasses.dataclass
class DemoStore:
    """The demo's store, its parties' records, keys and tokens, and where it left off."""

    settings: Settings
    store: Store
    host: Signer
    desk: Desk
    tokens: dict[str, str]
    signers: dict[str, Signer]
    resumed: bool
    last_time_s: float | None  # the newest engine time the log holds (a resumed store)


def open_demo_store(
    db: str | None, parties: Sequence[str], *, keep_registered: bool = False
) -> DemoStore:
    """Open (or make) the demo's store at ``db`` with ``parties`` registered: on a store made
    before, the same parties with the same keys and tokens (read from ``demo_credentials``).
    ``keep_registered`` (host-side feeds, ``serve --feed``): a party the store has but whose key
    was never kept here (registered with ``deconflict party add``) keeps its own token and key,
    and the engine writes nothing as it; otherwise such a party is an error."""
    from deconflict.service.signing import open_signed_store

    url = demo_db_url(db)
    creds_file = demo_credentials(url)
    settings = Settings.from_env(database_url=url)
    if not settings.host_key_file:  # one host key for every start of this store
        settings = settings.replace(
            host_key_file=str(
                creds_file.with_name(creds_file.name.removesuffix(".logins.json") + ".host.pem")
            ),
        )
    saved: dict[str, Any] = {}
    if creds_file.exists():
        saved = json.loads(creds_file.read_text(encoding="utf-8")).get("parties", {})
    store, host = open_signed_store(settings)
    try:
        known = {p.name: p for p in store.list_parties()}
        lost = sorted(p for p in parties if p in known and p not in saved)
        if lost and not keep_registered:
            raise InputError(
                f"the store at {url} has the demo parties {lost} but their keys are not in "
                f"{creds_file}: restore that file, or start the demo on a fresh --db"
            )
        held = [p for p in parties if p not in lost]  # the parties whose keys the demo holds
        signers = {
            p: signer_from_b64url(p, saved[p]["key"])
            if p in saved
            else Signer(p, generate_private_key())
            for p in held
        }
        records, new_tokens = register_parties(store, signers)
        records |= {p: known[p] for p in lost}
        tokens = {p: new_tokens.get(p) or str(saved[p]["token"]) for p in held}
        last = _last_engine_time(store) if set(known) & set(parties) else None
        blob = {
            "db": url,
            "parties": {
                p: {"token": tokens[p], "key": private_key_b64url(signers[p])} for p in held
            },
        }
        _write_private(creds_file, json.dumps(blob, indent=1) + "\n")
    except BaseException:
        store.close()
        raise
    desk = Desk(store, records, signers)
    return DemoStore(settings, store, host, desk, tokens, signers, last is not None, last)


def _last_engine_time(store: Store) -> float | None:
    """The newest ``time_s`` among the log's last entries (the engine's time when it stopped)."""
    head = store.head()[0]
    times = [
        float(e.payload["time_s"])
        for e in store.log(after=max(-1, head - 200), limit=200)
        if isinstance(e.payload.get("time_s"), int | float)
    ]
    return max(times) if times else None


def resumed_scenario(scenario: Scenario, last_time_s: float | None) -> Scenario:
    """``scenario`` started again a minute after the engine time a resumed store stopped at (its
    traffic a new cycle: nothing it decides repeats what the log holds)."""
    if last_time_s is None or scenario.start.value / 1e9 > last_time_s:
        return scenario
    start = pd.Timestamp(round(last_time_s) + 60, unit="s", tz="UTC")
    return dataclasses.replace(scenario, start=start)


def mount_map(app: FastAPI) -> None:
    """Serve the map page (``/`` and ``/map/...``) from the package's static files."""
    app.mount("/map", StaticFiles(directory=STATIC_DIR, html=True), name="map")

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/map/")


def live_app(
    *,
    scenario: Scenario | str | Path | None = None,
    replay: str | Path | None = None,
    db: str | None = None,
    crews_answer: bool = True,
    parties: Sequence[str] = (),
    session: Callable[[Desk, Settings], Session] | None = None,
) -> tuple[FastAPI, Session]:
    """The service app with the live picture and the map, and the session that feeds it.

    Parties are registered in the store (``db``, see ``open_demo_store``) with tokens and
    Ed25519 key pairs: ``app.state.demo_tokens``, ``app.state.demo_keys`` (PKCS#8, base64url),
    ``app.state.demo_logins`` (the map's login link fragment per party), the same on a resumed
    store. Every decision of the engine is written to that store through the workflows.

    ``session``: builds the session on the store's desk instead of a scenario or a recording
    (e.g. host-side feeds, ``serve --feed``), for ``parties``; a party already registered
    there keeps its own token and key (it is not in ``demo_tokens``).
    """
    from deconflict.engine.engine import EngineConfig
    from deconflict.service import create_app

    if session is not None:
        names = list(parties)
    elif replay is not None:
        names = ["replay"]
    else:
        sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        names = [p.id for p in sc.parties]
    demo = open_demo_store(db, names, keep_registered=session is not None)
    settings = demo.settings
    live: Session
    if session is not None:
        live = session(demo.desk, settings)
    elif replay is not None:
        live = Session.from_recording(replay, desk=demo.desk)
    else:
        sc = resumed_scenario(sc, demo.last_time_s)
        config = EngineConfig(
            standard=sc.standard, track_sharing=settings.track_sharing, hotline_check_every_s=0.0
        )
        live = Session.from_scenario(sc, desk=demo.desk, crews_answer=crews_answer, config=config)
    if session is None:  # its scene and picture samples, for a report read from the store
        live.on_tick.append(DemoRecorder())
    app = create_app(settings, opened=(demo.store, demo.host), live=True)
    app.state.clock = lambda: _engine_clock(live)  # the service's clock is the engine's
    demo.desk.on_write = app.state.notifier.wake
    tokens = demo.tokens
    app.state.demo_tokens = tokens
    app.state.demo_keys = {name: private_key_b64url(s) for name, s in demo.signers.items()}
    app.state.demo_logins = {
        name: login_fragment(tokens[name], app.state.demo_keys[name]) for name in tokens
    }
    app.state.demo_resumed = demo.resumed
    app.state.live_session = live
    ids = {name: p.id for name, p in demo.desk.parties.items()}
    by_id = {v: k for k, v in ids.items()}

    def party_of(token: str | None) -> str:
        store = demo.store
        if not token:
            raise AuthenticationError("no token: log in with your party's token")
        p = store.party_by_token(token)
        if p is None or p.id not in by_id:
            raise AuthenticationError("the token is not a demo party's: use a printed token")
        return by_id[p.id]

    broadcaster = Broadcaster(live)
    app.state.live_broadcaster = broadcaster
    app.include_router(live_router(live, party_of, broadcaster))
    from deconflict.service.live_tracks import track_router  # the map's info panel

    app.include_router(track_router(live, party_of))
    # the picture out in CAT062, SBS and aircraft.json, for the parties the host opted in
    from deconflict.service.picture_out import attach_picture_outputs

    attach_picture_outputs(app, live, party_of, settings)
    # the map's operations layer comes from the store, where the demo declares its scenario's
    from deconflict.service.live_operations import router as operations_router
    from deconflict.service.live_operations import seed_scenario_operations

    app.include_router(operations_router)
    if live.scenario is not None:
        seed_scenario_operations(app, live.scenario, ids)
    mount_map(app)
    return app, live


def _engine_clock(session: Session) -> float:
    """The engine's time now; before its first tick, the time it will start at."""
    now = session.engine.now_s
    return float(now) if now == now else float(session.time(session.t_s).value / 1e9)
