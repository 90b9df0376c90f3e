"""Host-side feeds as one report source of the live engine: ``poll(now)`` gives every report
decoded from the feeds since the last poll and timestamped up to ``now`` (UTC), in time order.

Each feed (a URL of ``deconflict.surveillance.feed_urls``: ``tcp://`` with reconnection,
``tcp-listen://``, ``udp://`` with multicast, ``FORMAT+tcp://``) belongs to one party: its reports
carry that party (and the feed's URL as their sensor), so they enter that party's picture by the
same path as the simulator's and a replay's (the engine's sources). The feeds run on an asyncio
loop in a thread of their own; decoded batches wait in a bounded buffer (``max_reports``: past
it the oldest are dropped and counted, ``dropped_reports``) until the engine's next tick.
``status()`` gives each feed's counters (connections, bytes, frames, reports, error records by
kind) for the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import pandas as pd

from deconflict.errors import InputError
from deconflict.surveillance.base import DecodeOptions, DecodeResult
from deconflict.surveillance.feed_urls import FeedSpec, parse_feed
from deconflict.surveillance.feeds import MAX_BACKOFF_S, FeedStats, run_feed
from deconflict.surveillance.report import empty_reports

MAX_REPORTS: Final = 500_000


@dataclass(frozen=True)
class PartyFeed:
    """One feed of one party: ``PARTY=URL`` on the command line or in the settings; its
    reports' sensor is ``sensor``, else the feed's URL."""

    party: str
    spec: FeedSpec
    sensor: str = ""

    @classmethod
    def parse(cls, text: str) -> PartyFeed:
        party, sep, url = text.partition("=")
        if not sep or not party.strip() or not url.strip():
            raise InputError(
                f"feed {text!r}: write PARTY=URL, e.g. alpha=beast+tcp://10.0.0.5:30005"
            )
        return cls(party.strip(), parse_feed(url.strip()))


def parse_party_feeds(texts: Sequence[str]) -> list[PartyFeed]:
    """``PARTY=URL`` items (also comma- or space-separated within one text, as the setting
    ``DECONFLICT_FEEDS`` holds them); raises ``InputError`` naming the bad one."""
    items = [t for text in texts for t in text.replace(",", " ").split()]
    feeds = [PartyFeed.parse(t) for t in items]
    for f in feeds:
        if f.spec.kind == "file":
            raise InputError(
                f"feed {f.party}={f.spec.url()}: a live feed is tcp://, tcp-listen:// or udp://; "
                "replay a recording with --replay"
            )
    return feeds


class ReportBuffer:
    """Report tables waiting for the engine's next tick (bounded: past ``max_reports`` the
    oldest are dropped and counted); ``poll(now)`` hands out those due, in time order. Its
    reports arrive on their own: the engine polls it between two ticks too (``engine.intake``)."""

    between_ticks = True

    def __init__(self, max_reports: int = MAX_REPORTS) -> None:
        self.max_reports = max_reports
        self.dropped = 0
        self._pending: list[pd.DataFrame] = []
        self._held = 0
        self._lock = threading.Lock()

    def waiting(self) -> int:
        """Reports held and not yet polled."""
        with self._lock:
            return self._held

    def put(self, reports: pd.DataFrame) -> int:
        """Hold ``reports``; returns how many older ones were dropped to make room."""
        dropped = 0
        with self._lock:
            self._pending.append(reports)
            self._held += len(reports)
            while self._held > self.max_reports and len(self._pending) > 1:
                old = self._pending.pop(0)
                self._held -= len(old)
                dropped += len(old)
            self.dropped += dropped
        return dropped

    def poll(self, now: pd.Timestamp) -> pd.DataFrame:
        """Reports held with a timestamp up to ``now``, in time order; later ones wait."""
        with self._lock:
            parts, self._pending, self._held = self._pending, [], 0
        if not parts:
            return empty_reports()
        table = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        stamp = pd.Timestamp(now)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        stamps = table["timestamp"].astype("int64").to_numpy()
        due = stamps <= stamp.value
        if not due.all():
            later = table[~due].reset_index(drop=True)
            with self._lock:
                self._pending.insert(0, later)
                self._held += len(later)
        out = table[due]
        order = np.argsort(stamps[due], kind="stable")
        return out.iloc[order].reset_index(drop=True)


class FeedSource(ReportBuffer):
    """The feeds of several parties, as a report source (``poll``) for the engine."""

    def __init__(
        self,
        feeds: Sequence[PartyFeed],
        options: DecodeOptions = DecodeOptions(),
        *,
        max_reports: int = MAX_REPORTS,
        max_backoff_s: float = MAX_BACKOFF_S,
    ) -> None:
        super().__init__(max_reports)
        self.max_backoff_s = max_backoff_s
        self.feeds = list(feeds)
        self.options = options
        self.stats = [FeedStats() for _ in self.feeds]
        self.delivered = [0] * len(self.feeds)  # frames decoded and their reports held, per feed
        self._delivery = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None

    @property
    def parties(self) -> list[str]:
        return list(dict.fromkeys(f.party for f in self.feeds))

    def _take(self, index: int, result: DecodeResult) -> None:
        if len(result.reports):
            self.stats[index].counts["dropped_reports"] += self.put(result.reports)
        with self._delivery:
            self.delivered[index] += result.counts.get("frames", 0)
            self._delivery.notify_all()

    def wait_delivered(self, frames: Sequence[int], timeout_s: float) -> bool:
        """Wait until each feed has delivered (decoded and held the reports of) at least
        ``frames[i]`` frames in all: a sender on loopback (the simulator's sensors) knows what
        it sent. False if ``timeout_s`` passed first."""
        with self._delivery:
            return self._delivery.wait_for(
                lambda: all(d >= f for d, f in zip(self.delivered, frames, strict=True)),
                timeout_s,
            )

    async def _run_one(self, index: int, feed: PartyFeed) -> None:
        queue: asyncio.Queue[DecodeResult] = asyncio.Queue(maxsize=64)
        options = replace(self.options, party=feed.party, sensor=feed.sensor or feed.spec.url())
        task = asyncio.create_task(
            run_feed(
                feed.spec,
                None,
                options,
                queue,
                self.stats[index],
                max_backoff_s=self.max_backoff_s,
            )
        )
        getter: asyncio.Task[DecodeResult] | None = None
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    self._take(index, getter.result())
                    continue
                getter.cancel()
                if task.exception() is not None:  # e.g. a port in use: said, and counted
                    self.stats[index].counts["feed_failures"] += 1
                    self.stats[index].counts[f"failure:{task.exception()}"] += 1
                return
        finally:
            for pending in (task, getter):
                if pending is not None:
                    pending.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await pending

    async def _main(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        tasks = [asyncio.create_task(self._run_one(i, f)) for i, f in enumerate(self.feeds)]
        ready.set()
        await self._stopping.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def start(self) -> FeedSource:
        """Run the feeds in a daemon thread (returns once they are started)."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._main(ready))
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="deconflict-feeds", daemon=True)
        self._thread.start()
        ready.wait(10.0)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(5.0)

    def status(self) -> list[dict[str, Any]]:
        """Each feed: party, URL, format and its counters (connections, bytes, frames,
        reports, errors, ``error:KIND``...)."""
        return [
            {
                "party": f.party,
                "url": f.spec.url(),
                "format": f.spec.default_format(),
                "counts": dict(sorted(s.counts.items())),
            }
            for f, s in zip(self.feeds, self.stats, strict=True)
        ]
