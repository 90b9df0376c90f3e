"""Reports pushed by a party's own agent (``deconflict feed ... --push``): the wire body, the
sequence and acknowledgement rule, and the agent's side that sends them.

Body: one Arrow IPC stream (``application/vnd.apache.arrow.stream``, LZ4-compressed buffers) of a
report table (``REPORT_COLUMNS``; times UTC ns). Measured on the same 10,000 reports
(bench/report_push.py, docs/perf/feeds.md): 29 bytes a report against JSON's 285, encoded 12x
and read 8x faster.

Sequence: the agent numbers its batches 1, 2, 3... within a stream (a random id per run, so a
restarted agent starts a fresh sequence). The service applies batch ``seq`` only if it is the
next one (``acked + 1``), answers ``acked`` each time, and answers a batch it already applied
(``seq <= acked``) with ``applied: false`` and the same ``acked``, so a batch resent after a lost
answer is applied once; a gap (``seq > acked + 1``) is refused (409) with the position to resume
from. The agent keeps every batch until it is acknowledged and, after a failure, asks
``GET /v1/reports/position?stream=`` and resends from ``acked + 1``: no report is lost and none
applied twice, wherever the connection breaks. Positions live with the service's live picture:
a service that restarted answers a position behind the agent's oldest kept batch, and the agent
sends its unacknowledged batches again as a fresh stream.

What leaves the party's premises is the party's choice (``ShareFilter``), applied before sending.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]

from deconflict.errors import ConflictError, DecodeError, InputError
from deconflict.surveillance.report import REPORT_COLUMNS, REPORT_DTYPES
from deconflict.surveillance.source import ReportBuffer

MEDIA_TYPE: Final = "application/vnd.apache.arrow.stream"
MAX_BATCH_BYTES: Final = 8 << 20
MAX_BATCH_REPORTS: Final = 100_000


def encode_reports(reports: pd.DataFrame) -> bytes:
    """A report table as one Arrow IPC stream (the body of ``POST /v1/reports``)."""
    table = pa.Table.from_pandas(reports.loc[:, list(REPORT_COLUMNS)], preserve_index=False)
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


def decode_reports(body: bytes) -> pd.DataFrame:
    """The report table of a body; raises ``DecodeError`` saying what is wrong with it."""
    try:
        frame: pd.DataFrame = pa.ipc.open_stream(body).read_all().to_pandas()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DecodeError(
            f"the body is not an Arrow IPC stream of reports ({exc}); send "
            f"Content-Type: {MEDIA_TYPE}, as 'deconflict feed --push' does"
        ) from None
    missing = [c for c in ("timestamp", "latitude", "longitude") if c not in frame.columns]
    if missing:
        raise DecodeError(f"the reports lack column(s) {', '.join(missing)}: send Report rows")
    for col, dtype in REPORT_DTYPES.items():
        if col not in frame:
            frame[col] = pd.Series([None] * len(frame), dtype="object")
        if dtype.startswith("datetime"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        else:
            try:
                frame[col] = frame[col].astype(dtype)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                raise DecodeError(f"column {col!r} is not {dtype}") from None
    if frame["timestamp"].isna().any():
        raise DecodeError("a report has no timestamp")
    return frame.loc[:, list(REPORT_COLUMNS)]


class PushedReports(ReportBuffer):
    """Reports the parties push, as a report source of the live engine; the acknowledged
    position of each (party, stream)."""

    def __init__(self, parties: Iterable[str] = ()) -> None:
        super().__init__()
        self.parties = frozenset(parties)  # those whose live picture takes pushed reports
        self.acked: dict[tuple[str, str], int] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self._order = threading.Lock()

    def position(self, party: str, stream: str) -> int:
        return self.acked.get((party, stream), 0)

    def apply(self, party: str, stream: str, seq: int, reports: pd.DataFrame) -> tuple[int, bool]:
        """Apply batch ``seq`` of ``party``'s ``stream`` if it is the next one: (acked, applied).
        Raises ``ConflictError`` on a gap. The reports are labelled with ``party``."""
        with self._order:
            acked = self.acked.get((party, stream), 0)
            if seq <= acked:
                return acked, False
            if seq != acked + 1:
                raise ConflictError(
                    f"stream {stream}: batch {seq} after {acked}: resume from batch {acked + 1} "
                    "(GET /v1/reports/position)"
                )
            self.put(reports.assign(party=party))
            self.acked[(party, stream)] = seq
            c = self.counts.setdefault(party, {"batches": 0, "reports": 0})
            c["batches"] += 1
            c["reports"] += len(reports)
            return seq, True


@dataclass(frozen=True)
class ShareFilter:
    """What a party lets leave its premises: every report (``all``), or those matching any of
    ``icao24:HEX,...``, ``callsign:PREFIX,...``, ``squawk:CODE,...``, ``unidentified`` (no
    callsign). Parsed from ``--share`` items."""

    everything: bool = True
    icao24: frozenset[str] = frozenset()
    callsign: tuple[str, ...] = ()
    squawk: frozenset[str] = frozenset()
    unidentified: bool = False

    @classmethod
    def parse(cls, items: Iterable[str]) -> ShareFilter:
        items = list(items)
        if not items or items == ["all"]:
            return cls()
        icao: set[str] = set()
        calls: list[str] = []
        squawks: set[str] = set()
        unid = False
        for item in items:
            kind, _, values = item.partition(":")
            parts = [v.strip() for v in values.split(",") if v.strip()]
            if kind == "icao24" and parts:
                icao.update(v.lower() for v in parts)
            elif kind == "callsign" and parts:
                calls.extend(v.upper() for v in parts)
            elif kind == "squawk" and parts:
                squawks.update(parts)
            elif kind == "unidentified" and not values:
                unid = True
            else:
                raise InputError(
                    f"--share {item!r}: use all, icao24:HEX,..., callsign:PREFIX,..., "
                    "squawk:CODE,... or unidentified"
                )
        return cls(False, frozenset(icao), tuple(calls), frozenset(squawks), unid)

    def apply(self, reports: pd.DataFrame) -> pd.DataFrame:
        if self.everything or reports.empty:
            return reports
        keep = np.zeros(len(reports), dtype=bool)
        if self.icao24:
            keep |= reports["icao24"].isin(list(self.icao24)).fillna(False).to_numpy(dtype=bool)
        calls = reports["callsign"].astype("string").str.strip().str.upper()
        for prefix in self.callsign:
            keep |= calls.str.startswith(prefix).fillna(False).to_numpy(dtype=bool)
        if self.squawk:
            keep |= reports["squawk"].isin(list(self.squawk)).fillna(False).to_numpy(dtype=bool)
        if self.unidentified:
            keep |= calls.isna().to_numpy(dtype=bool)
        return reports[keep].reset_index(drop=True)


@dataclass
class Pusher:
    """The agent's side: batches of reports to ``POST {url}/v1/reports`` as ``token``'s party,
    each kept until acknowledged; after a failure the service's position is asked and the
    unacknowledged batches are sent again (see the module docstring)."""

    url: str
    token: str
    stream: str = field(default_factory=lambda: secrets.token_hex(8))
    max_held: int = 10_000
    pending: deque[tuple[int, bytes, int]] = field(default_factory=deque)
    next_seq: int = 1
    acked: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: {"pushed_batches": 0, "pushed_reports": 0, "push_retries": 0}
    )

    def add(self, reports: pd.DataFrame) -> None:
        """Queue a batch (not sent yet); the oldest unsent is dropped and counted past
        ``max_held`` batches (a service gone for long)."""
        if reports.empty:
            return
        self.pending.append((self.next_seq, encode_reports(reports), len(reports)))
        self.next_seq += 1
        while len(self.pending) > self.max_held:
            self.pending.popleft()
            self.counts["push_dropped_batches"] = self.counts.get("push_dropped_batches", 0) + 1

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": MEDIA_TYPE}

    async def flush(self, client: Any) -> None:
        """Send every pending batch in order; raises on a failure (the caller retries)."""
        while self.pending:
            seq, body, n = self.pending[0]
            answer = await client.post(
                f"{self.url}/v1/reports",
                params={"stream": self.stream, "seq": seq},
                content=body,
                headers=self._headers(),
            )
            if answer.status_code == 409:  # a gap: the service's position says where to resume
                await self.resync(client)
                continue
            if answer.status_code in (401, 403, 413, 422):
                raise InputError(f"the service refused batch {seq}: {answer.text}")
            answer.raise_for_status()
            self.acked = int(answer.json()["acked"])
            self._forget()
            if answer.json().get("applied"):
                self.counts["pushed_batches"] += 1
                self.counts["pushed_reports"] += n

    async def resync(self, client: Any) -> None:
        answer = await client.get(
            f"{self.url}/v1/reports/position",
            params={"stream": self.stream},
            headers=self._headers(),
        )
        answer.raise_for_status()
        self.acked = int(answer.json()["acked"])
        if self.pending and self.acked < self.pending[0][0] - 1:
            self._restart_stream()
        self._forget()

    def _restart_stream(self) -> None:
        """The service lost this stream's position (it restarted: what it applied before went
        with its picture): the unacknowledged batches start a fresh stream, numbered from 1."""
        self.stream = secrets.token_hex(8)
        self.pending = deque((k + 1, body, n) for k, (_, body, n) in enumerate(self.pending))
        self.next_seq = len(self.pending) + 1
        self.acked = 0
        self.counts["stream_restarts"] = self.counts.get("stream_restarts", 0) + 1

    def _forget(self) -> None:
        while self.pending and self.pending[0][0] <= self.acked:
            self.pending.popleft()

    async def run_once(self, client: Any, backoff_s: float = 0.25) -> None:
        """``flush``, and after a transport failure ``resync`` and flush again, with backoff."""
        delay = backoff_s
        while True:
            try:
                await self.flush(client)
                return
            except InputError:
                raise
            except Exception:  # transport errors of the HTTP client, 5xx
                self.counts["push_retries"] += 1
                await asyncio.sleep(delay)
                delay = min(2.0 * delay, 2.0)
                try:
                    await self.resync(client)
                except Exception:  # still down: the next round tries again
                    continue
