"""Live feeds and replays: TCP client/server and UDP listener around the stream decoders, and file
replay at real or accelerated speed; times in s (monotonic clock for pacing, UTC in reports).

A feed is named by a URL:

- ``tcp://HOST:PORT`` connect to a receiver (e.g. dump1090 port 30005 Beast, 30003 SBS, 30002 AVR)
  and reconnect with exponential backoff (``backoff_s`` doubling up to ``max_backoff_s``) when the
  connection fails or closes;
- ``tcp-listen://HOST:PORT`` accept receivers that push to us (one decoder per connection);
- ``udp://HOST:PORT`` bind and decode each datagram (ASTERIX over UDP is the usual case);
- a file path: decode it and replay its reports in time order, ``speed`` times faster than real
  time (``speed=0``: as fast as the consumer takes them).

Everything decoded goes, as ``DecodeResult`` batches, into one bounded ``asyncio.Queue``
(backpressure): TCP readers await room in the queue before reading more, so a slow consumer slows
the sender through TCP flow control and nothing is lost; UDP cannot push back, so a datagram that
finds the queue full is dropped and counted (``dropped_datagrams``) - size the queue for bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import pandas as pd

from deconflict.errors import InputError
from deconflict.surveillance.base import (
    DecodeOptions,
    DecodeResult,
    StreamDecoder,
    detect_format,
    get_decoder,
)
from deconflict.surveillance.report import empty_reports

CHUNK_BYTES: Final = 65536
DEFAULT_PORT_FORMATS: Final[dict[int, str]] = {30005: "beast", 30003: "sbs", 30002: "avr"}


@dataclass
class FeedStats:
    """Counters of one feed: connections, reconnections, bytes, datagrams dropped."""

    counts: Counter[str] = field(default_factory=Counter)


def _stream(format_key: str, options: DecodeOptions) -> StreamDecoder:
    decoder = get_decoder(format_key)
    if decoder.stream is None:
        raise InputError(f"format {format_key!r} cannot be streamed: replay a file of it instead")
    return decoder.stream(options)


async def _pump(
    reader: asyncio.StreamReader,
    decoder: StreamDecoder,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
) -> None:
    """Read until EOF, feeding the decoder; each batch waits for room in the queue."""
    while True:
        chunk = await reader.read(CHUNK_BYTES)
        if not chunk:
            break
        stats.counts["bytes"] += len(chunk)
        result = decoder.feed(chunk)
        if result.counts.get("frames", 0) or len(result.errors):
            await queue.put(result)
    tail = decoder.close()
    if tail.counts.get("frames", 0) or len(tail.errors):
        await queue.put(tail)


async def tcp_client(
    host: str,
    port: int,
    format_key: str,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    *,
    reconnect: bool = True,
    backoff_s: float = 0.5,
    max_backoff_s: float = 30.0,
) -> None:
    """Connect, decode, and reconnect with exponential backoff until cancelled."""
    delay = backoff_s
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats.counts["connect_failures"] += 1
        else:
            stats.counts["connections"] += 1
            delay = backoff_s
            try:
                await _pump(reader, _stream(format_key, options), queue, stats)
            except (ConnectionError, asyncio.IncompleteReadError):
                stats.counts["connection_errors"] += 1
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()
        if not reconnect:
            return
        stats.counts["reconnects"] += 1
        await asyncio.sleep(delay)
        delay = min(delay * 2.0, max_backoff_s)


async def tcp_server(
    host: str,
    port: int,
    format_key: str,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    started: asyncio.Future[int] | None = None,
) -> None:
    """Accept pushing receivers until cancelled; ``started`` gets the bound port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats.counts["connections"] += 1
        try:
            await _pump(reader, _stream(format_key, options), queue, stats)
        except (ConnectionError, asyncio.IncompleteReadError):
            stats.counts["connection_errors"] += 1
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    if started is not None:
        started.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(
        self,
        format_key: str,
        options: DecodeOptions,
        queue: asyncio.Queue[DecodeResult],
        stats: FeedStats,
    ) -> None:
        self.decoder = get_decoder(format_key)
        self.options = options
        self.queue = queue
        self.stats = stats

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.stats.counts["datagrams"] += 1
        if self.queue.full():
            self.stats.counts["dropped_datagrams"] += 1
            return
        result = self.decoder.decode(data, self.options)
        self.queue.put_nowait(result)


async def udp_listener(
    host: str,
    port: int,
    format_key: str,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    started: asyncio.Future[int] | None = None,
) -> None:
    """Bind and decode each datagram as a whole until cancelled."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Datagrams(format_key, options, queue, stats), local_addr=(host, port)
    )
    if started is not None:
        started.set_result(transport.get_extra_info("sockname")[1])
    try:
        await asyncio.Event().wait()
    finally:
        transport.close()


async def replay_file(
    path: Path,
    format_key: str | None,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    *,
    speed: float = 1.0,
    batch_s: float = 1.0,
) -> DecodeResult:
    """Decode a file, then put its reports in time order, in slices of ``batch_s`` of recorded
    time, each when its time comes (``speed`` x real time; 0: no waiting). Returns the full
    decode result (whose errors and counters the caller may report once)."""
    data = path.read_bytes()
    key = format_key or detect_format(data, path.name)
    result = get_decoder(key).decode(data, options)
    reports = result.reports.sort_values("timestamp", kind="stable", ignore_index=True)
    counts = {k: v for k, v in result.counts.items() if k != "reports"}  # counted per slice
    await queue.put(DecodeResult(empty_reports(), result.errors, counts))
    if reports.empty:
        return result
    t0 = reports["timestamp"].iloc[0]
    offset_s = ((reports["timestamp"] - t0) / pd.Timedelta(seconds=1)).to_numpy()
    slot = (offset_s // batch_s).astype("int64")
    loop = asyncio.get_running_loop()
    start = loop.time()
    cuts = [0, *list((slot[1:] != slot[:-1]).nonzero()[0] + 1), len(reports)]
    for a, b in itertools.pairwise(cuts):
        if speed > 0:
            wait = start + offset_s[a] / speed - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        part = reports.iloc[a:b].reset_index(drop=True)
        await queue.put(DecodeResult(part, result.errors.iloc[:0], {"reports": int(b - a)}))
    return result


@dataclass(frozen=True)
class FeedSpec:
    """A parsed feed URL: kind ("tcp", "tcp-listen", "udp", "file"), host, port, path."""

    kind: str
    host: str = ""
    port: int = 0
    path: Path | None = None

    def default_format(self) -> str | None:
        return DEFAULT_PORT_FORMATS.get(self.port)


def parse_feed(url: str) -> FeedSpec:
    """Parse a feed URL (see the module docstring); raises ``InputError``."""
    if "://" not in url:
        return FeedSpec("file", path=Path(url))
    parts = urlsplit(url)
    if parts.scheme not in ("tcp", "tcp-listen", "udp", "file"):
        raise InputError(f"feed {url!r}: use tcp://, tcp-listen://, udp:// or a file path")
    if parts.scheme == "file":
        return FeedSpec("file", path=Path(parts.path))
    if parts.port is None:
        raise InputError(f"feed {url!r} has no port: write e.g. tcp://127.0.0.1:30005")
    return FeedSpec(parts.scheme, parts.hostname or "127.0.0.1", parts.port)


async def run_feed(
    spec: FeedSpec,
    format_key: str | None,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    *,
    speed: float = 1.0,
    reconnect: bool = True,
) -> None:
    """Run one feed until it ends (files) or is cancelled (network)."""
    key = format_key or spec.default_format()
    if spec.kind == "file":
        assert spec.path is not None
        await replay_file(spec.path, format_key, options, queue, speed=speed)
        return
    if key is None:
        raise InputError(f"say the format of {spec.kind}://{spec.host}:{spec.port} (--format)")
    get_decoder(key)  # fail early on an unknown format
    if spec.kind == "tcp":
        await tcp_client(spec.host, spec.port, key, options, queue, stats, reconnect=reconnect)
    elif spec.kind == "tcp-listen":
        await tcp_server(spec.host, spec.port, key, options, queue, stats)
    else:
        await udp_listener(spec.host, spec.port, key, options, queue, stats)
