"""ASTERIX CAT048 / CAT062 from files and pcap captures; polar plots to geographic positions."""

from __future__ import annotations

from pathlib import Path

import aviconv_asterix
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from deconflict.errors import ConfigError
from deconflict.surveillance import DecodeOptions, decode, detect_format, get_decoder
from deconflict.surveillance.base import concat_results
from deconflict.surveillance.sensors import SensorSite, parse_sensors, polar_to_geographic

RADARS = ("25/11", "25/12", "25/13", "25/14", "25/201", "25/204", "25/205")
# The sample's radar sites are not published: plausible sites spread over Croatia (deg, ft).
SITES = [(45.8, 16.0, 1200), (45.3, 14.4, 2900), (43.5, 16.4, 2000), (42.6, 18.2, 1500)]
SITES += [(45.0, 15.0, 3000), (44.1, 15.3, 900), (45.5, 18.7, 400)]
TOML = "\n".join(
    f'[sensors."{r}"]\nlatitude = {la}\nlongitude = {lo}\naltitude_ft = {h}\n'
    for r, (la, lo, h) in zip(RADARS, SITES, strict=True)
)


@pytest.fixture(scope="module")
def asterix_dir(real_data: Path) -> Path:
    return real_data / "asterix"


def test_cat048_pcap_every_plot(asterix_dir: Path) -> None:
    path = asterix_dir / "croatiacontrol" / "cat_034_048.pcap"
    assert detect_format(path.read_bytes(), path.name) == "pcap"
    result = decode(path, options=DecodeOptions(sensors=parse_sensors(TOML)))
    rep = result.reports
    assert result.counts["packets"] == 100
    assert result.counts["cat048_records"] == result.counts["reports"] == 128
    assert result.counts["cat034_blocks"] == 34
    assert result.counts["errors"] == 0 and result.counts["warnings"] == 0
    assert rep["icao24"].dropna().nunique() == 63
    assert set(rep["sensor"]) == set(RADARS)
    # two records of 44D074 (track 730) carry no I048/040 polar position: reported unplaced
    assert rep["latitude"].notna().sum() == 126
    assert set(rep.loc[rep["latitude"].isna(), "track_number"]) == {730}
    first = rep[rep["icao24"] == "3c660c"].iloc[0]  # README example
    assert first["callsign"] == "DLH65A" and first["altitude"] == 33_000.0
    times = rep["timestamp"]
    assert times.min() > pd.Timestamp("2016-05-05 07:35:00", tz="UTC")
    assert times.max() < pd.Timestamp("2016-05-05 07:36:00", tz="UTC")


def test_cat048_without_sites_keeps_plots_and_warns(asterix_dir: Path) -> None:
    result = decode(asterix_dir / "croatiacontrol" / "cat_034_048.pcap")
    assert result.counts["reports"] == 128
    assert result.counts["warning:no-sensor-site"] == 128
    assert result.reports["latitude"].isna().all()


def _exact_polar(
    site: SensorSite, rho_m: float, theta_deg: float, h_t: float
) -> tuple[float, float]:
    """Independent reference: straight ray from the antenna in ECEF, elevation solved by
    bisection so the target's WGS84 ellipsoidal height is h_t."""
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    to_geo = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
    s = np.array(to_ecef.transform(site.longitude, site.latitude, site.height_m))
    la, lo, th = np.radians([site.latitude, site.longitude, theta_deg])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.array([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)])
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    lo_e, hi_e = np.radians(-10.0), np.radians(90.0)
    for _ in range(80):
        e = 0.5 * (lo_e + hi_e)
        d = np.cos(e) * (np.sin(th) * east + np.cos(th) * north) + np.sin(e) * up
        lon, lat, h = to_geo.transform(*(s + rho_m * d))
        lo_e, hi_e = (e, hi_e) if h < h_t else (lo_e, e)
    return lat, lon


@pytest.mark.parametrize("rho_nm", [5.0, 60.0, 197.68359375, 250.0])
@pytest.mark.parametrize("fl", [50.0, 330.0, 450.0])
def test_polar_conversion_against_exact_ecef(rho_nm: float, fl: float) -> None:
    site = SensorSite("25/201", 45.0, 15.0, 3000 * 0.3048)
    geod = Geod(ellps="WGS84")
    for theta in (0.0, 123.4, 340.13671875):
        lat, lon = polar_to_geographic(
            site, np.array([rho_nm]), np.array([theta]), np.array([fl * 100])
        )
        ref_lat, ref_lon = _exact_polar(site, rho_nm * 1852.0, theta, fl * 100 * 0.3048)
        _, _, dist = geod.inv(lon[0], lat[0], ref_lon, ref_lat)
        assert dist < 1.0, (rho_nm, fl, theta, dist)
        # while taking the slant range as ground range would be hundreds of metres off
        if fl >= 330 and rho_nm >= 60:
            flat_lon, flat_lat, _ = geod.fwd(site.longitude, site.latitude, theta, rho_nm * 1852)
            assert geod.inv(flat_lon, flat_lat, ref_lon, ref_lat)[2] > 300.0


def test_cat062_tracks_of_every_sample(asterix_dir: Path) -> None:
    pcap = decode(asterix_dir / "croatiacontrol" / "cat_062_065.pcap")
    assert pcap.counts["reports"] == 2 and pcap.counts["cat065_blocks"] == 1
    one = pcap.reports[pcap.reports["icao24"] == "4ca7a8"].iloc[0]
    assert one["latitude"] == pytest.approx(41.167, abs=1e-3)
    assert one["longitude"] == pytest.approx(15.709, abs=1e-3)
    assert one["sensor"] == "25/100"
    assert one["timestamp"].date() == pd.Timestamp("2014-02-25").date()
    raw = decode(asterix_dir / "croatiacontrol" / "cat062cat065.raw", format="asterix")
    assert raw.counts["reports"] == 2 and raw.counts["errors"] == 0
    ast = decode(asterix_dir / "asterix4py" / "cat062.ast")
    assert ast.counts["reports"] == 7
    assert set(ast.reports["sensor"]) == {"6/128"}
    assert {"406ec8", "4ca681", "406b83"} <= set(ast.reports["icao24"].dropna())
    assert ast.reports["latitude"].between(48.5, 50.0).all()
    assert ast.reports["track_number"].notna().all()


def test_asterix_stream_chunks_equal_whole(asterix_dir: Path) -> None:
    data = (asterix_dir / "asterix4py" / "cat062.ast").read_bytes()
    data += (asterix_dir / "croatiacontrol" / "cat062cat065.raw").read_bytes()
    opts = DecodeOptions(start_time=pd.Timestamp("2020-01-01 12:00", tz="UTC"))
    whole = decode(data, format="asterix", options=opts)
    stream = get_decoder("asterix").stream(opts)  # type: ignore[misc]
    parts = [stream.feed(data[i : i + 50]) for i in range(0, len(data), 50)]
    joined = concat_results([*parts, stream.close()])
    assert whole.counts["reports"] == joined.counts["reports"] == 9
    pd.testing.assert_frame_equal(whole.reports, joined.reports)


def test_bad_asterix_input(asterix_dir: Path) -> None:
    good = (asterix_dir / "asterix4py" / "cat062.ast").read_bytes()
    # a CAT062 block whose FSPEC promises items that are not there, then the good block, then
    # a block cut short
    broken = bytes([62, 0, 6, 0xFF, 0xFF, 0xFF])
    result = decode(broken + good + good[:40], format="asterix")
    assert result.counts["reports"] == 7
    assert list(result.errors["kind"]) == ["bad-block", "truncated"]
    assert list(result.errors["position"]) == [0, 6 + len(good)]
    pcap = (asterix_dir / "croatiacontrol" / "cat_034_048.pcap").read_bytes()
    cut = decode(pcap[: len(pcap) // 2], format="pcap")
    assert 0 < cut.counts["reports"] < 128
    assert cut.counts["error:bad-pcap"] == 1
    junk = decode(b"\xd4\xc3\xb2\xa1garbage", format="pcap")
    assert junk.counts["reports"] == 0 and junk.counts["error:bad-pcap"] == 1


def test_wrong_sensor_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="latitude"):
        parse_sensors('[sensors."25/11"]\nlongitude = 16.0\n')
    with pytest.raises(ConfigError, match="out of range"):
        parse_sensors('[sensors."25/11"]\nlatitude = 95.0\nlongitude = 16.0\n')
    with pytest.raises(ConfigError, match="TOML"):
        parse_sensors("[sensors.\n")
    with pytest.raises(ConfigError, match="no"):
        parse_sensors("x = 1\n")


@settings(max_examples=30, deadline=None)
@given(
    lat=st.floats(-89.0, 89.0),
    lon=st.floats(-179.0, 179.0),
    fl=st.integers(-10, 600),
    gs=st.floats(0.0, 800.0),
    trk=st.floats(0.0, 359.9),
    tod=st.floats(0.0, 86399.0),
)
def test_cat021_records_encoded_by_the_codec(
    lat: float, lon: float, fl: int, gs: float, trk: float, tod: float
) -> None:
    """CAT021 (no real sample here): records built by aviconv's encoder from chosen values come
    back through our decoder within the items' resolution."""
    record = aviconv_asterix.Cat021Record(
        sac=25, sic=201, time_of_applicability_s=tod, icao_address="3C660C", lat=lat, lon=lon,
        flight_level=float(fl), ground_speed_kt=gs, track_angle_deg=trk, callsign="DLH65A",
        mode3a="1000",
    )  # fmt: skip
    data = aviconv_asterix.encode_records([record])
    start = pd.Timestamp("2024-01-02 12:00", tz="UTC")
    result = decode(data, format="asterix", options=DecodeOptions(start_time=start))
    assert result.counts["reports"] == 1
    row = result.reports.iloc[0]
    assert row["icao24"] == "3c660c" and row["callsign"] == "DLH65A" and row["squawk"] == "1000"
    assert row["source"] == "asterix-cat021" and row["sensor"] == "25/201"
    assert row["latitude"] == pytest.approx(lat, abs=180 / 2**23)
    assert row["longitude"] == pytest.approx(lon, abs=180 / 2**23)
    assert row["altitude"] == pytest.approx(fl * 100.0, abs=25.0)
    assert row["groundspeed"] == pytest.approx(gs, abs=3600 / 2**14)  # LSB 2^-14 NM/s
    assert abs((row["track"] - trk + 180) % 360 - 180) < 0.01
    assert abs((row["timestamp"] - start).total_seconds()) <= 43200.0
    tod_back = (row["timestamp"] - row["timestamp"].normalize()).total_seconds()
    assert abs((tod_back - tod + 43200) % 86400 - 43200) < 0.01


def test_garbage_between_blocks_is_skipped_and_nothing_valid_lost(asterix_dir: Path) -> None:
    first = (asterix_dir / "asterix4py" / "cat062.ast").read_bytes()
    second = (asterix_dir / "croatiacontrol" / "cat062cat065.raw").read_bytes()
    junk = b"\x00\x01\x02garbage\xff\xff"
    result = decode(junk + first + junk + second, format="asterix")
    assert result.counts["reports"] == 9
    assert list(result.errors["kind"]) == ["garbage", "garbage"]
    assert list(result.errors["position"]) == [0, len(junk) + len(first)]
