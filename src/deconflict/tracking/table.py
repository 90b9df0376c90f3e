"""The tracker's array storage: every track's state in struct-of-arrays numpy columns (SI).

A row holds one track: its horizontal Kalman state ``x`` (east, north in m, velocities m/s) and
covariance ``p``, the time of that state ``t`` (Unix s), its life-cycle ``status`` and hit count,
its vertical channel (``alt_x`` = altitude m and rate m/s), its identifiers with the time each was
last confirmed, and the bit mask of the sensors that reported it. Rows are kept in increasing
track id, so a track id is found by binary search; new rows are appended and dropped rows
compacted away at the end of an update.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Obj = NDArray[np.object_]

__all__ = [
    "COASTING",
    "CONFIRMED",
    "DROPPED",
    "IDENTIFIERS",
    "STATUS_NAMES",
    "TENTATIVE",
    "TrackTable",
]

TENTATIVE: Final = 0
CONFIRMED: Final = 1
COASTING: Final = 2
DROPPED: Final = 3
STATUS_NAMES: Final[tuple[str, ...]] = ("tentative", "confirmed", "coasting", "dropped")
#: The identifiers a track carries, each with a ``<name>_t`` column (last confirmed, Unix s).
IDENTIFIERS: Final[tuple[str, ...]] = ("icao24", "callsign", "squawk", "owner")

#: name -> (shape after the row axis, dtype, fill of a new row)
_COLUMNS: Final[dict[str, tuple[tuple[int, ...], str, object]]] = {
    "ids": ((), "i8", 0),
    "x": ((4,), "f8", 0.0),
    "p": ((4, 4), "f8", 0.0),
    "t": ((), "f8", 0.0),
    "t_first": ((), "f8", 0.0),
    "t_seen": ((), "f8", 0.0),  # ``now`` of the last update that brought a report
    "q": ((), "f8", 0.0),
    "manoeuvre_until": ((), "f8", 0.0),
    "status": ((), "i1", 0),
    "hits": ((), "i8", 0),
    "alt_x": ((2,), "f8", 0.0),
    "alt_p": ((2, 2), "f8", 0.0),
    "alt_t": ((), "f8", 0.0),
    "alt_ok": ((), "?", False),
    "alt_rej_val": ((), "f8", 0.0),
    "alt_rej_n": ((), "i8", 0),
    "icao24": ((), "O", None),
    "callsign": ((), "O", None),
    "squawk": ((), "O", None),
    "owner": ((), "O", None),  # party that claimed the track
    "icao24_t": ((), "f8", np.nan),
    "callsign_t": ((), "f8", np.nan),
    "squawk_t": ((), "f8", np.nan),
    "owner_t": ((), "f8", np.nan),
    "touched": ((), "?", False),  # updated by a report in the current update
    "sensor_mask": ((), "u8", 0),  # bit k: sensor k reported the track
}


class TrackTable:
    """Struct-of-arrays storage of the tracks; ``n`` rows in use, the rest is capacity."""

    ids: I64
    x: F64
    p: F64
    t: F64
    t_first: F64
    t_seen: F64
    q: F64
    manoeuvre_until: F64
    status: NDArray[np.int8]
    hits: I64
    alt_x: F64
    alt_p: F64
    alt_t: F64
    alt_ok: NDArray[np.bool_]
    alt_rej_val: F64
    alt_rej_n: I64
    icao24: Obj
    callsign: Obj
    squawk: Obj
    owner: Obj
    icao24_t: F64
    callsign_t: F64
    squawk_t: F64
    owner_t: F64
    touched: NDArray[np.bool_]
    sensor_mask: NDArray[np.uint64]

    def __init__(self, capacity: int = 64) -> None:
        self.n = 0
        for name, (shape, dtype, fill) in _COLUMNS.items():
            setattr(self, name, np.full((capacity, *shape), fill, dtype=dtype))

    def __len__(self) -> int:
        return self.n

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows (capacity doubles)."""
        need = self.n + extra
        cap = self.ids.shape[0]
        if need <= cap:
            return
        new_cap = max(need, 2 * cap)
        for name, (shape, dtype, fill) in _COLUMNS.items():
            old = getattr(self, name)
            new = np.full((new_cap, *shape), fill, dtype=dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, count: int, first_id: int) -> I64:
        """``count`` new rows with ids ``first_id``, ``first_id + 1``, ...; their row numbers."""
        self.reserve(count)
        rows = np.arange(self.n, self.n + count)
        self.n += count
        self.ids[rows] = np.arange(first_id, first_id + count)
        return rows

    def compact(self, keep: NDArray[np.bool_]) -> None:
        """Keep the rows where ``keep`` is true, in order."""
        n = self.n
        k = int(keep.sum())
        if k == n:
            return
        for name in _COLUMNS:
            arr = getattr(self, name)
            arr[:k] = arr[:n][keep]
        self.n = k

    def index_of(self, track_ids: I64) -> I64:
        """Row of each track id (ids are increasing, so a binary search)."""
        return np.searchsorted(self.ids[: self.n], track_ids).astype(np.int64)

    def row_of(self, track_id: int) -> int:
        """The row of a live track id, or -1."""
        row = int(self.index_of(np.array([track_id], dtype=np.int64))[0])
        return row if row < self.n and self.ids[row] == track_id else -1

    def live_rows(self) -> I64:
        """Rows of the confirmed and coasting tracks."""
        st = self.status[: self.n]
        return np.flatnonzero((st == CONFIRMED) | (st == COASTING))
