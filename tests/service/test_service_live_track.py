"""``GET /v1/live/track``: the map's info panel. What a party gets is its own picture's track, with
the identifiers and sensors of the scenario that made it (an independent source: the scenario
file); another party's track, or none, is 404; no token is 401. On SQLite and PostgreSQL."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deconflict.service.live_app import live_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    db = (
        f"sqlite:///{tmp_path / 'live.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    app, session = live_app(db=db, crews_answer=False)
    with TestClient(app) as c:
        for _ in range(40):
            session.step(1.0)
        c.session = session  # type: ignore[attr-defined]
        c.tokens = app.state.demo_tokens  # type: ignore[attr-defined]
        yield c


def _get(c: Any, party: str | None, key: str) -> Any:
    headers = {} if party is None else {"Authorization": f"Bearer {c.tokens[party]}"}
    return c.get("/v1/live/track", params={"key": key}, headers=headers)


def test_own_track_has_the_scenarios_identifiers_and_the_partys_sensors(client: Any) -> None:
    scenario = client.session.scenario
    viper = next(a for a in scenario.aircraft if a.id == "VIPER11")
    r = _get(client, "blue", "blue/VIPER11")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["identity"] == "own" and got["owner"] == "blue"
    assert got["callsign"] == viper.callsign and got["icao24"] == viper.icao24
    assert got["squawk"] == viper.squawk
    assert got["sensors"] and all(s.startswith("blue/") for s in got["sensors"])
    assert "blue/blue-link" in got["sensors"]
    assert got["flight_level"] == 240 and abs(got["altitude"] - 24_000) < 300
    assert abs(got["groundspeed"] - 420) < 30
    assert 0.0 <= got["age_s"] < 10.0 and got["last_update_s"] <= got["time_s"]
    # the row agrees with the picture the map draws
    pic = client.session.engine.picture("blue").set_index("key").loc["blue/VIPER11"]
    assert got["latitude"] == pytest.approx(float(pic["latitude"]))
    assert math.isclose(got["track"], float(pic["track"]), abs_tol=1e-9)


def test_the_same_aircraft_on_reds_map_is_reds_track_seen_by_reds_radar(client: Any) -> None:
    pic = client.session.engine.picture("red")
    row = pic[pic["aircraft"] == "VIPER11"]
    assert len(row) == 1
    key = str(row["key"].iloc[0])
    got = _get(client, "red", key).json()
    radar = {f"red/{s.id}" for s in client.session.scenario.sensors if s.party == "red"}
    assert set(got["sensors"]) <= radar and got["sensors"]
    assert got["identity"] == "declared" and got["owner"] == "blue"


def test_another_partys_track_or_none_is_not_found_and_no_token_is_refused(client: Any) -> None:
    r = _get(client, "red", "blue/VIPER11")  # Blue's own key: not in Red's picture
    assert r.status_code == 404 and "pick one on the map" in r.text
    assert _get(client, "blue", "blue/NOSUCH").status_code == 404
    assert _get(client, None, "blue/VIPER11").status_code == 401
    r = client.get(
        "/v1/live/track", params={"key": "blue/VIPER11"}, headers={"Authorization": "Bearer x"}
    )
    assert r.status_code == 401
    assert client.get("/v1/live/track", headers={"Authorization": "Bearer x"}).status_code in (
        401,
        422,
    )


def test_the_picture_carries_icao24_and_squawk_also_when_empty(tmp_path: Path) -> None:
    app, session = live_app(db=f"sqlite:///{tmp_path / 'live.db'}", crews_answer=False)
    with TestClient(app) as c:
        auth = {"Authorization": f"Bearer {app.state.demo_tokens['blue']}"}
        r = c.get("/v1/live/picture", headers=auth)  # before the first tick: no track yet
        assert r.status_code == 200, r.text
        assert r.json()["tracks"]["squawk"] == [] and r.json()["tracks"]["icao24"] == []
        for _ in range(20):
            session.step(1.0)
        t = c.get("/v1/live/picture", headers=auth).json()["tracks"]
        i = t["key"].index("blue/VIPER11")
        viper = next(a for a in session.scenario.aircraft if a.id == "VIPER11")
        assert (t["icao24"][i], t["squawk"][i]) == (viper.icao24, viper.squawk)


def test_an_instance_beside_the_engine_answers_each_track_as_the_in_process_path(
    client: Any,
) -> None:
    """The same tick's picture frame, relayed as the picture bus relays it, gives every track of
    each party's picture the in-process panel's fields (the sensors, status, callsign and update
    times included), to the frame's float32 and the JSON's rounding."""
    from fastapi import FastAPI

    from deconflict.errors import AuthenticationError
    from deconflict.service.live_picture import encode_picture_frame
    from deconflict.service.live_tracks import track_detail
    from deconflict.service.picture_relay import PictureRelay
    from deconflict.service.relay_map import map_router

    session = client.session
    by_token = {t: p for p, t in client.tokens.items()}

    def party_of(token: str | None) -> str:
        if token not in by_token:
            raise AuthenticationError("unknown token")
        return by_token[token]

    relay = PictureRelay()
    app = FastAPI()
    app.include_router(map_router(relay, party_of))
    seen_sensors = False
    with TestClient(app) as instance:
        for party in ("blue", "red"):
            relay.put(party, encode_picture_frame(session, party, 1, 0.0))
            keys = session.engine.view(party)["key"].tolist()
            assert len(keys) >= 3
            for key in keys:
                want = track_detail(session, party, key)
                r = instance.get(
                    "/v1/live/track",
                    params={"key": key},
                    headers={"Authorization": f"Bearer {client.tokens[party]}"},
                )
                assert r.status_code == 200, r.text
                got = r.json()
                assert set(got) == set(want), key
                for name, value in want.items():
                    if isinstance(value, float) and name != "flight_level":
                        tol = 2e-5 if name in ("latitude", "longitude") else 0.06
                        tol = 1e-3 if name.endswith("_s") else tol
                        assert got[name] == pytest.approx(value, abs=tol), (key, name)
                    else:
                        assert (got[name] or None) == (value or None), (key, name)
                seen_sensors |= bool(want["sensors"]) and want["status"] is not None
                # need to know: the panel names the caller's own sensors only, never another
                # party's (a party's picture is made of its own reports)
                assert all(s.split("/")[0] == party for s in got["sensors"]), key
    assert seen_sensors  # the comparison covered tracks with sensors and a status
