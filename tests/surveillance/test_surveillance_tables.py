"""SBS-1 BaseStation lines, OpenSky state vectors and trajectory tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deconflict.errors import DecodeError
from deconflict.surveillance import DecodeOptions, decode, detect_format, get_decoder
from deconflict.surveillance.base import concat_results


def _sbs_from_reference(afr: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """SBS text written (by plain string formatting) from the reference columns of real data."""
    rows = afr[afr["df"] == 17].iloc[:400]
    lines = []
    for r in rows.itertuples():
        d = r.timestamp.strftime("%Y/%m/%d")
        t = r.timestamp.strftime("%H:%M:%S.%f")[:-3]
        head = f"MSG,{{}},1,1,{r.icao24.upper()},1,{d},{t},{d},{t}"
        if r.bds == "08":
            lines.append(head.format(1) + f",{r.callsign},,,,,,,,,,,0")
        elif r.bds == "05":
            alt = "" if pd.isna(r.altitude) else int(r.altitude)
            lat = "" if pd.isna(r.latitude) else f"{r.latitude:.5f}"
            lon = "" if pd.isna(r.longitude) else f"{r.longitude:.5f}"
            lines.append(head.format(3) + f",,{alt},,,{lat},{lon},,,0,0,0,0")
        elif r.bds == "09":
            lines.append(
                head.format(4)
                + f",,,{r.groundspeed:.0f},{r.track:.1f},,,{r.vertical_rate:.0f},,,,,0"
            )
        else:
            continue
    return "\r\n".join(lines) + "\r\n", rows


def test_sbs_lines_from_real_flight(real_data: Path) -> None:
    afr = pd.read_parquet(real_data / "traffic" / "afr34zg_modes_frames.parquet")
    text, rows = _sbs_from_reference(afr)
    n = text.count("\n")
    result = decode(text.encode(), options=DecodeOptions(party="fr", sensor="rx1"))
    assert detect_format(text.encode()) == "sbs"
    rep = result.reports
    assert result.counts["reports"] == n and result.counts["errors"] == 0
    assert set(rep["icao24"]) == {"393322"} and set(rep["party"]) == {"fr"}
    assert set(rep["callsign"].dropna()) == {"AFR34ZG"}
    pos = rep.dropna(subset=["latitude"])
    ref = rows[rows["bds"] == "05"].dropna(subset=["latitude"])
    assert len(pos) == len(ref)
    assert np.allclose(pos["latitude"], ref["latitude"], atol=1e-5)
    written = rows[rows["bds"].isin(["05", "08", "09"])]["timestamp"].to_numpy()
    lag = (rep["timestamp"].to_numpy() - written) / np.timedelta64(1, "s")
    assert np.abs(lag).max() < 1e-3


def test_sbs_bad_lines_and_chunked_stream() -> None:
    good = (
        "MSG,3,1,1,4CA2D6,1,2015/02/24,10:38:19.443,2015/02/24,10:38:19.443,"
        ",37000,,,51.45735,-1.02826,,,0,0,0,0"
    )
    sq = "MSG,6,1,1,4CA2D6,1,2015/02/24,10:38:20.000,2015/02/24,10:38:20.000,,,,,,,,1200,0,0,0,0"
    bad_time = good.replace("10:38:19.443", "25:99:99")
    bad_num = good.replace("37000", "FL370")
    short = "MSG,3,1,1"
    text = "\n".join([good, "STA,,5,179,400AA5,10103,2008/11/28,14:58:51.153", bad_time, bad_num])
    text += "\n" + short + "\n" + sq + "\n"
    whole = decode(text.encode(), format="sbs")
    assert whole.counts["reports"] == 2
    assert list(whole.errors["kind"]) == ["bad-time", "bad-value", "bad-fields"]
    assert list(whole.errors["position"]) == [2, 3, 4]
    assert whole.reports["squawk"].iloc[1] == "1200"
    assert whole.reports["altitude"].iloc[0] == 37000.0
    stream = get_decoder("sbs").stream(DecodeOptions())  # type: ignore[misc]
    data = text.encode()
    parts = [stream.feed(data[i : i + 7]) for i in range(0, len(data), 7)]
    joined = concat_results([*parts, stream.close()])
    pd.testing.assert_frame_equal(joined.reports, whole.reports)
    assert list(joined.errors["position"]) == [2, 3, 4]


def test_opensky_state_vectors_units(real_data: Path) -> None:
    path = real_data / "opensky" / "state_vectors_data4_RYR2RG_2022-02-02.parquet"
    raw = pd.read_parquet(path)
    result = decode(path)
    rep = result.reports
    # a position OpenSky wrote again with the same lastposupdate is not a fresh report
    stale = raw.duplicated(["icao24", "lastposupdate"]).to_numpy()
    assert stale.sum() == 20 and result.counts["stale_positions"] == 20
    raw = raw[~stale]
    assert result.counts["reports"] == 1180 and result.counts["errors"] == 0
    # the report's time is the position's (lastposupdate), not when the vector was written
    when = rep["timestamp"].astype("int64").to_numpy() / 1e9
    assert np.allclose(when, raw["lastposupdate"].astype(float), rtol=0, atol=1e-6)
    assert (when <= raw["time"].astype("int64").to_numpy() / 1e9).all()
    assert set(rep["icao24"]) == {"4d2271"} and set(rep["callsign"]) == {"RYR2RG"}
    # README: baroaltitude 11,277.6 m = FL370
    assert rep["altitude"].iloc[0] == pytest.approx(37_000.0, abs=0.5)
    kt = raw["velocity"].astype(float).to_numpy() * 3600 / 1852
    assert np.allclose(rep["groundspeed"], kt, equal_nan=True)
    assert np.allclose(
        rep["vertical_rate"], raw["vertrate"].astype(float) * 60 / 0.3048, equal_nan=True
    )


def test_trajectory_table_keeps_outliers_and_pads_squawk(real_data: Path) -> None:
    result = decode(real_data / "traffic" / "quickstart.parquet")
    rep = result.reports
    assert result.counts["reports"] == 284_505
    assert rep["altitude"].min() == -300 and rep["altitude"].max() == 123_100  # README outliers
    assert rep["icao24"].nunique() == 213
    assert rep["squawk"].dropna().str.fullmatch(r"[0-7]{4}").all()


def test_rollcall_table_out_of_order_and_df_counts(real_data: Path) -> None:
    result = decode(real_data / "opensky" / "rollcall_replies_4b1901_2024-04-06.parquet")
    assert result.counts["reports"] == 2283
    assert {k: v for k, v in result.counts.items() if k.startswith("df")} == {
        "df20": 1336,
        "df4": 564,
        "df21": 343,
        "df5": 40,
    }
    assert (result.reports["icao24"] == "4b1901").all()
    raw = pd.read_parquet(real_data / "opensky" / "rollcall_replies_4b1901_2024-04-06.parquet")
    backwards = int((np.diff(raw["mintime"].astype(float).to_numpy()) < 0).sum())
    assert result.counts["time_backwards"] == backwards > 0


def test_table_csv_and_bad_rows() -> None:
    csv = (
        "timestamp,icao24,latitude,longitude,altitude\n"
        "2024-01-01T00:00:00Z,ABC123,45.0,5.0,30000\n"
        ",abc123,45.1,5.1,30000\n"
        "2024-01-01T00:00:02Z,abc123,95.0,5.2,30000\n"
        "2024-01-01T00:00:03Z,abc123,45.3,5.3,30000\n"
    )
    result = decode(csv.encode(), format="trajectory")
    assert result.counts["reports"] == 2
    assert list(result.errors["kind"]) == ["bad-time", "bad-position"]
    assert set(result.reports["icao24"]) == {"abc123"}
    with pytest.raises(DecodeError, match="timestamp"):
        decode(b"a,b\n1,2\n", format="trajectory")
