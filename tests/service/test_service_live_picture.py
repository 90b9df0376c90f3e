"""The live picture's WebSocket frame (``picture_wire``) and what the map's layers hold."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from deconflict.errors import DeconflictError
from deconflict.service.live_app import live_app
from deconflict.service.picture_wire import PANEL, compress_frame, decode_frame, encode_frame

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    app, session = live_app(db=f"sqlite:///{tmp_path / 'live.db'}", crews_answer=False)
    with TestClient(app) as c:
        c.session = session
        c.tokens = app.state.demo_tokens
        yield c


def _auth(c: TestClient, party: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.tokens[party]}"}


def test_frame_round_trip_keeps_every_column_and_unknowns() -> None:
    frame = pd.DataFrame(
        {
            "key": ["blue/A", "blue/B\x1fX", "red/C"],
            "owner": ["blue", None, "red"],
            "identity": ["own", "unknown", "declared"],
            "label": ["VIPER11", "", "FALCON21"],
            "latitude": [35.123456, np.nan, -12.5],
            "longitude": [36.5, 37.25, np.inf],
            "altitude": [31000.0, 12500.0, np.nan],
            "groundspeed": [420.0, 0.0, 99.5],
            "track": [359.9, 0.0, 180.0],
            "vertical_rate": [-1500.0, 0.0, 2000.0],
        }
    )
    head = {"type": "picture", "seq": 7, "tick_wall_s": 1.5, "party": "blue", "alerts": [{"a": 1}]}
    raw = encode_frame(head, frame)
    got = decode_frame(compress_frame(raw, {"type": "picture", "seq": 7, "tick_wall_s": 1.5}))
    assert got == decode_frame(raw)
    assert {k: got[k] for k in head} == head
    t = got["tracks"]
    assert t["key"] == ["blue/A", "blue/B X", "red/C"]  # the separator cannot split a key
    assert t["owner"] == ["blue", "", "red"] and t["identity"] == ["own", "unknown", "declared"]
    assert t["label"] == ["VIPER11", "", "FALCON21"]
    assert t["latitude"][0] == pytest.approx(35.123456, abs=1e-5)
    assert t["latitude"][1] is None and t["longitude"][2] is None and t["altitude"][2] is None
    assert t["track"][0] == pytest.approx(359.9, abs=1e-4)
    # the columns start on multiples of 8 after the head (the page maps them as typed arrays)
    assert (int.from_bytes(raw[4:8], "little") + 8) % 8 == 0
    with pytest.raises(DeconflictError, match="not a picture frame"):
        decode_frame(b'{"type": "picture"}')


def test_empty_picture_frame() -> None:
    frame = pd.DataFrame({c: pd.Series([], dtype=float) for c in ("latitude", "longitude")})
    frame["key"] = pd.Series([], dtype=object)
    got = decode_frame(encode_frame({"type": "picture"}, frame))
    assert got["tracks"] == {"latitude": [], "longitude": [], "key": []}


def test_websocket_frame_is_the_rest_picture(client: TestClient) -> None:
    session: Any = client.session
    for _ in range(30):
        session.step(1.0)
    token = client.tokens["red"]
    with client.websocket_connect("/v1/live/ws") as ws:
        ws.send_json({"token": token})  # as the map page does: never in the URL
        data = ws.receive_bytes()
    assert data[:4] == b"DCPZ"
    pic = decode_frame(data)
    rest = client.get("/v1/live/picture", headers=_auth(client, "red")).json()
    assert pic["type"] == "picture" and pic["party"] == "red" and pic["seq"] == rest["seq"]
    assert pic["tick_wall_s"] == rest["tick_wall_s"] and pic["time_s"] == rest["time_s"]
    assert pic["alerts"] == rest["alerts"]
    # the hotline, requests and incidents are read from /v1 like any client's, not pushed here
    assert not {"requests", "messages", "incidents"} & set(pic)
    assert len(pic["tracks"]["key"]) >= 5
    # the frame carries the info panel's columns too (for the instances beside an engine)
    assert set(pic["tracks"]) == set(rest["tracks"]) | set(PANEL)
    for name, values in rest["tracks"].items():
        if values and isinstance(values[0], str):
            assert pic["tracks"][name] == values, name
        else:
            a = np.array(pic["tracks"][name], dtype=float)
            b = np.array(values, dtype=float)
            # the JSON rounds speeds and angles to whole units; the frame is float32
            np.testing.assert_allclose(a, b, atol=0.51, equal_nan=True, err_msg=name)
    assert all(k.startswith("red/") for k in pic["tracks"]["key"])  # only Red's own picture


def _layer(c: TestClient, party: str) -> dict[str, dict[str, Any]]:
    """The party's layer by name: its own by the scenario's names; another party's by the
    scenario's name too (looked up here), which the layer itself must not show (issue 11)."""
    r = c.get("/v1/live/operations", headers=_auth(c, party))
    assert r.status_code == 200, r.text
    assert r.json()["party"] == party
    names = c.app.state.demo_operation_names  # type: ignore[attr-defined]
    out = {}
    for o in r.json()["operations"]:
        if o["shared"]:
            assert o["name"] == o["id"][:8] and names[o["id"]] not in r.text
            out[names[o["id"]]] = o
        else:
            out[o["name"]] = o
    return out


def test_operations_layer_holds_only_what_the_party_may_see(client: TestClient) -> None:
    import shapely

    scenario = client.session.scenario
    spec = {o.id: o for o in scenario.operations}
    assert client.get("/v1/live/operations").status_code == 401
    red = _layer(client, "red")
    # Red: its own strike in full; of Blue's, only the CAP (which meets the strike), and only
    # the part of it that meets the strike; Blue's drone box (which meets nothing of Red's) not
    assert set(red) == {"RED-STRIKE-1", "BLUE-CAP-1"}
    own, cap = red["RED-STRIKE-1"], red["BLUE-CAP-1"]
    assert not own["shared"] and own["owner"] == "red"
    assert own["volumes"][0]["floor_ft"] == spec["RED-STRIKE-1"].floor_ft
    full = shapely.Polygon(spec["RED-STRIKE-1"].polygon)  # (lat, lon), as the map has it
    assert shapely.Polygon(own["volumes"][0]["polygon"][0]).symmetric_difference(full).area < 1e-9
    assert cap["shared"] and cap["owner"] == "blue" and cap["volumes"]
    assert not {"priority", "aircraft_ids", "state", "token"} & set(cap)
    blue_cap = shapely.Polygon(spec["BLUE-CAP-1"].polygon)
    for part in cap["volumes"]:
        shape = shapely.Polygon(part["polygon"][0])
        assert shape.area < blue_cap.area  # a part, not the whole CAP
        assert part["meets"] == own["id"]
    # Blue sees its two in full and the part of Red's strike that meets its CAP; civil nothing
    blue = _layer(client, "blue")
    assert {n for n, o in blue.items() if not o["shared"]} == {"BLUE-CAP-1", "BLUE-ISR-1"}
    assert {n for n, o in blue.items() if o["shared"]} == {"RED-STRIKE-1"}
    assert _layer(client, "civil") == {}
