"""The CAT048 encoder on what the simulated radar sends over the wire, read back by an
independent codec (libasterix, EUROCONTROL's CAT048 edition 1.32) and checked against an exact
geometry (slant range as the straight line between the antenna and the target in ECEF, azimuth in
the antenna's local horizontal plane), and by the project's decoder (aviconv-asterix + the sensor
site): every plot's time, identity, altitude and position within the items' resolution."""

from __future__ import annotations

from typing import Any

import asterix.generated as gen
import numpy as np
import pandas as pd
import pytest
from asterix.base import Bits, RawDatablock
from pyproj import Transformer

from deconflict.errors import InputError
from deconflict.sim.scenario import load_scenario
from deconflict.sim.simulator import Simulator
from deconflict.sim.wire import WireSimSource
from deconflict.surveillance.asterix import decode_asterix
from deconflict.surveillance.base import DecodeOptions
from deconflict.surveillance.cat048_out import encode_cat048
from deconflict.surveillance.sensors import SensorConfig, SensorSite

NM = 1852.0
FT = 0.3048
RHO_LSB_M = NM / 256
THETA_LSB = 360.0 / 2**16
SECONDS = 120


@pytest.fixture(scope="module")
def radar() -> tuple[WireSimSource, list[bytes], pd.DataFrame]:
    """Two minutes of the built-in scenario with Red's radar on the wire: the bytes it sent
    and the simulator's reports it encoded."""
    sc = load_scenario()
    sim = Simulator(sc)
    wire = WireSimSource(lambda: sim, record=True)
    try:
        for t in range(1, SECONDS + 1):
            wire.poll(sc.time(t))
    finally:
        wire.close()
    return wire, wire.sent["red-radar"], pd.concat(wire.encoded["red-radar"], ignore_index=True)


def _libasterix(blocks: bytes) -> list[dict[str, Any]]:
    raw = RawDatablock.parse(Bits.from_bytes(blocks))
    assert not isinstance(raw, ValueError), raw
    out = []
    for block in raw:
        assert block.get_category() == 48
        records = gen.Cat_048_1_32.cv_uap.parse(block.get_raw_records())
        assert not isinstance(records, ValueError), records
        for rec in records:
            i040 = rec.get_item("040").variation
            row: dict[str, Any] = {
                "sac": rec.get_item("010").variation.get_item("SAC").as_uint(),
                "sic": rec.get_item("010").variation.get_item("SIC").as_uint(),
                "tod_s": rec.get_item("140").variation.content.as_quantity("s"),
                "typ": rec.get_item("020").variation.get_item("TYP").as_uint(),
                "rho_nm": i040.get_item("RHO").variation.content.as_quantity("NM"),
                "theta_deg": i040.get_item("THETA").variation.content.as_quantity("°"),
            }
            for item, key, read in (
                ("070", "squawk", lambda v: v.get_item("MODE3A").variation.content.as_string()),
                ("090", "fl", lambda v: v.get_item("FL").variation.content.as_quantity("FL")),
                ("220", "icao24", lambda v: f"{v.as_uint():06x}"),
                ("240", "callsign", lambda v: v.content.as_string()),
                ("110", "height_ft", lambda v: v.get_item("3DH").variation.content.as_quantity("ft")),
            ):  # fmt: skip
                found = rec.get_item(item)
                if found is not None:
                    row[key] = read(found.variation)
            out.append(row)
    return out


def _exact_polar(site: SensorSite, lat: float, lon: float, h_m: float) -> tuple[float, float]:
    """Slant range (m) and azimuth (deg) of a target by the straight line in ECEF."""
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    s = np.array(to_ecef.transform(site.longitude, site.latitude, site.height_m))
    p = np.array(to_ecef.transform(lon, lat, h_m))
    la, lo = np.radians([site.latitude, site.longitude])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.array([-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)])
    d = p - s
    return float(np.linalg.norm(d)), float(np.degrees(np.arctan2(d @ east, d @ north)) % 360.0)


def test_simulated_radar_read_by_libasterix(
    radar: tuple[WireSimSource, list[bytes], pd.DataFrame],
) -> None:
    wire, sent, truth = radar
    site = wire.sites["red-radar"]
    decoded = _libasterix(b"".join(sent))
    assert len(decoded) == len(truth) > 100
    secondary = truth["squawk"].notna().to_numpy()
    assert secondary.any() and (~secondary).any()  # transponders and the drone's primary returns
    for k, rec in enumerate(decoded):
        row = truth.iloc[k]
        assert (rec["sac"], rec["sic"]) == (0, int(site.sensor.split("/")[1]))
        tod = (row["timestamp"].value / 1e9) % 86400
        assert abs(rec["tod_s"] - tod) <= 1 / 256 + 1e-9
        alt_ft = float(row["altitude"])
        if secondary[k]:
            assert rec["squawk"] == row["squawk"]
            assert rec["fl"] * 100 == pytest.approx(alt_ft, abs=1e-6)  # quantised by the sim
            if pd.notna(row["icao24"]):
                assert rec["icao24"] == row["icao24"]
                assert rec["callsign"].strip() == row["callsign"]
                assert rec["typ"] == 7  # Mode S roll-call + PSR
            else:
                assert rec["typ"] == 3 and "icao24" not in rec  # SSR + PSR, Mode A/C
        else:
            assert rec["typ"] == 1 and "squawk" not in rec and "fl" not in rec
            assert abs(rec["height_ft"] - alt_ft) <= 12.5 + 1e-6
        rho_m, theta = _exact_polar(site, row["latitude"], row["longitude"], alt_ft * FT)
        assert abs(rec["rho_nm"] * NM - rho_m) <= RHO_LSB_M / 2 + 1.0
        assert abs((rec["theta_deg"] - theta + 180) % 360 - 180) <= THETA_LSB / 2 + 1e-4


def test_simulated_radar_read_by_the_decoder(
    radar: tuple[WireSimSource, list[bytes], pd.DataFrame],
) -> None:
    wire, sent, truth = radar
    site = wire.sites["red-radar"]
    options = DecodeOptions(
        sensors=SensorConfig({site.sensor: site}), start_time=load_scenario().start
    )
    reports = decode_asterix(b"".join(sent), options).reports
    assert len(reports) == len(truth)
    dt = (reports["timestamp"] - truth["timestamp"]).dt.total_seconds().abs()
    assert dt.max() <= 1 / 256
    assert (reports["squawk"].fillna("") == truth["squawk"].fillna("")).all()
    assert (reports["icao24"].fillna("") == truth["icao24"].fillna("")).all()
    assert np.allclose(reports["altitude"], truth["altitude"], atol=12.5)
    # 180 NM at most: an azimuth LSB is 32 m across there, a range LSB 7 m
    from deconflict.geo import distance_m

    d = distance_m(reports["latitude"], reports["longitude"], truth["latitude"], truth["longitude"])
    assert np.max(d) < 25.0


def test_bad_radar_id_and_missing_columns() -> None:
    plots = pd.DataFrame({"latitude": [36.0], "longitude": [37.0], "time_s": [0.0]})
    with pytest.raises(InputError, match="SAC/SIC"):
        encode_cat048(plots.assign(secondary=True), SensorSite("red-radar", 35.4, 35.95))
    with pytest.raises(InputError, match="secondary"):
        encode_cat048(plots, SensorSite("0/1", 35.4, 35.95))
    with pytest.raises(InputError, match="NaN"):
        encode_cat048(plots.assign(secondary=True, time_s=np.nan), SensorSite("0/1", 35.4, 35.95))
