"""Mode S / ADS-B decoding against real frames and independent references."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import DecodeError
from deconflict.surveillance import DecodeOptions, decode, decode_frames, decode_message
from deconflict.surveillance.crc import residual

CDG = (49.0097, 2.5479)  # Paris CDG aerodrome reference point: the flight starts there


@pytest.fixture(scope="module")
def afr(real_data: Path) -> pd.DataFrame:
    return pd.read_parquet(real_data / "traffic" / "afr34zg_modes_frames.parquet")


@pytest.fixture(scope="module")
def afr_result(afr: pd.DataFrame):  # type: ignore[no-untyped-def]
    times = afr["timestamp"].astype("int64").to_numpy()
    return decode_frames(afr["frame"].tolist(), times, DecodeOptions(reference=CDG))


def test_all_afr34zg_frames_decode_with_readme_df_counts(afr: pd.DataFrame, afr_result) -> None:  # type: ignore[no-untyped-def]
    assert afr_result.counts["frames"] == 57_793
    assert afr_result.counts["reports"] == 57_793
    assert afr_result.counts["errors"] == 0
    readme = {0: 15_691, 17: 15_573, 21: 12_622, 20: 7_770, 4: 4_296, 5: 1_031, 16: 810}
    assert {int(k[2:]): v for k, v in afr_result.counts.items() if k.startswith("df")} == readme
    assert (afr_result.reports["icao24"] == "393322").all()


def test_afr34zg_positions_within_10_m_of_reference(afr: pd.DataFrame, afr_result) -> None:  # type: ignore[no-untyped-def]
    rep = afr_result.reports
    ref_has = afr["latitude"].notna()
    assert rep["latitude"].notna()[ref_has].all()  # every reference position is decoded
    lat0 = np.radians(afr["latitude"][ref_has])
    dn = (rep["latitude"][ref_has] - afr["latitude"][ref_has]) * 111_195.0
    de = (rep["longitude"][ref_has] - afr["longitude"][ref_has]) * 111_195.0 * np.cos(lat0)
    assert float(np.hypot(dn, de).max()) < 10.0
    # no position invented where the reference has none
    assert not rep["latitude"].notna()[~ref_has].any()


def test_afr34zg_fields_agree_with_reference(afr: pd.DataFrame, afr_result) -> None:  # type: ignore[no-untyped-def]
    rep = afr_result.reports
    for col in ("vertical_rate", "track"):
        both = rep[col].notna() & afr[col].notna()
        assert both.sum() > 6000
        assert np.allclose(rep[col][both], afr[col][both], atol=1e-6)
    both = rep["altitude"].notna() & afr["altitude"].notna()
    assert both.sum() >= 35_000
    # one DF20 reply decodes differently in the reference's rs1090 version (a garbled frame)
    assert int((rep["altitude"][both] != afr["altitude"][both]).sum()) <= 1
    ref_sq = afr["squawk"].where(afr["squawk"] != "nan")
    both = rep["squawk"].notna() & ref_sq.notna()
    assert both.sum() == 13_653
    assert int((rep["squawk"][both] != ref_sq[both]).sum()) <= 1
    ref_cs = afr["callsign"].dropna()
    assert (rep["callsign"][ref_cs.index] == ref_cs).all()


def test_surface_movement_speeds_follow_do260b(afr: pd.DataFrame, afr_result) -> None:  # type: ignore[no-untyped-def]
    rep = afr_result.reports
    surface = (afr["bds"] == "06").to_numpy()
    frames = afr["frame"][surface]
    mov = frames.map(lambda f: (int(f[8:22], 16) >> 44) & 0x7F)
    sel = (mov >= 13) & (mov <= 38)  # 2-15 kt in 0.5 kt steps: unambiguous in every edition
    expected = 2.0 + (mov[sel] - 13) * 0.5
    assert sel.sum() > 100
    assert np.allclose(rep["groundspeed"][sel.index[sel]], expected)


def test_crc_residual_of_real_squitters_is_zero(afr: pd.DataFrame) -> None:
    es = afr.loc[afr["df"] == 17, "frame"]
    matrix = np.frombuffer(bytes.fromhex("".join(es)), dtype=np.uint8).reshape(-1, 14)
    assert (residual(matrix) == 0).all()
    df4 = afr.loc[afr["df"] == 4, "frame"].str[:14]
    matrix = np.frombuffer(bytes.fromhex("".join(df4)), dtype=np.uint8).reshape(-1, 7)
    assert (residual(matrix) == 0x393322).all()  # AP field: parity XOR address


def test_pymodes_adsb_sample_all_decoded(real_data: Path) -> None:
    result = decode(real_data / "pymodes" / "sample_data_adsb.csv", format="avr")
    rep = result.reports
    assert result.counts["frames"] == result.counts["reports"] == 2000
    assert result.counts["errors"] == 0
    assert set(rep["icao24"]) == {"406b90"}
    assert set(rep["callsign"].dropna()) == {"EZY85MH"}
    assert rep["callsign"].notna().sum() == 98  # TC4
    assert rep["groundspeed"].notna().sum() == 965  # TC19
    assert rep["altitude"].notna().sum() == 937  # TC11
    assert rep["timestamp"].min() == pd.Timestamp("2016-03-14 23:00:00", tz="UTC")


def test_pymodes_golden_agreement(real_data: Path) -> None:
    golden = json.loads((real_data / "pymodes" / "golden_v2.json").read_text())
    frames = list(golden)
    result = decode_frames(frames, np.zeros(len(frames), dtype=np.int64))
    assert result.counts["reports"] == len(frames) == 600
    rep = result.reports
    compared = 0
    for i, frame in enumerate(frames):
        want = golden[frame]
        row = rep.iloc[i]
        assert row["icao24"] == want["icao"].lower()
        for ours, theirs in (("altitude", "altitude"), ("squawk", "squawk")):
            if theirs in want and want[theirs] is not None and not pd.isna(row[ours]):
                assert row[ours] == (want[theirs] if ours == "squawk" else float(want[theirs]))
                compared += 1
        if want.get("callsign") and not pd.isna(row["callsign"]):
            assert row["callsign"] == want["callsign"].strip("_ ")
            compared += 1
        if want.get("typecode") == 19:
            assert abs(row["groundspeed"] - want["groundspeed"]) < 1.0
            assert abs(row["track"] - want["track"]) < 0.1
            assert row["vertical_rate"] == want["vertical_rate"]
            compared += 1
        elif want.get("bds") == "BDS50" and not pd.isna(row["groundspeed"]):
            assert abs(row["groundspeed"] - want["groundspeed"]) <= 2.0
            compared += 1
    assert compared >= 500


def test_bad_frames_are_error_records_and_good_ones_kept(afr: pd.DataFrame) -> None:
    good = afr["frame"].iloc[:50].tolist()
    flipped = good[7][:-1] + ("0" if good[7][-1] != "0" else "1")  # DF17: bad CRC
    bad = ["zz" * 14, good[7][:20], good[7][:14], flipped, "8d39", ""]
    frames = good[:5] + bad + good[5:]
    times = np.arange(len(frames), dtype=np.int64) * 10**8
    result = decode_frames(frames, times)
    assert result.counts["reports"] == 50
    kinds = dict(zip(result.errors["position"], result.errors["kind"], strict=True))
    assert kinds == {
        5: "bad-hex",
        6: "bad-length",
        7: "truncated",
        8: "bad-crc",
        9: "bad-length",
        10: "bad-length",
    }
    assert result.counts["error:bad-crc"] == 1
    alone = decode_frames(good, np.delete(times, range(5, 11)))
    pd.testing.assert_frame_equal(
        result.reports.drop(columns="timestamp"), alone.reports.drop(columns="timestamp")
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="0123456789abcdefxyz*;", max_size=40), max_size=20))
def test_random_text_never_crashes(texts: list[str]) -> None:
    result = decode_frames(texts, np.zeros(len(texts), dtype=np.int64))
    assert result.counts["reports"] + result.counts["errors"] == len(texts)


def test_out_of_order_times_warn_but_keep_reports(afr: pd.DataFrame) -> None:
    sub = afr.iloc[:200]
    times = sub["timestamp"].astype("int64").to_numpy().copy()
    times[100] -= 30 * 10**9
    times[150] += 7200 * 10**9
    result = decode_frames(sub["frame"].tolist(), times)
    assert result.counts["reports"] == 200
    assert result.counts["time_backwards"] == 2  # into 100 and back out of it at 101
    assert result.counts["time_jumps"] == 1
    assert set(result.errors["level"]) == {"warning"}


def test_single_message_api() -> None:
    report = decode_message("8d406b902015a678d4d220aa4bda")
    assert report.callsign == "EZY85MH" and report.icao24 == "406b90"
    with pytest.raises(DecodeError, match="bad-crc"):
        decode_message("8d406b902015a678d4d220aa4bdb")
    with pytest.raises(DecodeError, match="bad-hex"):
        decode_message("not a frame")
