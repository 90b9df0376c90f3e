"""Live feeds and replays: TCP client/server and UDP listener around the stream decoders, and file
replay at real or accelerated speed; times in s (monotonic clock for pacing, UTC in reports).

A feed is named by a URL (``parse_feed`` -> ``FeedSpec``; the forms are listed in
``deconflict.surveillance.feed_urls``); ``run_feed`` runs one with the TCP client, TCP server, UDP
listener or file replay that the URL names.

Bytes are decoded in batches: after a read, more is read for up to ``BATCH_HOLD_S`` or
``BATCH_BYTES`` (a decode has a fixed cost of a few ms, so a busy feed decodes few large batches
and a quiet one answers within ``BATCH_HOLD_S``); each batch carries the wall-clock time of its
last read (``arrival_ns``), to which relative clocks (Beast counters) are anchored.

Everything decoded goes, as ``DecodeResult`` batches, into one bounded ``asyncio.Queue``
(backpressure): TCP readers await room in the queue before reading more, so a slow consumer slows
the sender through TCP flow control and nothing is lost; UDP cannot push back, so a datagram that
finds the queue full is dropped and counted (``dropped_datagrams``) - size the queue for bursts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import pandas as pd

from deconflict.errors import InputError
from deconflict.surveillance.base import (
    DecodeOptions,
    DecodeResult,
    StreamDecoder,
    detect_format,
    get_decoder,
)
from deconflict.surveillance.feed_urls import BATCH_HOLD_S, FeedSpec
from deconflict.surveillance.report import empty_reports

CHUNK_BYTES: Final = 65536
BATCH_BYTES: Final = 1 << 19
BACKOFF_S: Final = 0.25
MAX_BACKOFF_S: Final = 2.0
STALL_S: Final = 60.0


TRANSPORT_COUNTS: Final = frozenset(
    {
        "bytes",
        "connections",
        "connect_failures",
        "connection_errors",
        "reconnects",
        "stalls",
        "datagrams",
        "dropped_datagrams",
    }
)


@dataclass
class FeedStats:
    """Counters of one feed: connections, reconnections, stalls, bytes, datagrams dropped, and
    the decoders' frames, reports, errors and error records by kind (``error:KIND``)."""

    counts: Counter[str] = field(default_factory=Counter)

    def transport(self) -> dict[str, int]:
        """The counters of the connection, not of the decoder."""
        return {k: v for k, v in self.counts.items() if k in TRANSPORT_COUNTS}

    def add(self, result: DecodeResult) -> None:
        for key, value in result.counts.items():
            if key in ("frames", "reports", "errors", "warnings") or key.startswith(
                ("error:", "warning:")
            ):
                self.counts[key] += value


def _stream(format_key: str, options: DecodeOptions) -> StreamDecoder:
    decoder = get_decoder(format_key)
    if decoder.stream is None:
        raise InputError(f"format {format_key!r} cannot be streamed: replay a file of it instead")
    return decoder.stream(options)


async def _read_batch(
    reader: asyncio.StreamReader, first: bytes, hold_s: float = BATCH_HOLD_S
) -> tuple[bytes, bool]:
    """``first`` and what else arrives within ``hold_s`` (up to ``BATCH_BYTES``);
    (bytes, True at end of stream)."""
    loop = asyncio.get_running_loop()
    parts, size = [first], len(first)
    deadline = loop.time() + hold_s
    while size < BATCH_BYTES:
        left = deadline - loop.time()
        if left <= 0:
            break
        try:
            more = await asyncio.wait_for(reader.read(CHUNK_BYTES), left)
        except TimeoutError:
            break
        if not more:
            return b"".join(parts), True
        parts.append(more)
        size += len(more)
    return b"".join(parts), False


async def _pump(
    reader: asyncio.StreamReader,
    decoder: StreamDecoder,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    stall_s: float = STALL_S,
    hold_s: float = BATCH_HOLD_S,
) -> int:
    """Read until EOF or a stall (no byte for ``stall_s``), feeding the decoder in batches; each
    batch waits for room in the queue. Returns the number of frames decoded."""
    frames = 0
    ended = False
    while not ended:
        try:
            chunk = await asyncio.wait_for(reader.read(CHUNK_BYTES), stall_s)
        except TimeoutError:
            stats.counts["stalls"] += 1
            break
        if not chunk:
            break
        data, ended = await _read_batch(reader, chunk, hold_s)
        stats.counts["bytes"] += len(data)
        result = decoder.feed(data, arrival_ns=time.time_ns())
        frames += result.counts.get("frames", 0)
        stats.add(result)
        if result.counts.get("frames", 0) or len(result.errors):
            await queue.put(result)
    tail = decoder.close()
    stats.add(tail)
    if tail.counts.get("frames", 0) or len(tail.errors):
        await queue.put(tail)
    return frames


async def tcp_client(
    host: str,
    port: int,
    format_key: str,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    *,
    reconnect: bool = True,
    backoff_s: float = BACKOFF_S,
    max_backoff_s: float = MAX_BACKOFF_S,
    stall_s: float = STALL_S,
    hold_s: float = BATCH_HOLD_S,
) -> None:
    """Connect, decode, and reconnect until cancelled: after a failed or fruitless connection
    the wait doubles from ``backoff_s`` up to ``max_backoff_s``; a connection that delivered
    frames resets it, so a receiver back from an outage is heard within ``backoff_s``."""
    delay = backoff_s
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats.counts["connect_failures"] += 1
        else:
            stats.counts["connections"] += 1
            try:
                stream = _stream(format_key, options)
                if await _pump(reader, stream, queue, stats, stall_s, hold_s):
                    delay = backoff_s
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
    hold_s: float = BATCH_HOLD_S,
) -> None:
    """Accept pushing receivers until cancelled; ``started`` gets the bound port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats.counts["connections"] += 1
        try:
            await _pump(reader, _stream(format_key, options), queue, stats, STALL_S, hold_s)
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
        self.stats.add(result)
        self.queue.put_nowait(result)


def _udp_socket(host: str, port: int, iface: str) -> socket.socket:
    """A bound UDP socket; for a multicast group, bound to the group's port and joined."""
    group = ipaddress.ip_address(host) if host.replace(".", "").isdigit() else None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if group is not None and group.is_multicast:
        sock.bind(("", port))
        membership = struct.pack("4s4s", group.packed, socket.inet_aton(iface))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    else:
        sock.bind((host, port))
    sock.setblocking(False)
    return sock


async def udp_listener(
    host: str,
    port: int,
    format_key: str,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    started: asyncio.Future[int] | None = None,
    iface: str = "0.0.0.0",
) -> None:
    """Bind and decode each datagram as a whole until cancelled; a multicast ``host`` is
    joined (on the interface of address ``iface``, default any)."""
    loop = asyncio.get_running_loop()
    sock = _udp_socket(host, port, iface)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Datagrams(format_key, options, queue, stats), sock=sock
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


async def run_feed(
    spec: FeedSpec,
    format_key: str | None,
    options: DecodeOptions,
    queue: asyncio.Queue[DecodeResult],
    stats: FeedStats,
    *,
    speed: float = 1.0,
    reconnect: bool = True,
    max_backoff_s: float = MAX_BACKOFF_S,
) -> None:
    """Run one feed until it ends (files) or is cancelled (network). The URL's own format
    (``beast+tcp://``) wins over ``format_key``, which wins over the port's usual one."""
    key = spec.format or format_key or spec.default_format()
    if spec.clock != options.beast_clock:
        options = replace(options, beast_clock=spec.clock)
    if spec.kind == "file":
        assert spec.path is not None
        await replay_file(spec.path, spec.format or format_key, options, queue, speed=speed)
        return
    if key is None:
        raise InputError(f"say the format of {spec.kind}://{spec.host}:{spec.port} (--format)")
    get_decoder(key)  # fail early on an unknown format
    if spec.kind == "tcp":
        await tcp_client(
            spec.host,
            spec.port,
            key,
            options,
            queue,
            stats,
            reconnect=reconnect,
            max_backoff_s=max_backoff_s,
            hold_s=spec.hold_s,
        )
    elif spec.kind == "tcp-listen":
        await tcp_server(spec.host, spec.port, key, options, queue, stats, hold_s=spec.hold_s)
    else:
        await udp_listener(spec.host, spec.port, key, options, queue, stats, iface=spec.iface)
