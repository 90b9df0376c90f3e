"""The procedures' track sharing (``track_sharing``) in each party's live picture: what another
party's aircraft show on ``GET /v1/live/picture`` and on the WebSocket frame, per mode. The
built-in scenario: Red's radar sees Blue's VIPER11, TEXACO51, VIPER12 and a civil airliner; at
about 90 s FALCON21 (Red) and VIPER11 (Blue) are in conflict."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from deconflict.errors import ConfigError
from deconflict.service.live_app import live_app
from deconflict.service.picture_wire import decode_frame
from deconflict.settings import Settings
from deconflict.sim.scenario import load_scenario

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SCENARIO = load_scenario()
OTHERS_NAMES = {a.callsign for a in SCENARIO.aircraft if a.party != "red"} | {
    a.icao24 for a in SCENARIO.aircraft if a.party != "red" and a.icao24
}


@contextmanager
def sharing(mode: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DECONFLICT_TRACK_SHARING", mode)
    app, session = live_app(db=f"sqlite:///{tmp / f'{mode}.sqlite'}", crews_answer=False)
    with TestClient(app) as c:
        c.session = session  # type: ignore[attr-defined]
        yield c


def _pictures(c: TestClient, party: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(REST picture, WebSocket frame) of ``party`` now, their tracks checked equal."""
    token = c.app.state.demo_tokens[party]  # type: ignore[attr-defined]
    rest = c.get("/v1/live/picture", headers={"Authorization": f"Bearer {token}"}).json()
    headers = {"Authorization": f"Bearer {token}"}  # never in the URL (tests/security)
    with c.websocket_connect("/v1/live/ws", headers=headers) as ws:
        frame = decode_frame(ws.receive_bytes())
    assert frame["seq"] == rest["seq"]
    for col in ("key", "owner", "identity", "label"):
        assert frame["tracks"][col] == rest["tracks"][col], col
    return rest["tracks"], frame["tracks"]


def _rows(tracks: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return list(zip(tracks["key"], tracks["identity"], tracks["owner"], tracks["label"],
                    strict=True))  # fmt: skip


def _step(c: TestClient, n: int) -> None:
    for _ in range(n):
        c.session.step(1.0)  # type: ignore[attr-defined]


def test_full_sharing_shows_owners_and_callsigns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sharing("full", tmp_path, monkeypatch) as c:
        _step(c, 40)
        rows = _rows(_pictures(c, "red")[0])
        declared = {(o, label) for _, i, o, label in rows if i == "declared"}
        assert {("blue", "VIPER11"), ("blue", "TEXACO51")} <= declared


def test_anonymised_sharing_hides_who_under_stable_pseudonyms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sharing("anonymised", tmp_path, monkeypatch) as c:
        _step(c, 40)
        red, frame = _pictures(c, "red")
        rows = _rows(red)
        others = [r for r in rows if r[1] == "declared"]
        assert len(others) >= 4  # Blue's three and the airliner are still drawn ...
        for key, _, owner, label in others:  # ... with no owner, callsign or address
            assert owner == "" and label == key and label.startswith("TRK-")
        assert not OTHERS_NAMES & {v for r in rows for v in r}
        assert not OTHERS_NAMES & (set(frame["label"]) | set(frame["key"]))
        # Red's own aircraft and its unidentified track are shown as they are
        assert {"FALCON21", "FALCON23"} <= {r[3] for r in rows if r[1] == "own"}
        assert any(r[1] in ("unknown", "pending") for r in rows)
        # the pseudonyms are stable from tick to tick, and another viewer's are its own
        _step(c, 5)
        later = {r[0] for r in _rows(_pictures(c, "red")[0]) if r[1] == "declared"}
        assert {r[0] for r in others} == later
        blue = {r[0] for r in _rows(_pictures(c, "blue")[0]) if r[1] == "declared"}
        assert blue and not blue & later
        # the time slider shows the past under the same rule
        token = c.app.state.demo_tokens["red"]  # type: ignore[attr-defined]
        at = c.session.engine.now_s - 10  # type: ignore[attr-defined]
        old = c.get(f"/v1/live/picture?at={at}", headers={"Authorization": f"Bearer {token}"})
        past = _rows(old.json()["tracks"])
        assert past and not OTHERS_NAMES & {v for r in past for v in r}


def test_anonymised_sharing_hides_the_maps_identifiers_and_its_info_panel_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The officer's map (issue 16) lists icao24 and squawk and has an info panel
    (``GET /v1/live/track``): under anonymised sharing both hide another party's identifiers,
    and the panel finds a track only by the name the map shows it under."""
    with sharing("anonymised", tmp_path, monkeypatch) as c:
        _step(c, 40)
        red, frame = _pictures(c, "red")
        others = [i for i, identity in enumerate(red["identity"]) if identity == "declared"]
        assert others
        for tracks in (red, frame):
            for col in ("icao24", "squawk"):
                assert all(tracks[col][i] in ("", None) for i in others), col
        headers = {"Authorization": f"Bearer {c.app.state.demo_tokens['red']}"}  # type: ignore[attr-defined]
        shown = red["key"][others[0]]
        r = c.get("/v1/live/track", params={"key": shown}, headers=headers)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["key"] == shown and got["owner"] is None
        assert got["callsign"] is None and got["icao24"] is None and got["squawk"] is None
        assert not OTHERS_NAMES & {str(v) for v in got.values()}
        # the track's own key (what full sharing would show) is not in red's picture
        pic = c.session.engine.picture("red")  # type: ignore[attr-defined]
        real = [str(k) for k, o in zip(pic["key"], pic["owner"], strict=True) if o == "blue"]
        assert real
        for key in real:
            r = c.get("/v1/live/track", params={"key": key}, headers=headers)
            assert r.status_code == 404, (key, r.text)


def test_in_conflict_sharing_shows_another_partys_aircraft_only_while_in_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sharing("in_conflict", tmp_path, monkeypatch) as c:
        _step(c, 40)
        rows = _rows(_pictures(c, "red")[0])
        assert not [r for r in rows if r[1] == "declared"]
        assert {"FALCON21", "FALCON23"} <= {r[3] for r in rows if r[1] == "own"}
        assert any(r[1] in ("unknown", "pending") for r in rows)
        _step(c, 55)  # FALCON21 and VIPER11 are in conflict
        alerts = c.session.engine.active_alerts("red")  # type: ignore[attr-defined]
        assert [a["own_aircraft"] for a in alerts if a["kind"] == "conflict"] == ["FALCON21"]
        rest, frame = _pictures(c, "red")
        declared = [(o, label) for _, i, o, label in _rows(rest) if i == "declared"]
        assert declared == [("blue", "VIPER11")]  # only the other aircraft of the conflict
        assert "TEXACO51" not in frame["label"]
        # the civil party, in conflict with no one, sees nobody else's aircraft
        civil = _rows(_pictures(c, "civil")[0])
        assert not [r for r in civil if r[1] == "declared"]


def test_an_unknown_sharing_mode_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="full, anonymised, in_conflict"):
        Settings(track_sharing="some")
