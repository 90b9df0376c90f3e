"""SBS-1 lines and aircraft.json out: read back by the project's SBS decoder and compared with
the picture, and shaped as Debian's dump1090-mutability writes them (its SBS lines and its
aircraft.json from the real Beast recording are the reference), with the fields tar1090 reads."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.errors import InputError
from deconflict.surveillance.picture_text import (
    addresses,
    aircraft_json,
    encode_sbs,
    receiver_json,
)
from deconflict.surveillance.sbs import decode_sbs

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
T0 = 1_728_302_401.25  # 2024-10-07 12:00:01.250 UTC

#: What tar1090 reads of an aircraft (html/planeObject.js, ``updateData``), with its type;
#: readsb's names (dump1090-mutability's older ``altitude``/``speed``/``vert_rate`` are the
#: fallbacks tar1090 also reads). ``type`` is readsb's address type.
TAR1090_READS: dict[str, type | tuple[type, ...]] = {
    "hex": str, "type": str, "flight": str, "alt_baro": (int, str), "alt_geom": int,
    "gs": (int, float), "track": (int, float), "baro_rate": int, "geom_rate": int,
    "squawk": str, "lat": float, "lon": float, "seen_pos": (int, float), "seen": (int, float),
    "messages": int, "rssi": (int, float), "category": str,
}  # fmt: skip
READSB_TYPES = {"adsb_icao", "adsb_icao_nt", "adsr_icao", "tisb_icao", "adsc", "mlat", "other",
                "mode_s", "adsb_other", "adsr_other", "tisb_trackfile", "tisb_other", "mode_ac",
                "unknown"}  # fmt: skip


def picture_of(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    icao = [f"{rng.integers(0, 2**24):06x}" if k % 4 else None for k in range(n)]
    calls = [f"TST{k}" if k % 3 else None for k in range(n)]
    alt = rng.uniform(0, 40_000, n)
    alt[::5] = np.nan
    vr = rng.uniform(-3000, 3000, n)
    vr[::7] = np.nan
    return pd.DataFrame({"track_id": np.arange(100, 100 + n), "latitude": rng.uniform(-80, 80, n),
                         "longitude": rng.uniform(-180, 180, n), "altitude": alt,
                         "groundspeed": rng.uniform(0, 600, n), "track": rng.uniform(0, 360, n),
                         "vertical_rate": vr, "icao24": icao, "callsign": calls,
                         "status": "confirmed"})  # fmt: skip


def test_sbs_read_back_by_our_decoder_equals_the_picture() -> None:
    picture = picture_of(40)
    result = decode_sbs(encode_sbs(picture, T0))
    assert result.counts["errors"] == 0
    reports = result.reports
    assert (reports["timestamp"] == pd.Timestamp(T0, unit="s", tz="UTC")).all()
    names = addresses(picture)
    for k, name in enumerate(names):
        mine = reports[reports["icao24"] == name.lstrip("~")]
        row = picture.iloc[k]
        pos = mine[mine["latitude"].notna()]
        assert len(pos) == 1
        assert pos["latitude"].iloc[0] == pytest.approx(row["latitude"], abs=5e-6)
        assert pos["longitude"].iloc[0] == pytest.approx(row["longitude"], abs=5e-6)
        if np.isfinite(row["altitude"]):
            assert pos["altitude"].iloc[0] == pytest.approx(row["altitude"], abs=0.5)
        else:
            assert np.isnan(pos["altitude"].iloc[0])
        vel = mine[mine["groundspeed"].notna()]
        assert vel["groundspeed"].iloc[0] == pytest.approx(row["groundspeed"], abs=0.5)
        dtrk = (vel["track"].iloc[0] - row["track"] + 180) % 360 - 180
        assert abs(dtrk) <= 0.5
        if np.isfinite(row["vertical_rate"]):
            assert vel["vertical_rate"].iloc[0] == pytest.approx(row["vertical_rate"], abs=0.5)
        ident = mine["callsign"].dropna()
        assert list(ident) == ([row["callsign"]] if isinstance(row["callsign"], str) else [])
    # tracks without an ICAO address are named by their track number, as dump1090 names
    # non-ICAO addresses
    assert names[0] == "~000064" and names[1] == picture["icao24"].iloc[1]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 30), seed=st.integers(0, 2**32 - 1), time_s=st.floats(0, 4e9))
def test_sbs_every_line_decodes(n: int, seed: int, time_s: float) -> None:
    text = encode_sbs(picture_of(n, seed), time_s)
    lines = text.split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line.split(b",")) == 22 for line in lines[:-1])
    result = decode_sbs(text)
    assert result.counts["errors"] == 0 and len(result.reports) == len(lines) - 1


def test_aircraft_json_has_what_tar1090_reads_and_equals_the_picture() -> None:
    picture = picture_of(30)
    picture["squawk"] = [f"{k % 8}{k % 7}{k % 5}1" if k % 2 else None for k in range(30)]
    doc = json.loads(json.dumps(aircraft_json(picture, T0, 42)))  # what goes on the wire
    assert set(doc) == {"now", "messages", "aircraft"}
    assert doc["now"] == pytest.approx(T0, abs=0.05) and doc["messages"] == 42
    assert len(doc["aircraft"]) == len(picture)
    for a, (_, row) in zip(doc["aircraft"], picture.iterrows(), strict=True):
        assert set(a) <= set(TAR1090_READS), set(a) - set(TAR1090_READS)
        for key, value in a.items():
            assert isinstance(value, TAR1090_READS[key]), (key, value)
        assert re.fullmatch(r"~?[0-9a-f]{6}", a["hex"]) and a["type"] in READSB_TYPES
        assert a["type"] == ("tisb_trackfile" if a["hex"].startswith("~") else "tisb_icao")
        assert a["lat"] == pytest.approx(row["latitude"], abs=1e-6)
        assert a["lon"] == pytest.approx(row["longitude"], abs=1e-6)
        assert a["gs"] == pytest.approx(row["groundspeed"], abs=0.05)
        assert a["track"] == pytest.approx(row["track"], abs=0.005)
        assert a["seen"] == 0 and a["seen_pos"] == 0
        assert ("alt_baro" in a) == bool(np.isfinite(row["altitude"]))
        if "alt_baro" in a:
            assert a["alt_baro"] == round(row["altitude"])
        assert ("baro_rate" in a) == bool(np.isfinite(row["vertical_rate"]))
        call, squawk = row["callsign"], row["squawk"]
        assert a.get("flight", "").strip() == (call if isinstance(call, str) else "")
        assert a.get("squawk") == (squawk if isinstance(squawk, str) else None)


def test_bad_time_says_so() -> None:
    with pytest.raises(InputError, match="picture's time"):
        encode_sbs(picture_of(2), float("nan"))
    with pytest.raises(InputError, match="picture's time"):
        aircraft_json(picture_of(2), float("inf"), 0)


# -- dump1090-mutability as the reference of both formats ------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dump1090(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """dump1090-mutability fed the real Beast recording: its SBS lines and its aircraft.json."""
    exe = shutil.which("dump1090-mutability")
    if exe is None:
        what = "dump1090-mutability is not installed (Debian package dump1090-mutability)"
        if IN_CI:
            pytest.fail(f"{what} (CI=true: every test must run here)", pytrace=False)
        pytest.skip(what)
    out = tmp_path_factory.mktemp("dump1090")
    beast_in, sbs_out = _free_port(), _free_port()
    proc = subprocess.Popen(
        [exe, "--net-only", "--net-bind-address", "127.0.0.1", "--net-bi-port", str(beast_in),
         "--net-sbs-port", str(sbs_out), "--net-ri-port", "0", "--net-ro-port", "0",
         "--net-bo-port", "0", "--quiet", "--write-json", str(out), "--write-json-every", "1",
         "--lat", "43.6", "--lon", "1.4"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                sbs = socket.create_connection(("127.0.0.1", sbs_out), timeout=1)
                feed = socket.create_connection(("127.0.0.1", beast_in), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        feed.sendall((real_data / "traffic" / "sample_dump1090.bin").read_bytes())
        sbs.settimeout(0.5)
        data = b""
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                chunk = sbs.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            data += chunk
        while not (out / "aircraft.json").is_file() and time.monotonic() < deadline + 3:
            time.sleep(0.1)
        time.sleep(1.1)  # one more write, after every frame was taken
        doc = json.loads((out / "aircraft.json").read_text())
        receiver = json.loads((out / "receiver.json").read_text())
        feed.close()
        sbs.close()
        yield {"sbs": data, "json": doc, "receiver": receiver}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _shape(value: str, index: int) -> str:
    if index == 4:  # the address: hex digits, which may all be decimal ones
        return "hex" if re.fullmatch(r"~?[0-9A-F]{6}", value) else "other:" + value
    for name, pattern in (("empty", r""), ("int", r"-?\d+"), ("deg5", r"-?\d+\.\d{5}"),
                          ("date", r"\d{4}/\d{2}/\d{2}"), ("time", r"\d{2}:\d{2}:\d{2}\.\d{3}"),
                          ("callsign8", r"[A-Z0-9 ]{8}")):  # fmt: skip
        if re.fullmatch(pattern, value):
            return name
    return "other:" + value


def _shapes(text: bytes) -> dict[str, list[set[str]]]:
    """Per message type, per field, the shapes its values take."""
    out: dict[str, list[set[str]]] = {}
    for line in text.decode("ascii").split("\r\n"):
        if not line:
            continue
        fields = line.split(",")
        per = out.setdefault(fields[1], [set() for _ in range(22)])
        assert len(fields) == 22, line
        for k, value in enumerate(fields):
            per[k].add(_shape(value, k))
    return out


@pytest.mark.real_data
def test_sbs_lines_are_shaped_as_dump1090_writes_them(dump1090: dict[str, Any]) -> None:
    theirs = _shapes(dump1090["sbs"])
    assert dump1090["sbs"].endswith(b"\r\n")
    picture = picture_of(40)
    picture["squawk"] = ["7700" if k == 3 else "1000" for k in range(40)]
    ours = _shapes(encode_sbs(picture, T0))
    assert set(ours) == {"1", "3", "4", "6"} <= set(theirs)
    for kind, fields in ours.items():
        for k, shapes in enumerate(fields):
            # a field dump1090 leaves empty we leave empty; one it fills we fill the same way
            # (or leave empty where the picture does not know the value)
            assert shapes <= theirs[kind][k] | {"empty"}, (kind, k, shapes, theirs[kind][k])
            assert shapes - {"empty"} or theirs[kind][k] == {"empty"}, (kind, k)


@pytest.mark.real_data
def test_receiver_json_is_shaped_as_dump1090_writes_it(dump1090: dict[str, Any]) -> None:
    theirs = dump1090["receiver"]
    ours = json.loads(json.dumps(receiver_json("deconflict 0.1.0", 1.0)))
    assert set(ours) <= set(theirs)
    assert {k: type(v) for k, v in ours.items()} == {k: type(theirs[k]) for k in ours}
    assert ours["refresh"] == theirs["refresh"] == 1000 and ours["history"] == 0


@pytest.mark.real_data
def test_aircraft_json_is_shaped_as_dump1090_writes_it(dump1090: dict[str, Any]) -> None:
    theirs = dump1090["json"]
    ours = json.loads(json.dumps(aircraft_json(picture_of(10), T0, 1)))
    assert set(ours) <= set(theirs) and theirs["aircraft"]
    same = {"hex", "flight", "squawk", "track", "lat", "lon", "seen", "seen_pos"}
    for key in same:
        their_values = [a[key] for a in theirs["aircraft"] if key in a]
        our_values = [a[key] for a in ours["aircraft"] if key in a]
        if not their_values:
            continue
        assert {type(v) for v in our_values} <= {type(v) for v in their_values} | {float, int}
        if key == "hex":
            assert all(re.fullmatch(r"[0-9a-f]{6}", v) for v in their_values)
            assert all(re.fullmatch(r"~?[0-9a-f]{6}", v) for v in our_values)
        if key == "flight":
            assert {len(v) for v in their_values} == {len(v) for v in our_values} == {8}


def test_a_squawk_stored_as_a_number_is_read_as_its_digits() -> None:
    """OpenSky and traffic recordings store 0421 as the integer 421: every output writes 0421."""
    from libasterix_cat062 import decode_blocks

    from deconflict.surveillance.cat062_out import encode_cat062

    picture = picture_of(3)
    picture["squawk"] = pd.array([421, None, 7700], dtype="Int64")
    doc = aircraft_json(picture, T0, 0)
    assert [a.get("squawk") for a in doc["aircraft"]] == ["0421", None, "7700"]
    records = decode_blocks(encode_cat062(picture, T0))
    assert [r.get("squawk") for r in records] == ["0421", None, "7700"]
    lines = encode_sbs(picture, T0).decode().split("\r\n")
    six = [line.split(",") for line in lines if line.startswith("MSG,6")]
    assert [(f[17], f[19]) for f in six] == [("0421", "0"), ("7700", "-1")]
