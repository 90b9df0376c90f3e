"""The engine's pictures remember each track's identifiers, owner and key from tick to tick
(``engine.picture.OwnerCache``): on real ADS-B (quickstart.parquet) classified every 10 s, with
fleets registered from the recording's own aircraft and a declared operation that starts and ends
during the run, every picture must equal the one classified afresh (``match_owners`` on every
track), and the operation must change owners while it is active (the cache forgets then).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deconflict.engine.picture import OwnerCache, classify_picture
from deconflict.identify.registry import DeclaredOperation, PartyIdentifiers, Registry
from deconflict.tracking import Tracker, TrackerConfig, report_batch

pytestmark = [pytest.mark.real_data]


@pytest.fixture(scope="module")
def traffic(real_data: Path) -> pd.DataFrame:
    q = pd.read_parquet(real_data / "traffic" / "quickstart.parquet")
    q = q[q["timestamp"] < q["timestamp"].min() + pd.Timedelta(minutes=20)]
    return q.assign(party="a", sensor="adsb").reset_index(drop=True)


def test_remembered_owners_equal_a_fresh_classification(traffic: pd.DataFrame) -> None:
    by_count = traffic.groupby("icao24")["callsign"].first().dropna()
    icaos, calls = by_count.index.tolist(), by_count.tolist()
    t_min = traffic["timestamp"].min().timestamp()
    op = DeclaredOperation(
        "op-1", "b", callsigns=frozenset(c.strip() for c in calls[10:14]),
        start_s=t_min + 300.0, end_s=t_min + 600.0,
    )  # fmt: skip
    registry = Registry(
        (
            PartyIdentifiers("a", frozenset(icaos[:6]), callsigns=frozenset(calls[6:8])),
            PartyIdentifiers("b", frozenset(icaos[8:10])),
        ),
        (op,),
    )
    trk = Tracker(TrackerConfig())
    frame = trk.ensure_frame(
        traffic["latitude"].to_numpy(float), traffic["longitude"].to_numpy(float)
    )
    batch = report_batch(traffic, frame)
    step = np.floor((batch.t_s - t_min) / 10.0).astype(np.int64)
    cache = OwnerCache(registry)
    owners_b = []
    declared: dict[str, tuple[str, str]] = {}
    seen = {"declared": 0, "pending": 0}
    for k in range(int(step.max()) + 1):
        now = t_min + (k + 1) * 10.0
        trk.ingest(batch.take(np.flatnonzero(step == k)), now)
        rows = trk.track_rows(now)
        if k == 20:  # an answer declares one unknown track, another waits for one
            fresh = classify_picture("a", rows, registry, now, declared={}, pending=set())
            unknown = fresh.loc[fresh["identity"] == "unknown", "key"].tolist()
            declared = {unknown[0]: ("b", "B-ANSWER")}
        pending = set(declared and [unknown[1]])
        kept = classify_picture(
            "a", rows, registry, now, declared=declared, pending=pending, owners=cache
        )
        fresh = classify_picture("a", rows, registry, now, declared=declared, pending=pending)
        pd.testing.assert_frame_equal(kept, fresh)
        owners_b.append(int((kept["owner"] == "b").sum()))
        if declared:
            by_key = kept.set_index("key")
            for key, identity in ((unknown[0], "declared"), (unknown[1], "pending")):
                if key in by_key.index:  # until the track is dropped
                    assert by_key.loc[key, "identity"] == identity
                    seen[identity] += 1
            if unknown[0] in by_key.index:
                assert by_key.loc[unknown[0], "aircraft"] == "B-ANSWER"
    assert seen["declared"] > 0 and seen["pending"] > 0
    # the operation's aircraft count as b's only while it is active
    before, during, after = owners_b[25], owners_b[45], owners_b[-1]
    assert during > before and during > after
    assert (kept["identity"] == "own").sum() >= 6


def test_the_same_tracks_again_take_the_remembered_answers(traffic: pd.DataFrame) -> None:
    """The usual tick: the same tracks in the same order. The cache answers from what it
    remembers, a changed identifier is decided again, and a key taken over later (``adopt``)
    names its track from then on and changes none of the cache's other answers."""
    from dataclasses import replace

    icaos = traffic["icao24"].dropna().unique().tolist()
    registry = Registry((PartyIdentifiers("a", frozenset(icaos[:6])),), ())
    trk = Tracker(TrackerConfig())
    frame = trk.ensure_frame(
        traffic["latitude"].to_numpy(float), traffic["longitude"].to_numpy(float)
    )
    t_min = traffic["timestamp"].min().timestamp()
    batch = report_batch(traffic, frame)
    now = t_min + 120.0
    trk.ingest(batch.take(np.flatnonzero(batch.t_s < now)), now)
    rows = trk.track_rows(now)
    cache = OwnerCache(registry)

    def both(r: object) -> pd.DataFrame:
        kept = classify_picture("a", r, registry, now, declared={}, pending=set(), owners=cache)  # type: ignore[arg-type]
        fresh = classify_picture("a", r, registry, now, declared={}, pending=set())  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(kept, fresh)
        return kept

    first = both(rows)
    second = both(rows)
    assert second["key"].tolist() == first["key"].tolist()
    # one of the party's own aircraft loses its address, one track gains one of them
    own = np.flatnonzero(first["identity"].to_numpy() == "own")
    other = np.flatnonzero(first["identity"].to_numpy() != "own")
    assert own.size and other.size
    icao24 = rows.icao24.copy()
    icao24[own[0]], icao24[other[0]] = None, icaos[0]
    changed = both(replace(rows, icao24=icao24))
    assert changed["identity"].iloc[other[0]] == "own"
    track = int(rows.track_id[other[1]])
    cache.adopt("a", track, "a/T-OLD")
    after = classify_picture(
        "a", replace(rows, icao24=icao24), registry, now, declared={}, pending=set(), owners=cache
    )
    assert after["key"].iloc[other[1]] == "a/T-OLD"
    assert (
        after["key"].drop(index=other[1]).tolist() == changed["key"].drop(index=other[1]).tolist()
    )
