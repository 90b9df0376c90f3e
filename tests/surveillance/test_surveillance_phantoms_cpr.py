"""Phantom aircraft from garbage, and local CPR decoding beyond its valid range (real frames)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.surveillance import DecodeOptions, decode
from deconflict.surveillance.modes import ModeSDecoder

CDG = (49.0097, 2.5479)


@pytest.fixture(scope="module")
def sample(real_data: Path) -> bytes:
    return (real_data / "traffic" / "sample_dump1090.bin").read_bytes()


START = pd.Timestamp("2020-01-01", tz="UTC")


def _stream_decode(
    frames: list[str], times: np.ndarray, reference: tuple[float, float]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    decoder = ModeSDecoder(DecodeOptions(reference=reference), require_announced=False)
    parts = [
        decoder.decode(frames[a : a + 3000], times[a : a + 3000])
        for a in range(0, len(frames), 3000)
    ]
    reports = pd.concat([p.reports for p in parts], ignore_index=True)
    errors = pd.concat(
        [
            p.errors.assign(position=p.errors["position"] + a)
            for a, p in zip(range(0, len(frames), 3000), parts, strict=False)
        ],
        ignore_index=True,
    )
    return reports, errors


def test_local_cpr_against_a_far_reference_is_refused_not_wrong(real_data: Path) -> None:
    afr = pd.read_parquet(real_data / "traffic" / "afr34zg_modes_frames.parquet")
    frames = afr["frame"].tolist()
    times = afr["timestamp"].astype("int64").to_numpy()
    good, good_errors = _stream_decode(frames, times, CDG)
    assert good["latitude"].notna().sum() == 8324 and len(good_errors) == 0
    # the receiver reference set 2.6 deg (156 NM) north of the airport: surface positions at
    # CDG decode locally ~333 km wrong unless refused (the issue: 12,360 of 14,464 wrong)
    far, errors = _stream_decode(frames, times, (CDG[0] + 2.6, CDG[1]))
    placed = far["latitude"].notna()
    assert (far["latitude"][placed] == good["latitude"][placed]).all()  # none wrong
    assert (far["longitude"][placed] == good["longitude"][placed]).all()
    refused = errors[errors["kind"].isin(["cpr-out-of-range", "cpr-unchecked"])]
    assert len(refused) == good["latitude"].notna().sum() - placed.sum()  # each said, once
    assert len(refused) > 1000
    tc = afr["frame"].str[8:10].apply(lambda h: int(h, 16) >> 3).to_numpy()
    assert set(tc[refused["position"].to_numpy()]) <= {5, 6, 7, 8}  # surface positions only
    assert "45 NM" in refused["message"].iloc[0]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.binary(min_size=7, max_size=7), min_size=1, max_size=40))
def test_garbage_replies_make_no_phantom_aircraft(sample: bytes, garbage: list[bytes]) -> None:
    stream = sample
    clean = decode(stream, format="beast", options=DecodeOptions(start_time=START))
    # garbage short replies (DF0/4/5) spliced in at frame starts; their "address" is whatever
    # the parity of random bytes gives
    starts = [
        i
        for i in range(1, len(stream))
        if stream[i] == 0x1A and stream[i - 1] != 0x1A and stream[i + 1] in b"23"
    ]
    inserts: dict[int, bytes] = {}
    for k, body in enumerate(garbage):
        msg = bytes([(b"\x00\x20\x28"[k % 3]) | (body[0] & 0x07)]) + body[1:]
        counter = (0x15A8877E + k * 1000).to_bytes(6, "big")  # near the receiver's own
        frame = b"\x1a2" + (counter + b"\x80" + msg).replace(b"\x1a", b"\x1a\x1a")
        at = starts[(k * 37) % len(starts)]
        inserts[at] = inserts.get(at, b"") + frame
    cuts = [0, *sorted(inserts), len(stream)]
    damaged = b"".join(inserts.get(a, b"") + stream[a:b] for a, b in itertools.pairwise(cuts))
    result = decode(damaged, format="beast", options=DecodeOptions(start_time=START))
    assert set(result.reports["icao24"]) <= set(clean.reports["icao24"])  # no phantom
    assert result.counts["reports"] >= clean.counts["reports"]  # nothing real lost
    extra = result.counts["reports"] - clean.counts["reports"]
    assert result.counts.get("error:unknown-address", 0) + extra == 6 + len(garbage)
