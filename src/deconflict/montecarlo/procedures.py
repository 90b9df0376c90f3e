"""Procedures as data: the rules a Monte Carlo study varies; times in seconds.

A procedures file is TOML with one ``[procedures]`` table (the built-in ones are in
``deconflict/data/procedures/``; copy one and change it)::

    [procedures]
    name = "memorandum-2015"          # how the report names this set
    description = "..."               # optional
    standard = "icao-5nm"             # separation standard: detection and loss of separation
    alert_lead_time_s = 120           # alert when a loss is predicted within this time
    identification_deadline_s = 300   # an unknown track must be identified within this time
    compliance = "scenario"           # who flies resolutions: scenario | all | none
    resolution_turn_deg = 30          # the turn away from the other aircraft
    hotline_response_time_s = { distribution = "lognormal", median_s = 90, sigma = 0.5 }
    pilot_response_delay_s = 15       # omit: each party's reaction_s from the scenario
    identification_response_time_s = 120   # omit: the hotline response time

A time is a number of seconds (always that value) or a distribution table:
``{distribution = "fixed", value_s}``, ``{distribution = "lognormal", median_s, sigma}``,
``{distribution = "uniform", low_s, high_s}`` or ``{distribution = "exponential", mean_s}``.
Every error names the file and the field, and says what to write instead.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from deconflict.errors import DeconflictError, InputError
from deconflict.predict.standards import get_standard

COMPLIANCE: Final = ("scenario", "all", "none")
DISTRIBUTIONS: Final = {
    "fixed": ("value_s",),
    "lognormal": ("median_s", "sigma"),
    "uniform": ("low_s", "high_s"),
    "exponential": ("mean_s",),
}
FIELDS: Final = (
    "name",
    "description",
    "standard",
    "alert_lead_time_s",
    "identification_deadline_s",
    "compliance",
    "resolution_turn_deg",
    "hotline_response_time_s",
    "pilot_response_delay_s",
    "identification_response_time_s",
)
REQUIRED: Final = (
    "name",
    "standard",
    "alert_lead_time_s",
    "identification_deadline_s",
    "hotline_response_time_s",
)
BUILTIN_PROCEDURES: Final = ("memorandum-2015", "hotline-fast")


@dataclass(frozen=True, slots=True)
class Distribution:
    """A distribution of a time in seconds (``kind`` one of DISTRIBUTIONS)."""

    kind: str
    a: float
    b: float = 0.0

    def sample(self, rng: np.random.Generator, n: int) -> npt.NDArray[np.float64]:
        """``n`` draws in seconds."""
        if self.kind == "fixed":
            return np.full(n, self.a)
        if self.kind == "lognormal":
            return rng.lognormal(math.log(self.a), self.b, n)
        if self.kind == "uniform":
            return rng.uniform(self.a, self.b, n)
        return rng.exponential(self.a, n)

    def to_dict(self) -> dict[str, Any]:
        keys = DISTRIBUTIONS[self.kind]
        return {"distribution": self.kind, **dict(zip(keys, (self.a, self.b), strict=False))}


@dataclass(frozen=True, slots=True)
class Procedures:
    """One set of procedures (see the module docstring for the fields)."""

    name: str
    standard: str
    alert_lead_time_s: float
    identification_deadline_s: float
    hotline_response_time_s: Distribution
    pilot_response_delay_s: Distribution | None = None  # None: the party's reaction_s
    identification_response_time_s: Distribution | None = None  # None: the hotline's
    compliance: str = "scenario"
    resolution_turn_deg: float = 30.0
    description: str = ""

    @property
    def identification_time(self) -> Distribution:
        return self.identification_response_time_s or self.hotline_response_time_s

    def to_dict(self) -> dict[str, Any]:
        """The TOML table as a dict (distributions as tables), for manifests and reports."""
        out: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "standard": self.standard,
            "alert_lead_time_s": self.alert_lead_time_s,
            "identification_deadline_s": self.identification_deadline_s,
            "compliance": self.compliance,
            "resolution_turn_deg": self.resolution_turn_deg,
            "hotline_response_time_s": self.hotline_response_time_s.to_dict(),
        }
        if self.pilot_response_delay_s is not None:
            out["pilot_response_delay_s"] = self.pilot_response_delay_s.to_dict()
        if self.identification_response_time_s is not None:
            out["identification_response_time_s"] = self.identification_response_time_s.to_dict()
        return out


def _number(value: Any, where: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < minimum:
        raise InputError(f"{where} must be a finite number >= {minimum:g}, got {value!r}")
    return v


def distribution_from(value: Any, where: str) -> Distribution:
    """A time field: a number of seconds or a distribution table."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Distribution("fixed", _number(value, where))
    if not isinstance(value, Mapping):
        raise InputError(
            f"{where} must be a number of seconds or a table such as "
            '{distribution = "lognormal", median_s = 60, sigma = 0.5}; '
            f"got {value!r}"
        )
    kind = value.get("distribution")
    if kind not in DISTRIBUTIONS:
        raise InputError(f"{where}.distribution is {kind!r}; use one of {', '.join(DISTRIBUTIONS)}")
    keys = DISTRIBUTIONS[str(kind)]
    extra = sorted(set(value) - {"distribution", *keys})
    if extra:
        raise InputError(
            f"{where} has unknown key(s) {', '.join(extra)} for a {kind} distribution; "
            f"give {', '.join(keys)}"
        )
    missing = [k for k in keys if k not in value]
    if missing:
        raise InputError(f"{where} ({kind}) has no {', '.join(missing)}; add it")
    nums = [_number(value[k], f"{where}.{k}") for k in keys]
    if kind == "lognormal" and nums[0] <= 0:
        raise InputError(f"{where}.median_s must be > 0 for a lognormal, got {nums[0]:g}")
    if kind == "uniform" and nums[1] < nums[0]:
        raise InputError(f"{where}: high_s ({nums[1]:g}) is below low_s ({nums[0]:g})")
    return Distribution(str(kind), nums[0], nums[1] if len(nums) > 1 else 0.0)


def procedures_from_dict(table: Mapping[str, Any], source: str = "<dict>") -> Procedures:
    """Check one ``[procedures]`` table and build it; errors name ``source`` and the field."""
    where = f"{source} [procedures]"
    unknown = [k for k in table if k not in FIELDS]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(str(k), FIELDS, n=1)
            hints.append(f"{k} (did you mean {close[0]!r}?)" if close else str(k))
        raise InputError(f"{where} has unknown field(s) {', '.join(hints)}")
    missing = [k for k in REQUIRED if k not in table]
    if missing:
        raise InputError(
            f"{where} has no {', '.join(missing)}; add it (see deconflict.montecarlo.procedures)"
        )
    standard = str(table["standard"])
    try:
        get_standard(standard)
    except DeconflictError as exc:
        raise InputError(f"{where}.standard: {exc}") from None
    compliance = str(table.get("compliance", "scenario"))
    if compliance not in COMPLIANCE:
        raise InputError(
            f"{where}.compliance is {compliance!r}; use one of {', '.join(COMPLIANCE)}"
        )
    turn = _number(table.get("resolution_turn_deg", 30.0), f"{where}.resolution_turn_deg")
    if not 0.0 < turn <= 180.0:
        raise InputError(f"{where}.resolution_turn_deg must be in (0, 180], got {turn:g}")

    def opt(key: str) -> Distribution | None:
        return None if key not in table else distribution_from(table[key], f"{where}.{key}")

    name = str(table["name"]).strip()
    if not name:
        raise InputError(f"{where}.name is empty; give the set a name for the report")
    return Procedures(
        name=name,
        description=str(table.get("description", "")),
        standard=standard,
        alert_lead_time_s=_number(table["alert_lead_time_s"], f"{where}.alert_lead_time_s"),
        identification_deadline_s=_number(
            table["identification_deadline_s"], f"{where}.identification_deadline_s"
        ),
        hotline_response_time_s=distribution_from(
            table["hotline_response_time_s"], f"{where}.hotline_response_time_s"
        ),
        pilot_response_delay_s=opt("pilot_response_delay_s"),
        identification_response_time_s=opt("identification_response_time_s"),
        compliance=compliance,
        resolution_turn_deg=turn,
    )


def parse_procedures(text: str, source: str = "<string>") -> Procedures:
    """Parse the TOML text of a procedures file."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"procedures file {source} is not valid TOML: {exc}") from None
    table = doc.get("procedures")
    if not isinstance(table, dict):
        raise InputError(
            f"procedures file {source} has no [procedures] table; start it with [procedures]"
        )
    return procedures_from_dict(table, source)


def builtin_procedures_path(name: str) -> Path:
    """Path of a procedures file shipped in the package (copy it to make your own)."""
    if name not in BUILTIN_PROCEDURES:
        raise InputError(
            f"no built-in procedures {name!r}; use one of {', '.join(BUILTIN_PROCEDURES)} "
            "or give a file"
        )
    ref = resources.files("deconflict") / "data" / "procedures" / f"{name}.toml"
    return Path(str(ref))


def load_procedures(path_or_name: str | Path) -> Procedures:
    """Read a procedures file, or a built-in set by name (``memorandum-2015``, ``hotline-fast``)."""
    if isinstance(path_or_name, str) and path_or_name in BUILTIN_PROCEDURES:
        p = builtin_procedures_path(path_or_name)
    else:
        p = Path(path_or_name)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot read procedures file {p}: {exc.strerror}; check the path, or name a "
            f"built-in set ({', '.join(BUILTIN_PROCEDURES)})"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"procedures file {p} is not UTF-8 text; is it the right file?") from None
    return parse_procedures(text, source=str(p))
