"""The live picture a party is sent: its tracks (as the procedures' track sharing lets it see
them) and its alerts, encoded once per tick and party as JSON (``GET /v1/live/picture``) or as
one compressed binary frame (``picture_wire``, the WebSocket). Times are Unix seconds; positions
degrees, altitudes ft, speeds kt.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from math import isfinite
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.engine.session import Session
from deconflict.service.picture_wire import (
    SENSOR_SEP,
    compress_frame,
    dumps,
    encode_frame,
    strings,
)

DECIMALS = {"latitude": 5, "longitude": 5}
TRACK_FIELDS = ("key", "owner", "identity", "label", "latitude", "longitude", "altitude",
                "groundspeed", "track", "vertical_rate", "icao24", "squawk")  # fmt: skip


def columns_of(frame: pd.DataFrame, fields: tuple[str, ...]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in fields:
        if f not in frame.columns:
            continue
        col = frame[f]
        if col.dtype.kind == "f":
            arr = np.round(col.to_numpy(dtype=float), 5)
            out[f] = [None if not np.isfinite(v) else float(v) for v in arr]
        else:
            out[f] = strings(col)
    return out


class Broadcaster:
    """Encodes each watched party's picture once per tick, in the ticking thread right after the
    tick, and wakes every WebSocket waiting for it (they only send the cached bytes)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seq = 0
        self.cache: dict[str, str] = {}
        self.wire: dict[str, bytes] = {}
        self.watchers: dict[str, int] = {}
        self._events: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}
        self._lock = threading.Lock()
        self.tick_wall_s = time.time()
        session.on_tick.append(self.publish)

    def publish(self, _: Session | None = None) -> None:
        """A new picture of the session (after each tick, and after a write the map shows):
        the caches go, each watched party's frame is encoded, its sockets woken."""
        with self._lock:
            self.seq += 1
            self.cache = {}
            self.wire = {}
            self.tick_wall_s = time.time()
            watched = [p for p, n in self.watchers.items() if n > 0]
        # wake the clients of each party as soon as its picture is ready
        for party in watched:
            self.picture_frame(party)
            self._wake()
        if not watched:
            self._wake()

    def _wake(self) -> None:
        with self._lock:
            loops = list(self._events.items())
        for loop, event in loops:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def picture_json(self, party: str) -> tuple[int, str]:
        """(tick number, the party's picture as JSON text), encoded once per tick."""
        with self._lock:
            cached = self.cache.get(party)
            seq = self.seq
            wall = self.tick_wall_s
        if cached is not None:
            return seq, cached
        data = encode_picture(self.session, party, seq, wall)
        with self._lock:
            if self.seq == seq:
                self.cache[party] = data
        return seq, data

    def picture_frame(self, party: str) -> tuple[int, bytes]:
        """(tick number, the party's picture as one binary frame), encoded once per tick and
        shared by every WebSocket of the party (``picture_wire``)."""
        with self._lock:
            cached = self.wire.get(party)
            seq = self.seq
            wall = self.tick_wall_s
        if cached is not None:
            return seq, cached
        data = encode_picture_frame(self.session, party, seq, wall)
        with self._lock:
            if self.seq == seq:
                self.wire[party] = data
        return seq, data

    async def wait(self, seen: int, party: str | None = None) -> int:
        """Return once a tick newer than ``seen`` happened (and, for a watched ``party``, once
        its picture of that tick is encoded)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            event = self._events.setdefault(loop, asyncio.Event())
        while self.seq <= seen or (
            party is not None and self.watchers.get(party, 0) > 0 and party not in self.wire
        ):
            await event.wait()
            event.clear()
        return self.seq


def encode_picture(session: Session, party: str, seq: int, wall_s: float) -> str:
    """The picture message as JSON text. Numeric columns are encoded as whole arrays (NaN as
    null), which is what keeps a 10,000-track picture to a few tens of milliseconds."""
    payload = picture_payload(session, party)
    pic = payload.pop("frame")
    parts = []
    for f in TRACK_FIELDS:
        col = pic[f]
        if col.dtype.kind == "f":
            arr = np.round(col.to_numpy(dtype=float), DECIMALS.get(f, 0))
            text = json.dumps(arr.tolist()).replace("NaN", "null").replace("Infinity", "null")
        else:
            text = json.dumps(strings(col))
        parts.append(f'"{f}":{text}')
    head = json.dumps({"type": "picture", "seq": seq, "tick_wall_s": wall_s}, allow_nan=False)
    rest = dumps(payload).decode()  # picture_payload made it JSON-safe
    return head[:-1] + ',"tracks":{' + ",".join(parts) + "}," + rest[1:]


def encode_picture_frame(session: Session, party: str, seq: int, wall_s: float) -> bytes:
    """The picture message as one binary frame (``picture_wire``): what the WebSocket sends."""
    payload = picture_payload(session, party, panel=True)
    frame, panel = payload.pop("frame"), payload.pop("panel")
    head = {"type": "picture", "seq": seq, "tick_wall_s": wall_s, **payload}
    # time_s: the relays' history keeps a frame by its engine time without inflating it
    small = {k: head[k] for k in ("type", "seq", "tick_wall_s", "party", "time_s")}
    return compress_frame(encode_frame(head, frame, panel), small)


def picture_payload(session: Session, party: str, panel: bool = False) -> dict[str, Any]:
    """Everything the picture message shows a party now — its tracks as the procedures' track
    sharing lets it see them (``Engine.view``) and its alerts — the track table itself under
    ``frame`` (each encoding writes its columns: ``encode_picture``, ``encode_picture_frame``).
    The hotline, identification requests and incidents are read from ``/v1`` like any client.
    ``panel``: with the info panel's columns too, under ``panel`` (``panel_columns``, one value
    per row of the frame: the binary frame carries them, for the instances beside an engine
    process). The alerts are JSON-safe (``Engine.active_alerts`` with digits)."""
    eng = session.engine
    with session.lock:
        # the map searches and lists squawks too (the tracker keeps them); the track sharing
        # hides them with the other identifiers of a track it anonymises
        pic = eng.picture(party)
        pic = pic.assign(squawk=eng.trackers[party].squawks(pic["track_id"].to_numpy()))
        pic = eng.view(party, pic)
        alerts = eng.active_alerts(party, 5)  # 1 m, 0.00001 kt: more digits are only bytes
        now = eng.now_s
        extra = panel_columns(eng.trackers[party], pic, float(now)) if panel else None
    payload: dict[str, Any] = {
        "party": party,
        "time_s": now if np.isfinite(now) else None,
        "frame": pic,
        "alerts": alerts,
    }
    if extra is not None:
        payload["panel"] = extra
    return payload


def panel_columns(tracker: Any, pic: pd.DataFrame, now_s: float) -> dict[str, NDArray[Any]]:
    """What the info panel shows beyond the picture's columns (``live_tracks.track_detail``), as
    columns of ``pic``: the seconds since each track was first seen and last updated, and its
    sensors (``party/sensor`` joined by ``SENSOR_SEP``, each distinct set named once)."""
    first, last, masks = tracker.panel(pic["track_id"].to_numpy())
    uniques, codes = np.unique(masks, return_inverse=True)
    names = np.array([SENSOR_SEP.join(tracker.sensor_names(int(m))) for m in uniques], dtype=object)
    return {
        "first_seen_ago_s": now_s - first,
        "last_update_ago_s": now_s - last,
        "sensors": names[codes.reshape(-1)] if len(pic) else np.empty(0, dtype=object),
    }


def json_safe(value: Any, digits: int | None = None) -> Any:
    """JSON-safe: NaN and inf become None, numpy scalars plain numbers (floats rounded to
    ``digits`` decimals when given). Dispatches on the exact type first, the leaves (floats,
    strings) before the containers: it runs over every alert of a 10,000-track picture once per
    tick (about 200 alerts of 20 numbers each per party)."""
    t = type(value)
    if t is float:
        if not isfinite(value):
            return None
        return value if digits is None else round(value, digits)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is dict:
        return {k if type(k) is str else str(k): json_safe(v, digits) for k, v in value.items()}
    if t is list or t is tuple:
        return [json_safe(v, digits) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, digits) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if not isfinite(value):
            return None
        return value if digits is None else round(value, digits)
    return value
