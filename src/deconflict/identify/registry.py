"""What each party has registered to identify its aircraft (identifiers; times in s since epoch).

A party registers icao24 addresses (6 hex digits), callsign patterns (regular expressions,
matched in full, case-insensitive) and squawk code blocks (inclusive ranges of 4-digit octal
codes such as ``("5100", "5177")``). A declared operation names the aircraft flying it (icao24
addresses and exact callsigns) and, optionally, its time window; its aircraft count as the
declaring party's while the window is open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deconflict.errors import InputError

__all__ = ["DeclaredOperation", "PartyIdentifiers", "Registry"]

_ICAO = re.compile(r"[0-9a-f]{6}")
_SQUAWK = re.compile(r"[0-7]{4}")


def _icao_set(values: Iterable[str], what: str) -> frozenset[str]:
    out = frozenset(str(v).strip().lower() for v in values)
    bad = sorted(v for v in out if not _ICAO.fullmatch(v))
    if bad:
        raise InputError(f"{what}: icao24 must be 6 hex digits, got {bad[:3]}")
    return out


@dataclass(frozen=True)
class PartyIdentifiers:
    """One party's registered identifiers (``callsigns``: exact callsigns of its fleet,
    case-insensitive, matched as the callsign patterns are)."""

    party: str
    icao24: frozenset[str] = frozenset()
    callsign_patterns: tuple[str, ...] = ()
    squawk_blocks: tuple[tuple[str, str], ...] = ()
    callsigns: frozenset[str] = frozenset()
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.party:
            raise InputError("a party's identifiers need the party's name")
        object.__setattr__(self, "icao24", _icao_set(self.icao24, f"party {self.party}"))
        try:
            regex = (
                re.compile("|".join(f"(?:{p})" for p in self.callsign_patterns), re.IGNORECASE)
                if self.callsign_patterns
                else None
            )
        except re.error as exc:
            raise InputError(
                f"party {self.party}: callsign pattern is not a valid regular expression ({exc})"
            ) from exc
        object.__setattr__(self, "_regex", regex)
        object.__setattr__(
            self, "callsigns", frozenset(str(c).strip().upper() for c in self.callsigns)
        )
        blocks = tuple((str(lo).zfill(4), str(hi).zfill(4)) for lo, hi in self.squawk_blocks)
        for lo, hi in blocks:
            if not (_SQUAWK.fullmatch(lo) and _SQUAWK.fullmatch(hi)) or int(lo, 8) > int(hi, 8):
                raise InputError(
                    f"party {self.party}: squawk block {lo}-{hi} must be two 4-digit octal "
                    "codes, low first"
                )
        object.__setattr__(self, "squawk_blocks", blocks)

    def callsign_matches(self, callsign: str) -> bool:
        """Whether ``callsign`` is one of the fleet's or matches one of the patterns in full."""
        if callsign.strip().upper() in self.callsigns:
            return True
        return self._regex is not None and self._regex.fullmatch(callsign) is not None

    def squawk_ranges(self) -> list[tuple[int, int]]:
        """The squawk blocks as inclusive ranges of code values (octal digits read in base 8)."""
        return [(int(lo, 8), int(hi, 8)) for lo, hi in self.squawk_blocks]


@dataclass(frozen=True)
class DeclaredOperation:
    """A declared operation's aircraft, theirs while ``start_s <= now <= end_s``."""

    operation_id: str
    party: str
    icao24: frozenset[str] = frozenset()
    callsigns: frozenset[str] = frozenset()
    start_s: float = float("-inf")
    end_s: float = float("inf")

    def __post_init__(self) -> None:
        what = f"operation {self.operation_id}"
        if not self.operation_id or not self.party:
            raise InputError("a declared operation needs an id and its party")
        object.__setattr__(self, "icao24", _icao_set(self.icao24, what))
        object.__setattr__(
            self, "callsigns", frozenset(str(c).strip().upper() for c in self.callsigns)
        )
        if not self.start_s <= self.end_s:
            raise InputError(f"{what}: start_s must not be after end_s")

    def active(self, now_s: float) -> bool:
        return self.start_s <= now_s <= self.end_s


@dataclass(frozen=True)
class Registry:
    """Every party's identifiers and the declared operations."""

    parties: tuple[PartyIdentifiers, ...] = ()
    operations: tuple[DeclaredOperation, ...] = ()

    def __post_init__(self) -> None:
        names = [p.party for p in self.parties]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"parties registered twice: {dup}; merge their identifiers")

    def with_party(self, identifiers: PartyIdentifiers) -> Registry:
        """A registry with ``identifiers`` added, or replacing that party's."""
        rest = tuple(p for p in self.parties if p.party != identifiers.party)
        return Registry((*rest, identifiers), self.operations)

    def with_operation(self, operation: DeclaredOperation) -> Registry:
        """A registry with ``operation`` added, or replacing the one with its id."""
        rest = tuple(o for o in self.operations if o.operation_id != operation.operation_id)
        return Registry(self.parties, (*rest, operation))

    @classmethod
    def from_fleets(cls, fleets: Mapping[str, Iterable[str]]) -> Registry:
        """Each party's fleet as its duty officers know it: names of 6 hex digits are icao24
        addresses, the others exact callsigns."""
        parties = []
        for party, names in fleets.items():
            clean = {str(n).strip() for n in names if str(n).strip()}
            icao = {n.lower() for n in clean if _ICAO.fullmatch(n.lower())}
            calls = frozenset(n for n in clean if n.lower() not in icao)
            parties.append(PartyIdentifiers(party, frozenset(icao), callsigns=calls))
        return cls(tuple(parties))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Registry:
        """From ``{"parties": {name: {icao24: [...], callsigns: [...], squawks: [[lo, hi]]}},
        "operations": [{id, party, icao24, callsigns, start_s, end_s}]}``."""
        try:
            parties = tuple(
                PartyIdentifiers(
                    name,
                    frozenset(spec.get("icao24", ())),
                    tuple(spec.get("callsigns", ())),
                    tuple((str(lo), str(hi)) for lo, hi in spec.get("squawks", ())),
                )
                for name, spec in dict(data.get("parties", {})).items()
            )
            operations = tuple(
                DeclaredOperation(
                    str(op["id"]),
                    str(op["party"]),
                    frozenset(op.get("icao24", ())),
                    frozenset(op.get("callsigns", ())),
                    float(op.get("start_s", float("-inf"))),
                    float(op.get("end_s", float("inf"))),
                )
                for op in data.get("operations", ())
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"registry: malformed entry ({exc}); see Registry.from_dict for the layout"
            ) from exc
        return cls(parties, operations)
