"""Nothing is unbounded (issue 11, item 5): request bodies are capped before they are parsed,
message bodies are capped, a WebSocket client that does not read is dropped with a close code
that says where to resume, and no token reaches a log line."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from fastapi.testclient import TestClient
from security_helpers import (
    ADMIN,
    ADMIN_HEADERS,
    Cast,
    ThreadServer,
    make_client,
    register,
    signed_message,
)

from deconflict.service.limits import SLOW_CONSUMER
from deconflict.settings import Settings

LIMIT = 64 * 1024


@pytest.fixture()
def small(db_url: str) -> Iterator[TestClient]:
    """A service whose body limit is 64 KiB and message limit 1,000 characters."""
    with make_client(db_url, max_body_bytes=LIMIT, max_message_chars=1000) as c:
        yield c


def test_a_body_over_the_limit_is_refused_unread(small: TestClient) -> None:
    party = register(small, "blue")
    head = small.get("/health").json()["log_seq"]
    junk = b"x" * (LIMIT + 1)  # not JSON either: had it been parsed, the answer would be 422
    for extra in ({"content": junk}, {"content": iter([junk[:1000], junk[1000:]])}):
        r = small.post(
            "/v1/operations",
            headers={**party["headers"], "Content-Type": "application/json"},
            **extra,  # type: ignore[arg-type]
        )
        assert r.status_code == 413, r.text
        error = r.json()["error"]
        assert error["code"] == "too_large"
        assert (
            f"limit of {LIMIT} bytes" in error["message"] and "max_body_bytes" in error["message"]
        )
    # under the limit the body is read, and refused for what it is
    r = small.post(
        "/v1/operations",
        headers={**party["headers"], "Content-Type": "application/json"},
        content=b"x" * (LIMIT - 10),
    )
    assert r.status_code == 422
    assert small.get("/health").json()["log_seq"] == head  # nothing written


def test_message_bodies_are_capped(small: TestClient) -> None:
    blue, red = register(small, "blue"), register(small, "red")
    text = "x" * 1000
    r = small.post(
        "/v1/messages",
        json=signed_message(blue, {"to": "red", "body": {"text": text}}),
        headers=blue["headers"],
    )
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert "limit of 1000" in message and "max_message_chars" in message
    assert small.get("/v1/messages", headers=red["headers"]).json()["messages"] == []
    r = small.post(
        "/v1/messages",
        json=signed_message(blue, {"to": "red", "body": {"text": text[:900]}}),
        headers=blue["headers"],
    )
    assert r.status_code == 201, r.text


HOST_KINDS = [
    ("conflict_notice", {"notice_id": "n1", "action": "open", "level": 3}),
    ("operation_change", {"operation_id": "op1", "change": "cancelled"}),
    ("incident_report", {"incident_id": "i1", "severity": "A"}),
    (
        "identification_request",
        {"request_id": "r", "track_id": "t", "position": {}, "velocity": {}},
    ),
]


def test_a_party_cannot_send_the_hosts_kinds(client: TestClient, cast: Cast) -> None:
    for kind, body in HOST_KINDS:
        signed = signed_message(cast["blue"], {"to": "*", "kind": kind, "body": body})
        r = client.post("/v1/messages", json=signed, headers=cast.headers("blue"))
        assert r.status_code == 403, (kind, r.text)
        assert "the host's own" in r.json()["error"]["message"]
    for name in ("red", "civil"):
        assert client.get("/v1/messages", headers=cast.headers(name)).json()["messages"] == []
    notice = {"to": "*", "kind": HOST_KINDS[0][0], "body": HOST_KINDS[0][1]}
    assert client.post("/v1/messages", json=notice, headers=ADMIN_HEADERS).status_code == 201


def test_the_settings_refuse_non_positive_bounds() -> None:
    from deconflict.errors import ConfigError

    for name in ("max_body_bytes", "max_message_chars", "ws_send_timeout_s"):
        with pytest.raises(ConfigError, match=name):
            Settings(**{name: 0})


# -- a real server: flow control and uvicorn's log lines -------------------------------------


def _flood(url: str, sender: dict[str, Any], n: int, size: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(n):
            body = {"to": "*", "body": {"text": f"{i:06d} " + "x" * size}}
            r = http.post(
                "/v1/messages", json=signed_message(sender, body), headers=sender["headers"]
            )
            assert r.status_code == 201, r.text


def _frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of the server's (unmasked) WebSocket frames in ``data``."""
    out, i = [], 0
    while i + 2 <= len(data):
        opcode, n, j = data[i] & 0x0F, data[i + 1] & 0x7F, i + 2
        if n == 126:
            n, j = struct.unpack(">H", data[j : j + 2])[0], j + 2
        elif n == 127:
            n, j = struct.unpack(">Q", data[j : j + 8])[0], j + 8
        if j + n > len(data):
            break
        out.append((opcode, data[j : j + n]))
        i = j + n
    return out


def test_a_client_that_does_not_read_is_dropped_and_may_resume() -> None:
    """Red's socket (a small receive buffer) never reads while Blue writes 12 MB of messages:
    once the buffers are full the service waits ``ws_send_timeout_s``, sends nothing more, and
    closes with 1013 and the seq to resume from (after what is buffered). Red reads it late,
    resumes from there, and has every event once."""
    with ThreadServer("sqlite://", ws_send_timeout_s=1.0, max_message_chars=400_000) as server:
        blue, red = register_http(server.url, "blue"), register_http(server.url, "red")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.sendall(
            (
                "GET /v1/events/ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {red['token']}\r\n\r\n"
            ).encode()
        )
        _flood(server.url, blue, 40, 300_000)
        time.sleep(1.5)
        sock.settimeout(1.5)
        data = b""
        with contextlib.suppress(TimeoutError):
            while chunk := sock.recv(1 << 20):
                data += chunk
        sock.close()
        status, _, rest = data.partition(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 101"), status
        frames = _frames(rest)
        closes = [payload for opcode, payload in frames if opcode == 8]
        assert len(closes) == 1 and frames[-1][0] == 8
        code, reason = struct.unpack(">H", closes[0][:2])[0], closes[0][2:].decode()
        assert code == SLOW_CONSUMER and "slow consumer" in reason, reason
        after = int(reason.rsplit("after=", 1)[1])
        got = [json.loads(payload)["seq"] for opcode, payload in frames if opcode == 1]
        assert got and got[-1] == after and len(got) < 40  # dropped before the end

        async def resume() -> list[int]:
            rest: list[int] = []
            async with websockets.connect(
                server.url.replace("http", "ws") + f"/v1/events/ws?after={after}",
                additional_headers=red["headers"],
                max_size=None,
            ) as ws:
                with contextlib.suppress(TimeoutError):
                    while True:
                        rest.append(json.loads(await asyncio.wait_for(ws.recv(), 1.0))["seq"])
            return rest

        resumed = got + asyncio.run(resume())
        polled = httpx.get(
            f"{server.url}/v1/events", params={"limit": 10_000}, headers=red["headers"]
        ).json()["events"]
        assert len(polled) == 40 and resumed == [e["seq"] for e in polled]


def register_http(url: str, name: str) -> dict[str, Any]:
    r = httpx.post(f"{url}/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
    assert r.status_code == 201, r.text
    out = dict(r.json())
    out["headers"] = {"Authorization": f"Bearer {out['token']}"}
    return out


def test_no_token_reaches_uvicorns_log() -> None:
    """An old client puts its token in the URL: the socket is refused and saying why, the token
    is blanked in uvicorn's access and WebSocket lines; the admin's token likewise."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    keep = Keep()
    loggers = [logging.getLogger(n) for n in ("uvicorn.access", "uvicorn.error")]
    with ThreadServer("sqlite://") as server:
        for logger in loggers:
            logger.addHandler(keep)
        try:
            party = register_http(server.url, "blue")
            token = str(party["token"])
            httpx.get(f"{server.url}/v1/events?token={token}&after=-1")
            httpx.get(f"{server.url}/v1/log?access_token={ADMIN}")

            async def old_client() -> tuple[int, str]:
                async with websockets.connect(
                    server.url.replace("http", "ws") + f"/v1/events/ws?token={ADMIN}"
                ) as ws:
                    try:
                        await ws.recv()
                    except websockets.ConnectionClosed as closed:
                        assert closed.rcvd is not None
                        return closed.rcvd.code, closed.rcvd.reason
                return 0, ""

            code, reason = asyncio.run(old_client())
            time.sleep(0.2)
        finally:
            for logger in loggers:
                logger.removeHandler(keep)
    assert code == 1008 and "no token in the URL" in reason
    text = "\n".join(lines)
    assert "/v1/events/ws" in text and "/v1/events?" in text, text  # the lines were captured
    assert token not in text and ADMIN not in text, text
    assert "token=REDACTED" in text and "access_token=REDACTED" in text


def test_an_outsider_cannot_make_the_service_read_a_large_body(client: TestClient) -> None:
    """Over 64 KiB, a body is read only from a known token's caller: without one the answer is
    401 before the body is read (so nothing of it is parsed on the event loop)."""
    big = b'{"volumes": [' + b"1," * 40_000 + b"1]}"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        r = client.post(
            "/v1/operations", content=big, headers={**headers, "Content-Type": "application/json"}
        )
        assert r.status_code == 401, r.text
        assert "over 64 KiB needs a known bearer token" in r.json()["error"]["message"]
    small = client.post("/v1/operations", json={"volumes": []})
    assert small.status_code == 401  # the ordinary refusal, after the (small) body
