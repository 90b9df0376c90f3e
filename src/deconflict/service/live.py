"""The live picture over HTTP: the map page, its REST calls and a per-party WebSocket.

``live_router(session)`` is a FastAPI router any app can include (the service's
``create_app`` app in ``live_app``); ``mount_map(app)`` serves the map page. Every call is
authenticated with a party's bearer token from the store (the WebSocket's in its first message),
and scoped to that party: it sees its own picture (its own sensors' tracks, classified for it), its
own alerts, the identification requests it made or was asked, its hotline queue and the incidents
it was part of. The WebSocket pushes the party's picture once per tick with a sequence number,
as one compressed binary frame (``picture_wire``; ``GET /v1/live/picture`` gives it as JSON);
a client that reconnects gets the newest picture at once (the picture is a state, not a stream of
changes), and the service's ``/v1/events/ws?after=SEQ`` carries the event log with its resume
point. The operations on the map come from the store (``live_operations``). Times are Unix
seconds; positions degrees, altitudes ft, speeds kt.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, FastAPI, Header, HTTPException, Query, Request, WebSocket
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.websockets import WebSocketDisconnect

from deconflict.engine.hotline import require_party_signature, signed_time
from deconflict.engine.session import Session
from deconflict.errors import DeconflictError, NotFoundError
from deconflict.hotline.authorship import (
    acknowledgement_content,
    answer_content,
    message_content,
)
from deconflict.hotline.canonical import canonical_json
from deconflict.hotline.keys import Signer, generate_private_key, public_key_to_b64
from deconflict.hotline.messages import MessageKind, make_message
from deconflict.service.auth import websocket_caller
from deconflict.service.limits import send_or_drop
from deconflict.service.picture_wire import compress_frame, encode_frame, strings
from deconflict.sim.scenario import Scenario

STATIC_DIR = Path(__file__).resolve().parent / "static"

DECIMALS = {"latitude": 5, "longitude": 5}
TRACK_FIELDS = ("key", "owner", "identity", "label", "latitude", "longitude", "altitude",
                "groundspeed", "track", "vertical_rate", "icao24", "squawk")  # fmt: skip


Auth = Annotated[str | None, Header()]
At = Annotated[float | None, Query(description="Unix s: the picture as it was then")]


class Signed(BaseModel):
    """A party's signature of what it writes (``hotline.authorship``), by its registered key."""

    time_s: float | None = None  # the engine time signed with (GET /v1/live/clock)
    signature: str | None = None  # base64 Ed25519 over the canonical JSON of the content
    key_id: str | None = None


class Answer(Signed):
    answer: str
    aircraft: str = ""
    operation: str = ""


class Outgoing(Signed):
    to: list[str]
    text: str


def _columns(frame: pd.DataFrame, fields: tuple[str, ...]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in fields:
        if f not in frame.columns:
            continue
        col = frame[f]
        if col.dtype.kind == "f":
            arr = np.round(col.to_numpy(dtype=float), 5)
            out[f] = [None if not np.isfinite(v) else float(v) for v in arr]
        else:
            out[f] = strings(col)
    return out


class Broadcaster:
    """Encodes each watched party's picture once per tick, in the ticking thread right after the
    tick, and wakes every WebSocket waiting for it (they only send the cached bytes)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seq = 0
        self.cache: dict[str, str] = {}
        self.wire: dict[str, bytes] = {}
        self.watchers: dict[str, int] = {}
        self._events: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
        self._lock = threading.Lock()
        self.tick_wall_s = time.time()
        session.on_tick.append(self.publish)

    def publish(self, _: Session | None = None) -> None:
        """A new picture of the session (after each tick, and after a write the map shows):
        the caches go, each watched party's frame is encoded, its sockets woken."""
        with self._lock:
            self.seq += 1
            self.cache = {}
            self.wire = {}
            self.tick_wall_s = time.time()
            watched = [p for p, n in self.watchers.items() if n > 0]
        # wake the clients of each party as soon as its picture is ready
        for party in watched:
            self.picture_frame(party)
            self._wake()
        if not watched:
            self._wake()

    def _wake(self) -> None:
        with self._lock:
            loops = list(self._events.items())
        for loop, event in loops:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def picture_json(self, party: str) -> tuple[int, str]:
        """(tick number, the party's picture as JSON text), encoded once per tick."""
        with self._lock:
            cached = self.cache.get(party)
            seq = self.seq
            wall = self.tick_wall_s
        if cached is not None:
            return seq, cached
        data = encode_picture(self.session, party, seq, wall)
        with self._lock:
            if self.seq == seq:
                self.cache[party] = data
        return seq, data

    def picture_frame(self, party: str) -> tuple[int, bytes]:
        """(tick number, the party's picture as one binary frame), encoded once per tick and
        shared by every WebSocket of the party (``picture_wire``)."""
        with self._lock:
            cached = self.wire.get(party)
            seq = self.seq
            wall = self.tick_wall_s
        if cached is not None:
            return seq, cached
        data = encode_picture_frame(self.session, party, seq, wall)
        with self._lock:
            if self.seq == seq:
                self.wire[party] = data
        return seq, data

    async def wait(self, seen: int, party: str | None = None) -> int:
        """Return once a tick newer than ``seen`` happened (and, for a watched ``party``, once
        its picture of that tick is encoded)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            event = self._events.setdefault(loop, asyncio.Event())
        while self.seq <= seen or (
            party is not None and self.watchers.get(party, 0) > 0 and party not in self.wire
        ):
            await event.wait()
            event.clear()
        return self.seq


def encode_picture(session: Session, party: str, seq: int, wall_s: float) -> str:
    """The picture message as JSON text. Numeric columns are encoded as whole arrays (NaN as
    null), which is what keeps a 10,000-track picture to a few tens of milliseconds."""
    payload = picture_payload(session, party)
    pic = payload.pop("frame")
    parts = []
    for f in TRACK_FIELDS:
        col = pic[f]
        if col.dtype.kind == "f":
            arr = np.round(col.to_numpy(dtype=float), DECIMALS.get(f, 0))
            text = json.dumps(arr.tolist()).replace("NaN", "null").replace("Infinity", "null")
        else:
            text = json.dumps(strings(col))
        parts.append(f'"{f}":{text}')
    head = json.dumps({"type": "picture", "seq": seq, "tick_wall_s": wall_s}, allow_nan=False)
    rest = json.dumps(payload, allow_nan=False)  # picture_payload made it JSON-safe
    return head[:-1] + ',"tracks":{' + ",".join(parts) + "}," + rest[1:]


def encode_picture_frame(session: Session, party: str, seq: int, wall_s: float) -> bytes:
    """The picture message as one binary frame (``picture_wire``): what the WebSocket sends."""
    payload = picture_payload(session, party)
    frame = payload.pop("frame")
    head = {"type": "picture", "seq": seq, "tick_wall_s": wall_s, **payload}
    small = {k: head[k] for k in ("type", "seq", "tick_wall_s", "party")}
    return compress_frame(encode_frame(head, frame), small)


def picture_payload(session: Session, party: str) -> dict[str, Any]:
    """Everything the map shows a party now, the track table itself under ``frame`` (each
    encoding writes its columns: ``encode_picture``, ``encode_picture_frame``)."""
    eng = session.engine
    with session.lock:
        pic = eng.picture(party)
        # the map searches and lists squawks too (the tracker keeps them)
        pic = pic.assign(squawk=eng.trackers[party].squawks(pic["track_id"].to_numpy()))
        alerts = eng.active_alerts(party)
        # the newest 50 requests, without each track's history (the panel shows position)
        requests = eng.open_requests(party, newest=50, history=False)
        messages = _messages(session, party)
        incidents = [
            i.summary() for i in eng.incidents.values() if party in i.parties
        ]  # fmt: skip
        now = eng.now_s
    return {
        "party": party,
        "time_s": now if np.isfinite(now) else None,
        "frame": pic,
        "alerts": _clean(alerts, 5),  # 1 m, 0.00001 kt: more digits are only bytes
        "requests": _clean(requests, 5),
        "messages": _clean(messages),
        "incidents": _clean(incidents),
    }


def _clean(value: Any, digits: int | None = None) -> Any:
    """JSON-safe: NaN and inf become None, numpy scalars plain numbers (floats rounded to
    ``digits`` decimals when given). Dispatches on the exact type first: it runs over every
    alert of a 10,000-track picture once per tick."""
    t = type(value)
    if t is dict:
        return {k if type(k) is str else str(k): _clean(v, digits) for k, v in value.items()}
    if t is list or t is tuple:
        return [_clean(v, digits) for v in value]
    if t is str or t is int or t is bool or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, digits) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if value != value or value in (np.inf, -np.inf):
            return None
        return value if digits is None else round(value, digits)
    return value


def _messages(session: Session, party: str) -> list[dict[str, Any]]:
    """The party's newest 100 hotline messages, oldest first (only those are built)."""
    eng = session.engine
    mine = [m for m in eng.messages.values() if m.sender == party or m.addressed_to(party)]
    newest = sorted(mine, key=lambda m: float(m.time_s))[-100:]
    return [
        {**m.to_dict(), "delivery": eng.delivery_state(m.message_id), "outgoing": m.sender == party}
        for m in newest
    ]


def live_router(
    session: Session,
    party_of: Callable[[str | None], str],
    broadcaster: Broadcaster,
    key_of: Callable[[str], str],
) -> APIRouter:
    """The map's REST calls and WebSocket; ``party_of(token)`` names the caller's party and
    ``key_of(party)`` is its registered public key (base64), which what it writes — messages,
    acknowledgements, answers — must be signed by (``hotline.authorship``)."""
    router = APIRouter(prefix="/v1/live", tags=["live picture"])

    def caller(authorization: str | None) -> str:
        token = (authorization or "").removeprefix("Bearer ").strip() or None
        try:
            return party_of(token)
        except DeconflictError as exc:
            raise HTTPException(401, str(exc)) from None

    def signed(
        party: str, body: Signed, content: Callable[[float], dict[str, Any]], what: str
    ) -> tuple[float, tuple[str, str]]:
        """(time signed, (signature, key id)) once the party's signature checks out."""
        clock = "the engine's clock (GET /v1/live/clock)"
        when = signed_time(session.engine.now_s, body.time_s, body.signature, clock=clock)
        kid = require_party_signature(
            party, key_of(party), content(when), body.signature, body.key_id, what=what
        )
        return when, (str(body.signature), kid)

    @router.get("/clock")
    def clock(authorization: Auth = None) -> dict[str, float]:
        """The engine's time now (Unix s): what a party signs its writes with."""
        caller(authorization)
        return {"time_s": session.engine.now_s}

    @router.get("/session")
    def describe(authorization: Auth = None) -> dict[str, Any]:
        """Who the caller is, the parties, and the static scene (areas, bases, operations)."""
        party = caller(authorization)
        return _clean(scene_payload(session, party))  # type: ignore[no-any-return]

    @router.get("/picture")
    def picture(authorization: Auth = None, at: At = None) -> Response:
        """The caller's picture now, or as it was at ``at`` (Unix s; the last hour is kept)."""
        party = caller(authorization)
        if at is None:
            return Response(broadcaster.picture_json(party)[1], media_type="application/json")
        try:
            with session.lock:
                t, frame = session.engine.picture_at(party, at)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        body = {"type": "history", "party": party, "time_s": t,
                "tracks": _columns(frame, TRACK_FIELDS)}  # fmt: skip
        return Response(json.dumps(_clean(body)), media_type="application/json")

    @router.get("/history")
    def history(authorization: Auth = None) -> dict[str, Any]:
        """The times the slider can replay."""
        caller(authorization)
        with session.lock:
            times = [t for t, _ in session.engine.history]
        return {"first_s": times[0] if times else None, "last_s": times[-1] if times else None,
                "step_s": session.engine.config.history_step_s}  # fmt: skip

    @router.post("/identification/{request_id}/answer")
    def answer(request_id: str, body: Answer, authorization: Auth = None) -> dict[str, Any]:
        """Answer an identification request the caller was asked."""
        party = caller(authorization)

        def content(t: float) -> dict[str, Any]:
            return answer_content(request_id, party, body.answer, aircraft=body.aircraft,
                                  operation=body.operation, time_s=t)  # fmt: skip

        what = "answer_content(request_id, party, answer, aircraft, operation, time_s)"
        when, signature = signed(party, body, content, what)
        try:
            with session.lock:
                req = session.engine.answer_identification(
                    party, request_id, body.answer, body.aircraft, body.operation,
                    time_s=when, signature=signature,
                )  # fmt: skip
                outcome = session.engine.outcome_shown(request_id, party)  # need-to-know
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        except DeconflictError as exc:
            raise HTTPException(422, str(exc)) from None
        broadcaster.publish()
        return {"request_id": req.request_id, "outcome": outcome}

    @router.get("/messages")
    def messages(authorization: Auth = None, after: int = 0) -> list[dict[str, Any]]:
        """The caller's hotline queue after ``after`` (marks them delivered)."""
        party = caller(authorization)
        with session.lock:
            got = session.engine.fetch_messages(party, after)
        return _clean(got)  # type: ignore[no-any-return]

    @router.post("/messages")
    def send(body: Outgoing, request: Request, authorization: Auth = None) -> dict[str, Any]:
        """Send a free-text hotline message to parties (or ``*``)."""
        party = caller(authorization)
        limit = int(request.app.state.settings.max_message_chars)
        size = len(canonical_json({"text": body.text}))
        if size > limit:  # the store's rule (engine.hotline.post_message)
            raise HTTPException(
                422,
                f"the message body is {size} characters (as canonical JSON), over the limit of "
                f"{limit} (setting max_message_chars): shorten it or split it",
            )

        def content(t: float) -> dict[str, Any]:
            msg = make_message(MessageKind.FREE_TEXT, party, body.to, {"text": body.text}, time_s=t)
            return message_content(msg)

        when, signature = signed(party, body, content, "message_content(message)")
        try:
            with session.lock:
                msg = session.engine.send_message(
                    party, body.to, body.text, time_s=when, signature=signature
                )
        except DeconflictError as exc:
            raise HTTPException(422, str(exc)) from None
        broadcaster.publish()
        return {"message_id": msg.message_id}

    @router.post("/messages/{message_id}/ack")
    def ack(
        message_id: str, body: Signed | None = None, authorization: Auth = None
    ) -> dict[str, Any]:
        """Acknowledge a hotline message addressed to the caller (signed by its key)."""
        party = caller(authorization)

        def content(t: float) -> dict[str, Any]:
            return acknowledgement_content(message_id, party, t)

        what = "acknowledgement_content(message_id, party, time_s)"
        when, signature = signed(party, body or Signed(), content, what)
        try:
            with session.lock:
                session.engine.acknowledge(party, message_id, time_s=when, signature=signature)
                state = session.engine.delivery_state(message_id)
        except NotFoundError as exc:
            raise HTTPException(404, str(exc)) from None
        except DeconflictError as exc:
            raise HTTPException(422, str(exc)) from None
        broadcaster.publish()
        return {"message_id": message_id, "delivery": state}

    @router.get("/incidents/{incident_id}", response_class=HTMLResponse)
    def incident_report(incident_id: str, authorization: Auth = None) -> str:
        """The incident's report (HTML), for a party that was part of it."""
        party = caller(authorization)
        inc = session.engine.incidents.get(incident_id)
        if inc is None or party not in inc.parties:
            raise HTTPException(404, f"no incident {incident_id!r} visible to {party}")
        from deconflict.incidents.report import render_incident_html

        return render_incident_html(inc)

    @router.websocket("/ws")
    async def stream(websocket: WebSocket) -> None:
        """The caller's picture once per tick: one binary frame each (``picture_wire``: a JSON
        head ``{"type": "picture", "seq": N, "tick_wall_s": ...}`` and the tracks in columns).
        The token comes in the Authorization header or the first message ``{"token": ...}``
        (``service.auth.websocket_caller``); a client that does not read is dropped (1013)."""
        party = await websocket_caller(websocket, party_of)
        if party is None:
            return
        timeout_s = float(websocket.app.state.settings.ws_send_timeout_s)
        seen = -1
        broadcaster.watchers[party] = broadcaster.watchers.get(party, 0) + 1
        try:
            while True:
                with broadcaster._lock:
                    ready: bytes | None = broadcaster.wire.get(party)
                    seq = broadcaster.seq
                if ready is None:
                    seq, frame = await asyncio.to_thread(broadcaster.picture_frame, party)
                else:
                    frame = ready
                seen = seq
                # one encoding per party and tick, shared by every client of the party
                if not await send_or_drop(websocket, frame, timeout_s, "to get the picture"):
                    return
                await broadcaster.wait(seen, party)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            broadcaster.watchers[party] -= 1

    return router


def scene_payload(session: Session, party: str) -> dict[str, Any]:
    """The parties, restricted and shared areas and bases (the operations the caller may see
    come from the store: ``live_operations``)."""
    sc = session.scenario
    out: dict[str, Any] = {"party": party, "start_s": session.start.value / 1e9, "parties": [],
                           "areas": [], "bases": [], "center": None}  # fmt: skip
    if sc is None:
        out["parties"] = [{"id": p, "name": p, "colour": "#2b6cb0"} for p in session.engine.parties]
        return out
    out["center"] = list(sc.center)
    out["parties"] = [{"id": p.id, "name": p.name, "colour": p.colour} for p in sc.parties]
    out["areas"] = [
        {"id": a.id, "name": a.name, "kind": a.kind, "polygon": [list(x) for x in a.polygon],
         "floor_ft": a.floor_ft, "ceiling_ft": a.ceiling_ft}
        for a in sc.areas
    ]  # fmt: skip
    out["bases"] = [
        {"id": b.id, "name": b.name, "party": b.party, "lat": b.lat, "lon": b.lon} for b in sc.bases
    ]
    return out


def mount_map(app: FastAPI) -> None:
    """Serve the map page (``/`` and ``/map/...``) from the package's static files."""
    app.mount("/map", StaticFiles(directory=STATIC_DIR, html=True), name="map")

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/map/")


def private_key_b64url(signer: Signer) -> str:
    """The party's private key as the page imports it: PKCS#8 DER in unpadded base64url."""
    der = signer.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.urlsafe_b64encode(der).decode("ascii").rstrip("=")


def login_fragment(token: str, key: str) -> str:
    """The map page's login link fragment (``/map/#token=...&key=...``): a URL fragment is never
    sent to the server, so the private key stays in the browser."""
    return f"#token={token}&key={key}"


def live_app(
    *,
    scenario: Scenario | str | Path | None = None,
    replay: str | Path | None = None,
    db: str | None = None,
    crews_answer: bool = True,
    session: Session | None = None,
) -> tuple[FastAPI, Session]:
    """The service app with the live picture and the map, and the session that feeds it.

    Parties are registered in the store (``db``; default a fresh SQLite file) with new tokens
    and Ed25519 key pairs: ``app.state.demo_tokens``, ``app.state.demo_keys`` (PKCS#8,
    base64url) and ``app.state.demo_logins`` (the map's login link fragment per party).
    Every engine event goes to the store's log.
    """
    from deconflict.engine.events import StoreSink
    from deconflict.service import create_app
    from deconflict.service.signing import open_signed_store
    from deconflict.settings import Settings

    if db is None:
        folder = Path(tempfile.mkdtemp(prefix="deconflict-demo-"))
        db = f"sqlite:///{folder / 'demo.db'}"
    given = session is not None  # e.g. host-side feeds (``serve --feed``): parties may exist
    if session is not None:
        pass
    elif replay is not None:
        session = Session.from_recording(replay)
    else:
        session = Session.from_scenario(scenario, crews_answer=crews_answer)
    parties = list(session.engine.parties)
    settings = Settings.from_env(database_url=db)
    if not settings.host_key_file:  # one host key for the registrations and the app's entries
        key_dir = Path(tempfile.mkdtemp(prefix="deconflict-demo-key-"))
        settings = dataclasses.replace(settings, host_key_file=str(key_dir / "host.pem"))
    store, _host = open_signed_store(settings)
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    signers = {name: Signer(name, generate_private_key()) for name in parties}
    known = {p.name: p for p in store.list_parties()}
    for name in parties:
        if name in known and given:  # a registered party keeps its own token and key
            ids[name] = known[name].id
            signers.pop(name)
            continue
        if name in known:
            raise DeconflictError(
                f"party {name!r} is already registered in {db}; use a fresh --db for the demo"
            )
        public = public_key_to_b64(signers[name].public_key)
        party, token = store.add_party(name, public_key=public)
        tokens[name], ids[name] = token, party.id
    store.close()
    # the demo plays every party's crew: the engine signs what they write with their keys
    session.engine.party_signers = dict(signers)
    public_keys = {name: public_key_to_b64(s.public_key) for name, s in signers.items()}
    public_keys.update({n: known[n].public_key for n in parties if n not in signers})

    app = create_app(settings)
    app.state.demo_tokens = tokens
    app.state.demo_keys = {name: private_key_b64url(s) for name, s in signers.items()}
    app.state.demo_logins = {
        name: login_fragment(tokens[name], app.state.demo_keys[name]) for name in tokens
    }
    app.state.live_session = session
    names = {v: k for k, v in ids.items()}

    class _LazySink:
        """Writes to the app's store once its lifespan has opened it."""

        def __init__(self) -> None:
            self.sink: StoreSink | None = None
            self.waiting: list[Any] = []

        def emit(self, events: Any) -> None:
            store_ = getattr(app.state, "store", None)
            if store_ is None:  # the app has not started yet: keep them for the log
                self.waiting.extend(events)
                return
            if self.sink is None:
                self.sink = StoreSink(store_, ids, on_write=app.state.notifier.wake)
            if self.waiting:
                events, self.waiting = [*self.waiting, *events], []
            self.sink.emit(events)

    session.engine.sink = _LazySink()  # every event goes to the store's log, nowhere else

    def party_of(token: str | None) -> str:
        from deconflict.errors import AuthenticationError

        store_ = getattr(app.state, "store", None)
        if not token or store_ is None:
            raise AuthenticationError("no token: log in with your party's token")
        p = store_.party_by_token(token)
        if p is None or p.id not in names:
            raise AuthenticationError("the token is not a demo party's: use a printed token")
        return names[p.id]

    broadcaster = Broadcaster(session)
    app.state.live_broadcaster = broadcaster
    app.include_router(live_router(session, party_of, broadcaster, public_keys.__getitem__))
    from deconflict.service.live_tracks import track_router  # the map's info panel

    app.include_router(track_router(session, party_of))
    # the picture out in CAT062, SBS and aircraft.json, for the parties the host opted in
    from deconflict.service.picture_out import attach_picture_outputs

    attach_picture_outputs(app, session, party_of, settings)
    # the map's operations layer comes from the store, where the demo declares its scenario's
    from deconflict.service.live_operations import router as operations_router
    from deconflict.service.live_operations import seed_scenario_operations

    app.include_router(operations_router)
    if session.scenario is not None:
        seed_scenario_operations(app, session.scenario, ids)
    mount_map(app)
    return app, session
