"""Classification of real tracks (quickstart.parquet through the tracker) as own, declared,
pending or unknown, and the identification-request events. Expected classes are derived here
from the raw recording with pandas, independently of the classifier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconflict.errors import InputError, NotFoundError
from deconflict.identify.classify import (
    TrackIdentities,
    classify,
    identification_requests,
    match_owners,
)
from deconflict.identify.registry import DeclaredOperation, PartyIdentifiers, Registry
from deconflict.tracking import Tracker, replay


@pytest.fixture(scope="module")
def five_minutes(real_data: Path) -> tuple[pd.DataFrame, Tracker]:
    df = pd.read_parquet(real_data / "traffic" / "quickstart.parquet")
    part = df[df["timestamp"] < df["timestamp"].iloc[0] + pd.Timedelta("5min")]
    _, trk = replay(part.reset_index(drop=True))
    return part, trk


def squawk4(s: pd.Series) -> pd.Series:
    return s.astype("Int64").astype("string").str.zfill(4)


@pytest.mark.real_data
def test_real_tracks_classified_for_each_viewer(five_minutes: tuple[pd.DataFrame, Tracker]) -> None:
    raw, trk = five_minutes
    now = raw["timestamp"].max()
    now_s = now.value / 1e9
    last = raw.sort_values("timestamp").groupby("icao24").last()
    alpha_icao = sorted(last.index)[:3]
    registry = Registry(
        (
            PartyIdentifiers("alpha", frozenset(alpha_icao)),
            PartyIdentifiers("bravo", callsign_patterns=(r"AFR\d+[A-Z]*",)),
            PartyIdentifiers("charlie", squawk_blocks=(("7600", "7677"),)),
        )
    )
    tracks = TrackIdentities.from_frame(trk.identities())
    result = classify(registry, tracks, "alpha", now_s, unknown_after_s=120.0, stale_after_s=60.0)
    got = pd.Series(result.klass, index=tracks.icao24)

    # independent expectation from the raw rows of each aircraft
    first = raw.groupby("icao24")["timestamp"].min()
    fresh = raw[raw["timestamp"] >= now - pd.Timedelta("60s")]
    last_cs = fresh.dropna(subset=["callsign"]).groupby("icao24")["callsign"].last()
    last_sq = squawk4(fresh.dropna(subset=["squawk"]).groupby("icao24")["squawk"].last())
    for icao in got.index:
        if icao in alpha_icao:
            want = "own"
        elif (
            str(last_cs.get(icao, "")).startswith("AFR")
            or "7600" <= str(last_sq.get(icao, "")) <= "7677"
        ):
            want = "declared"
        elif (now - first[icao]).total_seconds() >= 120.0:
            want = "unknown"
        else:
            want = "pending"
        assert got[icao] == want, icao
    assert set(got) == {"own", "declared", "pending", "unknown"}
    # bravo sees the same picture from its side
    other = classify(registry, tracks, "bravo", now_s, unknown_after_s=120.0)
    own_b = other.klass == "own"
    assert (other.owner[own_b] == "bravo").all()
    assert ((result.klass == "own") == (other.owner == "alpha")).all()
    assert ((other.klass == "unknown") == (result.klass == "unknown")).all()


def identities(**cols: list[object]) -> TrackIdentities:
    n = len(cols["track_id"])

    def obj(name: str) -> np.ndarray:
        return np.array(cols.get(name, [None] * n), dtype=object)

    def f64(name: str) -> np.ndarray:
        return np.array(cols.get(name, [np.nan] * n), dtype=np.float64)

    return TrackIdentities(
        np.array(cols["track_id"], dtype=np.int64),
        f64("first_seen_s"),
        obj("icao24"),
        f64("icao24_s"),
        obj("callsign"),
        f64("callsign_s"),
        obj("squawk"),
        f64("squawk_s"),
    )


def test_stale_identity_turns_unknown_once_and_asks_once() -> None:
    reg = Registry((PartyIdentifiers("alpha", frozenset({"3c6444"})),))
    tr = identities(track_id=[7], first_seen_s=[0.0], icao24=["3c6444"], icao24_s=[100.0])
    kinds = []
    events = []
    prev = None
    for now in np.arange(100.0, 400.0, 10.0):
        cur = classify(reg, tr, "bravo", float(now), unknown_after_s=60.0, stale_after_s=50.0)
        kinds.append(str(cur.klass[0]))
        events += identification_requests(prev, cur, tr)
        prev = cur
    # declared while fresh (<= 50 s), pending for 60 s more, then unknown
    assert kinds[:6] == ["declared"] * 6
    assert kinds[6:11] == ["pending"] * 5
    assert set(kinds[11:]) == {"unknown"}
    assert len(events) == 1
    ev = events[0]
    assert (ev.track_id, ev.time_s, ev.unmatched_since_s) == (7, 210.0, 150.0)
    assert ev.icao24 == "3c6444"  # the request carries the last known (stale) identity
    # re-identified, then lost again: a new request
    tr2 = identities(track_id=[7], first_seen_s=[0.0], icao24=["3c6444"], icao24_s=[400.0])
    back = classify(reg, tr2, "bravo", 400.0, unknown_after_s=60.0, stale_after_s=50.0)
    assert back.klass[0] == "declared"
    assert identification_requests(prev, back, tr2) == []
    again = classify(reg, tr2, "bravo", 600.0, unknown_after_s=60.0, stale_after_s=50.0)
    assert len(identification_requests(back, again, tr2)) == 1


def test_declared_operation_window_and_ambiguous_claims() -> None:
    op = DeclaredOperation("op-7", "alpha", callsigns=frozenset({"viper11"}), start_s=0, end_s=100)
    reg = Registry(
        (
            PartyIdentifiers("alpha", frozenset({"aaaaaa"})),
            PartyIdentifiers("bravo", frozenset({"aaaaaa"}), callsign_patterns=("VIPER.*",)),
        ),
        (op,),
    )
    icao = np.array(["aaaaaa", None], dtype=object)
    cs = np.array([None, "VIPER11"], dtype=object)
    none = np.array([None, None], dtype=object)
    owner, operation, how = match_owners(reg, icao, cs, none, 50.0)
    assert owner[0] is None and how[0] == "ambiguous icao24"  # both registered it
    assert (owner[1], operation[1], how[1]) == ("alpha", "op-7", "operation")
    owner, operation, how = match_owners(reg, icao, cs, none, 150.0)  # operation over
    assert (owner[1], operation[1], how[1]) == ("bravo", None, "callsign")


@given(st.integers(0, 0o7777), st.integers(0, 0o7777), st.integers(0, 0o7777))
def test_squawk_blocks_are_octal_ranges(lo: int, hi: int, code: int) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    reg = Registry((PartyIdentifiers("p", squawk_blocks=((f"{lo:04o}", f"{hi:04o}"),)),))
    sq = np.array([f"{code:04o}"], dtype=object)
    none = np.array([None], dtype=object)
    owner, _, _ = match_owners(reg, none, none, sq, 0.0)
    assert (owner[0] == "p") == (lo <= code <= hi)


def test_registry_rejects_bad_identifiers() -> None:
    with pytest.raises(InputError, match="6 hex"):
        PartyIdentifiers("p", frozenset({"xyz"}))
    with pytest.raises(InputError, match="regular expression"):
        PartyIdentifiers("p", callsign_patterns=("AFR(",))
    with pytest.raises(InputError, match="octal"):
        PartyIdentifiers("p", squawk_blocks=(("5180", "5177"),))
    with pytest.raises(InputError, match="twice"):
        Registry((PartyIdentifiers("p"), PartyIdentifiers("p")))
    reg = Registry.from_dict(
        {
            "parties": {"p": {"icao24": ["ABCDEF"], "squawks": [["5100", "5177"]]}},
            "operations": [{"id": "o1", "party": "p", "callsigns": ["x1"]}],
        }
    )
    assert reg.parties[0].icao24 == frozenset({"abcdef"})
    with pytest.raises(InputError, match="malformed"):
        Registry.from_dict({"operations": [{"party": "p"}]})


@pytest.mark.real_data
def test_a_claim_declares_an_unknown_real_track_until_it_goes_stale(
    five_minutes: tuple[pd.DataFrame, Tracker],
) -> None:
    raw, trk = five_minutes
    now_s = raw["timestamp"].max().value / 1e9
    registry = Registry((PartyIdentifiers("alpha"),))  # nobody registered anything
    before = classify(registry, TrackIdentities.from_frame(trk.identities()), "delta", now_s)
    unknown = before.track_id[before.klass == "unknown"]
    assert unknown.size > 0
    tid = int(unknown[0])
    trk.claim(tid, "delta", now_s)  # delta answered the identification request: "ours"
    ids = TrackIdentities.from_frame(trk.identities())
    mine = classify(registry, ids, "delta", now_s, claim_stale_after_s=300.0)
    theirs = classify(registry, ids, "alpha", now_s, claim_stale_after_s=300.0)
    row = int(np.flatnonzero(ids.track_id == tid)[0])
    assert (mine.klass[row], mine.matched_by[row]) == ("own", "claim")
    assert theirs.klass[row] == "declared" and theirs.owner[row] == "delta"
    later = classify(registry, ids, "alpha", now_s + 330.0, 60.0, 60.0, 300.0)
    assert later.klass[row] == "pending"  # claim stale for 30 s: not yet unknown
    assert later.unmatched_since_s[row] == pytest.approx(now_s + 300.0)
    assert classify(registry, ids, "alpha", now_s + 360.0, 60.0, 60.0, 300.0).klass[row] == (
        "unknown"
    )
    with pytest.raises(NotFoundError):
        trk.claim(10**9, "delta", now_s)


def test_a_fleet_registry_matches_exact_callsigns_and_addresses() -> None:
    """What the live engine registers of each party's fleet (``Registry.from_fleets``): names of
    6 hex digits are icao24 addresses, the others exact callsigns (case-insensitive, no
    prefix match); an identifier two fleets claim settles nothing."""
    reg = Registry.from_fleets(
        {"blue": {"VIPER11", "AE0B11", " viper12 "}, "red": {"FALCON21", "150f21", "SHARED"},
         "civil": {"SHARED"}}
    )  # fmt: skip
    by = {p.party: p for p in reg.parties}
    assert by["blue"].icao24 == {"ae0b11"} and by["blue"].callsigns == {"VIPER11", "VIPER12"}
    icao = np.array([None, "ae0b11", None, None, "150f21", None], dtype=object)
    cs = np.array(["viper11", None, "VIPER1", "shared", None, "VIPER12 "], dtype=object)
    owner, _, how = match_owners(reg, icao, cs, np.full(6, None, dtype=object), 0.0)
    assert list(owner) == ["blue", "blue", None, None, "red", "blue"]
    assert list(how)[:2] == ["callsign", "icao24"] and how[3] == "ambiguous callsign"
    with pytest.raises(InputError, match="registered twice"):
        Registry((PartyIdentifiers("blue"), PartyIdentifiers("blue")))
