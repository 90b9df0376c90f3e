"""Multi-target tracking metrics, in m: OSPA (Schuhmacher, Vo & Vo 2008).

OSPA between a set of true positions and a set of track positions with cut-off ``c`` (m) and
order ``p``: ``(min over assignments (Σ min(c, d)^p + c^p |m - n|) / max(m, n))^(1/p)``, 0 when
both sets are empty. Positions are any number of dimensions, metres.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

F64 = NDArray[np.float64]

__all__ = ["ospa"]


def ospa(truth_m: F64, tracks_m: F64, c_m: float = 1000.0, p: float = 1.0) -> float:
    """OSPA distance (m) between point sets ``truth_m`` ``(m, d)`` and ``tracks_m`` ``(n, d)``."""
    x = np.asarray(truth_m, dtype=np.float64)
    y = np.asarray(tracks_m, dtype=np.float64)
    m, n = x.shape[0], y.shape[0]
    if m == 0 and n == 0:
        return 0.0
    if m == 0 or n == 0:
        return float(c_m)
    d = np.minimum(cdist(x, y), c_m) ** p
    rows, cols = linear_sum_assignment(d)
    total = float(d[rows, cols].sum()) + c_m**p * abs(m - n)
    return float((total / max(m, n)) ** (1.0 / p))
