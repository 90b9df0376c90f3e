"""The live picture's WebSocket frame (``picture_wire``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from deconflict.errors import DeconflictError
from deconflict.service.live import live_app
from deconflict.service.picture_wire import compress_frame, decode_frame, encode_frame

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
    with client.websocket_connect(f"/v1/live/ws?token={token}") as ws:
        data = ws.receive_bytes()
    assert data[:4] == b"DCPZ"
    pic = decode_frame(data)
    rest = client.get("/v1/live/picture", headers=_auth(client, "red")).json()
    assert pic["type"] == "picture" and pic["party"] == "red" and pic["seq"] == rest["seq"]
    assert pic["tick_wall_s"] == rest["tick_wall_s"] and pic["time_s"] == rest["time_s"]
    for field in ("alerts", "requests", "messages", "incidents"):
        assert pic[field] == rest[field], field
    assert len(pic["tracks"]["key"]) >= 5
    assert set(pic["tracks"]) == set(rest["tracks"])
    for name, values in rest["tracks"].items():
        if values and isinstance(values[0], str):
            assert pic["tracks"][name] == values, name
        else:
            a = np.array(pic["tracks"][name], dtype=float)
            b = np.array(values, dtype=float)
            # the JSON rounds speeds and angles to whole units; the frame is float32
            np.testing.assert_allclose(a, b, atol=0.51, equal_nan=True, err_msg=name)
    assert all(k.startswith("red/") for k in pic["tracks"]["key"])  # only Red's own picture
