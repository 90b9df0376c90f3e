"""The map's read calls on a service instance beside the engine process (issue 12), answered from
what the picture bus carries (``picture_bus``, ``picture_relay``): ``GET /v1/live/session`` from
the party's scene message, ``/v1/live/picture`` from its newest frame (decoded on request, once
per frame) or, with ``?at=``, from the ring of frames the instance relayed, ``/v1/live/history``
from that ring's times, and ``/v1/live/track`` from the newest frame.

The ring keeps one frame per ``history_step_s`` of engine time over ``history_s`` (the engine's
own slider reach, 5 s over 3,600 s by default, both in the scene message), all parties together
bounded at ``HISTORY_MAX_BYTES`` (128 MiB; past it the oldest frame of the party holding the
most bytes goes first: a 10,000-track hour is about 720 frames of ~150 kB, ~110 MB). A party
reads only its own entries, as on the relay's WebSocket: the token names the party, and every
store here is keyed by the party the bus named. Times are Unix seconds of engine time; positions
degrees, altitudes ft, speeds kt (the picture message's units).
"""

from __future__ import annotations

import bisect
import json
import struct
import zlib
from collections import deque
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from deconflict.service.live_routes import bearer_caller
from deconflict.service.picture_wire import NUMERIC, PANEL, SENSOR_SEP, ZMAGIC, decode_frame

HISTORY_MAX_BYTES = 128 * 2**20
DECIMALS = {"latitude": 5, "longitude": 5}  # the others to 0.1 (ft, kt, degrees, ft/min)
NO_PICTURE = (
    "no picture of your party on this instance yet: the engine process publishes one each tick "
    "(is `deconflict engine --db` running on this store, and is your party one of its parties?)"
)

Auth = Annotated[str | None, Header()]
At = Annotated[float | None, Query(description="Unix s: the picture as it was then")]
Key = Annotated[str, Query(min_length=1, max_length=200, description="the track's key")]


def frame_time_s(frame: bytes) -> float | None:
    """The engine time (``time_s``) of a compressed picture frame: from its small head, or (a
    frame without it there) inflating only the picture's head."""
    if frame[:4] != ZMAGIC or len(frame) < 8:
        return None
    try:
        (small,) = struct.unpack_from("<I", frame, 4)
        outer = json.loads(frame[8 : 8 + small])
        if "time_s" in outer:
            return None if outer["time_s"] is None else float(outer["time_s"])
        inflate = zlib.decompressobj()
        raw = inflate.decompress(frame[8 + small :], 8)
        (head,) = struct.unpack_from("<I", raw, 4)
        raw += inflate.decompress(inflate.unconsumed_tail, 8 + head - len(raw))
        t = json.loads(raw[8 : 8 + head]).get("time_s")
    except (struct.error, zlib.error, ValueError):
        return None
    return None if t is None else float(t)


class FrameHistory:
    """Each party's frames, one per ``step_s`` of engine time over ``keep_s``, within
    ``max_bytes`` for all parties together (used on the instance's event loop only)."""

    def __init__(self, max_bytes: int = HISTORY_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.rings: dict[str, deque[tuple[float, bytes]]] = {}
        self.held: dict[str, int] = {}  # bytes per party

    @property
    def held_bytes(self) -> int:
        return sum(self.held.values())

    def add(self, party: str, frame: bytes, step_s: float, keep_s: float) -> None:
        t = frame_time_s(frame)
        if t is None:
            return
        ring = self.rings.setdefault(party, deque())
        if ring and t < ring[-1][0]:  # another engine's time line: the old one is no history
            self._drop(party, len(ring))
        elif ring and t < ring[-1][0] + step_s - 1e-6:
            return
        ring.append((t, frame))
        self.held[party] = self.held.get(party, 0) + len(frame)
        old = sum(1 for s, _ in ring if s < t - keep_s - 1e-6)
        self._drop(party, old)
        while self.held_bytes > self.max_bytes:
            self._drop(max(self.held, key=self.held.__getitem__), 1)

    def _drop(self, party: str, n: int) -> None:
        ring = self.rings[party]
        for _ in range(n):
            self.held[party] -= len(ring.popleft()[1])

    def times(self, party: str) -> list[float]:
        return [t for t, _ in self.rings.get(party, ())]

    def at(self, party: str, time_s: float) -> tuple[float, bytes] | None:
        """The party's frame at the kept moment nearest before ``time_s``."""
        ring = self.rings.get(party, deque())
        i = bisect.bisect_right([t for t, _ in ring], time_s + 1e-6)
        return ring[i - 1] if i else None


def picture_message(frame: bytes, panel: bool = False) -> dict[str, Any]:
    """The picture message of a frame as ``GET /v1/live/picture`` gives it (the JSON the
    in-process demo encodes: its head's fields and the tracks in columns, rounded); ``panel``:
    with the info panel's columns the frame carries too (``picture_wire.PANEL``)."""
    msg = decode_frame(frame)
    tracks = msg["tracks"]
    for name in NUMERIC:
        if name in tracks:
            d = DECIMALS.get(name, 1)
            tracks[name] = [None if v is None else round(v, d) for v in tracks[name]]
    if not panel:
        msg["tracks"] = {k: v for k, v in tracks.items() if k not in PANEL}
    return msg


def track_of(msg: dict[str, Any], key: str) -> dict[str, Any] | None:
    """One track of a picture message (``picture_message(frame, panel=True)``) with the fields
    of ``live_tracks.track_detail``: the status, callsign, sensors and update times come from
    the frame's panel columns (None, and no sensors, from a frame without them)."""
    tracks = msg["tracks"]
    try:
        i = tracks.get("key", []).index(key)
    except ValueError:
        return None
    row = {name: col[i] for name, col in tracks.items()}
    out: dict[str, Any] = {name: (row.get(name) or None) for name in
                           ("key", "label", "identity", "owner", "status", "icao24", "squawk",
                            "callsign")}  # fmt: skip
    out |= {name: row.get(name) for name in NUMERIC}
    now = msg.get("time_s")
    first_ago, last_ago = row.get("first_seen_ago_s"), row.get("last_update_ago_s")
    sensors = row.get("sensors") or ""
    out |= {
        "sensors": sensors.split(SENSOR_SEP) if sensors else [],
        "first_seen_s": None if now is None or first_ago is None else now - first_ago,
        "last_update_s": None if now is None or last_ago is None else now - last_ago,
        "age_s": None if last_ago is None else max(0.0, last_ago),
        "time_s": now,
    }
    alt = out["altitude"]
    out["flight_level"] = None if alt is None else round(alt / 100)
    return out


class Decoded:
    """The newest frame of each party decoded once (the picture and track calls share it)."""

    def __init__(self) -> None:
        self.cache: dict[str, tuple[int, dict[str, Any], str]] = {}

    async def of(self, latest: tuple[int, bytes] | None, party: str) -> tuple[dict[str, Any], str]:
        if latest is None:
            raise HTTPException(404, NO_PICTURE)
        seq, frame = latest
        hit = self.cache.get(party)
        if hit is not None and hit[0] == seq:
            return hit[1], hit[2]
        msg = await run_in_threadpool(picture_message, frame, True)
        plain = {**msg, "tracks": {k: v for k, v in msg["tracks"].items() if k not in PANEL}}
        text = json.dumps(plain, allow_nan=False, separators=(",", ":"))
        self.cache[party] = (seq, msg, text)
        return msg, text


def map_router(relay: Any, party_of: Callable[[str | None], str]) -> APIRouter:
    """The map's read calls on ``relay`` (a ``picture_relay.PictureRelay``)."""
    router = APIRouter(prefix="/v1/live", tags=["live picture"])
    decoded = Decoded()
    caller = bearer_caller(party_of)

    @router.get("/session")
    async def describe(authorization: Auth = None) -> dict[str, Any]:
        """Who the caller is, the parties, and the static scene (areas, bases), as the engine
        process published them for the caller's party."""
        scene: dict[str, Any] | None = relay.scenes.get(caller(authorization))
        if scene is None:
            raise HTTPException(404, NO_PICTURE)
        return scene

    @router.get("/picture")
    async def picture(authorization: Auth = None, at: At = None) -> Response:
        """The caller's picture now, or as it was at ``at`` (Unix s; the last hour is kept)."""
        party = caller(authorization)
        if at is None:
            text = (await decoded.of(relay.latest.get(party), party))[1]
            return Response(text, media_type="application/json")
        kept = relay.history.at(party, at)
        if kept is None:
            raise HTTPException(404, f"nothing kept at or before {at}; the slider starts later")
        msg = await run_in_threadpool(picture_message, kept[1])
        body = {"type": "history", "party": party, "time_s": kept[0], "tracks": msg["tracks"]}
        return Response(json.dumps(body, allow_nan=False), media_type="application/json")

    @router.get("/history")
    async def history(authorization: Auth = None) -> dict[str, Any]:
        """The times the slider can replay."""
        party = caller(authorization)
        times = relay.history.times(party)
        step = relay.scenes.get(party, {}).get("history_step_s")
        return {"first_s": times[0] if times else None, "last_s": times[-1] if times else None,
                "step_s": step}  # fmt: skip

    party_dep = Depends(caller)  # the token is checked before the query (401, key or none)

    @router.get("/track")
    async def track(key: Key, party: str = party_dep) -> dict[str, Any]:
        """One track of your picture in detail: identity, owner, identifiers, kinematics, the
        sensors that reported it and the age of its last update."""
        msg = (await decoded.of(relay.latest.get(party), party))[0]
        got = track_of(msg, key)
        if got is None:
            raise HTTPException(404, f"no track {key!r} in your picture; pick one on the map")
        return got

    return router
