"""The decoder registry: keys, format detection on real files, and no crash on any bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import DecodeError, UnknownNameError
from deconflict.surveillance import DECODERS, DecodeOptions, decode, detect_format, get_decoder
from deconflict.surveillance.report import REPORT_COLUMNS

STREAMED = ("beast", "modes-hex", "sbs", "asterix")


def test_registered_keys_and_aliases() -> None:
    expected = {"beast", "modes-hex", "sbs", "asterix", "pcap", "opensky", "trajectory"}
    assert expected <= set(DECODERS)
    assert get_decoder("avr").key == "modes-hex" and get_decoder("BEAST").key == "beast"
    with pytest.raises(UnknownNameError, match="unknown feed format"):
        get_decoder("morse")
    for key in STREAMED:
        assert DECODERS[key].stream is not None


@pytest.mark.parametrize(
    ("relative", "key"),
    [
        ("traffic/sample_dump1090.bin", "beast"),
        ("pymodes/sample_data_adsb.csv", "modes-hex"),
        ("pymodes/sample_data_commb_df20.csv", "modes-hex"),
        ("asterix/croatiacontrol/cat_034_048.pcap", "pcap"),
        ("asterix/asterix4py/cat062.ast", "asterix"),
        ("asterix/croatiacontrol/cat048.raw", "asterix"),
        ("traffic/switzerland.parquet", "table"),
        ("opensky/state_vectors_data4_RYR2RG_2022-02-02.parquet", "table"),
    ],
)
def test_format_detection_on_real_files(real_data: Path, relative: str, key: str) -> None:
    path = real_data / relative
    assert detect_format(path.read_bytes(), path.name) == key
    assert detect_format(path.read_bytes()) == key  # from the content alone


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(sorted(DECODERS)), data=st.binary(max_size=300))
def test_any_bytes_never_crash(key: str, data: bytes) -> None:
    try:
        result = get_decoder(key).decode(data, DecodeOptions())
    except DecodeError:
        assert key in ("opensky", "trajectory", "modes-table", "table")  # unreadable table file
        return
    assert tuple(result.reports.columns) == REPORT_COLUMNS
    assert result.counts["reports"] == len(result.reports)


def test_decode_accepts_paths_and_bytes(real_data: Path) -> None:
    path = real_data / "traffic" / "sample_dump1090.bin"
    opts = DecodeOptions(start_time=None)
    assert decode(path, options=opts).counts["reports"] == 233
    assert decode(str(path), options=opts).counts["reports"] == 233
    with pytest.raises(DecodeError, match="--format"):
        decode(b"\x00\x00\x00\x00")
