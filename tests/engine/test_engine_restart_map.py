"""The map recovers without a reload: a party's event WebSocket on a ``deconflict serve`` instance
keeps serving the engine's events across a ``kill -9`` and restart of ``deconflict engine`` (its
own process, on the same PostgreSQL): the conflict alert Blue got before the kill is cleared on
the same socket by the restarted engine, under the same alert id."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from engine_process import Process, engine, entries


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _blue_token(cwd: Path) -> str:
    (creds,) = (cwd / ".deconflict").glob("demo-*.logins.json")
    return str(json.loads(creds.read_text())["parties"]["blue"]["token"])


async def _next(ws: Any, kind: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {kind} on the socket within {timeout_s} s"
        event = json.loads(await asyncio.wait_for(ws.recv(), left))
        if event["kind"] == kind and event["payload"].get("kind") in ("conflict", None):
            return dict(event)


@pytest.mark.postgres
@pytest.mark.slow
def test_the_event_socket_carries_on_across_an_engine_kill_9(
    postgres_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    serve = Process(
        ["serve", "--db", postgres_url, "--port", str(port)], tmp_path,
        env={"DECONFLICT_FANOUT": "auto"},
    )  # fmt: skip
    procs = [serve]
    try:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, f"serve did not answer: {serve.seen}"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        first = engine(postgres_url, tmp_path, "--speed", "20")
        procs.append(first)
        first.wait_for("leading", 120)
        headers = {"Authorization": f"Bearer {_blue_token(tmp_path)}"}

        async def watch() -> tuple[dict[str, Any], int, dict[str, Any]]:
            url = f"ws://127.0.0.1:{port}/v1/events/ws"
            async with websockets.connect(url, additional_headers=headers) as ws:
                raised = await _next(ws, "alert.raised", 120)
                first.kill9()
                head = entries(postgres_url)[-1].seq  # all the killed engine wrote
                again = engine(postgres_url, tmp_path, "--speed", "20")
                procs.append(again)
                cleared = await _next(ws, "alert.cleared", 120)
                return raised, head, cleared

        raised, head, cleared = asyncio.run(watch())
    finally:
        for p in procs:
            p.stop()
    # the alert open at the kill, cleared by the restarted engine on the socket opened before
    assert cleared["payload"]["alert_id"] == raised["payload"]["alert_id"]
    assert cleared["seq"] > head >= raised["seq"]
