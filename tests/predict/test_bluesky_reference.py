"""Our conflict set against BlueSky's own (both its detectors) on its benchmark traffic.

BlueSky measures distance on a sphere of radius 6,371 km with an equirectangular approximation;
we measure on the WGS84 ellipsoid. Every pair on which the two disagree must therefore sit on a
boundary of the protected volume (horizontal, vertical or lookahead) within BlueSky's geodesy
error — and for every such pair, an exact geodesic flight simulation must agree with us.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from deconflict.predict.detect import detect
from deconflict.units import FPM, FT, KT, NM

DATA = Path(__file__).resolve().parent.parent / "data"
GEOD = Geod(ellps="WGS84")


def load(n: int) -> tuple[pd.DataFrame, dict[str, set[frozenset[str]]]]:
    return load_file(f"bluesky_cd_n{n}.json.gz")


def load_file(name: str) -> tuple[pd.DataFrame, dict[str, set[frozenset[str]]]]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    ac = data["aircraft"]
    states = pd.DataFrame(
        {
            "id": ac["id"],
            "latitude": ac["lat"],
            "longitude": ac["lon"],
            "altitude": np.asarray(ac["alt"]) / FT,
            "groundspeed": np.asarray(ac["gs"]) / KT,
            "track": ac["trk"],
            "vertical_rate": np.asarray(ac["vs"]) / FPM,
        }
    )
    pairs = {k: {frozenset(p) for p in v} for k, v in data["pairs"].items()}
    return states, pairs


def exact_los(states: pd.DataFrame, a: str, b: str, step_s: float = 0.002) -> bool:
    """Loss of 5 NM / 1,000 ft (less 1 ft) within 300 s, flying the WGS84 geodesics."""
    sa = states.set_index("id").loc[a]
    sb = states.set_index("id").loc[b]
    t = np.arange(0.0, 300.0 + step_s, step_s)
    pa = GEOD.fwd(np.full(len(t), sa.longitude), np.full(len(t), sa.latitude),
                  np.full(len(t), sa.track), sa.groundspeed * KT * t)  # fmt: skip
    pb = GEOD.fwd(np.full(len(t), sb.longitude), np.full(len(t), sb.latitude),
                  np.full(len(t), sb.track), sb.groundspeed * KT * t)  # fmt: skip
    d = np.asarray(GEOD.inv(pa[0], pa[1], pb[0], pb[1])[2])
    dz = np.abs((sa.altitude - sb.altitude) + (sa.vertical_rate - sb.vertical_rate) * t / 60.0)
    return bool(np.any((d < 5 * NM) & (dz < 999.0)))


@pytest.mark.slow
@pytest.mark.parametrize("n", [2000, 5000])
def test_same_conflict_set_as_bluesky_but_for_listed_boundary_pairs(n: int) -> None:
    states, bluesky = load(n)
    assert bluesky["StateBased"] == bluesky["cstatebased"]  # BlueSky agrees with itself here
    ref = bluesky["StateBased"]
    ours = detect(states)
    mine = {frozenset(p) for p in zip(ours.a, ours.b, strict=True)}
    differing = sorted(tuple(sorted(p)) for p in mine ^ ref)
    print(f"N={n}: ours {len(mine)}, BlueSky {len(ref)}, differing pairs: {differing}")
    assert len(differing) <= max(5, len(ref) * 2 // 100)  # geodesy-boundary pairs only
    for a, b in differing:
        # the exact geodesic simulation sides with us on every differing pair
        assert exact_los(states, a, b) is (frozenset((a, b)) in mine), (a, b)


def test_flight_levels_differ_from_bluesky_only_on_the_vertical_boundary() -> None:
    """On discrete flight levels, BlueSky's NumPy and C++ detectors disagree with each other on
    aircraft exactly 1,000 ft apart (its issue #345). We hold those separated (tolerance 1 ft):
    pairs on which we differ from either detector are level pairs within 1 ft of 1,000 ft (listed)
    or, as on continuous altitudes, geodesy-boundary pairs on which the exact simulation sides
    with us."""
    states, bluesky = load_file("bluesky_cd_n2000_levels.json.gz")
    ours = detect(states)
    mine = {frozenset(p) for p in zip(ours.a, ours.b, strict=True)}
    by_id = states.set_index("id")
    for impl, ref in bluesky.items():
        differing = sorted(tuple(sorted(p)) for p in mine ^ ref)
        vertical = [
            (a, b)
            for a, b in differing
            if by_id.loc[a].vertical_rate == 0.0
            and by_id.loc[b].vertical_rate == 0.0
            and abs(abs(by_id.loc[a].altitude - by_id.loc[b].altitude) - 1000.0) < 1.0
        ]
        others = [p for p in differing if p not in vertical]
        print(f"{impl}: ours {len(mine)}, BlueSky {len(ref)}; on the vertical boundary "
              f"({len(vertical)}): {vertical}; geodesy boundary ({len(others)}): {others}")  # fmt: skip
        assert all(frozenset(p) in ref and frozenset(p) not in mine for p in vertical)
        assert len(others) <= max(5, len(ref) * 2 // 100)
        for a, b in others:
            assert exact_los(states, a, b) is (frozenset((a, b)) in mine), (impl, a, b)
    assert bluesky["StateBased"] != bluesky["cstatebased"]  # the boundary BlueSky disagrees on
