"""The pictures of the last hour, for the time slider (times Unix s).

Every ``step_s`` the engine keeps each party's picture (the columns the map draws); the oldest
go when ``reach_s`` is full. A picture is a state, not a decision: it is not in the log.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

import pandas as pd

from deconflict.engine.picture import empty_picture
from deconflict.errors import NotFoundError

COLUMNS = ["key", "owner", "identity", "label", "latitude", "longitude", "altitude", "track"]


class History:
    def __init__(self, reach_s: float, step_s: float) -> None:
        self.step_s = step_s
        self.frames: deque[tuple[float, dict[str, pd.DataFrame]]] = deque(
            maxlen=max(1, int(reach_s / step_s))
        )

    def record(self, now_s: float, pictures: Mapping[str, pd.DataFrame]) -> None:
        if self.frames and now_s - self.frames[-1][0] < self.step_s - 1e-9:
            return
        self.frames.append((now_s, {p: pic.loc[:, COLUMNS].copy() for p, pic in pictures.items()}))

    def times(self) -> list[float]:
        return [t for t, _ in self.frames]

    def at(self, party: str, time_s: float) -> tuple[float, pd.DataFrame]:
        """The party's picture at the recorded moment nearest before ``time_s``."""
        best: tuple[float, pd.DataFrame] | None = None
        for t, pics in self.frames:
            if t <= time_s + 1e-9:
                best = (t, pics.get(party, empty_picture()))
        if best is None:
            raise NotFoundError(f"nothing recorded at or before {time_s}; the slider starts later")
        return best
