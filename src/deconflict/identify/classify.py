"""Classification of tracks by whose they are: own, declared, pending or unknown (times in s).

Pure functions over arrays, with the clock passed in (seconds since the Unix epoch). For each
track, the identifiers still fresh at ``now`` (confirmed within ``stale_after_s``) are matched
against the registry, strongest first: an icao24 address a party registered or a declared
operation lists, then an exact callsign of an active declared operation, then a party's callsign
pattern, then its squawk block. A party's own claim of a track (its answer "ours" to an
identification request, kept by the tracker, stale after ``claim_stale_after_s``) comes before
all of them. The first kind of identifier that matches decides the owner; if it
matches two different parties, the track's owner is ambiguous and it counts as unmatched.

For a viewing party a track is ``own`` (its owner is the viewer), ``declared`` (another party's
registered aircraft, or an aircraft of its declared operation), ``pending`` (unmatched for less
than ``unknown_after_s``) or ``unknown`` (unmatched for longer). A track is unmatched since it was
first seen, or, if its last identifiers matched a party before going stale, since they went stale.

``identification_requests`` compares two classifications and returns an event for each track that
has just become unknown: what the hotline carries to the parties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconflict.errors import InputError
from deconflict.identify.registry import Registry

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Obj = NDArray[np.object_]

__all__ = [
    "CLASSES",
    "Classification",
    "IdentificationRequestEvent",
    "TrackIdentities",
    "classify",
    "identification_requests",
    "match_owners",
]

CLASSES: Final[tuple[str, ...]] = ("own", "declared", "pending", "unknown")


@dataclass(frozen=True)
class TrackIdentities:
    """Per track: id, first-seen time and each identifier with its last-confirmed time (s).

    A missing identifier is None with a NaN time. ``from_frame`` reads ``Tracker.identities()``.
    """

    track_id: I64
    first_seen_s: F64
    icao24: Obj
    icao24_s: F64
    callsign: Obj
    callsign_s: F64
    squawk: Obj
    squawk_s: F64
    owner: Obj | None = None  # party that claimed the track (answered "ours"), or None
    owner_s: F64 | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> TrackIdentities:
        """From a table with ``track_id``, ``first_seen`` and ``icao24``/``callsign``/``squawk``
        each with a ``*_time`` column (timestamps UTC), as ``Tracker.identities()`` returns."""
        need = ["track_id", "first_seen"]
        for name in ("icao24", "callsign", "squawk"):
            need += [name, f"{name}_time"]
        missing = [c for c in need if c not in frame]
        if missing:
            raise InputError(f"track identities lack column(s) {missing}; use Tracker.identities()")

        def secs(col: str) -> F64:
            ts = pd.to_datetime(frame[col], utc=True)
            ns = ts.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
            return np.where(ts.isna().to_numpy(), np.nan, ns / 1e9)

        def strs(col: str) -> Obj:
            s = frame[col].astype("string")
            out = np.full(len(frame), None, dtype=object)
            ok = s.notna().to_numpy()
            out[ok] = s[ok].to_numpy(dtype=object)
            return out

        claimed = "owner" in frame and "owner_time" in frame
        return cls(
            owner=strs("owner") if claimed else None,
            owner_s=secs("owner_time") if claimed else None,
            track_id=frame["track_id"].to_numpy(dtype=np.int64),
            first_seen_s=secs("first_seen"),
            icao24=strs("icao24"),
            icao24_s=secs("icao24_time"),
            callsign=strs("callsign"),
            callsign_s=secs("callsign_time"),
            squawk=strs("squawk"),
            squawk_s=secs("squawk_time"),
        )


@dataclass(frozen=True)
class Classification:
    """The class of every track for one viewing party at ``time_s``."""

    viewer: str
    time_s: float
    track_id: I64
    klass: Obj  # "own", "declared", "pending", "unknown"
    owner: Obj  # party or None
    operation: Obj  # declared operation id or None
    matched_by: Obj  # "icao24", "operation", "callsign", "squawk" or None
    unmatched_since_s: F64  # NaN where matched

    def frame(self) -> pd.DataFrame:
        """As a table: track_id, class, owner, operation, matched_by, unmatched_since."""
        return pd.DataFrame(
            {
                "track_id": self.track_id,
                "class": pd.array(self.klass, dtype="string"),
                "owner": pd.array(self.owner, dtype="string"),
                "operation": pd.array(self.operation, dtype="string"),
                "matched_by": pd.array(self.matched_by, dtype="string"),
                "unmatched_since": pd.to_datetime(
                    np.round(self.unmatched_since_s * 1e9), unit="ns", utc=True
                ),
            }
        )


@dataclass(frozen=True)
class IdentificationRequestEvent:
    """A track has just become unknown: ask every party whose it is."""

    track_id: int
    time_s: float
    unmatched_since_s: float
    icao24: str | None
    callsign: str | None
    squawk: str | None


def _member(values: Obj, names: frozenset[str] | set[str]) -> NDArray[np.bool_]:
    """Which ``values`` are in ``names``: a hash lookup each (``np.isin`` compares every pair
    on object arrays, which is what 10,000 tracks against a 3,000-aircraft fleet cannot pay)."""
    if not names:
        return np.zeros(values.shape[0], dtype=bool)
    return np.fromiter((v in names for v in values), dtype=bool, count=values.shape[0])


def _fresh(values: Obj, times: F64, now_s: float, stale_after_s: float) -> Obj:
    ok = (values != None) & (now_s - times <= stale_after_s)  # noqa: E711
    out = np.full(values.shape[0], None, dtype=object)
    out[ok] = values[ok]
    return out


def match_owners(
    registry: Registry,
    icao24: Obj,
    callsign: Obj,
    squawk: Obj,
    now_s: float,
    claimed: Obj | None = None,
) -> tuple[Obj, Obj, Obj]:
    """Owner party, operation id and kind of match of each track (None where unmatched).

    ``icao24``, ``callsign`` and ``squawk`` hold the identifiers to use (None where unknown or
    stale), ``claimed`` the party that claimed each track (strongest of all). Identifiers that
    match two different parties at the same strength leave the track unmatched.
    """
    n = icao24.shape[0]
    owner = np.full(n, None, dtype=object)
    operation = np.full(n, None, dtype=object)
    matched_by = np.full(n, None, dtype=object)
    ops = [o for o in registry.operations if o.active(now_s)]

    def settle(kind: str, claims: Sequence[tuple[NDArray[np.bool_], str, str | None]]) -> None:
        """Give the still unmatched tracks claimed by exactly one party to that party."""
        open_ = owner == None  # noqa: E711
        count = np.zeros(n, dtype=np.int64)
        first_party = np.full(n, None, dtype=object)
        first_op = np.full(n, None, dtype=object)
        parties_seen: dict[str, NDArray[np.bool_]] = {}
        for mask, party, op in claims:
            m = mask & open_
            if not m.any():
                continue
            new = m & ~parties_seen.get(party, np.zeros(n, dtype=bool))
            count += new
            parties_seen[party] = parties_seen.get(party, np.zeros(n, dtype=bool)) | m
            take = m & (first_party == None)  # noqa: E711
            first_party[take] = party
            first_op[take] = op
        one = open_ & (count == 1)
        ambiguous = open_ & (count > 1)
        owner[one] = first_party[one]
        operation[one] = first_op[one]
        matched_by[one] = kind
        # an ambiguous identifier settles nothing: the track stays unmatched for good
        owner[ambiguous] = _AMBIGUOUS
        matched_by[ambiguous] = f"ambiguous {kind}"

    if claimed is not None:
        parties = sorted({str(c) for c in claimed if c is not None})
        settle("claim", [(claimed == p, p, None) for p in parties])
    has_icao = icao24 != None  # noqa: E711
    icao = np.where(has_icao, icao24, "")
    claims: list[tuple[NDArray[np.bool_], str, str | None]] = [
        (has_icao & _member(icao, p.icao24), p.party, None) for p in registry.parties
    ]
    claims += [(has_icao & _member(icao, o.icao24), o.party, o.operation_id) for o in ops]
    settle("icao24", claims)
    has_cs = callsign != None  # noqa: E711
    cs_upper = np.array(
        [c.strip().upper() if c is not None else "" for c in callsign], dtype=object
    )
    settle(
        "operation",
        [(has_cs & _member(cs_upper, o.callsigns), o.party, o.operation_id) for o in ops],
    )
    unique_cs = sorted({c for c in cs_upper[has_cs]})
    claims = []
    for p in registry.parties:
        hits = p.callsigns.intersection(unique_cs)
        if p.callsign_patterns:
            hits |= {c for c in unique_cs if p.callsign_matches(c)}
        if hits:
            claims.append((has_cs & _member(cs_upper, hits), p.party, None))
    settle("callsign", claims)
    has_sq = squawk != None  # noqa: E711
    code = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(has_sq):
        try:
            code[i] = int(str(squawk[i]), 8)
        except ValueError:
            code[i] = -1
    claims = []
    for p in registry.parties:
        mask = np.zeros(n, dtype=bool)
        for lo, hi in p.squawk_ranges():
            mask |= (code >= lo) & (code <= hi)
        claims.append((mask, p.party, None))
    settle("squawk", claims)
    ambiguous = owner == _AMBIGUOUS
    owner[ambiguous] = None
    return owner, operation, matched_by


_AMBIGUOUS: Final = "\x00ambiguous"


def classify(
    registry: Registry,
    tracks: TrackIdentities,
    viewer: str,
    now_s: float,
    unknown_after_s: float = 60.0,
    stale_after_s: float = 60.0,
    claim_stale_after_s: float = 600.0,
) -> Classification:
    """Class of every track for party ``viewer`` at ``now_s`` (see the module note)."""
    if unknown_after_s < 0 or stale_after_s <= 0:
        raise InputError("unknown_after_s must be >= 0 and stale_after_s > 0 (seconds)")
    icao = _fresh(tracks.icao24, tracks.icao24_s, now_s, stale_after_s)
    cs = _fresh(tracks.callsign, tracks.callsign_s, now_s, stale_after_s)
    sq = _fresh(tracks.squawk, tracks.squawk_s, now_s, stale_after_s)
    claim = claim_s = None
    if tracks.owner is not None and tracks.owner_s is not None:
        claim = _fresh(tracks.owner, tracks.owner_s, now_s, claim_stale_after_s)
        claim_s = tracks.owner_s + (claim_stale_after_s - stale_after_s)
    owner, operation, matched_by = match_owners(registry, icao, cs, sq, now_s, claim)
    matched = owner != None  # noqa: E711
    # an unmatched track is unmatched since it was first seen, unless its last identifiers
    # (stale now) matched a party: then since they went stale
    was_owner, _, _ = match_owners(
        registry, tracks.icao24, tracks.callsign, tracks.squawk, now_s, tracks.owner
    )
    last_id = np.fmax(np.fmax(tracks.icao24_s, tracks.callsign_s), tracks.squawk_s)
    if claim_s is not None:  # a claim goes stale later: shift its time onto the same clock
        last_id = np.fmax(last_id, claim_s)
    lost = (was_owner != None) & np.isfinite(last_id)  # noqa: E711
    since = np.where(
        lost, np.fmax(tracks.first_seen_s, last_id + stale_after_s), tracks.first_seen_s
    )
    since = np.where(matched, np.nan, since)
    klass = np.where(
        matched,
        np.where(owner == viewer, "own", "declared"),
        np.where(now_s - since >= unknown_after_s, "unknown", "pending"),
    ).astype(object)
    return Classification(
        viewer=viewer,
        time_s=now_s,
        track_id=tracks.track_id.copy(),
        klass=klass,
        owner=owner,
        operation=operation,
        matched_by=matched_by,
        unmatched_since_s=since,
    )


def identification_requests(
    previous: Classification | None, current: Classification, tracks: TrackIdentities
) -> list[IdentificationRequestEvent]:
    """An event per track unknown in ``current`` and not unknown in ``previous`` (or new).

    ``tracks`` supplies the last known identifiers (stale ones included) for the request.
    """
    unknown = current.klass == "unknown"
    if previous is not None:
        was = np.isin(current.track_id, previous.track_id[previous.klass == "unknown"])
        unknown &= ~was
    pos = {int(t): i for i, t in enumerate(tracks.track_id)}
    events = []
    for i in np.flatnonzero(unknown):
        tid = int(current.track_id[i])
        j = pos.get(tid)
        events.append(
            IdentificationRequestEvent(
                track_id=tid,
                time_s=current.time_s,
                unmatched_since_s=float(current.unmatched_since_s[i]),
                icao24=None if j is None else tracks.icao24[j],
                callsign=None if j is None else tracks.callsign[j],
                squawk=None if j is None else tracks.squawk[j],
            )
        )
    return events
