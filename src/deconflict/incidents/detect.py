"""Finding incidents between two parties' aircraft in their recorded tracks (SI: m, s).

An incident is every stretch of time in which the pair lost separation (horizontal below the
standard's minimum *and* vertical below its minimum less the standard's tolerance) or came closer
than ``close_approach_m`` in slant range (3,000 m by default: the 2–3 km of October 2015, primer
§(a)). Stretches closer together than ``merge_gap_s`` are one incident. Separation is evaluated
at both tracks' samples and at the closed-form minima between them (``incidents.geometry``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from deconflict.errors import InputError
from deconflict.incidents.geometry import Separation, Timeline, separation
from deconflict.incidents.record import Incident
from deconflict.incidents.severity import SeverityPolicy, classify
from deconflict.predict.standards import Standard, get_standard
from deconflict.units import FT, NM


@dataclass(frozen=True, slots=True)
class IncidentPolicy:
    standard: str = "icao-5nm"
    horizontal_min_m: float = 5.0 * NM
    vertical_min_m: float = 1000.0 * FT
    vertical_tolerance_m: float = 1.0 * FT  # |dz| < vertical_min - tolerance is a loss
    close_approach_m: float = 3000.0
    window_s: float = 300.0  # timelines kept either side of the closest approach
    merge_gap_s: float = 60.0
    severity: SeverityPolicy = field(default_factory=SeverityPolicy)

    @classmethod
    def from_standard(cls, standard: str | Standard, **overrides: float) -> IncidentPolicy:
        """Minima and vertical tolerance from a separation standard (``predict.standards``)."""
        std = get_standard(standard)
        if std.separation.kind != "cylinder":
            raise InputError(
                f"standard {std.name} protects a {std.separation.kind} volume; incidents need a "
                "cylinder standard such as icao-5nm or icao-3nm"
            )
        return cls(
            standard=std.name,
            horizontal_min_m=std.separation.horizontal_m,
            vertical_min_m=std.separation.vertical_m,
            vertical_tolerance_m=std.vertical_tolerance_m,
            **overrides,  # type: ignore[arg-type]
        )


def _runs(flag: np.ndarray, t: np.ndarray, merge_gap_s: float) -> list[tuple[int, int]]:
    idx = np.flatnonzero(flag)
    if not len(idx):
        return []
    runs: list[tuple[int, int]] = []
    start = prev = int(idx[0])
    for i in map(int, idx[1:]):
        if i != prev + 1 and t[i] - t[prev] > merge_gap_s:
            runs.append((start, prev))
            start = i
        prev = i
    runs.append((start, prev))
    return runs


def _window_sep(sep: Separation, start_s: float, end_s: float) -> Separation:
    keep = (sep.t_s >= start_s) & (sep.t_s <= end_s)
    return Separation(sep.t_s[keep], sep.horizontal_m[keep], sep.vertical_m[keep])


def detect_incidents(
    a: Timeline, b: Timeline, policy: IncidentPolicy | None = None
) -> list[Incident]:
    """Every incident between ``a`` and ``b`` (none when both belong to the same party)."""
    p = policy or IncidentPolicy()
    if a.party == b.party:
        return []
    sep = separation(a, b)
    if not len(sep.t_s):
        return []
    slant = sep.slant_m
    los = (sep.horizontal_m < p.horizontal_min_m) & (
        sep.vertical_m < p.vertical_min_m - p.vertical_tolerance_m
    )
    flag = los | (slant < p.close_approach_m)
    found = []
    for i0, i1 in _runs(flag, sep.t_s, p.merge_gap_s):
        k = i0 + int(np.argmin(slant[i0 : i1 + 1]))
        t = float(sep.t_s[k])
        h, v = float(sep.horizontal_m[k]), float(sep.vertical_m[k])
        in_los = np.flatnonzero(los[i0 : i1 + 1])
        lost = bool(len(in_los))
        severity, reason = classify(
            h,
            v,
            loss_of_separation=lost,
            horizontal_min_m=p.horizontal_min_m,
            vertical_min_m=p.vertical_min_m,
            data_gap_s=max(a.gap_at(t), b.gap_at(t)),
            policy=p.severity,
        )
        key = [a.party, a.aircraft_id, b.party, b.aircraft_id, round(t, 3)]
        lo, hi = t - p.window_s, t + p.window_s
        found.append(
            Incident(
                incident_id=hashlib.sha256(json.dumps(key).encode()).hexdigest()[:16],
                kind="loss_of_separation" if lost else "close_approach",
                time_s=t,
                horizontal_m=h,
                vertical_m=v,
                slant_m=float(slant[k]),
                los_start_s=float(sep.t_s[i0 + in_los[0]]) if lost else None,
                los_end_s=float(sep.t_s[i0 + in_los[-1]]) if lost else None,
                severity=severity,
                severity_reason=reason,
                standard=p.standard,
                horizontal_min_m=p.horizontal_min_m,
                vertical_min_m=p.vertical_min_m,
                close_approach_m=p.close_approach_m,
                tracks=(a.window(lo, hi), b.window(lo, hi)),
                separation=_window_sep(sep, lo, hi),
            )
        )
    return found
