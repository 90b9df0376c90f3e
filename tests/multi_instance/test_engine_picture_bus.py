"""The engine in its own process on PostgreSQL, two ``deconflict serve`` instances beside it: the
clients of both instances get their own party's picture each tick over the picture bus (NATS
JetStream, or PostgreSQL's table and NOTIFY), the same bytes the engine encoded once, and the
engine's events; another party's socket, a party the engine has no picture for and the host's
token get none of it (issue 12). The map's other calls (``/v1/live/session``, ``/picture``,
``/history``, ``/track``) answer each party with its own entries on either instance, and the map
page loaded from an instance draws the engine's tracks in Chromium."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from serve_processes import CLI, start_serve

from deconflict.service.live_app import login_fragment
from deconflict.service.picture_wire import decode_frame

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin-token-picture-bus"
LISTEN_S = 6.0
SPEED = 4.0  # scenario seconds per second: the engine ticks 4 times a second


def _env(bus: str) -> dict[str, str]:
    return {**os.environ, "DECONFLICT_ADMIN_TOKEN": ADMIN, "DECONFLICT_PICTURE_BUS": bus,
            "PYTHONPATH": str(REPO / "src")}  # fmt: skip


def _serve(db: str, bus: str, cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    return start_serve(db, _env(bus), cwd)


def _stop(proc: subprocess.Popen[bytes]) -> bool:
    """SIGTERM, then SIGKILL after 30 s; whether it stopped on the SIGTERM."""
    if proc.poll() is not None:
        return True
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        return False


System = tuple[str, dict[str, str], list[str], dict[str, str]]


@pytest.fixture(params=["nats", "postgres"])
def system(
    request: pytest.FixtureRequest, postgres_url: str, nats_url: str, tmp_path: Path
) -> Iterator[System]:
    """(bus, the engine's parties' tokens, the two instances' URLs, the map's login links)."""
    bus = str(request.param)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        engine = subprocess.Popen(
            [*CLI, "engine", "--db", postgres_url, "--speed", str(SPEED)],
            env=_env(bus) | {"DECONFLICT_NATS_URL": nats_url},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        procs.append(engine)
        logins: list[Path] = []
        deadline = time.monotonic() + 120
        while not logins and time.monotonic() < deadline:
            assert engine.poll() is None, (engine.stderr.read() if engine.stderr else b"")[-2000:]
            logins = list((tmp_path / ".deconflict").glob("*.logins.json"))
            time.sleep(0.2)
        assert logins, "the engine wrote no login file within 120 s"
        time.sleep(0.5)  # written atomically (os.replace): complete once seen
        parties = json.loads(logins[0].read_text())["parties"]
        tokens = {name: str(p["token"]) for name, p in parties.items()}
        links = {name: login_fragment(str(p["token"]), p["key"]) for name, p in parties.items()}
        urls = []
        for _ in range(2):
            proc, url = _serve(postgres_url, bus, tmp_path)
            procs.append(proc)
            urls.append(url)
        yield bus, tokens, urls, links
    finally:
        # the engine first: then no picture comes, and an instance must still stop on SIGTERM
        # (its sockets notice their clients left without waiting for the next picture)
        stopped = [_stop(p) for p in procs]
        assert all(stopped[1:]), "a serve instance did not stop within 30 s of SIGTERM"


async def _frames(url: str, token: str, into: list[bytes], stop: asyncio.Event) -> None:
    ws_url = url.replace("http", "ws") + "/v1/live/ws"
    async with websockets.connect(
        ws_url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
    ) as ws:
        # the client offers per-message deflate (as browsers do); `deconflict serve` declines it:
        # a frame is zlib already, and compressing it again per socket costs the relay its CPU
        offered = ws.request.headers.get("Sec-WebSocket-Extensions") if ws.request else None
        assert offered is not None and "permessage-deflate" in offered
        assert ws.response is not None
        assert ws.response.headers.get("Sec-WebSocket-Extensions") is None
        while not stop.is_set():
            try:
                into.append(await asyncio.wait_for(ws.recv(), 0.2))  # type: ignore[arg-type]
            except TimeoutError:
                continue


async def _events(url: str, token: str, into: list[dict[str, Any]], stop: asyncio.Event) -> None:
    ws_url = url.replace("http", "ws") + "/v1/events/ws?after=-1"
    async with websockets.connect(
        ws_url, additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        while not stop.is_set():
            try:
                into.append(json.loads(await asyncio.wait_for(ws.recv(), 0.2)))
            except TimeoutError:
                continue


async def test_every_instance_relays_each_partys_own_picture_and_events(system: System) -> None:
    bus, tokens, urls, _ = system
    admin = {"Authorization": f"Bearer {ADMIN}"}
    r = httpx.post(f"{urls[0]}/v1/parties", json={"name": "outsider"}, headers=admin)
    assert r.status_code == 201, r.text
    outsider = str(r.json()["token"])
    watched = ["blue", "red"]
    stop = asyncio.Event()
    frames: dict[tuple[int, str], list[bytes]] = {}
    events: dict[tuple[int, str], list[dict[str, Any]]] = {}
    tasks = []
    for i, url in enumerate(urls):
        for party in [*watched, "outsider"]:
            token = outsider if party == "outsider" else tokens[party]
            frames[i, party] = []
            tasks.append(asyncio.create_task(_frames(url, token, frames[i, party], stop)))
        for party in watched:
            events[i, party] = []
            tasks.append(asyncio.create_task(_events(url, tokens[party], events[i, party], stop)))
    # the engine's messages (the scenario's crews talk after ~27 s of its time) must flow too
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(
        any(e["kind"] == "message" for e in got) for got in events.values()
    ):
        await asyncio.sleep(0.5)
    await asyncio.sleep(LISTEN_S)
    stop.set()
    await asyncio.gather(*tasks)

    # the host's token is no party's on the picture socket: refused at the handshake
    ws_url = urls[1].replace("http", "ws") + "/v1/live/ws"
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(ws_url, additional_headers=admin)
    assert refused.value.response.status_code == 403

    for i in range(2):
        assert frames[i, "outsider"] == [], f"instance {i} sent the outsider a picture ({bus})"
        for party in watched:
            got = frames[i, party]
            heads = [decode_frame(f) for f in got]
            # only the party's own picture, each tick's once, in order
            assert {h["party"] for h in heads} == {party}, (bus, i, party)
            seqs = [int(h["seq"]) for h in heads]
            assert seqs == sorted(set(seqs)), seqs
            # every tick while listening (the engine ticks SPEED times a second): none skipped
            counts = {k: len(v) for k, v in frames.items()}
            assert len(seqs) >= 0.7 * SPEED * LISTEN_S, (bus, i, party, seqs, counts)
            assert seqs[-1] - seqs[0] + 1 - len(seqs) <= 2, seqs
            # the party's own aircraft are in its picture
            last = heads[-1]["tracks"]
            assert party in set(last["owner"]), (bus, party, set(last["owner"]))
    for party in watched:
        # both instances relay the bytes the engine encoded once per party and tick
        one = {decode_frame(f)["seq"]: f for f in frames[0, party]}
        two = {decode_frame(f)["seq"]: f for f in frames[1, party]}
        common = set(one) & set(two)
        assert len(common) >= 0.7 * SPEED * LISTEN_S
        assert all(one[s] == two[s] for s in common)
        assert frames[0, party][-1] != frames[0, "blue" if party == "red" else "red"][-1]
    for i in range(2):
        for party in watched:
            kinds = [e["kind"] for e in events[i, party]]
            assert "message" in kinds, (bus, i, party, kinds)
            # the same events on both instances, in the same order (what a poll would give)
            assert (
                events[i, party] == events[1 - i, party][: len(events[i, party])]
                or events[1 - i, party] == events[i, party][: len(events[1 - i, party])]
            )

    # the map's other calls, on each instance: the party's own scene, picture, history, tracks
    outsider_h = {"Authorization": f"Bearer {outsider}"}
    for i, url in enumerate(urls):
        pictures = {}
        for party in watched:
            h = {"Authorization": f"Bearer {tokens[party]}"}
            scene = httpx.get(f"{url}/v1/live/session", headers=h).json()
            assert scene["party"] == party and {"blue", "red"} <= {
                p["id"] for p in scene["parties"]
            }
            assert scene["areas"] and scene["bases"], (bus, i, scene)
            pic = httpx.get(f"{url}/v1/live/picture", headers=h).json()
            assert pic["party"] == party and party in set(pic["tracks"]["owner"]), (bus, i)
            pictures[party] = pic
            span = httpx.get(f"{url}/v1/live/history", headers=h).json()
            assert span["step_s"] == 5.0 and span["first_s"] < span["last_s"], (bus, i, span)
            then = httpx.get(f"{url}/v1/live/picture", params={"at": span["first_s"]}, headers=h)
            assert then.json()["time_s"] == span["first_s"] and then.json()["party"] == party
            own = next(k for k, o in zip(pic["tracks"]["key"], pic["tracks"]["owner"],
                                         strict=True) if o == party)  # fmt: skip
            track = httpx.get(f"{url}/v1/live/track", params={"key": own}, headers=h).json()
            assert (track["key"], track["owner"]) == (own, party)
        assert pictures["blue"]["tracks"] != pictures["red"]["tracks"]
        for path in ("/v1/live/session", "/v1/live/picture"):
            assert httpx.get(url + path, headers=outsider_h).status_code == 404, (bus, path)
            assert httpx.get(url + path, headers=admin).status_code == 401, (bus, path)
            assert httpx.get(url + path).status_code == 401, (bus, path)


@pytest.mark.browser
@pytest.mark.parametrize("system", ["nats"], indirect=True)
def test_the_map_page_of_a_serve_instance_draws_the_engines_tracks(
    system: System, chromium_path: str
) -> None:
    from playwright.sync_api import sync_playwright

    _, _, urls, links = system
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(urls[1] + "/map/" + links["blue"])
            page.wait_for_function(
                "window.deconflict.tracks() && window.deconflict.tracks().key.length >= 6",
                timeout=60_000,
            )
            keys, ids = page.evaluate(
                "(() => { const t = window.deconflict.tracks(); return [t.key, t.identity]; })()"
            )
            own = {k.split("/", 1)[1] for k, i in zip(keys, ids, strict=True) if i == "own"}
            assert {"VIPER11", "TEXACO51", "REAPER01"} <= own
            assert page.inner_text("#whoami") == "Blue air operations centre"
            assert page.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").count()
            # the info panel's call and the slider's range come from the relay too
            page.wait_for_function(
                "Number(document.getElementById('slider').max) > 1e9", timeout=30_000
            )
            assert errors == []
        finally:
            browser.close()
