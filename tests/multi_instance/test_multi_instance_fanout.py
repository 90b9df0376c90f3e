"""Two service instances on one PostgreSQL database: an operation, a conflict notice or a hotline
message written through one reaches the WebSocket clients of the other within a second, scoped
to each party (issue 6)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from serve_processes import start_serve

from deconflict.hotline.authorship import message_content, sign_content
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.hotline.messages import make_message
from deconflict.service.fanout import PostgresFanout, libpq_url
from deconflict.service.notify import Notifier
from deconflict.store import EventDraft, open_store
from deconflict.workflows.declarations import signed_declaration

pytestmark = pytest.mark.postgres
REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin-token-multi-instance"


def _serve(db_url: str) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "DECONFLICT_ADMIN_TOKEN": ADMIN,
        "DECONFLICT_SEPARATION_STANDARD": "none",
        "DECONFLICT_FANOUT": "auto",
    }
    return start_serve(db_url, env, REPO, timeout_s=60.0)


@pytest.fixture()
def two_instances(postgres_url: str) -> Iterator[tuple[str, str]]:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        a, url_a = _serve(postgres_url)  # A upgrades the schema first; B then finds it ready
        procs.append(a)
        b, url_b = _serve(postgres_url)
        procs.append(b)
        yield url_a, url_b
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def _volume(lon0: float, lat0: float, hour: int) -> dict[str, Any]:
    d = 0.01
    ring = [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d]]
    return {
        "polygon": [ring],
        "altitude_lower": {"value": 0, "units": "ft"},
        "altitude_upper": {"value": 400, "units": "ft"},
        "time_start": f"2030-01-01T{hour:02d}:00:00Z",
        "time_end": f"2030-01-01T{hour:02d}:30:00Z",
    }


def _register(client: httpx.Client, name: str) -> str:
    r = client.post(
        "/v1/parties", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert r.status_code == 201, r.text
    _keys[name] = Signer(name, private_key_from_pem(r.json()["private_key_pem"].encode()))
    return str(r.json()["token"])


_keys: dict[str, Signer] = {}


def _signed_text(sender: str, to: str, text: str) -> dict[str, Any]:
    """A ``POST /v1/messages`` body signed by the sender's key (``hotline.authorship``)."""
    now = time.time()
    message = make_message("free_text", sender, to, {"text": text}, time_s=now)
    signature = sign_content(_keys[sender], message_content(message))
    return {"to": to, "body": {"text": text}, "time_s": now, "signature": signature}


def _declared(party: str, body: dict[str, Any]) -> dict[str, Any]:
    """A ``POST /v1/operations`` body signed by the party's key (``workflows.declarations``)."""
    return signed_declaration(_keys[party], party, body, time_s=time.time())


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _collect(ws: Any, into: list[tuple[float, dict[str, Any]]]) -> None:
    async for raw in ws:
        into.append((time.monotonic(), json.loads(raw)))


@pytest.mark.slow
async def test_writes_through_one_instance_reach_the_others_sockets_within_a_second(
    two_instances: tuple[str, str],
) -> None:
    url_a, url_b = two_instances
    a = httpx.Client(base_url=url_a, timeout=10)
    tokens = {name: _register(a, name) for name in ("alpha", "bravo", "charlie")}
    # alpha's operation exists before anyone listens; charlie flies far away from everyone
    alpha_op = a.post(
        "/v1/operations",
        json=_declared("alpha", {"volumes": [_volume(8.5, 47.4, 10)]}),
        headers=_auth(tokens["alpha"]),
    )
    assert alpha_op.status_code == 201, alpha_op.text
    head = a.get("/health").json()["log_seq"]
    ws_b = url_b.replace("http", "ws") + "/v1/events/ws"
    got: dict[str, list[tuple[float, dict[str, Any]]]] = {n: [] for n in tokens}
    sockets = [
        await websockets.connect(
            f"{ws_b}?after={head}", additional_headers={"Authorization": f"Bearer {tokens[n]}"}
        )
        for n in tokens
    ]
    readers = [
        asyncio.create_task(_collect(s, got[n])) for s, n in zip(sockets, tokens, strict=True)
    ]
    try:
        written: list[tuple[float, int]] = []  # (time the write returned, hour of its volume)
        for hour in range(11, 16):
            await asyncio.sleep(0.3)  # spread the writes over B's one-second poll period
            r = await asyncio.to_thread(
                a.post,
                "/v1/operations",
                json=_declared("bravo", {"volumes": [_volume(8.5, 47.4, hour)]}),
                headers=_auth(tokens["bravo"]),
            )
            assert r.status_code == 201, r.text
            written.append((time.monotonic(), hour))
        # bravo's attempt to overlap alpha (with alpha's awareness key) is refused, and the
        # conflict is an event for alpha, pushed by B
        t_conflict = time.monotonic()
        r = await asyncio.to_thread(
            a.post,
            "/v1/operations",
            json=_declared(
                "bravo",
                {"volumes": [_volume(8.505, 47.405, 10)], "keys": [alpha_op.json()["token"]]},
            ),
            headers=_auth(tokens["bravo"]),
        )
        assert r.status_code == 409, r.text
        await asyncio.sleep(0.4)
        # a hotline message from bravo to alpha, sent through A
        t_message = time.monotonic()
        r = await asyncio.to_thread(
            a.post,
            "/v1/messages",
            json=_signed_text("bravo", "alpha", "climbing to FL250 over the lake"),
            headers=_auth(tokens["bravo"]),
        )
        assert r.status_code == 201, r.text
        await asyncio.sleep(1.5)
    finally:
        for task in readers:
            task.cancel()
        for s in sockets:
            await s.close()

    # every party's socket on B carries exactly what A's poll gives that party, in order
    for name, token in tokens.items():
        polled = a.get("/v1/events", params={"after": head}, headers=_auth(token)).json()
        assert [e for _, e in got[name]] == polled["events"], name
    assert got["charlie"] == []  # nothing of alpha's or bravo's reached charlie
    assert [e["kind"] for _, e in got["alpha"]] == ["operation.conflict", "message"]
    assert got["alpha"][1][1]["payload"]["body"]["text"] == "climbing to FL250 over the lake"
    assert got["bravo"] and all(e["author"] == "host" for _, e in got["bravo"])

    # latency: from the write's HTTP answer on A to the event on B's socket
    written_events = [e for e in got["bravo"] if e[1]["kind"] == "operation.written"]
    assert len(written_events) == len(written)
    lat = [
        t_recv - t_sent for (t_recv, _), (t_sent, _) in zip(written_events, written, strict=True)
    ]
    lat.append(got["alpha"][0][0] - t_conflict)
    lat.append(got["alpha"][1][0] - t_message)
    assert max(lat) < 1.0, lat
    # and it is the NOTIFY that delivers, not B's one-second fallback poll (which alone gives a
    # median near 0.5 s over writes spread across its period)
    assert sorted(lat)[len(lat) // 2] < 0.25, lat


async def test_listener_wakes_on_another_connections_commit(postgres_url: str) -> None:
    """The NOTIFY trigger fires on commit of any writer, and the listener wakes its notifier
    long before the sockets' one-second fallback poll would."""
    store = open_store(postgres_url)
    try:
        notifier = Notifier()
        notifier.bind(asyncio.get_running_loop())
        fanout = PostgresFanout(libpq_url(postgres_url), notifier)
        await fanout.start()
        try:
            assert fanout.listening.is_set()
            await asyncio.sleep(0.1)
            for _ in range(3):
                waiter = asyncio.create_task(notifier.wait(5.0))
                await asyncio.sleep(0.05)
                t0 = time.monotonic()
                [event] = await asyncio.to_thread(
                    store.append_events, [EventDraft("host", "test.ping", {"n": 1})]
                )
                await waiter
                assert time.monotonic() - t0 < 0.5
                assert fanout.last_seq == event.seq
        finally:
            await fanout.stop()
    finally:
        store.close()


def test_the_setting_picks_the_fanout() -> None:
    from deconflict.errors import ConfigError
    from deconflict.service.fanout import fanout_kind
    from deconflict.settings import Settings

    pg = "postgresql+psycopg://someone:pw@db.example:5433/deconflict"
    assert fanout_kind(Settings(database_url=pg)) == "postgres"
    assert fanout_kind(Settings(database_url="sqlite://")) == "none"
    assert fanout_kind(Settings(database_url=pg, fanout="none")) == "none"
    with pytest.raises(ConfigError, match="PostgreSQL"):
        fanout_kind(Settings(database_url="sqlite://", fanout="postgres"))
    with pytest.raises(ConfigError, match="DECONFLICT_FANOUT"):
        Settings.from_env({"DECONFLICT_FANOUT": "nats"})
    assert libpq_url(pg) == "postgresql://someone:pw@db.example:5433/deconflict"
