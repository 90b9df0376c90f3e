"""A party's live picture out as CAT062 over UDP, SBS lines on TCP and aircraft.json: each
output carries exactly the party's own picture (``Engine.picture``), only for the parties the
host opted in, and never what another party's picture holds and its own does not. On SQLite
and on PostgreSQL.

The built-in scenario's Blue drone REAPER01 has no transponder: Blue's data link reports it with
its callsign; Red's radar sees it as an unidentified track and the civil ANSP (ADS-B, SSR) not at
all. So "REAPER01" and Blue's link-only positions are Blue's hidden data."""

from __future__ import annotations

import json
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from deconflict.errors import ConfigError, DeconflictError
from deconflict.service.live import live_app
from deconflict.surveillance.cat062_out import Cat062Source, encode_cat062
from deconflict.surveillance.picture_text import aircraft_json, encode_sbs

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TICKS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'out.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture()
def outputs(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A live app whose red and blue pictures go out as CAT062 (each to its own UDP socket) and
    SBS (each on its own port); aircraft.json for red and blue, not civil."""
    udp = {p: socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for p in ("red", "blue")}
    for s in udp.values():
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
    sbs_ports = {p: _free_port() for p in ("red", "blue")}
    to = ",".join(f"{p}=127.0.0.1:{s.getsockname()[1]}" for p, s in udp.items())
    monkeypatch.setenv("DECONFLICT_PICTURE_CAT062_TO", to)
    monkeypatch.setenv("DECONFLICT_PICTURE_CAT062_SAC", "25")
    monkeypatch.setenv("DECONFLICT_PICTURE_CAT062_SIC", "7")
    monkeypatch.setenv("DECONFLICT_PICTURE_SBS_LISTEN",
                       ",".join(f"{p}={port}" for p, port in sbs_ports.items()))  # fmt: skip
    monkeypatch.setenv("DECONFLICT_PICTURE_JSON_PARTIES", "red,blue")
    app, session = live_app(db=db, crews_answer=False)
    with TestClient(app) as client:
        sbs = {p: socket.create_connection(("127.0.0.1", port), timeout=5)
               for p, port in sbs_ports.items()}  # fmt: skip
        time.sleep(0.2)  # the accept threads take the connections
        yield {"client": client, "session": session, "udp": udp, "sbs": sbs,
               "sbs_ports": sbs_ports, "tokens": app.state.demo_tokens, "app": app}  # fmt: skip
        for s in [*udp.values(), *sbs.values()]:
            s.close()


def _auth(out: dict[str, Any], party: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {out['tokens'][party]}"}


def _drain_udp(sock: socket.socket, quiet_s: float = 0.5) -> list[bytes]:
    """Every datagram until none comes for ``quiet_s``."""
    got = [sock.recv(65535)]
    sock.settimeout(quiet_s)
    try:
        while True:
            got.append(sock.recv(65535))
    except TimeoutError:
        pass
    finally:
        sock.settimeout(5)
    return got


def _read_sbs(sock: socket.socket, quiet_s: float = 0.5) -> bytes:
    data = sock.recv(1 << 20)
    sock.settimeout(quiet_s)
    try:
        while chunk := sock.recv(1 << 20):
            data += chunk
    except TimeoutError:
        pass
    finally:
        sock.settimeout(5)
    return data


def _step(out: dict[str, Any], n: int) -> tuple[dict[str, pd.DataFrame], float]:
    session = out["session"]
    for _ in range(n - 1):
        session.step(1.0)
    assert out["app"].state.picture_outputs.wait_sent()
    for s in out["udp"].values():  # only the last tick's picture is compared
        s.settimeout(0.05)
        try:
            while True:
                s.recv(65535)
        except TimeoutError:
            s.settimeout(5)
    for s in out["sbs"].values():
        s.settimeout(0.05)
        try:
            while s.recv(1 << 20):
                pass
        except TimeoutError:
            s.settimeout(5)
    session.step(1.0)
    assert out["app"].state.picture_outputs.wait_sent()
    with session.lock:
        pics = {p: session.engine.picture(p) for p in ("red", "blue", "civil")}
        return pics, float(session.engine.now_s)


def test_each_output_carries_exactly_the_party_picture(outputs: dict[str, Any]) -> None:
    pics, now_s = _step(outputs, TICKS)
    blue_only = set(pics["blue"]["callsign"].dropna()) - set(pics["red"]["callsign"].dropna())
    assert "REAPER01" in blue_only  # the scene has hidden data to leak
    source = Cat062Source(25, 7)
    for party in ("red", "blue"):
        got = _drain_udp(outputs["udp"][party])
        assert got == encode_cat062(pics[party], now_s, source)
        lines = _read_sbs(outputs["sbs"][party])
        assert lines == encode_sbs(pics[party], now_s)
        r = outputs["client"].get("/v1/live/aircraft.json", headers=_auth(outputs, party))
        assert r.status_code == 200
        ticks = outputs["session"].engine.tick_count
        assert r.json() == json.loads(json.dumps(aircraft_json(pics[party], now_s, ticks)))
    # red's outputs hold none of blue's hidden data
    red_bytes = b"".join(encode_cat062(pics["red"], now_s, source))
    red_json = outputs["client"].get("/v1/live/aircraft.json", headers=_auth(outputs, "red")).text
    for name in blue_only:
        assert name.encode() not in encode_sbs(pics["red"], now_s)
        assert name not in red_json
    assert b"REAPER" not in red_bytes and "REAPER" not in red_json
    assert len(json.loads(red_json)["aircraft"]) == len(pics["red"])


def test_aircraft_json_attacks(outputs: dict[str, Any]) -> None:
    client = outputs["client"]
    _step(outputs, 5)
    assert client.get("/v1/live/aircraft.json").status_code == 401
    bad = client.get("/v1/live/aircraft.json", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    # civil is not opted in: 403, naming how the host opts it in
    r = client.get("/v1/live/aircraft.json", headers=_auth(outputs, "civil"))
    assert r.status_code == 403 and "DECONFLICT_PICTURE_JSON_PARTIES" in r.text
    # a party cannot ask for another's picture: nothing in the request names a party
    mine = client.get("/v1/live/aircraft.json?party=blue", headers=_auth(outputs, "red")).json()
    assert len(mine["aircraft"]) == len(outputs["session"].engine.picture("red"))
    # no token in the query string either
    assert client.get(f"/v1/live/aircraft.json?token={outputs['tokens']['red']}").status_code == 401
    # receiver.json, which tar1090 reads first, is scoped the same way
    assert client.get("/v1/live/receiver.json").status_code == 401
    assert client.get("/v1/live/receiver.json", headers=_auth(outputs, "civil")).status_code == 403
    receiver = client.get("/v1/live/receiver.json", headers=_auth(outputs, "red")).json()
    assert receiver["refresh"] == 1000 and receiver["history"] == 0


def test_sbs_binds_loopback_and_a_late_client_gets_the_next_picture(
    outputs: dict[str, Any],
) -> None:
    ports = outputs["app"].state.picture_outputs.sbs
    assert {p.address[0] for p in ports} == {"127.0.0.1"}
    _step(outputs, 20)
    late = socket.create_connection(("127.0.0.1", outputs["sbs_ports"]["blue"]), timeout=5)
    time.sleep(0.2)
    pics, now_s = _step(outputs, 1)
    assert len(pics["blue"]) > 0
    assert _read_sbs(late) == encode_sbs(pics["blue"], now_s)
    late.close()
    # a client gone does not stop the others
    pics, now_s = _step(outputs, 1)
    assert _read_sbs(outputs["sbs"]["blue"]).endswith(encode_sbs(pics["blue"], now_s))


def test_an_sbs_port_serves_a_bounded_number_of_clients(outputs: dict[str, Any]) -> None:
    from deconflict.service.picture_out import MAX_SBS_CLIENTS

    port = outputs["sbs_ports"]["red"]
    extra = [socket.create_connection(("127.0.0.1", port), timeout=5)
             for _ in range(MAX_SBS_CLIENTS)]  # fmt: skip
    time.sleep(0.3)
    # one client (the fixture's) was there already: the last one is closed at once
    assert extra[-1].recv(10) == b""
    pics, now_s = _step(outputs, 20)
    assert len(pics["red"]) > 0
    assert _read_sbs(extra[0]).endswith(encode_sbs(pics["red"], now_s))
    for s in extra:
        s.close()


def test_outputs_stop_with_the_app(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("DECONFLICT_PICTURE_SBS_LISTEN", f"red={port}")
    app, _ = live_app(db=db, crews_answer=False)
    with TestClient(app):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


@pytest.mark.parametrize(
    ("env", "value", "error", "message"),
    [
        ("DECONFLICT_PICTURE_CAT062_TO", "red=127.0.0.1", ConfigError, "PARTY=HOST:PORT"),
        ("DECONFLICT_PICTURE_CAT062_TO", "127.0.0.1:9000", ConfigError, "PARTY=HOST:PORT"),
        ("DECONFLICT_PICTURE_CAT062_TO", "red=127.0.0.1:70000", ConfigError, "1-65535"),
        ("DECONFLICT_PICTURE_SBS_LISTEN", "red=x", ConfigError, "PARTY=PORT"),
        ("DECONFLICT_PICTURE_CAT062_SAC", "300", ConfigError, "0-255"),
        ("DECONFLICT_PICTURE_CAT062_INTERFACE", "eth0", ConfigError, "IPv4 address"),
        ("DECONFLICT_PICTURE_CAT062_TO", "mallory=127.0.0.1:9000", DeconflictError, "no such party"),
        ("DECONFLICT_PICTURE_JSON_PARTIES", "red,mallory", DeconflictError, "'mallory'.*no such party"),
    ],
)  # fmt: skip
def test_bad_settings_say_what_to_do(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: str,
    value: str,
    error: type[Exception],
    message: str,
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(error, match=message):
        live_app(db=f"sqlite:///{tmp_path / 'bad.db'}", crews_answer=False)


def test_ipv6_destination_and_multicast_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A destination may be IPv6 (here ::1); a multicast group gets the configured hop limit and
    leaves by the configured interface (checked on the socket: nothing is sent to the group)."""
    six = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    six.bind(("::1", 0))
    six.settimeout(5)
    port6 = six.getsockname()[1]
    monkeypatch.setenv("DECONFLICT_PICTURE_CAT062_TO",
                       f"blue=[::1]:{port6},civil=239.255.0.1:{_free_port()}")  # fmt: skip
    monkeypatch.setenv("DECONFLICT_PICTURE_CAT062_TTL", "3")
    monkeypatch.setenv("DECONFLICT_PICTURE_CAT062_INTERFACE", "127.0.0.1")
    app, session = live_app(db=f"sqlite:///{tmp_path / 'six.db'}", crews_answer=False)
    with TestClient(app):
        out = app.state.picture_outputs
        v4 = out.udp[socket.AF_INET]
        assert v4.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL) == 3
        interface = v4.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)
        assert socket.inet_ntoa(interface) == "127.0.0.1"
        assert (
            out.udp[socket.AF_INET6].getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS)
            == 3
        )
        # the civil group is left out of the ticks below: only blue's (IPv6) goes out
        out.destinations = [d for d in out.destinations if d[0] == "blue"]
        for _ in range(20):
            session.step(1.0)
        assert out.wait_sent()
        _drain_udp(six, 0.2)
        session.step(1.0)
        assert out.wait_sent()
        with session.lock:
            picture, now_s = session.engine.picture("blue"), float(session.engine.now_s)
        assert len(picture) > 0
        assert _drain_udp(six) == encode_cat062(picture, now_s, Cat062Source(0, 1))
    six.close()
