"""A party's live picture out, in the formats existing tools read: ASTERIX CAT062 over UDP,
SBS-1 BaseStation lines on a TCP port, and readsb/tar1090's ``aircraft.json``.

Every output carries one party's picture as the engine builds it for that party
(``Engine.picture``, the view the map shows), nothing more, and only for the parties the host
opted in (``deconflict.settings``: ``picture_json_parties``, ``picture_cat062_to``,
``picture_sbs_listen``). ``GET /v1/live/aircraft.json`` is authenticated by the party's bearer
token; UDP and TCP carry no authentication, so CAT062 goes only to the destinations the host
named for that party, and an SBS port binds loopback unless the host names an address.

After each tick the outputs' thread takes the pictures (under the session's lock), encodes them
(``surveillance.cat062_out``, ``surveillance.picture_text``) and sends them; the tick never
waits for a network. A client of an SBS port that does not take its lines within a second is
dropped, and a port serves at most ``MAX_SBS_CLIENTS`` clients at once. A picture is a state:
a late client gets the next tick's, not a backlog.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, FastAPI, Header, HTTPException

from deconflict.engine.session import Session
from deconflict.errors import DeconflictError
from deconflict.service.app import VERSION
from deconflict.settings import Settings, picture_outputs
from deconflict.surveillance.cat062_out import Cat062Source, encode_cat062
from deconflict.surveillance.picture_text import aircraft_json, encode_sbs, receiver_json

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 1.0
MAX_SBS_CLIENTS = 32  # per port: one more is closed at once


def snapshot(session: Session, party: str) -> tuple[pd.DataFrame, float, int]:
    """(the party's picture, its time in Unix s, the engine's tick count), read consistently."""
    with session.lock:
        eng = session.engine
        picture = eng.picture(party)
        now_s, ticks = float(eng.now_s), int(eng.tick_count)
    return picture, now_s, ticks


class SbsPort:
    """One listening TCP port serving one party's SBS lines to every client connected."""

    def __init__(self, party: str, host: str, port: int) -> None:
        self.party = party
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.server = socket.socket(family, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.server.bind((host, port))
        except OSError as exc:
            self.server.close()
            raise DeconflictError(
                f"picture_sbs_listen: cannot bind {host}:{port} for {party}: {exc.strerror}; "
                "choose a free port"
            ) from None
        self.server.listen(16)
        self.address: tuple[str, int] = self.server.getsockname()[:2]
        self.clients: list[socket.socket] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True, name=f"sbs-{party}")
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:  # closed
                return
            conn.settimeout(SEND_TIMEOUT_S)
            with self.lock:
                full = len(self.clients) >= MAX_SBS_CLIENTS
                if not full:
                    self.clients.append(conn)
            if full:
                log.warning("SBS port of %s: %d clients already; one more refused",
                            self.party, MAX_SBS_CLIENTS)  # fmt: skip
                conn.close()

    def send(self, data: bytes) -> None:
        with self.lock:
            clients = list(self.clients)
        for conn in clients:
            try:
                conn.sendall(data)
            except OSError:  # gone, or too slow to take a picture in a second
                self._drop(conn)

    def _drop(self, conn: socket.socket) -> None:
        with self.lock:
            if conn in self.clients:
                self.clients.remove(conn)
        conn.close()

    def close(self) -> None:
        # shutdown wakes the thread blocked in accept (close alone would leave it listening)
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=5.0)
        with self.lock:
            clients, self.clients = self.clients, []
        for conn in clients:
            conn.close()


class PictureOutputs:
    """The CAT062 and SBS outputs of a live session, fed once per tick (see the module doc)."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.source = Cat062Source(settings.picture_cat062_sac, settings.picture_cat062_sic)
        self.cat062 = picture_outputs(settings.picture_cat062_to, "picture_cat062_to",
                                      need_host=True)  # fmt: skip
        self.sbs_binds = picture_outputs(settings.picture_sbs_listen, "picture_sbs_listen",
                                         need_host=False)  # fmt: skip
        known = set(session.engine.parties)
        json_parties = {p.strip() for p in settings.picture_json_parties.split(",")} - {"", "*"}
        for party in [*(p for p, _, _ in [*self.cat062, *self.sbs_binds]), *sorted(json_parties)]:
            if party not in known:
                raise DeconflictError(
                    f"picture output for {party!r}: no such party here; "
                    f"use one of {', '.join(sorted(known))}"
                )
        self.ttl = settings.picture_cat062_ttl
        self.interface = settings.picture_cat062_interface
        self.udp: dict[int, socket.socket] = {}  # one socket per address family
        self.destinations: list[tuple[str, int, Any]] = []  # (party, family, address)
        self.sbs: list[SbsPort] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent_datagrams = 0
        self.ticks = 0  # ticks seen, and the last tick whose pictures went out
        self.sent_tick = 0
        self._done = threading.Condition()

    @property
    def active(self) -> bool:
        return bool(self.cat062 or self.sbs_binds)

    def start(self) -> None:
        if not self.active or self._thread is not None:
            return
        self._stop.clear()
        try:
            self._open_udp()
            self.sbs = [SbsPort(party, host, port) for party, host, port in self.sbs_binds]
        except (DeconflictError, OSError):
            self.close()
            raise
        self.session.on_tick.append(self.tick)
        self._thread = threading.Thread(target=self._run, daemon=True, name="picture-out")
        self._thread.start()

    def _open_udp(self) -> None:
        """Resolve each CAT062 destination once (a name is not looked up per datagram) and open
        one socket per address family, with the multicast hop limit and interface set."""
        for party, host, port in self.cat062:
            try:
                family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
            except OSError as exc:
                raise DeconflictError(
                    f"picture_cat062_to: {host!r} for {party} does not resolve ({exc}); "
                    "give an address or a name this host can resolve"
                ) from None
            if family not in self.udp:
                sock = socket.socket(family, socket.SOCK_DGRAM)
                if family == socket.AF_INET:
                    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.ttl)
                    if self.interface:
                        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                                        socket.inet_aton(self.interface))  # fmt: skip
                else:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, self.ttl)
                self.udp[family] = sock
            self.destinations.append((party, family, address))

    def tick(self, _: Session | None = None) -> None:
        """A new picture: wake the outputs' thread (called in the ticking thread)."""
        with self._done:
            self.ticks += 1
        self._wake.set()

    def wait_sent(self, timeout_s: float = 10.0) -> bool:
        """Wait until the pictures of the last tick seen went out (True), or ``timeout_s``."""
        with self._done:
            return self._done.wait_for(lambda: self.sent_tick >= self.ticks, timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._done:
                tick = self.ticks
            try:
                self.send_once()
            except Exception:  # an output must never stop the others, nor the next tick's
                log.exception("picture output failed")
            with self._done:
                self.sent_tick = tick
                self._done.notify_all()

    def send_once(self) -> None:
        """Encode and send every output's picture now."""
        parties = {p for p, _, _ in self.destinations} | {port.party for port in self.sbs}
        pictures = {p: snapshot(self.session, p) for p in parties}
        blocks: dict[str, list[bytes]] = {}
        for party, family, address in self.destinations:
            picture, now_s, _ = pictures[party]
            if now_s != now_s:  # no tick yet
                continue
            if party not in blocks:  # encoded once per party, whatever its destinations
                blocks[party] = encode_cat062(picture, now_s, self.source)
            for block in blocks[party]:
                try:
                    self.udp[family].sendto(block, address)
                    self.sent_datagrams += 1
                except OSError as exc:
                    log.warning("CAT062 to %s for %s: %s", address, party, exc)
                    break
        for sbs in self.sbs:
            picture, now_s, _ = pictures[sbs.party]
            if now_s == now_s:
                sbs.send(encode_sbs(picture, now_s))

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.tick in self.session.on_tick:
            self.session.on_tick.remove(self.tick)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        for sbs in self.sbs:
            sbs.close()
        self.sbs = []
        for sock in self.udp.values():
            sock.close()
        self.udp = {}
        self.destinations = []


Auth = Annotated[str | None, Header()]


def aircraft_router(
    session: Session, party_of: Callable[[str | None], str], settings: Settings
) -> APIRouter:
    """``GET /v1/live/aircraft.json``: the caller's picture in readsb/tar1090's format."""
    router = APIRouter(prefix="/v1/live", tags=["live picture"])
    names = {p.strip() for p in settings.picture_json_parties.split(",") if p.strip()}

    def opted_in(authorization: str | None) -> str:
        token = (authorization or "").removeprefix("Bearer ").strip() or None
        try:
            party = party_of(token)
        except DeconflictError as exc:
            raise HTTPException(401, str(exc)) from None
        if "*" not in names and party not in names:
            raise HTTPException(
                403,
                f"{party}'s picture is not published as aircraft.json; the host opts a party "
                "in with DECONFLICT_PICTURE_JSON_PARTIES",
            )
        return party

    @router.get("/receiver.json")
    def receiver(authorization: Auth = None) -> dict[str, Any]:
        """readsb's ``receiver.json`` for tar1090 (version, refresh in ms, no history), for a
        party the host opted in."""
        opted_in(authorization)
        return receiver_json(f"deconflict {VERSION}", 1.0)

    @router.get("/aircraft.json")
    def aircraft(authorization: Auth = None) -> dict[str, Any]:
        """The caller's live picture as readsb's ``aircraft.json`` (hex, flight, alt_baro, gs,
        track, baro_rate, squawk, lat, lon, seen_pos, seen; ``now``, ``messages``), for a party
        the host opted in (``picture_json_parties``). tar1090 reads it through a proxy that adds
        the party's ``Authorization: Bearer`` header."""
        party = opted_in(authorization)
        picture, now_s, ticks = snapshot(session, party)
        if now_s != now_s:  # no tick yet: an empty picture, at the engine's start
            now_s = session.start.value / 1e9
        return aircraft_json(picture, now_s, ticks)

    return router


def attach_picture_outputs(
    app: FastAPI, session: Session, party_of: Callable[[str | None], str], settings: Settings
) -> PictureOutputs:
    """Serve ``aircraft.json`` on ``app`` and run the CAT062/SBS outputs while it runs (they
    start with the app's lifespan and stop with it)."""
    outputs = PictureOutputs(session, settings)
    app.include_router(aircraft_router(session, party_of, settings))
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[Any]:
        async with inner(a) as state:
            outputs.start()
            try:
                yield state
            finally:
                outputs.close()

    app.router.lifespan_context = lifespan
    app.state.picture_outputs = outputs
    return outputs
