"""The recent positions of the parties' own aircraft, kept for incident records and identification
requests: one column of arrays per tick (time Unix s, latitude and longitude in degrees,
altitude in m), written with a few array operations per tick rather than a point per aircraft.

Each aircraft key gets a slot (a row) the first time it is seen; ticks are stored in blocks of
``BLOCK_TICKS`` columns; a block older than ``memory_s`` is dropped whole, and what is read back
is the points of the last ``memory_s`` before the newest tick. A key not seen for longer than
``memory_s`` gives its slot back when the next block starts (its points there are all older than
any read will take), and a new key takes it: a day of aircraft coming and going costs the slots
of the aircraft of the last ``memory_s``, not of every aircraft of the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

Point = tuple[float, float, float, float]  # time s, latitude, longitude, altitude m

BLOCK_TICKS = 64


@dataclass
class _Block:
    """``BLOCK_TICKS`` ticks of ``width`` slots: which slots were seen at each tick, and where
    (one row per tick, so that a tick is written to contiguous memory)."""

    width: int
    t_s: F64 = field(init=False)
    seen: NDArray[np.bool_] = field(init=False)
    lat: F64 = field(init=False)
    lon: F64 = field(init=False)
    alt_m: F64 = field(init=False)
    n: int = 0  # columns written

    def __post_init__(self) -> None:
        shape = (BLOCK_TICKS, self.width)
        self.t_s = np.full(BLOCK_TICKS, np.nan)
        self.seen = np.zeros(shape, dtype=bool)
        self.lat, self.lon, self.alt_m = np.empty(shape), np.empty(shape), np.empty(shape)

    def points(self, slot: int, oldest_s: float) -> tuple[F64, F64, F64, F64]:
        if slot >= self.width:
            return _EMPTY
        n = self.n
        use = self.seen[:n, slot] & (self.t_s[:n] >= oldest_s)
        return (self.t_s[:n][use], self.lat[:n, slot][use], self.lon[:n, slot][use],
                self.alt_m[:n, slot][use])  # fmt: skip


_EMPTY: tuple[F64, F64, F64, F64] = (np.empty(0), np.empty(0), np.empty(0), np.empty(0))


class TrackLog:
    """Own aircraft's positions over the last ``memory_s`` (s), by aircraft key."""

    def __init__(self, memory_s: float) -> None:
        self.memory_s = memory_s
        self.slot: dict[str, int] = {}
        self.blocks: list[_Block] = []
        self.now_s = -np.inf
        self._keys: list[str] = []
        self._slots: I64 = np.empty(0, dtype=np.int64)
        self._key_of: list[str | None] = []  # slot -> its key (None: free)
        self._seen_s: F64 = np.empty(0)  # slot -> when its key was last written (s)
        self._free: list[int] = []  # slots given back, the lowest taken first

    def append(self, now_s: float, keys: list[str], lat: F64, lon: F64, alt_m: F64) -> None:
        """The positions of aircraft ``keys`` at ``now_s``; a tick older than the newest is
        ignored, and at the newest tick again only the aircraft not yet written are added."""
        if now_s < self.now_s or not keys:
            return
        slots = self._slots_of(keys)
        width = max(slots.max() + 1, 1)
        if now_s > self.now_s:
            last = self.blocks[-1] if self.blocks else None
            if last is None or last.n == BLOCK_TICKS or last.width < width:
                self._recycle(now_s)
                last = _Block(int(width * 1.25) + 64)
                self.blocks.append(last)
            last.t_s[last.n] = now_s
            last.n += 1
            self.now_s = now_s
            oldest = now_s - self.memory_s
            while self.blocks[0].n and self.blocks[0].t_s[self.blocks[0].n - 1] < oldest:
                self.blocks.pop(0)
        block = self.blocks[-1]
        if block.width < width:  # new aircraft at a tick already written: widen its block
            return self._widen_and_append(keys, slots, lat, lon, alt_m)
        col = block.n - 1
        new = ~block.seen[col, slots]
        if not new.all():
            slots, lat, lon, alt_m = slots[new], lat[new], lon[new], alt_m[new]
        block.seen[col, slots] = True
        block.lat[col, slots] = lat
        block.lon[col, slots] = lon
        block.alt_m[col, slots] = alt_m
        self._seen_s[slots] = now_s

    def _recycle(self, now_s: float) -> None:
        """Give back the slots of the keys not seen for longer than ``memory_s``."""
        n = len(self._key_of)
        stale = np.flatnonzero(self._seen_s[:n] < now_s - self.memory_s).tolist()
        if not stale:
            return
        for slot in stale:
            key = self._key_of[slot]
            if key is not None:
                del self.slot[key]
                self._key_of[slot] = None
                self._free.append(slot)
        self._seen_s[stale] = np.inf  # free: never stale again until taken
        self._free.sort(reverse=True)  # popped from the end: the lowest slot first
        self._keys = []  # the cached slots of the last keys may name a slot given back

    def _widen_and_append(
        self, keys: list[str], slots: I64, lat: F64, lon: F64, alt_m: F64
    ) -> None:
        old = self.blocks[-1]
        block = _Block(int((slots.max() + 1) * 1.25) + 64)
        block.t_s[:] = old.t_s
        block.n = old.n
        for name in ("seen", "lat", "lon", "alt_m"):
            getattr(block, name)[:, : old.width] = getattr(old, name)
        self.blocks[-1] = block
        self.append(self.now_s, keys, lat, lon, alt_m)

    def _slots_of(self, keys: list[str]) -> I64:
        if keys == self._keys:
            return self._slots
        get = self.slot.get
        found = [get(k, -1) for k in keys]
        if -1 in found:
            for i, s in enumerate(found):
                if s == -1:
                    found[i] = self._take_slot(keys[i])
        self._keys, self._slots = list(keys), np.array(found, dtype=np.int64)
        return self._slots

    def _take_slot(self, key: str) -> int:
        """A slot for a key seen for the first time (or again after giving its slot back)."""
        slot = self.slot.get(key)
        if slot is not None:  # the same key twice in one call
            return slot
        if self._free:
            slot = self._free.pop()
            self._key_of[slot] = key
        else:
            slot = len(self._key_of)
            self._key_of.append(key)
            if slot >= self._seen_s.size:
                self._seen_s = np.concatenate((self._seen_s, np.full(slot + 1024, np.inf)))
        self.slot[key] = slot
        return slot

    def points(self, key: str) -> tuple[F64, F64, F64, F64]:
        """Times (s), latitudes, longitudes and altitudes (m) of ``key``, oldest first."""
        return self._points(key, None)

    def last(self, key: str, count: int) -> tuple[Point, ...]:
        """The last ``count`` positions of ``key``, oldest first."""
        t, lat, lon, alt = self._points(key, count)
        t, lat, lon, alt = t[-count:], lat[-count:], lon[-count:], alt[-count:]
        return tuple(zip(t.tolist(), lat.tolist(), lon.tolist(), alt.tolist(), strict=True))

    def _points(self, key: str, count: int | None) -> tuple[F64, F64, F64, F64]:
        slot = self.slot.get(key)
        if slot is None:
            return _EMPTY
        oldest = self.now_s - self.memory_s
        parts: list[tuple[F64, F64, F64, F64]] = []
        got = 0
        for block in reversed(self.blocks):  # newest first, until ``count`` points are found
            part = block.points(slot, oldest)
            parts.append(part)
            got += part[0].size
            if count is not None and got >= count:
                break
        if len(parts) == 1:
            return parts[0]
        t, lat, lon, alt = (np.concatenate([p[i] for p in reversed(parts)]) for i in range(4))
        return t, lat, lon, alt
