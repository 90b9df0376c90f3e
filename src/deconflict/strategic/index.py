"""An index of live operations for strategic conflict checks (metres, seconds since the epoch).

``OperationIndex`` keeps every volume of every indexed operation as a row of flat numpy arrays
(``deconflict.strategic.volumes``). A query first keeps the rows whose time and altitude ranges
come within the minima and whose bounding spheres (in Earth-centred coordinates, so there is no
antimeridian or pole to handle) come within the horizontal minimum: one vectorised pass over all
rows. The few rows left get the exact test, shapely 2 vectorised, in the tangent plane at the
candidate volume's centre. Writes are O(volumes): a removed operation's rows are blanked and the
arrays compacted when half of them are dead.

``conflicts_among(ids)`` answers the same question for many indexed operations at once (every
operation of one party, for its need-to-know listing): a k-d tree over the rows' centres (built
once per state of the index) finds each of their rows' neighbours within reach, the same
time, altitude and sphere tests keep the pairs that may conflict, and only those get the exact
test: one pass, not one query per operation.

``brute_force_conflicts`` is the reference: every pair, one at a time, no pruning.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree

from deconflict.errors import NotFoundError
from deconflict.geo import F64
from deconflict.strategic import volumes as vol
from deconflict.strategic.model import NO_BUFFERS, Buffers, Operation, Volume4D
from deconflict.strategic.states import LIVE_STATES


class VolumeConflict(NamedTuple):
    """One conflicting pair: volume ``candidate_volume`` of the candidate against volume
    ``other_volume`` of operation ``operation_id``."""

    operation_id: str
    candidate_volume: int
    other_volume: int


def conflicting_ids(conflicts: Iterable[VolumeConflict]) -> list[str]:
    """Sorted distinct operation ids of a list of conflicts."""
    return sorted({c.operation_id for c in conflicts})


class OperationIndex:
    """Live operations, indexed for ``query``; ``buffers`` are the separation minima.

    Operations in state ``Ended`` are not indexed (``add`` of one removes any earlier version).
    Not thread-safe: a service shares one index behind a lock (or rebuilds it per process from
    the store: ``OperationIndex(buffers, live_operations)``).
    """

    _FIELDS = ("radius_m", "reach_m", "lower_m", "upper_m", "start_s", "end_s", "lat", "lon")

    def __init__(self, buffers: Buffers = NO_BUFFERS, operations: Iterable[Operation] = ()) -> None:
        self.buffers = buffers
        self._ops: dict[str, Operation] = {}
        self._rows: dict[str, vol.I64] = {}
        self._n = 0
        self._dead = 0
        cap = 1024
        self._centre = np.zeros((cap, 3))
        self._cols = {f: np.zeros(cap) for f in self._FIELDS}
        self._blank_rows(0, cap)
        self._row_op: list[str] = []
        self._row_vol = np.zeros(cap, dtype=np.int64)
        self._verts: list[F64 | None] = []
        # the last volumes compiled: a write queries a candidate, then adds the same volumes
        # (frozen models in a tuple, so the same object means the same arrays)
        self._last: tuple[Sequence[Volume4D], vol.VolumeArrays] | None = None
        self._tree: cKDTree | None = None  # over the rows' centres; dropped at every change
        for op in operations:
            self.add(op)

    # -- writes ----------------------------------------------------------------------------
    def _blank_rows(self, lo: int, hi: int) -> None:
        self._cols["start_s"][lo:hi] = np.inf
        self._cols["end_s"][lo:hi] = -np.inf

    def _grow(self, need: int) -> None:
        cap = len(self._cols["start_s"])
        if need <= cap:
            return
        new = max(need, 2 * cap)
        self._centre = np.concatenate((self._centre, np.zeros((new - cap, 3))))
        for f in self._FIELDS:
            self._cols[f] = np.concatenate((self._cols[f], np.zeros(new - cap)))
        self._row_vol = np.concatenate((self._row_vol, np.zeros(new - cap, dtype=np.int64)))
        self._blank_rows(cap, new)

    def add(self, op: Operation) -> None:
        """Index ``op``, replacing any earlier version with the same id."""
        if op.id in self._ops:
            self.remove(op.id)
        if op.state not in LIVE_STATES:
            return
        self._tree = None
        a = self._compile(op.volumes)
        k = len(a)
        lo = self._n
        self._grow(lo + k)
        hi = lo + k
        self._centre[lo:hi] = a.centre_ecef_m
        c = self._cols
        c["radius_m"][lo:hi] = a.radius_m
        c["reach_m"][lo:hi] = a.reach_m
        c["lower_m"][lo:hi] = a.lower_m
        c["upper_m"][lo:hi] = a.upper_m
        c["start_s"][lo:hi] = a.start_s
        c["end_s"][lo:hi] = a.end_s
        c["lat"][lo:hi] = a.centre_lat_deg
        c["lon"][lo:hi] = a.centre_lon_deg
        self._row_vol[lo:hi] = np.arange(k)
        self._row_op.extend([op.id] * k)
        self._verts.extend(a.vertices_ecef_m)
        self._rows[op.id] = np.arange(lo, hi)
        self._ops[op.id] = op
        self._n = hi

    replace = add

    def _compile(self, volumes: Sequence[Volume4D]) -> vol.VolumeArrays:
        last = self._last
        if last is not None and last[0] is volumes:
            return last[1]
        a = vol.compile_volumes(volumes)
        self._last = (volumes, a)
        return a

    def remove(self, operation_id: str) -> Operation:
        """Take an operation out of the index and return it (``NotFoundError`` if absent)."""
        op = self._ops.pop(operation_id, None)
        if op is None:
            raise NotFoundError(f"operation {operation_id!r} is not in the index")
        rows = self._rows.pop(operation_id, None)
        self._tree = None
        if rows is not None:
            self._cols["start_s"][rows] = np.inf
            self._cols["end_s"][rows] = -np.inf
            for r in rows:
                self._verts[r] = None
            self._dead += len(rows)
            if self._dead > 1024 and 2 * self._dead > self._n:
                self._compact()
        return op

    def prune(self, now_s: float) -> list[str]:
        """Remove the operations whose every volume has ended by ``now_s`` (seconds since the
        epoch); return their ids, sorted."""
        gone = sorted(i for i, op in self._ops.items() if op.time_end.timestamp() <= now_s)
        for i in gone:
            self.remove(i)
        return gone

    def _compact(self) -> None:
        ops = list(self._ops.values())
        self._ops.clear()
        self._rows.clear()
        self._n = self._dead = 0
        self._row_op = []
        self._verts = []
        self._blank_rows(0, len(self._cols["start_s"]))
        for op in ops:
            self.add(op)

    # -- reads -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ops)

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._ops

    def __iter__(self) -> Iterator[Operation]:
        return iter(list(self._ops.values()))

    def get(self, operation_id: str) -> Operation:
        try:
            return self._ops[operation_id]
        except KeyError:
            raise NotFoundError(f"operation {operation_id!r} is not in the index") from None

    def _arrays(self) -> vol.VolumeArrays:
        n, c = self._n, self._cols
        return vol.VolumeArrays(
            centre_ecef_m=self._centre[:n],
            centre_lat_deg=c["lat"][:n],
            centre_lon_deg=c["lon"][:n],
            reach_m=c["reach_m"][:n],
            radius_m=c["radius_m"][:n],
            lower_m=c["lower_m"][:n],
            upper_m=c["upper_m"][:n],
            start_s=c["start_s"][:n],
            end_s=c["end_s"][:n],
            vertices_ecef_m=self._verts,
        )

    def query(self, candidate: Operation, buffers: Buffers | None = None) -> list[VolumeConflict]:
        """Every (operation, volume) pair in conflict with the candidate's volumes.

        The candidate's own id is never reported (so a new version can be checked before it
        replaces the old one). ``buffers`` default to the index's.
        """
        b = self.buffers if buffers is None else buffers
        if self._n == 0:
            return []
        a = self._compile(candidate.volumes)
        ia, ib = vol.conflict_pairs(a, self._arrays(), b)
        out = [
            VolumeConflict(self._row_op[j], int(i), int(self._row_vol[j]))
            for i, j in zip(ia.tolist(), ib.tolist(), strict=True)
            if self._row_op[j] != candidate.id
        ]
        out.sort()
        return out

    def conflicts_among(
        self, operation_ids: Collection[str], buffers: Buffers | None = None
    ) -> list[tuple[str, VolumeConflict]]:
        """Every conflicting volume pair between the indexed operations ``operation_ids`` and
        the indexed operations outside that set: ``(own id, VolumeConflict(other id, own
        volume, other volume))``, sorted. The same pairs as ``query`` of each one, at once."""
        b = self.buffers if buffers is None else buffers
        own = [self._rows[i] for i in operation_ids if i in self._rows]
        if not own or self._n == 0:
            return []
        a = self._arrays()
        mine = np.concatenate(own)
        live = np.isfinite(a.start_s)
        if self._tree is None:
            self._tree = cKDTree(a.centre_ecef_m)
        # each own row's neighbours within its reach plus the largest reach of any row
        reach = a.reach_m[mine] + float(a.reach_m[live].max()) + b.horizontal_m
        near = self._tree.query_ball_point(a.centre_ecef_m[mine], reach)
        counts = np.array([len(x) for x in near], dtype=np.int64)
        if counts.sum() == 0:
            return []
        ia = np.repeat(mine, counts)
        ib = np.concatenate([x for x in near if x]).astype(np.int64)
        in_set = np.zeros(len(a), dtype=bool)
        in_set[mine] = True
        outside = ~in_set[ib]
        keep = outside & (a.start_s[ib] < a.end_s[ia]) & (a.end_s[ib] > a.start_s[ia])
        vgap = np.maximum(a.lower_m[ib] - a.upper_m[ia], a.lower_m[ia] - a.upper_m[ib])
        keep &= vgap < b.vertical_m - b.tolerance_m
        d = a.centre_ecef_m[ib] - a.centre_ecef_m[ia]
        lim = a.reach_m[ia] + a.reach_m[ib] + b.horizontal_m
        keep &= np.einsum("ij,ij->i", d, d) < lim * lim
        ia, ib = ia[keep], ib[keep]
        hit = vol.pairwise_conflict(a, ia, a, ib, b)
        out = [
            (
                self._row_op[i],
                VolumeConflict(self._row_op[j], int(self._row_vol[i]), int(self._row_vol[j])),
            )
            for i, j in zip(ia[hit].tolist(), ib[hit].tolist(), strict=True)
        ]
        out.sort()
        return out


def _pair_conflicts(
    a: vol.VolumeArrays, i: int, b: vol.VolumeArrays, j: int, buffers: Buffers
) -> bool:
    if not (a.start_s[i] < b.end_s[j] and b.start_s[j] < a.end_s[i]):
        return False
    vgap = max(b.lower_m[j] - a.upper_m[i], a.lower_m[i] - b.upper_m[j])
    if not vgap < buffers.vertical_m - buffers.tolerance_m:
        return False
    # the tangent-plane test below is only valid for volumes near each other (a far volume's
    # orthographic projection folds onto the plane): two volumes whose bounding spheres, widened
    # by the buffer, do not meet cannot conflict
    gap = float(np.linalg.norm(b.centre_ecef_m[j] - a.centre_ecef_m[i]))
    if not gap < a.reach_m[i] + b.reach_m[j] + buffers.horizontal_m:
        return False
    lat0, lon0 = float(a.centre_lat_deg[i]), float(a.centre_lon_deg[i])
    ga = vol.footprints([a.vertices_ecef_m[i]], a.centre_ecef_m[i : i + 1], lat0, lon0)[0]
    gb = vol.footprints([b.vertices_ecef_m[j]], b.centre_ecef_m[j : j + 1], lat0, lon0)[0]
    reach = float(a.radius_m[i] + b.radius_m[j])
    if buffers.horizontal_m == 0.0 and reach == 0.0:
        return bool(ga.relate_pattern(gb, "T********"))
    return bool(ga.distance(gb) < buffers.horizontal_m + reach - buffers.tolerance_m)


def brute_force_conflicts(
    candidate: Operation, others: Sequence[Operation], buffers: Buffers = NO_BUFFERS
) -> list[VolumeConflict]:
    """The reference check: every volume pair tested on its own, no pruning."""
    a = vol.compile_volumes(candidate.volumes)
    out: list[VolumeConflict] = []
    for op in others:
        if op.id == candidate.id or op.state not in LIVE_STATES:
            continue
        b = vol.compile_volumes(op.volumes)
        for i in range(len(a)):
            for j in range(len(b)):
                if _pair_conflicts(a, i, b, j, buffers):
                    out.append(VolumeConflict(op.id, i, j))
    out.sort()
    return out


__all__ = ["OperationIndex", "VolumeConflict", "brute_force_conflicts", "conflicting_ids"]
