"""The DF17/DF5 encoder and Beast GPS timestamps, read back by rs1090 (an independent Mode S
decoder): positions from even/odd CPR pairs within the format's resolution, 25 ft altitudes,
velocities, callsigns and squawks exact; the number of longitude zones against DO-260B's
transition latitudes; GPS timestamps placed on the day nearest the reference, across midnight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rs1090
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.geo import distance_m
from deconflict.surveillance import modes_out as mo
from deconflict.surveillance.base import DecodeOptions
from deconflict.surveillance.beast import decode_beast

T0 = pd.Timestamp("2015-10-10T06:00:00Z").value / 1e9


def _hex(messages: np.ndarray) -> list[str]:
    return [bytes(r).hex() for r in messages]


@settings(max_examples=40, deadline=None)
@given(
    lat=st.floats(-85.0, 85.0),
    lon=st.floats(-180.0, 179.999),
    alt=st.integers(-40, 1800).map(lambda k: k * 25.0),
)
def test_cpr_pair_decoded_by_rs1090(lat: float, lon: float, alt: float) -> None:
    addr = np.array([0x4BAA61], dtype=np.int64)
    even = mo.airborne_position(addr, np.array([lat]), np.array([lon]), np.array([alt]),
                                np.array([False]))  # fmt: skip
    odd = mo.airborne_position(addr, np.array([lat]), np.array([lon]), np.array([alt]),
                               np.array([True]))  # fmt: skip
    out = rs1090.decode(_hex(even) + _hex(odd), [T0, T0 + 1.0])
    assert out[0]["altitude"] == alt and out[0]["parity"] == "even"
    assert out[1]["parity"] == "odd"
    decoded = out[1]
    # a 17-bit CPR cell is 360/60/2^17 deg of latitude: about 5 m, and as much east-west
    d = distance_m(decoded["latitude"], decoded["longitude"], lat, lon)
    assert d < 6.0


def test_identity_velocity_and_squawk_decoded_by_rs1090() -> None:
    addr = np.array([0xAE0B11, 0x4BAA61, 0x06A1F2], dtype=np.int64)
    calls = np.array(["VIPER11", "THY6LK", "QTR8PA"])
    ident = rs1090.decode(_hex(mo.identification(addr, calls)))
    assert [m["callsign"] for m in ident] == list(calls)
    assert [m["icao24"] for m in ident] == ["ae0b11", "4baa61", "06a1f2"]
    sq = rs1090.decode(_hex(mo.identity_reply(addr, np.array([0o4511, 0o7700, 0o0017]))))
    assert [m["squawk"] for m in sq] == ["4511", "7700", "0017"]
    assert [m["icao24"] for m in sq] == ["ae0b11", "4baa61", "06a1f2"]  # parity XOR address
    gs = np.array([450.0, 480.0, 120.0])
    trk = np.array([90.0, 200.0, 359.0])
    vr = np.array([0.0, -1472.0, np.nan])
    vel = rs1090.decode(_hex(mo.airborne_velocity(addr, gs, trk, vr)))
    for k, m in enumerate(vel):
        east, north = gs[k] * np.sin(np.radians(trk[k])), gs[k] * np.cos(np.radians(trk[k]))
        assert m["groundspeed"] == pytest.approx(np.hypot(round(east), round(north)), abs=1e-6)
        assert abs((m["track"] - trk[k] + 180) % 360 - 180) < 0.5
    assert vel[0]["vertical_rate"] == 0 and vel[1]["vertical_rate"] == -1472
    assert vel[2].get("vertical_rate") is None  # "no information"


def test_nl_at_the_transition_latitudes() -> None:
    """DO-260B A.1.7.2: NL drops from 59 to 58 at 10.47047130 deg, ..., 3 to 2 at 86.53536998,
    and is 1 beyond 87 deg."""
    eps = 1e-6
    for lat, above in [(10.47047130, 58), (59.95459277, 29), (86.53536998, 2)]:
        got = mo.cpr_nl(np.array([lat - eps, lat + eps, -(lat + eps)]))
        assert list(got) == [above + 1, above, above]
    assert list(mo.cpr_nl(np.array([0.0, 87.0, 87.5, -90.0]))) == [59, 2, 1, 1]


def test_beast_gps_timestamps_across_midnight() -> None:
    addr = np.array([0xAE0B11], dtype=np.int64)
    midnight = pd.Timestamp("2015-10-11T00:00:00Z").value / 1e9
    times = np.array([midnight - 0.5, midnight + 0.25])
    msgs = mo.identification(np.repeat(addr, 2), np.array(["VIPER11", "VIPER11"]))
    data = mo.beast_frames(msgs, mo.gps_counters(times))
    for ref in ("2015-10-10T23:59:00Z", "2015-10-11T00:01:00Z"):
        options = DecodeOptions(beast_clock="gps", start_time=pd.Timestamp(ref))
        stamps = decode_beast(data, options).reports["timestamp"]
        got = stamps.astype("int64").to_numpy() / 1e9
        assert np.allclose(got, times, atol=1e-6)


def test_beast_stream_in_time_order_with_escapes() -> None:
    """Frames of several groups come out in time order; a 0x1a byte in a frame is doubled."""
    addr = np.array([0x1A1A1A, 0xAE0B11], dtype=np.int64)  # an address full of escapes
    pos = mo.airborne_position(addr, np.array([36.0, 36.1]), np.array([37.0, 37.1]),
                               np.array([24000.0, 25000.0]), np.array([False, False]))  # fmt: skip
    ident = mo.identification(addr, np.array(["A", "B"]))
    data = mo.beast_stream([(pos, T0 + np.array([0.0, 2.0])), (ident, T0 + np.array([1.0, 3.0]))])
    assert b"\x1a\x1a\x1a\x1a\x1a\x1a" in data
    reports = decode_beast(
        data, DecodeOptions(beast_clock="gps", start_time=pd.Timestamp(T0, unit="s", tz="UTC"))
    ).reports
    got = reports["timestamp"].astype("int64").to_numpy() / 1e9 - T0
    assert np.allclose(got, [0.0, 1.0, 2.0, 3.0], atol=1e-6)
    assert list(reports["icao24"]) == ["1a1a1a", "1a1a1a", "ae0b11", "ae0b11"]


def test_bad_gps_timestamp_is_a_warning_timed_now() -> None:
    msgs = mo.identification(np.array([0xAE0B11], dtype=np.int64), np.array(["VIPER11"]))
    counter = np.array([(90_000 << 30) | 5], dtype=np.int64)  # 90,000 s: beyond a day
    ref = pd.Timestamp("2015-10-10T06:00:00Z")
    result = decode_beast(
        mo.beast_frames(msgs, counter), DecodeOptions(beast_clock="gps", start_time=ref)
    )
    assert list(result.errors["kind"]) == ["clock-outlier"]
    assert result.reports["timestamp"].iloc[0] == ref
    with pytest.raises(Exception, match="Beast clock"):
        DecodeOptions(beast_clock="12mhz")
