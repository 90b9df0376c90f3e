"""``deconflict feed``: decode live TCP/UDP feeds or replay recordings, as JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deconflict.cli._app import FeedFormat, app, echo_json, fail
from deconflict.errors import DeconflictError

if TYPE_CHECKING:
    from deconflict.surveillance.base import DecodeOptions
    from deconflict.surveillance.feed_urls import FeedSpec
    from deconflict.surveillance.push import Pusher, ShareFilter


@app.command("feed")
def feed_command(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="tcp://HOST:PORT (connect), tcp-listen://HOST:PORT, udp://HOST:PORT, "
            "or a recording file to replay."
        ),
    ],
    format: Annotated[
        FeedFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Feed format (default: by port 30005/30003/30002, or "
            "guessed from a file's content).",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            help="Replay speed for files: 1 real time, 10 ten times faster, 0 as fast as possible."
        ),
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(
            help="Stop after this many seconds (default: run until the "
            "files end, or forever for network feeds)."
        ),
    ] = None,
    queue_size: Annotated[int, typer.Option(help="Batches held before readers wait.")] = 64,
    no_reconnect: Annotated[
        bool, typer.Option(help="Stop a TCP client when it disconnects.")
    ] = False,
    max_backoff: Annotated[
        float,
        typer.Option(
            help="Longest wait (s) before a TCP client dials again (0.25 s doubling, reset after "
            "a connection that delivered frames)."
        ),
    ] = 2.0,
    sensors: Annotated[Path | None, typer.Option(help="Sensor configuration TOML.")] = None,
    party: Annotated[str, typer.Option(help="Party label on every report.")] = "",
    sensor: Annotated[str, typer.Option(help="Sensor id on every report.")] = "",
    reference: Annotated[str | None, typer.Option(help="Receiver LAT,LON for local CPR.")] = None,
    push: Annotated[
        str | None,
        typer.Option(
            help="Stream the reports to the service at http://HOST:PORT (POST /v1/reports) "
            "as the party of --token, instead of printing them."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="DECONFLICT_TOKEN", help="With --push: the party's API token."),
    ] = None,
    share: Annotated[
        list[str] | None,
        typer.Option(
            help="With --push: what leaves the premises (repeatable; any match is sent): all, "
            "icao24:HEX,..., callsign:PREFIX,..., squawk:CODE,..., unidentified."
        ),
    ] = None,
) -> None:
    """Connect to or listen on feeds (reconnecting, with backpressure) or replay recordings;
    print JSON lines of reports and error records (or, with --push, stream the reports to the
    service, resuming after a dropped connection with none lost or applied twice), and a
    summary when stopped."""
    from deconflict.cli.decode import make_options
    from deconflict.surveillance.feed_urls import parse_feed

    if speed < 0 or queue_size < 1 or max_backoff <= 0:
        fail("--speed must be >= 0, --queue-size >= 1 and --max-backoff > 0")
    try:
        specs = [parse_feed(s) for s in sources]
        for spec in specs:
            if spec.kind == "file" and (spec.path is None or not spec.path.is_file()):
                fail(f"no such file: {spec.path}: give a recording or a tcp:// / udp:// URL")
        options = make_options(party, sensor, sensors, reference, None)
        pusher = None
        if push is not None:
            from deconflict.surveillance.push import Pusher, ShareFilter

            if not token:
                fail("--push needs the party's --token (or DECONFLICT_TOKEN)")
            if not push.startswith(("http://", "https://")):
                fail(f"--push {push!r}: write the service's address, e.g. http://127.0.0.1:8700")
            pusher = (Pusher(push.rstrip("/"), token), ShareFilter.parse(share or []))
        elif share or token:
            fail("--share and --token go with --push")
        asyncio.run(
            _run(
                specs,
                format,
                options,
                speed,
                duration,
                queue_size,
                not no_reconnect,
                pusher,
                max_backoff,
            )
        )
    except DeconflictError as exc:
        fail(exc)


async def _run(
    specs: list[FeedSpec],
    format_key: str | None,
    options: DecodeOptions,
    speed: float,
    duration: float | None,
    queue_size: int,
    reconnect: bool,
    pusher: tuple[Pusher, ShareFilter] | None = None,
    max_backoff_s: float = 2.0,
) -> None:
    """Run the feeds, print what they decode (or push it); stop when the files end, at
    ``duration``, or on Ctrl-C / SIGTERM, printing the summary either way (exit status 0)."""
    import signal
    from collections import Counter

    from deconflict.cli.decode import write_result
    from deconflict.surveillance.base import DecodeResult
    from deconflict.surveillance.feeds import FeedStats, run_feed

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    queue: asyncio.Queue[DecodeResult] = asyncio.Queue(maxsize=queue_size)
    stats = FeedStats()
    tasks = [
        asyncio.create_task(
            run_feed(
                s,
                format_key,
                options,
                queue,
                stats,
                speed=speed,
                reconnect=reconnect,
                max_backoff_s=max_backoff_s,
            )
        )
        for s in specs
    ]
    totals: Counter[str] = Counter()
    deadline = None if duration is None else loop.time() + duration
    failure: BaseException | None = None
    sender = None if pusher is None else asyncio.create_task(_push_loop(pusher[0]))
    try:
        while not stop.is_set():
            if all(t.done() for t in tasks) and queue.empty():
                break
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception()]
            if failed:
                failure = failed[0].exception()
                break
            wait = 0.2 if deadline is None else min(0.2, deadline - loop.time())
            if wait <= 0:
                break
            try:
                result = await asyncio.wait_for(queue.get(), timeout=wait)
            except TimeoutError:
                continue
            if pusher is None:
                write_result(result, sys.stdout)
                sys.stdout.flush()
            else:
                shared = pusher[1].apply(result.reports)
                pusher[0].add(shared)
                totals["shared_reports"] += len(shared)
            totals.update(result.counts)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
        totals.update(stats.transport())
        if pusher is not None and sender is not None:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            await _last_push(pusher[0])
            totals.update(pusher[0].counts)
            totals["unacknowledged_batches"] = len(pusher[0].pending)
        echo_json({"summary": dict(sorted(totals.items()))})
    if failure is not None:
        raise failure


async def _push_loop(pusher: Pusher, every_s: float = 0.5) -> None:
    """Send what the feeds decoded every ``every_s``, retrying through outages."""
    import httpx

    async with httpx.AsyncClient(timeout=10.0) as client:
        while True:
            await asyncio.sleep(every_s)
            await pusher.run_once(client)


async def _last_push(pusher: Pusher, within_s: float = 5.0) -> None:
    """On stopping: what is still unacknowledged, for at most ``within_s``."""
    import httpx

    if not pusher.pending:
        return
    with contextlib.suppress(Exception):
        async with httpx.AsyncClient(timeout=within_s) as client:
            await asyncio.wait_for(pusher.run_once(client), within_s)
