"""The DSS's volume geometry (seconds, metres, degrees): whether two sets of volumes meet
(InterUSS's rule), the cache of stored subscriptions' and constraint references' compiled
volumes, a set of volumes' time span and whether one footprint box covers another.

Shared by ``workflows.dss`` (intents), ``workflows.dss_subscriptions`` and
``workflows.dss_constraints``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from deconflict.strategic.model import NO_BUFFERS, Volume4D, parse_volume
from deconflict.strategic.volumes import VolumeArrays, compile_volumes, conflict_pairs


def meets(a: Sequence[Volume4D] | VolumeArrays, b: Sequence[Volume4D] | VolumeArrays) -> bool:
    """Whether two sets of volumes intersect (InterUSS's rule: interiors overlap)."""
    ca = a if isinstance(a, VolumeArrays) else compile_volumes(a)
    cb = b if isinstance(b, VolumeArrays) else compile_volumes(b)
    if not len(ca) or not len(cb):
        return False
    ia, _ = conflict_pairs(ca, cb, NO_BUFFERS)
    return len(ia) > 0


class CompiledCache:
    """Compiled volumes of stored subscriptions and constraint references, by (id, version):
    each version is parsed and compiled once, not at every write it is checked against."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], VolumeArrays] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], volumes: Sequence[dict[str, Any]]) -> VolumeArrays:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        compiled = compile_volumes(volumes_of(volumes))
        self.put(key, compiled)
        return compiled

    def put(self, key: tuple[str, str], compiled: VolumeArrays) -> None:
        with self._lock:
            self._items[key] = compiled
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def volumes_of(data: Sequence[dict[str, Any]]) -> list[Volume4D]:
    return [parse_volume(v) for v in data]


def span(volumes: Sequence[Volume4D]) -> tuple[float, float]:
    return min(v.start_s for v in volumes), max(v.end_s for v in volumes)


def covers(outer: tuple[float, float, float, float], inner: tuple[float, ...]) -> bool:
    eps = 1e-9
    return (
        outer[0] <= inner[0] + eps
        and outer[1] <= inner[1] + eps
        and outer[2] >= inner[2] - eps
        and outer[3] >= inner[3] - eps
    )
