"""Coarse grid cells over longitude/latitude (degrees) that index operations by footprint.

Three levels of square cells, 0.1°, 1° and 10° on a side. An operation is filed under the finest
level at which its bounding box covers at most ``MAX_CELLS`` cells; a query looks at every level.
Keys are integers, unique across levels: ``level * 10**8 + row * 10**4 + column``.
"""

from __future__ import annotations

import math

LEVEL_DEG = (0.1, 1.0, 10.0)
MAX_CELLS = 64


def _span(lo: float, hi: float, size: float, offset: float) -> range:
    return range(math.floor((lo + offset) / size), math.floor((hi + offset) / size) + 1)


def cell_count(bbox: tuple[float, float, float, float], level: int) -> int:
    """How many cells of ``level`` the box (min_lon, min_lat, max_lon, max_lat) touches."""
    size = LEVEL_DEG[level]
    return len(_span(bbox[0], bbox[2], size, 180.0)) * len(_span(bbox[1], bbox[3], size, 90.0))


def cells(bbox: tuple[float, float, float, float], level: int) -> list[int]:
    """Keys of the cells of ``level`` the box touches."""
    size = LEVEL_DEG[level]
    rows = _span(max(bbox[1], -90.0), min(bbox[3], 90.0), size, 90.0)
    cols = _span(max(bbox[0], -180.0), min(bbox[2], 180.0), size, 180.0)
    return [level * 10**8 + r * 10**4 + c for r in rows for c in cols]


def filing_level(bbox: tuple[float, float, float, float]) -> int:
    """The finest level at which the box covers at most ``MAX_CELLS`` cells."""
    for level in range(len(LEVEL_DEG) - 1):
        if cell_count(bbox, level) <= MAX_CELLS:
            return level
    return len(LEVEL_DEG) - 1
