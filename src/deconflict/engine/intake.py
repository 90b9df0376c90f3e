"""Between two ticks: the reports taken as they arrive, and the conflicts of the tracks they
confirm alerted at once (the real-time loop runs it, ``Session.run_realtime``; times Unix s).

A tick (``Engine.tick``) decides everything once a second, so an alert waited up to a second
for it. An intake, run a few times between two ticks, does only what a new alert waits for:

1. polls the sources whose reports arrive on their own (a live feed's buffer, not a simulator:
   ``engine.sources.polled_between_ticks``) and feeds their reports to the parties' trackers,
   as the tick does (the same tracking; each call has a fixed cost besides the per-report
   one — aging and the merge search over every track, about 10 ms per tracker of 10,000
   tracks — hence an intake every ``EngineConfig.intake_every_s``, not at every read);
2. when a track was confirmed since the last intake, classifies the tracks confirmed since the
   tick (only those);
3. predicts the conflicts of the tracks no intake has seen yet — only the pairs with one of
   them (``predict.prune.query_pairs``) — against the tick's scene flown on to the intake's
   time (straight flight, as the prediction assumes) and the tracks confirmed since the tick
   (two of those may be the conflict), and raises the new ones through the tick's ``Alerts``
   and desk: the same ``alert.raised`` entries (one per party alerted, the same payload) and
   the same choice of pairs (``engine.conflicts``).

Everything else waits for the next tick: updating and clearing alerts, conflict notices,
identification, incidents, the history and the pictures. That tick finds the alert open (its
pair in either order) and carries it on under its id: an alert is never raised twice. A track
whose identity changed since the tick, or an alert an engine before this one left in the log,
is also left to the tick. Fast-time runs (``Session.run_fast``, the Monte Carlo) run no intake.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from deconflict.engine.conflicts import scene_conflicts
from deconflict.engine.picture import SceneIndex, classify_picture, records, shared_scene
from deconflict.geo import destination_deg
from deconflict.units import FPM, FT, KT

if TYPE_CHECKING:
    from deconflict.engine.engine import Engine


def flown_on(scene: pd.DataFrame, dt_s: float) -> pd.DataFrame:
    """The scene's tracks ``dt_s`` later, in straight flight (a copy)."""
    if dt_s == 0.0 or not len(scene):
        return scene
    out = scene.copy()
    lat, lon = destination_deg(
        scene["latitude"].to_numpy(float),
        scene["longitude"].to_numpy(float),
        scene["track"].to_numpy(float),
        scene["groundspeed"].to_numpy(float) * KT * dt_s,
    )
    out["latitude"], out["longitude"] = lat, lon
    climb_m = scene["vertical_rate"].to_numpy(float) * FPM * dt_s
    out["altitude"] = scene["altitude"].to_numpy(float) + climb_m / FT
    return out


class Intake:
    """The tracks the intakes since the tick have seen (reset at each tick) and their cost."""

    def __init__(self) -> None:
        self.tick = -1
        self.checked: dict[str, set[int]] = {}  # party -> new track ids seen since the tick
        self.count = 0
        self.raised = 0
        self.cpu_s: list[float] = []  # CPU time of each intake (s, this process)

    def step(self, engine: Engine, ts: pd.Timestamp) -> int:
        """One intake at ``ts`` (UTC, after the engine's last tick); the alerts raised."""
        c0 = time.process_time()
        try:
            return self._step(engine, ts)
        finally:
            self.count += 1
            self.cpu_s.append(time.process_time() - c0)

    def _step(self, engine: Engine, ts: pd.Timestamp) -> int:
        now_s = ts.value / 1e9
        if engine.tick_count == 0 or not now_s > engine.now_s:
            return 0  # before the first tick (no scene yet) or not after the last
        if engine.tick_count != self.tick:
            self.tick, self.checked = engine.tick_count, {}
        if not engine._track(ts, between_ticks=True):
            return 0  # no report: no track confirmed
        found = self._new_tracks(engine, now_s)
        if found is None:
            return 0
        new, first_seen = found
        base = flown_on(engine.scene, now_s - engine.now_s)
        scene = pd.concat([base, new], ignore_index=True)
        query = len(base) + np.flatnonzero(first_seen)
        index = SceneIndex(scene)
        conflicts = scene_conflicts(scene, index, engine.standard, query)
        raised = engine.alerts.raise_new(index, records(conflicts), now_s)
        if raised:
            engine.desk.flush()
            self.raised += raised
        return raised

    def _new_tracks(self, engine: Engine, now_s: float) -> tuple[pd.DataFrame, np.ndarray] | None:
        """The scene's rows of the tracks confirmed since the tick, and which of them no intake
        has seen yet (None when there are none such)."""
        parts = {}
        first: list[np.ndarray] = []
        ident = engine.identification
        for party in engine.parties:
            if not engine._started[party]:
                continue
            tracker = engine.trackers[party]
            ids, _ = tracker.positions_xy(now_s)
            known = engine.pictures.get(party)
            if known is not None and len(known):
                ids = ids[~np.isin(ids, known["track_id"].to_numpy(np.int64))]
            if not ids.size:
                continue
            rows = tracker.track_rows(now_s, track_ids=ids)
            checked = self.checked.setdefault(party, set())
            first.append(np.fromiter((i not in checked for i in rows.track_id.tolist()), bool))
            checked.update(rows.track_id.tolist())
            parts[party] = classify_picture(
                party, rows, engine.registry, now_s,
                declared=ident.declared_for(party), pending=ident.pending(party),
            )  # fmt: skip
        if not any(f.any() for f in first):
            return None
        # the pictures' rows in order, their first sightings beside them, then the scene's
        pictures = {p: pic.assign(_first=f) for (p, pic), f in zip(parts.items(), first,
                                                                   strict=True)}  # fmt: skip
        new = shared_scene(pictures)
        seen = engine.index.index  # the tick's scene: a key there is not new
        keep = np.fromiter((k not in seen for k in new["key"].tolist()), bool, len(new))
        new = new[keep].reset_index(drop=True)
        first_seen = new.pop("_first").to_numpy(bool)
        return (new, first_seen) if first_seen.any() else None


__all__ = ["Intake", "flown_on"]
