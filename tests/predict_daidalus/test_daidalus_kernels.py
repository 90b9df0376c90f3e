"""The compiled band-search kernels (``predict.daidalus._kernels``) against the numpy reference
(``detection.line_intervals``/``conflict_within`` and the ``greens`` green functions) on encounters
generated at random: same intervals, same conflict-free candidates for every search time, volume,
recovery cylinder and horizon the recovery search can ask for, and the same bands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from predict_daidalus_helpers import case_encounter, load_cases

from deconflict.predict.daidalus import _kernels
from deconflict.predict.daidalus.bands import compute_bands
from deconflict.predict.daidalus.candidates import Traffic, make_dimensions
from deconflict.predict.daidalus.config import DO365B
from deconflict.predict.daidalus.detection import conflict_within, cylinder, line_intervals
from deconflict.predict.daidalus.encounter import read_encounter
from deconflict.predict.daidalus.greens import numpy_region

NM, FT, KT = 1852.0, 0.3048, 1852.0 / 3600.0


def _encounter(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Traffic]:
    """Ownship and 1-3 intruders converging on it within 90 s (ENU, SI)."""
    own_s = np.array([0.0, 0.0, rng.uniform(1000, 9000)])
    trk = rng.uniform(0, 2 * np.pi)
    own_v = np.array([np.sin(trk), np.cos(trk), 0.0]) * rng.uniform(80, 400) * KT
    own_v[2] = rng.choice([0.0, rng.uniform(-10, 10)])
    n = int(rng.integers(1, 4))
    tc = rng.uniform(0, 90, n)
    trk_i = rng.uniform(0, 2 * np.pi, n)
    v = np.stack([np.sin(trk_i), np.cos(trk_i), np.zeros(n)], axis=1) * rng.uniform(80, 450, (n, 1))
    v *= KT
    v[:, 2] = rng.uniform(-12, 12, n) * (rng.uniform(size=n) < 0.5)
    miss = rng.uniform(-1.5, 1.5, (n, 3)) * [NM, NM, 0.0]
    miss[:, 2] = rng.uniform(-250, 250, n)
    s = own_s + own_v * tc[:, None] + miss - v * tc[:, None]
    alerter = rng.integers(1, 4, n)
    return own_s, own_v, Traffic(s, v, alerter.astype(np.int64), DO365B)


def test_line_intervals_match_the_numpy_reference() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        own_s, own_v, traffic = _encounter(rng)
        k = 50
        t = np.sort(rng.uniform(0, 60, k))
        s = own_s + own_v * t[:, None] + rng.normal(0, 300, (k, 3))
        v = own_v + rng.normal(0, 30, (k, 3))
        for vol in (traffic.volume(2), cylinder(0.66 * NM, 450 * FT, traffic.n)):
            ref_in, ref_out = line_intervals(s, v, t, traffic.s, traffic.v, vol, 181.0)
            ref_coast = conflict_within(ref_in, ref_out, t[:, None], (t + 0.5)[:, None])
            got_in, got_out, got_coast = _kernels.line_intervals(
                s, v, t, traffic.s, traffic.v, *vol, 181.0, 0.5
            )
            finite = np.isfinite(ref_in)
            assert (np.isfinite(got_in) == finite).all()
            assert np.allclose(got_in[finite], ref_in[finite], rtol=0, atol=1e-9)
            assert np.allclose(got_out[finite], ref_out[finite], rtol=0, atol=1e-9)
            assert (got_coast == ref_coast).all()


@pytest.mark.parametrize("seed", range(6))
def test_compiled_regions_match_the_numpy_green_functions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    own_s, own_v, traffic = _encounter(rng)
    n = traffic.n
    volumes = [traffic.volume(2), traffic.volume(3), cylinder(500 * FT, 100 * FT, n)]
    recoveries = [None, cylinder(0.66 * NM, 450 * FT, n), cylinder(0.2 * NM, 150 * FT, n)]
    checked = 0
    for dim in make_dimensions(own_s, own_v, DO365B):
        if not dim.valid:
            continue
        for _ in range(12):
            mask = rng.uniform(size=n) < 0.7
            mask[rng.integers(n)] = True
            horizon = rng.choice([25.0, 55.0, 180.0], int(mask.sum()))
            vol = volumes[rng.integers(len(volumes))]
            rec = recoveries[rng.integers(len(recoveries))]
            b = float(rng.choice([0.0, 180.0, rng.uniform(0, 181)]))
            got = dim.region(traffic, mask, vol, horizon, b, rec)
            ref = numpy_region(dim.green)(traffic, mask, vol, horizon, b, rec)
            assert (got == ref).all(), (dim.name, b)
            checked += int((~ref).sum())
    assert checked > 0  # some candidates were not conflict free


def test_compiled_and_numpy_band_searches_give_the_same_bands() -> None:
    rng = np.random.default_rng(11)
    recovered = 0
    for _ in range(40):
        own_s, own_v, traffic = _encounter(rng)
        args = (own_s, own_v, traffic.s, traffic.v, traffic.alerter, DO365B)
        fast = compute_bands(*args, compiled=True)
        reference = compute_bands(*args, compiled=False)
        assert fast == reference
        recovered += sum(d.recovery.computed for d in fast.values())
    assert recovered > 5  # the recovery search was exercised


def test_both_band_searches_agree_on_every_reference_encounter(reference_dir: Path) -> None:
    """The reference encounters (checked against DAIDALUS by test_daidalus_bands through
    ``alert``, which runs numpy for its first calls and the compiled search after): both
    searches give the same bands on each of them."""
    for case in load_cases(reference_dir):
        enc = read_encounter(case_encounter(case))
        args = (enc.own_s, enc.own_v, enc.intr_s, enc.intr_v, enc.alerter, DO365B)
        assert compute_bands(*args, compiled=True) == compute_bands(*args, compiled=False)
