"""Helpers of the attack tests: a client on a store URL, the admin, three parties and their
signed bodies (``hotline.authorship``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from deconflict.hotline.authorship import (
    acknowledgement_content,
    answer_content,
    message_content,
    sign_content,
)
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.hotline.messages import make_message
from deconflict.service import create_app
from deconflict.settings import Settings
from signing_client import SigningClient

ADMIN = "admin-token-for-attack-tests"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def make_client(url: str, **settings: Any) -> TestClient:
    """A client that signs each party's operation declarations with the key the service made
    for it (``signing_client``), as a party's own client would."""
    values: dict[str, Any] = {
        "database_url": url,
        "admin_token": ADMIN,
        "separation_standard": "none",
    }
    values.update(settings)
    return SigningClient(create_app(Settings(**values)))


def register(client: TestClient, name: str, **extra: Any) -> dict[str, Any]:
    """Register a party through the admin API; its record with ``headers`` added."""
    r = client.post("/v1/parties", json={"name": name, **extra}, headers=ADMIN_HEADERS)
    assert r.status_code == 201, r.text
    out = dict(r.json())
    out["headers"] = {"Authorization": f"Bearer {out['token']}"}
    return out


@dataclass
class Cast:
    """The parties of an attack test, by name."""

    parties: dict[str, dict[str, Any]]

    def __getitem__(self, name: str) -> dict[str, Any]:
        return self.parties[name]

    def headers(self, name: str) -> dict[str, str]:
        return ADMIN_HEADERS if name == "admin" else dict(self.parties[name]["headers"])


def signer_of(who: dict[str, Any]) -> Signer:
    return Signer(who["name"], private_key_from_pem(who["private_key_pem"].encode()))


def signed_message(who: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A ``POST /v1/messages`` body signed by ``who`` over ``message_content``."""
    now = time.time()
    message = make_message(
        body.get("kind", "free_text"),
        who["name"],
        body["to"],
        body["body"],
        time_s=now,
        priority=body.get("priority"),
    )
    signer = signer_of(who)
    signature = sign_content(signer, message_content(message))
    return {**body, "time_s": now, "signature": signature, "key_id": signer.key_id}


def signed_ack(who: dict[str, Any], message_id: str) -> dict[str, Any]:
    now = time.time()
    signer = signer_of(who)
    content = acknowledgement_content(message_id, who["name"], now)
    return {"time_s": now, "signature": sign_content(signer, content), "key_id": signer.key_id}


def signed_answer(who: dict[str, Any], request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    signer = signer_of(who)
    content = answer_content(
        request_id,
        who["name"],
        str(body.get("answer", "")),
        aircraft=str(body.get("aircraft", "")),
        operation=str(body.get("operation", "")),
        time_s=now,
    )
    return {
        **body,
        "time_s": now,
        "signature": sign_content(signer, content),
        "key_id": signer.key_id,
    }


class ThreadServer:
    """The app under a real uvicorn in a thread of this process, on a free loopback port (for
    what the in-process client cannot show: flow control, uvicorn's own log lines)."""

    def __init__(self, url: str, **settings: Any) -> None:
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        values: dict[str, Any] = {
            "database_url": url,
            "admin_token": ADMIN,
            "separation_standard": "none",
        }
        values.update(settings)
        self.app = create_app(Settings(**values))
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="info", access_log=True
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadServer:
        import threading

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
