"""What an engine tick costs: wall-clock time per tick (total, tracking, classification and
prediction) and CPU time per stage (s), for the engine's summary and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class TickStats:
    """Wall-clock cost of each tick (s), split by stage."""

    total: list[float] = field(default_factory=list)
    tracking: list[float] = field(default_factory=list)
    prediction: list[float] = field(default_factory=list)
    reports: int = 0
    #: CPU time (s, this process) of each stage of each tick: tracking, classification,
    #: prediction, alerts, identification, incidents, history, store (the desk's writes and
    #: reads of the log), hooks.
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def lap(self) -> Callable[[str], None]:
        """A stopwatch for one tick: each call adds the CPU time since the last to a stage."""
        last = [time.process_time()]
        ticks = len(self.total)

        def stop(stage: str) -> None:
            now = time.process_time()
            times = self.cpu.setdefault(stage, [])
            while len(times) <= ticks:
                times.append(0.0)
            times[ticks] += now - last[0]
            last[0] = now

        return stop

    def summary(self) -> dict[str, float]:
        def p(a: list[float], q: float) -> float:
            return float(np.percentile(a, q)) if a else float("nan")

        return {
            "ticks": float(len(self.total)),
            "mean_s": float(np.mean(self.total)) if self.total else float("nan"),
            "p50_s": p(self.total, 50),
            "p99_s": p(self.total, 99),
            "max_s": max(self.total, default=float("nan")),
            "tracking_mean_s": float(np.mean(self.tracking)) if self.tracking else float("nan"),
            "prediction_mean_s": float(np.mean(self.prediction))
            if self.prediction
            else float("nan"),
        }


__all__ = ["TickStats"]
