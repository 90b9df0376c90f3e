"""Which track holds which identity: icao24 addresses, sensors' track numbers, reporting sensors.

An ``icao24`` address is one airframe, so it belongs to one track at a time (a report that moves
it to another track is an identity conflict, counted and recorded). A sensor's own track number
``(party, sensor, number)`` points at a track too, until the sensor reuses the number. Each
``(party, sensor)`` pair gets a bit of a track's sensor mask (64 sensors; those past the 64th
share the last bit).
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.tracking.batch import ReportBatch
from deconflict.tracking.counters import TrackerLog
from deconflict.tracking.table import IDENTIFIERS, TrackTable

I64 = NDArray[np.int64]
SensorTrack = tuple[Any, Any, int]

__all__ = ["IdentityIndex"]

_SMALL = 256  # below this many reports, plain loops beat pandas' hash tables


class IdentityIndex:
    """Track ids by icao24 and by sensor track number, and the sensors' bits."""

    def __init__(self) -> None:
        self.by_icao24: dict[str, int] = {}  # icao24 -> track id
        self.by_sensor_track: dict[SensorTrack, int] = {}  # (party, sensor, number) -> track id
        # track id -> its numbers (tuples: out of the garbage collector's walks once seen)
        self._sensor_keys: dict[int, tuple[SensorTrack, ...]] = {}
        self.sensor_bits: dict[tuple[Any, Any], int] = {}  # (party, sensor) -> bit

    def lookup(self, b: ReportBatch, idx: I64) -> tuple[I64, NDArray[np.bool_]]:
        """The track id of each report ``idx`` by icao24, else by sensor track number (-1 if
        none), and whether it was found by number."""
        # dict.get over the list in C (None is never a key: -1)
        ids = np.fromiter(
            map(self.by_icao24.get, b.icao24[idx].tolist(), repeat(-1)),
            dtype=np.int64,
            count=idx.size,
        )
        by_number = np.zeros(idx.size, dtype=bool)
        numbers = b.track_number[idx]
        ask = np.flatnonzero((ids < 0) & (numbers >= 0))
        if ask.size and self.by_sensor_track:
            get_n = self.by_sensor_track.get
            ri = idx[ask]
            found = np.fromiter(
                (
                    get_n((p, s, k), -1)
                    for p, s, k in zip(
                        b.party[ri].tolist(),
                        b.sensor[ri].tolist(),
                        numbers[ask].tolist(),
                        strict=True,
                    )
                ),
                dtype=np.int64,
                count=ask.size,
            )
            ids[ask] = found
            by_number[ask] = found >= 0
        return ids, by_number

    def unbind(self, key: SensorTrack) -> None:
        """Forget a sensor track number (the sensor reused it for another aircraft)."""
        self.by_sensor_track.pop(key, None)

    def update(
        self, table: TrackTable, rows: I64, ri: I64, b: ReportBatch, log: TrackerLog, now_s: float
    ) -> None:
        """Give track rows ``rows`` the identifiers of their reports ``ri``."""
        t = b.t_s[ri]
        for name in ("icao24", "callsign", "squawk"):
            vals = getattr(b, name)[ri]
            has = vals != None  # noqa: E711
            if not has.any():
                continue
            arr = getattr(table, name)
            tarr = getattr(table, f"{name}_t")
            rr, vv, tt = rows[has], vals[has], t[has]
            if name == "icao24":
                self._bind_icao24(table, rr, vv, log, now_s)
            arr[rr] = vv
            tarr[rr] = np.fmax(tarr[rr], tt)
        self._sensor_update(table, rows, ri, b)
        self._bind_numbers(table, rows, ri, b)

    def _bind_numbers(self, table: TrackTable, rows: I64, ri: I64, b: ReportBatch) -> None:
        """Point each report's sensor track number at its track."""
        has = np.flatnonzero(b.track_number[ri] >= 0)
        if has.size == 0:
            return
        r = ri[has]
        keys = zip(
            b.party[r].tolist(), b.sensor[r].tolist(), b.track_number[r].tolist(), strict=True
        )
        by_number = self.by_sensor_track
        for key, tid in zip(keys, table.ids[rows[has]].tolist(), strict=True):
            if by_number.get(key) != tid:
                by_number[key] = tid
                self._sensor_keys[tid] = (*self._sensor_keys.get(tid, ()), key)

    def _bind_icao24(
        self, table: TrackTable, rows: I64, vals: NDArray[np.object_], log: TrackerLog, now_s: float
    ) -> None:
        by_icao24 = self.by_icao24
        old_arr = table.icao24[rows]
        tid_arr = table.ids[rows]
        values = vals.tolist()
        # the usual case: the track already holds its address and the index points at it
        # (compared as arrays; the index read with dict.get over the list in C)
        bound = np.fromiter(
            map(by_icao24.get, values, repeat(-1)), dtype=np.int64, count=len(values)
        )
        change = np.flatnonzero((old_arr != vals) | (bound != tid_arr)).tolist()
        if not change:
            return
        olds, tids = old_arr.tolist(), tid_arr.tolist()
        for j in change:
            old, val, tid = olds[j], values[j], tids[j]
            prev = by_icao24.get(val)
            if prev is not None and prev != tid:
                log.count("identity_conflicts")
                log.error(
                    "identity_conflict",
                    now_s,
                    None,
                    -1,
                    f"icao24 {val} moved from track {prev} to track {tid}",
                )
            if old is not None and old != val and by_icao24.get(old) == tid:
                del by_icao24[old]
            by_icao24[val] = tid

    def _sensor_update(self, table: TrackTable, rows: I64, ri: I64, b: ReportBatch) -> None:
        """Set each row's bit of the sensor (party, sensor) its report came from."""
        if ri.size == 0:
            return
        bits = self.sensor_bits
        if ri.size < _SMALL:  # a hash table costs more than it saves on a few reports
            codes = np.fromiter(
                (
                    bits.setdefault(p, min(len(bits), 63))
                    for p in zip(b.party[ri].tolist(), b.sensor[ri].tolist(), strict=True)
                ),
                dtype=np.uint64,
                count=ri.size,
            )
            np.bitwise_or.at(table.sensor_mask, rows, np.left_shift(np.uint64(1), codes))
            return
        # the few distinct sensors of the batch, in order of appearance (bits are given so)
        party_code, parties = _factorize(b.party[ri])
        sensor_code, sensors = _factorize(b.sensor[ri])
        k = len(sensors)
        pair_code, pairs = pd.factorize(party_code * k + sensor_code)
        pair_bit = np.array(
            [bits.setdefault((parties[c // k], sensors[c % k]), min(len(bits), 63)) for c in pairs],
            dtype=np.uint64,
        )
        np.bitwise_or.at(table.sensor_mask, rows, np.left_shift(np.uint64(1), pair_bit[pair_code]))

    def merged(self, table: TrackTable, keep: int, gone: int) -> None:
        """Row ``gone`` merges into row ``keep``: its identifiers (when newer) and numbers."""
        for name in IDENTIFIERS:
            arr, tarr = getattr(table, name), getattr(table, f"{name}_t")
            if arr[gone] is not None and not (tarr[keep] >= tarr[gone]):
                arr[keep], tarr[keep] = arr[gone], tarr[gone]
        table.sensor_mask[keep] |= table.sensor_mask[gone]
        keep_id, gone_id = int(table.ids[keep]), int(table.ids[gone])
        if table.icao24[keep] is not None:
            self.by_icao24[table.icao24[keep]] = keep_id
        moved = self._sensor_keys.pop(gone_id, ())
        for key in moved:
            self.by_sensor_track[key] = keep_id
        if moved:
            self._sensor_keys[keep_id] = (*self._sensor_keys.get(keep_id, ()), *moved)

    def dropped(self, table: TrackTable, rows: I64) -> None:
        """Forget what points at the track rows ``rows`` (about to be removed)."""
        for r in rows:
            tid = int(table.ids[r])
            ic = table.icao24[r]
            if ic is not None and self.by_icao24.get(ic) == tid:
                del self.by_icao24[ic]
            for key in self._sensor_keys.pop(tid, ()):
                if self.by_sensor_track.get(key) == tid:
                    del self.by_sensor_track[key]

    def sensors(self, mask: int) -> list[str]:
        """The ``party/sensor`` names of the bits set in ``mask``."""
        return sorted(
            f"{p}/{s}" if p else str(s) for (p, s), k in self.sensor_bits.items() if mask >> k & 1
        )


def _factorize(values: NDArray[np.object_]) -> tuple[I64, list[Any]]:
    """Codes of ``values`` and the distinct values in order of first appearance (None kept)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), [None if isinstance(u, float) and u != u else u for u in uniques]
