"""What a hostile client can make the service hold or do, through the real service on loopback
(``deconflict serve`` in a child process, SQLite file store, default settings).

1. A 100 MB junk body POSTed to ``/v1/operations`` (a) with its Content-Length, (b) chunked:
   time until the 413, and whether the server read it (bytes the client managed to send).
2. The same while ``GET /health`` is polled: the worst /health latency meanwhile (the event
   loop is not blocked by parsing), and a body just under the limit (4 MiB of JSON) likewise.
3. N WebSockets on ``/v1/events/ws`` that never read (small receive buffers) while a party
   writes M MB of messages: the server's resident memory before and after (VmRSS), and how many
   sockets were dropped (1013).

Anchor, same run and server: one ``GET /health`` round trip.

    .venv/bin/python bench/security_bounds.py [--sockets 20] [--megabytes 40]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "security"))
from security_helpers import signed_message

ADMIN = "bench-admin-token"
HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path) -> tuple[subprocess.Popen[bytes], str, int]:
    port = free_port()
    env = {**os.environ, "DECONFLICT_ADMIN_TOKEN": ADMIN, "DECONFLICT_MAX_MESSAGE_CHARS": "400000"}
    cmd = [sys.executable, "-c", "from deconflict.cli import main; main()", "serve"]
    cmd += ["--db", f"sqlite:///{db}", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url, port
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post_junk(port: int, size: int, chunked: bool) -> tuple[float, int, bytes]:
    """(seconds to the answer, bytes the client got to send, status line) of a junk POST of
    ``size`` bytes; a reader thread takes the answer while the body is still being sent."""
    s = socket.create_connection(("127.0.0.1", port))
    head = "POST /v1/operations HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
    head += f"Authorization: Bearer {ADMIN}\r\n"
    head += "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
    answer: list[tuple[float, bytes]] = []

    def read() -> None:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        answer.append((time.perf_counter(), data))

    t0 = time.perf_counter()
    reader = threading.Thread(target=read)
    reader.start()
    s.sendall(head.encode())
    block = b"x" * (1 << 20)
    piece = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
    sent = 0
    s.settimeout(5.0)
    try:
        while sent < size and not answer:
            s.sendall(piece)
            sent += len(block)
    except OSError:  # the server answered and closed: the rest is never read
        pass
    reader.join(timeout=60)
    s.close()
    t1, data = answer[0] if answer else (time.perf_counter(), b"")
    return t1 - t0, min(sent, size), data.split(b"\r\n", 1)[0]


def health_worst_during(url: str, action: Any) -> tuple[float, Any]:
    """The worst /health latency (s) while ``action()`` runs, and its result."""
    worst = [0.0]
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                t0 = time.perf_counter()
                http.get("/health")
                worst[0] = max(worst[0], time.perf_counter() - t0)
                time.sleep(0.005)

    t = threading.Thread(target=poll)
    t.start()
    result = action()
    stop.set()
    t.join()
    return worst[0], result


def never_reading_socket(port: int, token: str) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(
        (
            "GET /v1/events/ws HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sockets", type=int, default=20)
    ap.add_argument("--megabytes", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, port = start_server(Path(tmp) / "bench.db")
        try:
            run(url, port, proc.pid, args)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def run(url: str, port: int, pid: int, args: argparse.Namespace) -> None:
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with httpx.Client(base_url=url, timeout=60) as http:
        anchor = []
        for _ in range(50):
            t0 = time.perf_counter()
            http.get("/health")
            anchor.append(time.perf_counter() - t0)
        a = statistics.median(anchor)
        print(f"anchor: GET /health round trip, median of 50: {a * 1e3:.2f} ms")
        for chunked in (False, True):
            worst, (t, sent, status) = health_worst_during(
                url, lambda c=chunked: post_junk(port, 100 * 1000 * 1000, c)
            )
            how = "chunked" if chunked else "Content-Length"
            print(
                f"100 MB junk body ({how}): {status.decode()} after {t * 1e3:.1f} ms "
                f"({t / a:.0f}x anchor), {sent / 1e6:.1f} MB sent by the client; "
                f"worst /health meanwhile {worst * 1e3:.1f} ms"
            )
        parties = []
        for name in ("writer", *(f"reader{i}" for i in range(args.sockets))):
            got = http.post("/v1/parties", json={"name": name}, headers=HEADERS).json()
            got["headers"] = {"Authorization": f"Bearer {got['token']}"}
            parties.append(got)
        # the largest body a party may send: one polygon of as many vertices as fit in 1 MiB
        n_vertices = 1024 * 1024 // 42
        ring = [[8.5 + 1e-3 * math.cos(k * 2 * math.pi / n_vertices),
                 47.4 + 1e-3 * math.sin(k * 2 * math.pi / n_vertices)] for k in range(n_vertices)]  # fmt: skip
        vol = {"polygon": [ring], "altitude_lower": {"value": 0, "units": "ft"},
               "altitude_upper": {"value": 400, "units": "ft"},
               "time_start": "2030-01-01T10:00:00Z", "time_end": "2030-01-01T11:00:00Z"}  # fmt: skip
        big = json.dumps({"volumes": [vol]}).encode()
        for who, headers in (("a party", parties[0]["headers"]), ("no token", {})):
            worst, r = health_worst_during(
                url,
                lambda h=headers: http.post(
                    "/v1/operations", content=big, headers={**h, "Content-Type": "application/json"}
                ),
            )
            print(
                f"{len(big) / 2**20:.2f} MiB operation body, {n_vertices} vertices, {who}: "
                f"{r.status_code} after {r.elapsed.total_seconds() * 1e3:.0f} ms; worst /health "
                f"meanwhile {worst * 1e3:.1f} ms"
            )
        before = rss_mb(pid)
        sockets = [never_reading_socket(port, p["token"]) for p in parties[1:]]
        time.sleep(0.5)
        text_chars = 300_000
        n = max(1, args.megabytes * 1_000_000 // text_chars)
        t0 = time.perf_counter()
        for i in range(n):
            body = {"to": "*", "body": {"text": f"{i:06d} " + "x" * text_chars}}
            r = http.post("/v1/messages", json=signed_message(parties[0], body),
                          headers=parties[0]["headers"])  # fmt: skip
            r.raise_for_status()
        wrote = time.perf_counter() - t0
        time.sleep(3)
        after = rss_mb(pid)
        dropped = 0
        for s in sockets:
            s.settimeout(0.5)
            data = b""
            try:
                while chunk := s.recv(1 << 20):
                    data += chunk
            except OSError:
                pass
            dropped += b"\x03\xf5slow consumer" in data  # close frame: 1013 + reason
            s.close()
        print(
            f"{args.sockets} never-reading sockets while {n * text_chars / 1e6:.0f} MB of "
            f"messages went to every party ({n * text_chars * args.sockets / 1e6:.0f} MB "
            f"addressed to those sockets, written in {wrote:.1f} s): server RSS "
            f"{before:.0f} -> {after:.0f} MB; {dropped} of {args.sockets} dropped with 1013"
        )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
