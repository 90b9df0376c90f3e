"""The live picture's WebSocket frame (``picture_wire``) and what the map's layers hold."""

from __future__ import annotations

import json
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


def test_frame_columns_beside_the_table_and_every_kind_of_missing_text() -> None:
    """Columns given beside the table (the info panel's), pandas' own string dtype with missing
    values, numbers in a text column, and a coded column past 256 values (sent as text)."""
    frame = pd.DataFrame(
        {
            "key": pd.array(["a", "b", "c"], dtype="str"),
            "squawk": pd.array(["7000", None, "1200"], dtype="str"),
            "icao24": np.array(["3c6444", 17, np.nan], dtype=object),
            "owner": pd.array([None, "red", "red"], dtype="str"),
        }
    )
    many = np.array([f"s{i}" for i in range(300)], dtype=object)
    big = pd.DataFrame({"sensors": many, "key": many})
    extra = {"last_update_ago_s": np.array([0.5, np.nan, 2.0]), "status": np.array(
        ["confirmed", None, "confirmed"], dtype=object)}  # fmt: skip
    got = decode_frame(encode_frame({"type": "picture"}, frame, extra))["tracks"]
    assert got["key"] == ["a", "b", "c"] and got["squawk"] == ["7000", "", "1200"]
    assert got["icao24"] == ["3c6444", "17", ""] and got["owner"] == ["", "red", "red"]
    assert got["status"] == ["confirmed", "", "confirmed"]
    assert got["last_update_ago_s"][0] == 0.5 and got["last_update_ago_s"][1] is None
    assert decode_frame(encode_frame({}, big))["tracks"]["sensors"] == many.tolist()


def test_the_frames_alerts_are_the_engines_made_json_safe_at_once() -> None:
    """The picture's alerts, made for all of a party's alerts at once (numbers rounded to 5
    decimals, None where not finite), are what the generic walk makes of each alert's own
    rows of the scene; the frame's head carries them byte for byte as the standard library
    writes them."""
    from deconflict.engine.picture import kinematics, num
    from deconflict.engine.session import Session
    from deconflict.service.live_picture import json_safe, picture_payload
    from deconflict.sim.synthetic import synthetic_scenario

    session = Session.from_scenario(synthetic_scenario(1500, seed=1, half_width_deg=4.0))
    for _ in range(12):
        session.step(1.0)
    eng = session.engine
    shown = 0
    for party in eng.parties:
        alerts = eng.active_alerts(party, 5)
        assert alerts == json_safe(eng.active_alerts(party), 5)
        by_id = {c.alert_id: c for c in eng.alerts.conflicts.values()}
        for a in (a for a in alerts if a["kind"] == "conflict"):
            c = by_id[a["alert_id"]]
            own = eng.index.row(a["own_key"])
            other = eng.index.row(c.keys[1] if c.keys[0] == a["own_key"] else c.keys[0])
            assert own["party"] == party and a["own_aircraft"] == own["label"]
            assert a["own"] == json_safe(kinematics(own), 5)
            assert a["other"] == json_safe(kinematics(other), 5)
            assert a["dcpa_nm"] == json_safe(num(c.row["dcpa_nm"]), 5)
            advice = c.advice[0] if c.keys[0] == a["own_key"] else c.advice[1]
            assert a["resolution"] == json_safe(advice.to_dict() if advice else None, 5)
            shown += 1
        payload = picture_payload(session, party, panel=True)
        frame, panel = payload.pop("frame"), payload.pop("panel")
        raw = encode_frame(payload, frame, panel)
        head_len = int.from_bytes(raw[4:8], "little")
        head = json.loads(raw[8 : 8 + head_len])
        columns, n = head.pop("columns"), head.pop("n")
        assert n == len(frame) and {c["name"] for c in columns} >= set(PANEL)
        assert head == payload
        std = json.dumps({**payload, "n": n, "columns": columns}, separators=(",", ":"))
        assert raw[8 : 8 + head_len].rstrip(b" ") == std.encode()
    assert shown > 20  # a sky busy enough to check many alerts


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
