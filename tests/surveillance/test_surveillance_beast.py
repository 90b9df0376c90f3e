"""Beast binary and raw hex (AVR) decoding: whole files, chunked streams, damaged input."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.surveillance import DecodeOptions, decode, detect_format, get_decoder
from deconflict.surveillance.base import concat_results
from deconflict.surveillance.beast import BeastFramer

START = pd.Timestamp("2020-01-01", tz="UTC")
OPTS = DecodeOptions(start_time=START)


@pytest.fixture(scope="module")
def beast_bytes(real_data: Path) -> bytes:
    return (real_data / "traffic" / "sample_dump1090.bin").read_bytes()


def _split_by_hand(data: bytes) -> list[tuple[int, bytes]]:
    """Independent, byte-at-a-time Beast splitter: (type, message) of each frame."""
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        assert data[i] == 0x1A
        kind = data[i + 1]
        size = 7 + {0x32: 7, 0x33: 14}[kind]
        body = bytearray()
        i += 2
        while len(body) < size:
            body.append(data[i])
            i += 2 if data[i] == 0x1A else 1
        out.append((kind, bytes(body[7:])))
    return out


def test_beast_sample_all_239_frames(beast_bytes: bytes) -> None:
    result = decode(beast_bytes, format="beast", options=OPTS)
    assert result.counts["frames"] == 239
    assert result.counts["beast_type_2"] == 185 and result.counts["beast_type_3"] == 54
    # as a receiver does: a DF0/4/5 address (recovered from the parity) counts only once the
    # aircraft was heard in DF11/17/18; the recording starts with 6 such replies
    assert result.counts["reports"] == 233
    assert result.counts["errors"] == result.counts["error:unknown-address"] == 6
    by_hand = _split_by_hand(beast_bytes)
    refused = set(result.errors["message"].str.extract(r"address (\w{6})")[0])
    assert refused <= set(result.reports["icao24"])  # real aircraft, heard later
    assert result.counts["df17"] == 23
    assert result.reports["icao24"].nunique() == 4
    span = result.reports["timestamp"].max() - result.reports["timestamp"].min()
    assert 23.5 < span.total_seconds() <= 23.9  # README: 23.9 s, less the refused first frames
    assert len(by_hand) == 239
    direct = decode("\n".join(m.hex() for _, m in by_hand).encode(), format="avr", options=OPTS)
    cols = ["icao24", "altitude", "squawk", "callsign", "latitude", "longitude"]
    pd.testing.assert_frame_equal(
        result.reports[cols].reset_index(drop=True), direct.reports[cols].reset_index(drop=True)
    )


def test_beast_positions_near_toulouse(beast_bytes: bytes) -> None:
    rep = decode(beast_bytes, format="beast", options=OPTS).reports.dropna(subset=["latitude"])
    assert len(rep) > 0
    assert rep["latitude"].between(42.5, 44.5).all() and rep["longitude"].between(0.5, 2.5).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=4217), max_size=30))
def test_beast_stream_any_chunking_equals_whole(beast_bytes: bytes, cuts: list[int]) -> None:
    whole = decode(beast_bytes, format="beast", options=OPTS)
    stream = get_decoder("beast").stream(OPTS)  # type: ignore[misc]
    bounds = [0, *sorted(set(cuts)), len(beast_bytes)]
    parts = [stream.feed(beast_bytes[a:b]) for a, b in itertools.pairwise(bounds)]
    joined = concat_results([*parts, stream.close()])
    assert joined.counts["reports"] == 233
    assert joined.counts["errors"] == joined.counts["error:unknown-address"] == 6
    pd.testing.assert_frame_equal(
        joined.reports.reset_index(drop=True), whole.reports.reset_index(drop=True)
    )


def test_escape_split_across_chunks() -> None:
    # a long frame whose counter holds 0x1a (escaped as 1a 1a), cut between the two 1a bytes
    message = bytes.fromhex("8d406b902015a678d4d220aa4bda")
    frame = b"\x1a3" + b"\x00\x00\x1a\x1a\x00\x00\x01" + b"\x80" + message
    framer = BeastFramer()
    cut = frame.index(b"\x1a\x1a") + 1
    first = framer.feed(frame[:cut])
    second = framer.feed(frame[cut:])
    assert first.messages == [] and second.messages == [message]
    assert second.counters == [0x00001A000001]


def test_garbage_and_truncation_are_reported_and_nothing_valid_lost(beast_bytes: bytes) -> None:
    frames = [m for _, m in _split_by_hand(beast_bytes)]
    assert len(frames) == 239
    starts = [i for i in range(len(beast_bytes) - 1) if beast_bytes[i] == 0x1A]
    second = next(s for s in starts if s > 0 and beast_bytes[s - 1] != 0x1A)
    damaged = b"\x00\xffGARBAGE" + beast_bytes[:second] + b"junk!" + beast_bytes[second:]
    damaged += beast_bytes[:12]  # a frame cut by the end of the input
    result = decode(damaged, format="beast", options=OPTS)
    assert result.counts["reports"] == 233  # as undamaged (6 unheard DF0/4/5 refused)
    assert result.counts["error:garbage"] == 2
    assert result.counts["error:truncated"] == 1
    cut_inside = beast_bytes[:second][:-5] + beast_bytes[second:]  # first frame cut short
    result = decode(cut_inside, format="beast", options=OPTS)
    assert result.counts["reports"] == 233  # the frame cut short is one of the refused DF4
    assert result.counts["error:truncated"] == 1
    assert result.errors["kind"].iloc[0] == "truncated"
    assert int(result.errors["position"].iloc[0]) == 0


def test_avr_formats_and_detection(real_data: Path) -> None:
    frames = ["8d406b902015a678d4d220aa4bda", "8d406b9058b97218e77d23bead12", "20000f1f684a6c"]
    text = f"*{frames[0]};\n{frames[2]}\n\nnot a frame\n@000000b71b00{frames[1]};\n"
    result = decode(text.encode(), options=OPTS)
    assert result.counts["reports"] == 2  # the DF4's address (4d2023) was never heard in DF17
    assert list(result.errors["kind"]) == ["unknown-address", "no-frame"]
    assert list(result.errors["position"]) == [1, 3]
    assert (result.reports["timestamp"].iloc[1] - START).total_seconds() == pytest.approx(1.0)
    assert detect_format(b"\x1a2\x00\x00\x00\x00\x00\x01\x80" + bytes(7)) == "beast"
    assert detect_format((real_data / "pymodes" / "sample_data_adsb.csv").read_bytes()) == (
        "modes-hex"
    )
