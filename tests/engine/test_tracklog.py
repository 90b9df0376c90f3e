"""The incidents' track log (``engine.tracklog``) against the per-aircraft point lists it
replaced: the same points, in order, across block boundaries, new aircraft, aircraft that come
and go, a tick written twice and the memory's end."""

from __future__ import annotations

import numpy as np
import pytest

from deconflict.engine.tracklog import BLOCK_TICKS, TrackLog

Point = tuple[float, float, float, float]


def reference(log: dict[str, list[Point]], now: float, keys: list[str], xyz: np.ndarray,
              memory_s: float) -> None:  # fmt: skip
    """What ``IncidentWatch`` kept before: a list per aircraft, pruned when it is seen."""
    for key, (lat, lon, alt) in zip(keys, xyz.tolist(), strict=True):
        points = log.setdefault(key, [])
        if not points or points[-1][0] < now:
            points.append((now, lat, lon, alt))
        while points[0][0] < now - memory_s:
            points.pop(0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_track_log_keeps_what_the_point_lists_kept(seed: int) -> None:
    rng = np.random.default_rng(seed)
    memory_s = 100.0
    log = TrackLog(memory_s)
    ref: dict[str, list[Point]] = {}
    universe = [f"p{i % 3}/ac{i}" for i in range(400)]
    present = set(universe[:50])
    for tick in range(int(2.5 * BLOCK_TICKS)):
        now = 1.7e9 + tick
        present |= {universe[i] for i in rng.integers(0, 400, size=5)}  # new aircraft
        present -= {universe[i] for i in rng.integers(0, 400, size=3)}  # some go (for now)
        keys = sorted(present, key=lambda k: rng.random())  # the scene's order changes
        xyz = rng.normal(size=(len(keys), 3)) * [10.0, 10.0, 3000.0]
        xyz[rng.random(len(keys)) < 0.05, 2] = np.nan  # no altitude: still a point
        log.append(now, keys, *xyz.T.copy())
        reference(ref, now, keys, xyz, memory_s)
        if tick % 7 == 0:  # the same tick again, with one more aircraft: only it is added
            extra = universe[(tick * 13) % 400]
            again = [*keys[:3], extra]
            xyz2 = rng.normal(size=(4, 3))
            log.append(now, again, *xyz2.T.copy())
            reference(ref, now, again, xyz2, memory_s)
            present.add(extra)
        for key in rng.choice(universe, size=20):
            want = [p for p in ref.get(key, []) if p[0] >= now - memory_s]
            got = list(zip(*(a.tolist() for a in log.points(key)), strict=True))
            np.testing.assert_array_equal(np.array(got).reshape(-1, 4),
                                          np.array(want).reshape(-1, 4))  # fmt: skip
            np.testing.assert_array_equal(np.array(log.last(key, 30)).reshape(-1, 4),
                                          np.array(want[-30:]).reshape(-1, 4))  # fmt: skip
    # blocks older than the memory are dropped
    assert len(log.blocks) <= -(-int(memory_s) // BLOCK_TICKS) + 1
    assert log.last("nobody", 30) == ()


def test_a_day_of_aircraft_coming_and_going_keeps_the_slots_of_the_last_memory() -> None:
    """Aircraft that each fly 200 s, 20 at a time, for 3,000 s: the log holds slots for the
    aircraft of the last ``memory_s`` (and a block), not for the 300 of the whole run, and a
    slot given back never shows its old aircraft's points under the new one."""
    rng = np.random.default_rng(7)
    memory_s, life_s, at_once = 100.0, 200, 20
    log = TrackLog(memory_s)
    ref: dict[str, list[Point]] = {}
    widths = []
    for tick in range(3000):
        now = 1.7e9 + tick
        # aircraft k flies from k * 10 s for 200 s: 20 in the air at any time
        first = max(0, (tick - life_s) // 10 + 1)
        keys = [f"p0/ac{k}" for k in range(first, tick // 10 + 1)]
        xyz = rng.normal(size=(len(keys), 3))
        log.append(now, keys, *xyz.T.copy())
        reference(ref, now, keys, xyz, memory_s)
        widths.append(log.blocks[-1].width)
        if tick % 97 == 0:  # the ones flying and the ones that landed within the memory
            for key in {*keys, f"p0/ac{max(0, first - 3)}", f"p0/ac{max(0, first - 12)}"}:
                want = [p for p in ref.get(key, []) if p[0] >= now - memory_s]
                got = list(zip(*(a.tolist() for a in log.points(key)), strict=True))
                np.testing.assert_array_equal(np.array(got).reshape(-1, 4),
                                              np.array(want).reshape(-1, 4))  # fmt: skip
    assert len(keys) == at_once
    # in the air, plus those that landed within the memory and a block's ticks: under 50 slots
    live = at_once + int((memory_s + BLOCK_TICKS) / 10) + 1
    assert len(log.slot) <= live
    assert max(widths) <= int(live * 1.25) + 64
    assert len(log.slot) < len(ref) / 5  # 300 aircraft flew
