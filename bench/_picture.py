"""What the picture benchmarks share: a synthetic sky ticked until its tracks are confirmed, and
the median CPU time of a call."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def cpu(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    """The median CPU time (s, this process) of ``reps`` calls of ``fn``, and its last result."""
    times, out = [], None
    for _ in range(reps):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return float(np.median(times)), out


def confirmed_sky(aircraft: int, **session_kw: Any) -> Any:
    """A session of ``aircraft`` synthetic aircraft (three parties, a 30 deg x 30 deg box, seed
    1) ticked 12 times: every track confirmed, the pictures holding the whole traffic."""
    from deconflict.engine.session import Session
    from deconflict.sim.synthetic import synthetic_scenario

    sc = synthetic_scenario(aircraft, seed=1, half_width_deg=15.0)
    session = Session.from_scenario(sc, **session_kw)
    for _ in range(12):
        session.step(1.0)
    return session
