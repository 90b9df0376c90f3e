"""Our analysis against the `traffic` library's own closest-approach test (switzerland sample).

The reference JSON is traffic 2.13's output, produced by tests/analysis/make_traffic_reference.py
in a separate environment (traffic needs pandas < 3). traffic compares the two aircraft at their
common timestamps only (10 s samples, no interpolation); ``aggregated`` is
``max(lateral / 5 NM, vertical / 1000 ft)``, minimised per pair.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deconflict.analysis.inputs import open_source
from deconflict.analysis.run import analyse_files
from deconflict.analysis.screen import lookup, resample
from deconflict.analysis.windows import read_canonical
from deconflict.geo import direction_deg, geodesic_m
from deconflict.units import FT, NM

REFERENCE = Path(__file__).parent / "data" / "traffic_cpa_switzerland.json"
START, STOP = "2018-08-01 12:00", "2018-08-01 14:00"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text())


@pytest.fixture(scope="module")
def events(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("swiss")
    return analyse_files(
        [real_data / "traffic" / "switzerland.parquet"],
        out,
        start=START,
        stop=STOP,
        engine="local",
        progress=False,
        level_tolerance_ft=0.0,  # traffic has no adjacent-level rule: compare the geometry alone
    )


def _ours(events: pd.DataFrame, icao: str) -> pd.DataFrame:
    mine = events[(events.a == icao) | (events.b == icao)].copy()
    mine["other"] = np.where(mine.a == icao, mine.b, mine.a)
    return mine


def test_same_callsigns_below_1_5_as_traffic(events: pd.DataFrame, reference: dict) -> None:
    mine = _ours(events, "0a0075")
    below = mine[mine.ratio < 1.5]
    callsigns = {*below.callsign_a, *below.callsign_b}
    assert callsigns == set(reference["traffic_test_callsigns_below_1_5"])


def test_every_pair_traffic_sees_inside_the_screen_is_an_event(
    events: pd.DataFrame, reference: dict
) -> None:
    mine = _ours(events, "0a0075")
    for row in reference["pairs_0a0075"]:
        inside = row["lateral_nm"] <= 10 and row["vertical_ft"] <= 2000
        ours = mine[mine.other == row["icao24_x"]]
        assert (len(ours) > 0) == inside, row
        if inside:
            # our CPA is the minimum of the interpolated trajectories: never above traffic's
            # minimum over the samples, and a loss exactly where traffic's aggregated is < 1
            assert ours.ratio.min() <= row["aggregated"] + 1e-9
            assert bool(ours.loss.any()) == (row["aggregated"] < 1.0), row
    # and no event with a pair traffic does not know
    assert set(mine.other) <= {r["icao24_x"] for r in reference["pairs_0a0075"]}


def test_grid_minimum_equals_traffic_minimum(real_data: Path, reference: dict) -> None:
    """On the 10 s grid (the sample times), our per-pair minimum is traffic's: same time,
    same vertical distance, same lateral distance (both WGS84 geodesics)."""
    src = open_source(real_data / "traffic" / "switzerland.parquet")
    t0 = pd.Timestamp(START, tz="UTC").timestamp()
    t1 = pd.Timestamp(STOP, tz="UTC").timestamp() + 1  # traffic's between() includes the end
    data = read_canonical([src], t0, t1)
    names, code = np.unique(data["id"].to_numpy(str), return_inverse=True)
    step = 10.0
    grid = resample(
        code.astype(np.int64),
        data.t_s.to_numpy(),
        data.lat_deg.to_numpy(),
        data.lon_deg.to_numpy(),
        data.alt_m.to_numpy(),
        data.airborne.to_numpy(bool),
        step,
        int(t0 // step),
        int(t1 // step) + 1,
        60.0,
    )
    me = int(np.searchsorted(names, "0a0075"))
    ks = np.arange(int(t0 // step), int(t1 // step) + 1)
    inside = [r for r in reference["pairs_0a0075"] if r["lateral_nm"] <= 10]
    assert len(inside) == 4
    for row in inside:  # traffic skips 10-min chunks where a pair is > 10 NM apart: not beyond
        other = int(np.searchsorted(names, row["icao24_x"]))
        ra = lookup(grid, np.full(ks.size, me), ks)
        rb = lookup(grid, np.full(ks.size, other), ks)
        both = (ra >= 0) & (rb >= 0)
        ra, rb, k = ra[both], rb[both], ks[both]
        (lat_a, lon_a), (lat_b, lon_b) = (
            direction_deg(grid.xyz_m[ra]),
            direction_deg(grid.xyz_m[rb]),
        )
        lateral = geodesic_m(lat_a, lon_a, lat_b, lon_b) / NM
        vertical = np.abs(grid.alt_m[ra] - grid.alt_m[rb]) / FT
        agg = np.maximum(lateral / 5.0, vertical / 1000.0)
        # the same minimum; where several steps tie (e.g. 975 ft for 80 s), traffic's time is
        # one of ours, and the distances there agree
        assert agg.min() == pytest.approx(row["aggregated"], rel=1e-6)
        ties = k[agg <= agg.min() * (1 + 5e-3)] * step
        when = pd.Timestamp(row["timestamp"]).timestamp()
        assert when in ties, row
        at = int(np.flatnonzero(k * step == when)[0])
        assert vertical[at] == pytest.approx(row["vertical_ft"], abs=1e-6)
        assert lateral[at] == pytest.approx(row["lateral_nm"], rel=1e-6)


def test_adjacent_levels_split_the_raw_losses(
    events: pd.DataFrame, real_data: Path, tmp_path: Path
) -> None:
    """With the default level tolerance (200 ft, ICAO Doc 4444 §8.5.5.1), the raw losses (no
    rule) split exactly into losses and adjacent-level pairs; every adjacent-level pair is at
    least 1,000 − 2 × 200 ft apart throughout its loss and is no loss in the report's count."""
    default = analyse_files(
        [real_data / "traffic" / "switzerland.parquet"],
        tmp_path,
        start=START,
        stop=STOP,
        engine="local",
        progress=False,
    )
    key = ["a", "b", "t_start"]
    raw = events[events.loss].set_index(key).index
    real = default[default.category == "loss"].set_index(key).index
    adjacent = default[default.category == "adjacent_levels"]
    assert len(raw) > 0 and len(adjacent) > 0
    assert sorted(raw) == sorted(real.append(adjacent.set_index(key).index))
    assert (adjacent.loss_min_v_ft >= 600.0 - 1e-6).all()
    assert not adjacent.loss.any() and (adjacent.severity == "E").all()
    # during each raw loss the closest horizontal distance is within the minimum, and never
    # larger than the aggregated closest approach's horizontal distance
    lossy = events[events.loss]
    assert (lossy.loss_min_h_nm < 5.0).all() and (lossy.loss_min_v_ft < 1000.0).all()
    assert (lossy.loss_min_h_nm <= lossy.dcpa_nm + 1e-9).all()
