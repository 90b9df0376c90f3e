"""Feeds on loopback with real bytes: TCP client with reconnection, TCP server, UDP, replay."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pandas as pd
import pytest

from deconflict.errors import DeconflictError, InputError
from deconflict.surveillance import DecodeOptions, DecodeResult
from deconflict.surveillance.base import ErrorLog
from deconflict.surveillance.feed_urls import parse_feed
from deconflict.surveillance.feeds import (
    FeedStats,
    replay_file,
    tcp_client,
    tcp_server,
    udp_listener,
)
from deconflict.surveillance.pcap import udp_payloads

OPTS = DecodeOptions(start_time=pd.Timestamp("2020-01-01", tz="UTC"))


async def _drain(queue: asyncio.Queue[DecodeResult], reports: int, timeout: float = 10.0) -> int:
    got = 0
    async with asyncio.timeout(timeout):
        while got < reports:
            got += len((await queue.get()).reports)
    return got


async def test_tcp_client_reconnects_and_keeps_every_report(real_data: Path) -> None:
    data = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()
    served = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        served += 1
        for at in range(0, len(data), 97):  # odd chunk size: frames and escapes split
            writer.write(data[at : at + 97])
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue(maxsize=2)  # small: backpressure
    stats = FeedStats()
    task = asyncio.create_task(
        tcp_client("127.0.0.1", port, "beast", OPTS, queue, stats, backoff_s=0.01)
    )
    try:
        got = await _drain(queue, 2 * 233)  # 239 frames, 6 unheard DF0/4/5 refused
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        server.close()
    assert got == 2 * 233
    assert stats.counts["connections"] >= 2 and stats.counts["reconnects"] >= 1


async def test_tcp_client_backs_off_when_nobody_listens() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue()
    stats = FeedStats()
    task = asyncio.create_task(
        tcp_client(
            "127.0.0.1", port, "beast", OPTS, queue, stats, backoff_s=0.02, max_backoff_s=0.1
        )
    )
    await asyncio.sleep(0.5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # exponential backoff: 0.02, 0.04, 0.08, 0.1, 0.1, ... -> a handful of attempts, not hundreds
    assert 3 <= stats.counts["connect_failures"] <= 10


async def test_tcp_server_accepts_pushing_receiver(real_data: Path) -> None:
    text = (real_data / "pymodes" / "sample_data_adsb.csv").read_bytes()
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue(maxsize=4)
    stats = FeedStats()
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(tcp_server("127.0.0.1", 0, "avr", OPTS, queue, stats, started))
    port = await started
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(text)
    await writer.drain()
    writer.close()
    try:
        got = await _drain(queue, 2000)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert got == 2000


async def test_udp_asterix_datagrams(real_data: Path) -> None:
    pcap = (real_data / "asterix" / "croatiacontrol" / "cat_034_048.pcap").read_bytes()
    payloads = [
        p for _, _, p in udp_payloads(pcap, ErrorLog(), __import__("collections").Counter())
    ]
    assert len(payloads) == 100
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue(maxsize=200)
    stats = FeedStats()
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(udp_listener("127.0.0.1", 0, "asterix", OPTS, queue, stats, started))
    port = await started
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, remote_addr=("127.0.0.1", port)
    )
    for payload in payloads:
        transport.sendto(payload)
        await asyncio.sleep(0)
    try:
        got = await _drain(queue, 128)
    finally:
        transport.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert got == 128 and stats.counts["dropped_datagrams"] == 0


async def test_replay_paces_by_recorded_time(real_data: Path, tmp_path: Path) -> None:
    table = pd.read_parquet(real_data / "traffic" / "switzerland.parquet")
    t0 = table["timestamp"].min()
    part = table[table["timestamp"] < t0 + pd.Timedelta(seconds=40)]
    path = tmp_path / "part.parquet"
    part.sample(frac=1.0, random_state=1).to_parquet(path)  # shuffled: replay sorts by time
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    start = loop.time()
    await replay_file(path, None, DecodeOptions(), queue, speed=100.0)
    elapsed = loop.time() - start
    batches = [queue.get_nowait() for _ in range(queue.qsize())]
    reports = pd.concat([b.reports for b in batches if len(b.reports)])
    assert len(reports) == len(part)
    assert reports["timestamp"].is_monotonic_increasing
    span = (reports["timestamp"].max() - t0).total_seconds()
    assert span / 100 * 0.8 <= elapsed <= span / 100 + 1.0


def test_parse_feed_urls() -> None:
    assert parse_feed("tcp://127.0.0.1:30005").default_format() == "beast"
    assert parse_feed("udp://0.0.0.0:8600").kind == "udp"
    assert parse_feed("recording.bin").kind == "file"
    with pytest.raises(InputError, match="port"):
        parse_feed("tcp://localhost")
    with pytest.raises(InputError, match="tcp://"):
        parse_feed("http://x:1")


def test_feed_urls_name_their_format_and_multicast_interface() -> None:
    spec = parse_feed("beast+tcp://10.0.0.2:31005")
    assert (spec.kind, spec.host, spec.port, spec.default_format()) == (
        "tcp",
        "10.0.0.2",
        31005,
        "beast",
    )
    assert parse_feed("tcp://127.0.0.1:30003").default_format() == "sbs"
    group = parse_feed("asterix+udp://239.1.2.3:8600?iface=127.0.0.1")
    assert (group.kind, group.host, group.iface, group.format) == (
        "udp",
        "239.1.2.3",
        "127.0.0.1",
        "asterix",
    )
    with pytest.raises(DeconflictError, match="unknown feed format 'morse'"):
        parse_feed("morse+tcp://127.0.0.1:1")
    with pytest.raises(InputError, match="no valid port"):
        parse_feed("tcp://127.0.0.1:99999")


async def test_backoff_resets_after_a_connection_that_delivered(real_data: Path) -> None:
    data = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue()
    stats = FeedStats()
    task = asyncio.create_task(
        tcp_client(
            "127.0.0.1", port, "beast", OPTS, queue, stats, backoff_s=0.05, max_backoff_s=0.8
        )
    )
    await asyncio.sleep(2.0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    server.close()
    # each connection delivered frames, so each wait is 0.05 s (+ the 0.1 s batch hold), not
    # 0.05, 0.1, 0.2, 0.4, 0.8 ... (which gives 5 connections in 2 s)
    assert stats.counts["connections"] >= 8
    assert stats.counts["reports"] == 233 * stats.counts["connections"] or queue.qsize() > 0


async def test_stalled_receiver_is_dropped_and_redialled() -> None:
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # connected, never sends

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stats = FeedStats()
    task = asyncio.create_task(
        tcp_client(
            "127.0.0.1", port, "beast", OPTS, asyncio.Queue(), stats, backoff_s=0.05, stall_s=0.3
        )
    )
    await asyncio.sleep(1.5)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for w in held:
        w.close()
    server.close()
    assert stats.counts["stalls"] >= 2 and stats.counts["connections"] >= 3


async def test_wrong_format_on_a_port_gives_bounded_error_records(real_data: Path) -> None:
    beast = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()
    text = (real_data / "pymodes" / "sample_data_adsb.csv").read_bytes()
    for fmt, payload in (("beast", text * 20), ("avr", beast * 200)):
        queue: asyncio.Queue[DecodeResult] = asyncio.Queue()
        stats = FeedStats()
        started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(tcp_server("127.0.0.1", 0, fmt, OPTS, queue, stats, started))
        port = await started
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await writer.drain()
        writer.close()
        await asyncio.sleep(1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        results = [queue.get_nowait() for _ in range(queue.qsize())]
        assert sum(len(r.reports) for r in results) == 0
        assert stats.counts["errors"] > 0 and stats.counts["bytes"] == len(payload)
        # each error record holds at most 512 hex digits of raw bytes: memory stays bounded
        assert all(r.errors["raw"].str.len().max() <= 512 for r in results if len(r.errors))


async def test_udp_multicast_group_is_joined(real_data: Path) -> None:
    import socket

    pcap = (real_data / "asterix" / "croatiacontrol" / "cat_034_048.pcap").read_bytes()
    payloads = [
        p for _, _, p in udp_payloads(pcap, ErrorLog(), __import__("collections").Counter())
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    group = "239.255.12.34"
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue()
    stats = FeedStats()
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        udp_listener(group, port, "asterix", OPTS, queue, stats, started, iface="127.0.0.1")
    )
    await started
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
    sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
    try:
        for payload in payloads:
            sender.sendto(payload, (group, port))
            await asyncio.sleep(0)
        got = await _drain(queue, 128, timeout=5.0)
    finally:
        sender.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert got == 128 and stats.counts["datagrams"] == 100
