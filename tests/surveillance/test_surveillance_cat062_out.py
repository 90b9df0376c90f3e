"""The CAT062 encoder, read back by an independent codec (libasterix) and by the project's own
decoder (aviconv-asterix): every track's position, altitude, velocity, rate, track number and
identity equal within the format's resolution, on random pictures and on a real one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libasterix_cat062 import decode_blocks, libasterix_blocks

from deconflict.errors import InputError
from deconflict.surveillance.asterix import decode_asterix
from deconflict.surveillance.base import DecodeOptions
from deconflict.surveillance.cat062_out import Cat062Source, encode_cat062
from deconflict.units import KT

LATLON_LSB = 180.0 / 2**25
T0 = 1_728_302_401.25  # 2024-10-07 12:00:01.25 UTC
SIXBIT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "


def _expected_callsign(text: str) -> str:
    up = text.upper()
    return "".join(c if c in SIXBIT else " " for c in up).ljust(8)[:8]


def check_round_trip(picture: pd.DataFrame, time_s: float, source: Cat062Source,
                     decoded: list[dict[str, object]]) -> None:  # fmt: skip
    """Every positioned track of ``picture`` is one decoded record, in order, equal within the
    resolution of each item (half its LSB, and a little for float rounding)."""
    has_pos = picture["latitude"].notna() & picture["longitude"].notna()
    rows = picture[has_pos.to_numpy()].reset_index(drop=True)
    assert len(decoded) == len(rows)
    for k, rec in enumerate(decoded):
        row = rows.iloc[k]
        assert (rec["sac"], rec["sic"]) == (source.sac, source.sic)
        assert abs(float(rec["tod_s"]) - time_s % 86400) <= 1 / 256 + 1e-9  # type: ignore[arg-type]
        assert abs(float(rec["lat"]) - row["latitude"]) <= LATLON_LSB / 2 + 1e-12  # type: ignore[arg-type]
        lon = (row["longitude"] + 180.0) % 360.0 - 180.0
        dlon = (float(rec["lon"]) - lon + 180.0) % 360.0 - 180.0  # type: ignore[arg-type]
        assert abs(dlon) <= LATLON_LSB / 2 + 1e-9
        assert rec["track_number"] == int(row["track_id"]) % 65536
        assert rec["coasting"] == (row["status"] == "coasting")
        if np.isfinite(row["altitude"]):
            assert abs(float(rec["fl136"]) * 100 - row["altitude"]) <= 12.5 + 1e-6  # type: ignore[arg-type]
            assert rec["fl135"] == rec["fl136"] and rec["qnh"] == 0
        else:
            assert "fl136" not in rec and "fl135" not in rec
        if np.isfinite(row["groundspeed"]) and np.isfinite(row["track"]):
            gs, trk = row["groundspeed"] * KT, np.radians(row["track"])
            assert abs(float(rec["vx"]) - gs * np.sin(trk)) <= 0.125 + 1e-6  # type: ignore[arg-type]
            assert abs(float(rec["vy"]) - gs * np.cos(trk)) <= 0.125 + 1e-6  # type: ignore[arg-type]
        else:
            assert "vx" not in rec
        if np.isfinite(row["vertical_rate"]):
            assert abs(float(rec["rate_fpm"]) - row["vertical_rate"]) <= 3.125 + 1e-6  # type: ignore[arg-type]
        else:
            assert "rate_fpm" not in rec
        callsign = row["callsign"]
        if isinstance(callsign, str) and callsign.strip():
            assert rec["sti"] == 0
            assert rec["callsign"] == _expected_callsign(callsign.strip())
        else:
            assert "callsign" not in rec
        icao = row["icao24"]
        if isinstance(icao, str) and len(icao) == 6:
            assert rec["icao24"] == icao.lower()
        else:
            assert "icao24" not in rec
        squawk = row.get("squawk")
        if isinstance(squawk, str) and squawk:
            assert rec["squawk"] == squawk.zfill(4)


def _maybe(strategy: st.SearchStrategy[float]) -> st.SearchStrategy[float]:
    return st.one_of(strategy, st.just(float("nan")))


TRACK = st.fixed_dictionaries(
    {
        "track_id": st.integers(0, 2**40),
        "latitude": st.floats(-90, 90),
        "longitude": st.floats(-180, 540),
        "altitude": _maybe(st.floats(-1500, 70_000)),
        "groundspeed": _maybe(st.floats(0, 2000)),
        "track": _maybe(st.floats(0, 720)),
        "vertical_rate": _maybe(st.floats(-20_000, 20_000)),
        "icao24": st.one_of(st.none(), st.from_regex(r"[0-9a-fA-F]{6}", fullmatch=True)),
        "callsign": st.one_of(st.none(), st.text(alphabet=SIXBIT + "abz-/", max_size=8)),
        "squawk": st.one_of(st.none(), st.from_regex(r"[0-7]{1,4}", fullmatch=True)),
        "status": st.sampled_from(["confirmed", "coasting"]),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    tracks=st.lists(TRACK, min_size=1, max_size=60),
    time_s=st.floats(0, 4e9),
    sac=st.integers(0, 255),
    sic=st.integers(0, 255),
    block=st.integers(64, 1500),
)
def test_libasterix_reads_back_every_track(
    tracks: list[dict[str, object]], time_s: float, sac: int, sic: int, block: int
) -> None:
    picture = pd.DataFrame(tracks)
    source = Cat062Source(sac, sic)
    blocks = encode_cat062(picture, time_s, source, max_block_bytes=block)
    assert all(len(b) <= block and int.from_bytes(b[1:3], "big") == len(b) for b in blocks)
    check_round_trip(picture, time_s, source, decode_blocks(blocks))


IN_RANGE = st.fixed_dictionaries(
    {
        "track_id": st.integers(0, 2**40),
        "latitude": st.floats(-90, 90),
        "longitude": st.floats(-180, 179.999),
        "altitude": _maybe(st.floats(-1500, 70_000)),
        "groundspeed": st.floats(0, 2000),
        "track": st.floats(0, 360),
        "vertical_rate": _maybe(st.floats(-20_000, 20_000)),
        "icao24": st.one_of(st.none(), st.from_regex(r"[0-9a-f]{6}", fullmatch=True)),
        "callsign": st.one_of(st.none(), st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True)),
        "squawk": st.one_of(st.none(), st.from_regex(r"[0-7]{4}", fullmatch=True)),
        "status": st.sampled_from(["confirmed", "coasting"]),
    }
)


@settings(max_examples=60, deadline=None)
@given(tracks=st.lists(IN_RANGE, min_size=1, max_size=20), time_s=st.floats(0, 4e9))
def test_libasterix_building_the_same_items_writes_the_same_bytes(
    tracks: list[dict[str, object]], time_s: float
) -> None:
    """libasterix, given each item's value in its own units, makes the very records we make."""
    picture = pd.DataFrame(tracks)
    source = Cat062Source(25, 100)
    ours = encode_cat062(picture, time_s, source, max_block_bytes=65535)
    theirs = libasterix_blocks(picture, time_s, source)
    assert b"".join(b[3:] for b in ours) == b"".join(b[3:] for b in theirs)


@pytest.fixture(scope="module")
def real_picture(real_data: Path) -> tuple[pd.DataFrame, float]:
    """The tracker's picture after a minute of the real Paris recording (quickstart.parquet)."""
    from deconflict.engine.session import Session

    start = pd.Timestamp("2021-10-07 13:30", tz="UTC")
    session = Session.from_recording(real_data / "traffic" / "quickstart.parquet", start=start)
    for _ in range(60):
        session.step(1.0)
    picture = session.engine.picture("replay")
    assert len(picture) >= 5
    return picture, float(session.engine.now_s)


@pytest.mark.real_data
def test_real_picture_read_back_by_libasterix_and_by_our_decoder(
    real_picture: tuple[pd.DataFrame, float],
) -> None:
    picture, now_s = real_picture
    source = Cat062Source(25, 100)
    blocks = encode_cat062(picture, now_s, source)
    check_round_trip(picture, now_s, source, decode_blocks(blocks))
    when = pd.Timestamp(now_s, unit="s", tz="UTC")
    ours = decode_asterix(b"".join(blocks), DecodeOptions(start_time=when)).reports
    assert len(ours) == len(picture)
    assert (ours["track_number"].to_numpy() == picture["track_id"].to_numpy() % 65536).all()
    assert np.allclose(ours["latitude"], picture["latitude"], atol=LATLON_LSB)
    alt = picture["altitude"].to_numpy(float)
    known = np.isfinite(alt)
    assert np.allclose(ours["altitude"].to_numpy(float)[known], alt[known], atol=12.5)
    moving = picture["groundspeed"].to_numpy(float) > 30
    assert np.allclose(ours["groundspeed"].to_numpy(float)[moving],
                       picture["groundspeed"].to_numpy(float)[moving], atol=0.36 / KT)  # fmt: skip
    icao = picture["icao24"].fillna("").to_numpy(str)
    assert (ours["icao24"].fillna("").to_numpy(str) == icao).all()
    assert abs(ours["timestamp"].iloc[0].value / 1e9 - now_s) <= 1 / 128


def test_values_beyond_an_item_are_clipped_not_wrapped() -> None:
    picture = pd.DataFrame({"track_id": [7], "latitude": [10.0], "longitude": [20.0],
                            "altitude": [3_000_000.0], "groundspeed": [40_000.0], "track": [90.0],
                            "vertical_rate": [-900_000.0], "icao24": [None], "callsign": [None],
                            "status": ["confirmed"]})  # fmt: skip
    (rec,) = decode_blocks(encode_cat062(picture, T0))
    assert rec["vx"] == pytest.approx(32767 * 0.25) and rec["vy"] == 0.0
    assert float(rec["fl136"]) == pytest.approx(32767 / 4)  # type: ignore[arg-type]
    assert float(rec["rate_fpm"]) == pytest.approx(-32768 * 6.25)  # type: ignore[arg-type]


def test_blocks_split_where_they_must_and_hold_every_record() -> None:
    n = 1000
    rng = np.random.default_rng(1)
    picture = pd.DataFrame({"track_id": np.arange(n), "latitude": rng.uniform(40, 50, n),
                            "longitude": rng.uniform(0, 10, n), "altitude": rng.uniform(0, 4e4, n),
                            "groundspeed": rng.uniform(100, 500, n), "track": rng.uniform(0, 360, n),
                            "vertical_rate": np.zeros(n), "icao24": [f"{i:06x}" for i in range(n)],
                            "callsign": [f"T{i}" for i in range(n)], "status": "confirmed"})  # fmt: skip
    blocks = encode_cat062(picture, T0)
    assert len(blocks) > 1 and all(len(b) <= 1400 for b in blocks)
    decoded = decode_blocks(blocks)
    assert [r["track_number"] for r in decoded] == list(range(n))
    # greedy: no block could have taken the next block's first record
    first = 0
    for block in blocks[:-1]:
        first += len(decode_blocks([block]))
        (alone,) = encode_cat062(picture.iloc[[first]], T0)
        assert len(block) + len(alone) - 3 > 1400


def test_bad_input_says_what_to_do() -> None:
    picture = pd.DataFrame({"track_id": [1], "latitude": [1.0], "longitude": [2.0]})
    with pytest.raises(InputError, match="picture's time"):
        encode_cat062(picture, float("nan"))
    with pytest.raises(InputError, match="max_block_bytes"):
        encode_cat062(picture, T0, max_block_bytes=70_000)
    with pytest.raises(InputError, match="track_id"):
        encode_cat062(picture.drop(columns="track_id"), T0)
    with pytest.raises(InputError, match="SAC 256 is not one byte"):
        Cat062Source(256, 1)
    assert encode_cat062(picture.iloc[:0], T0) == []
    # a row without a position is left out, the others still go
    two = pd.DataFrame({"track_id": [1, 2], "latitude": [np.nan, 3.0], "longitude": [2.0, 4.0]})
    (rec,) = decode_blocks(encode_cat062(two, T0))
    assert rec["track_number"] == 2
