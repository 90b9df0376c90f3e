"""Severity class of an incident, A to E, from its closest approach (SI: m, s).

The classes are ICAO's AIRPROX risk classes as the UK Airprox Board words them
(reference/domain_primer.md §(h)): A risk of collision, B safety not assured, C no risk of
collision, D risk not determined, E met the reporting criteria but normal procedures, safety
standards and parameters pertained. Boards assign them by judgement; Deconflict proposes a class
from the recorded geometry with this rule (thresholds are policy, defaults below):

* **D** — the closest approach falls in a gap in either track's record longer than
  ``max_gap_s`` (30 s): the information is insufficient to judge.
* **A** — inside the near-mid-air-collision cylinder at the closest approach: horizontal
  < 500 ft and vertical < 100 ft (the conventional NMAC, primer §(e), there marked unverified;
  DAIDALUS uses the same 500 ft / 100 ft, reference/daidalus_notes.md).
* **B** — loss of separation with less than ``margin_fraction`` (half) of *both* minima left:
  "safety margins not respected" (ESARR 2 class B wording, primer §(h)).
* **C** — any other loss of separation: the risk was managed within safety margins.
* **E** — no loss of separation, only an approach closer than the configured distance: the
  reporting criterion was met while the separation standard held.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.units import FT


class Severity(StrEnum):
    A = "A"  # risk of collision
    B = "B"  # safety not assured
    C = "C"  # no risk of collision
    D = "D"  # risk not determined
    E = "E"  # met reporting criteria, normal standards pertained


SEVERITY_TEXT = {
    Severity.A: "risk of collision",
    Severity.B: "safety not assured",
    Severity.C: "no risk of collision",
    Severity.D: "risk not determined",
    Severity.E: "reporting criteria met, separation standard held",
}


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    nmac_horizontal_m: float = 500.0 * FT
    nmac_vertical_m: float = 100.0 * FT
    margin_fraction: float = 0.5
    max_gap_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.margin_fraction <= 1:
            raise InputError("margin_fraction must be in (0, 1]")
        if self.max_gap_s <= 0 or self.nmac_horizontal_m <= 0 or self.nmac_vertical_m <= 0:
            raise InputError("severity thresholds must be positive")


def classify(
    horizontal_m: float,
    vertical_m: float,
    *,
    loss_of_separation: bool,
    horizontal_min_m: float,
    vertical_min_m: float,
    data_gap_s: float,
    policy: SeverityPolicy | None = None,
) -> tuple[Severity, str]:
    """Class and one-line reason for a closest approach (see the module docstring)."""
    p = policy or SeverityPolicy()
    if data_gap_s > p.max_gap_s:
        return Severity.D, (
            f"closest approach falls in a {data_gap_s:.0f} s gap in the record "
            f"(> {p.max_gap_s:.0f} s): insufficient information"
        )
    if horizontal_m < p.nmac_horizontal_m and vertical_m < p.nmac_vertical_m:
        return Severity.A, (
            f"inside the NMAC cylinder ({horizontal_m / FT:.0f} ft < 500 ft horizontally, "
            f"{vertical_m / FT:.0f} ft < 100 ft vertically)"
        )
    if loss_of_separation:
        f = p.margin_fraction
        if horizontal_m < f * horizontal_min_m and vertical_m < f * vertical_min_m:
            return Severity.B, (
                f"loss of separation with less than {f:.0%} of both minima left "
                f"({horizontal_m:.0f} m of {horizontal_min_m:.0f} m, "
                f"{vertical_m / FT:.0f} ft of {vertical_min_m / FT:.0f} ft)"
            )
        return Severity.C, (
            f"loss of separation with at least {f:.0%} of one minimum kept "
            f"({horizontal_m:.0f} m of {horizontal_min_m:.0f} m, "
            f"{vertical_m / FT:.0f} ft of {vertical_min_m / FT:.0f} ft)"
        )
    return Severity.E, "closer than the reporting distance, separation minima not infringed"


def severity_classes(
    horizontal_m: NDArray[np.float64],
    vertical_m: NDArray[np.float64],
    loss_of_separation: NDArray[np.bool_],
    horizontal_min_m: float | NDArray[np.float64],
    vertical_min_m: float | NDArray[np.float64],
    data_gap_s: float | NDArray[np.float64] = 0.0,
    policy: SeverityPolicy | None = None,
) -> NDArray[np.str_]:
    """``classify`` over arrays of closest approaches (same rule), as one-letter strings."""
    p = policy or SeverityPolicy()
    h = np.asarray(horizontal_m, dtype=np.float64)
    v = np.asarray(vertical_m, dtype=np.float64)
    f = p.margin_fraction
    nmac = (h < p.nmac_horizontal_m) & (v < p.nmac_vertical_m)
    margin = (h < f * np.asarray(horizontal_min_m)) & (v < f * np.asarray(vertical_min_m))
    out = np.where(
        np.asarray(data_gap_s) > p.max_gap_s,
        "D",
        np.where(nmac, "A", np.where(loss_of_separation, np.where(margin, "B", "C"), "E")),
    )
    return out.astype("<U1")
