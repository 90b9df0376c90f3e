"""Start the demo app (live picture + map) in-process on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from deconflict.engine.session import Session
from deconflict.service.live_app import live_app


@dataclass
class LiveServer:
    url: str
    tokens: dict[str, str]
    session: Session
    logins: dict[str, str]  # party -> login link fragment (#token=...&key=...)
    app: Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(
    tmp: Path, *, speed: float = 10.0, crews_answer: bool = False, scenario: Path | None = None
) -> Iterator[LiveServer]:
    app, session = live_app(
        scenario=scenario, db=f"sqlite:///{tmp / 'live.db'}", crews_answer=crews_answer
    )
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=1,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    ticker = session.start_thread(speed)
    try:
        yield LiveServer(
            url, dict(app.state.demo_tokens), session, dict(app.state.demo_logins), app
        )
    finally:
        session.stop.set()
        ticker.join(timeout=10)
        server.should_exit = True
        thread.join(timeout=10)
