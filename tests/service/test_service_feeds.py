"""``serve --feed``: host-side feeds put a party's receiver on its live picture (the same path as
the demo's and a replay's sources); the host reads each feed's counters; parties cannot."""

from __future__ import annotations

import math
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from deconflict.cli import app as cli_app
from deconflict.cli.serve_feeds import feed_app
from deconflict.errors import InputError
from deconflict.surveillance.source import parse_party_feeds

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN = "host-admin-token-for-feeds"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feeds.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture()
def served(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("DECONFLICT_ADMIN_TOKEN", ADMIN)
    ports = {"alpha": _port(), "bravo": _port()}
    feeds = parse_party_feeds(
        [f"alpha=beast+tcp-listen://127.0.0.1:{ports['alpha']}",
         f"bravo=beast+tcp-listen://127.0.0.1:{ports['bravo']}"]
    )  # fmt: skip
    app, session, source = feed_app(feeds, db_url, None)
    source.start()
    try:
        with TestClient(app) as client:
            yield {"client": client, "session": session, "source": source, "ports": ports,
                   "tokens": app.state.demo_tokens}  # fmt: skip
    finally:
        source.stop()


def _connect(port: int) -> socket.socket:
    """A connection to a feed's listening port, once the feed thread has bound it."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _tick_to_now(session: Any) -> None:
    now = pd.Timestamp.now(tz="UTC")
    session.step(max(1.0, (now - session.time(session.t_s)).total_seconds() + 1.0))


def test_a_receiver_feed_reaches_its_partys_live_picture(
    served: dict[str, Any], real_data: Path
) -> None:
    data = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()
    with _connect(served["ports"]["alpha"]) as conn:
        conn.sendall(data)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and served["source"].waiting() < 233:
        time.sleep(0.1)
    assert served["source"].stats[0].counts["reports"] == 233
    _tick_to_now(served["session"])
    client, tokens = served["client"], served["tokens"]
    picture = client.get("/v1/live/picture", headers={"Authorization": f"Bearer {tokens['alpha']}"})
    assert picture.status_code == 200, picture.text
    body = picture.json()
    tracks = body["tracks"]
    assert tracks["key"] == ["alpha/T1"]  # in alpha's picture: the one aircraft with positions
    assert tracks["label"] == ["TRA89M"] and tracks["altitude"] == [38000.0]
    assert abs(tracks["latitude"][0] - 43.68) < 0.1 and abs(tracks["longitude"][0] - 1.23) < 0.1
    other = client.get("/v1/live/picture", headers={"Authorization": f"Bearer {tokens['bravo']}"})
    assert other.status_code == 200
    assert other.json()["tracks"]["key"] == []  # bravo's receiver heard nothing
    # the host sees the feed's counters; a party does not
    feeds = client.get("/v1/feeds", headers={"Authorization": f"Bearer {ADMIN}"})
    assert feeds.status_code == 200
    rows = {row["party"]: row for row in feeds.json()}
    assert rows["alpha"]["counts"]["reports"] == 233
    assert rows["alpha"]["counts"]["error:unknown-address"] == 6
    assert rows["bravo"]["counts"].get("reports", 0) == 0
    denied = client.get("/v1/feeds", headers={"Authorization": f"Bearer {tokens['alpha']}"})
    assert denied.status_code == 403
    assert client.get("/v1/feeds").status_code == 401


def test_bad_feed_items_say_what_to_write() -> None:
    with pytest.raises(InputError, match="PARTY=URL"):
        parse_party_feeds(["tcp://127.0.0.1:30005"])
    with pytest.raises(InputError, match="--replay"):
        parse_party_feeds(["alpha=recording.bin"])
    two = parse_party_feeds(["alpha=tcp://10.0.0.1:30005,bravo=asterix+udp://239.1.1.1:8600"])
    assert [(f.party, f.spec.default_format()) for f in two] == [
        ("alpha", "beast"),
        ("bravo", "asterix"),
    ]
    bad = CliRunner().invoke(cli_app, ["serve", "--feed", "alpha=morse+tcp://127.0.0.1:1"])
    assert bad.exit_code == 2 and "unknown feed format" in bad.output


def test_a_flooding_feed_is_bounded_and_leaves_the_others_alone(real_data: Path) -> None:
    from deconflict.surveillance.feeds import BATCH_BYTES, CHUNK_BYTES
    from deconflict.surveillance.source import FeedSource

    sample = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()
    ports = [_port(), _port()]
    feeds = parse_party_feeds(
        [f"alpha=beast+tcp-listen://127.0.0.1:{ports[0]}",
         f"bravo=beast+tcp-listen://127.0.0.1:{ports[1]}"]
    )  # fmt: skip
    source = FeedSource(feeds, max_reports=5_000).start()
    try:
        flood = _connect(ports[0])
        flood.sendall(sample * 400 + bytes(range(256)) * 2000)  # 95,600 frames and garbage at once
        with _connect(ports[1]) as quiet:
            quiet.sendall(sample)
        flood.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            source.stats[0].counts["frames"] < 400 * 239 or source.stats[1].counts["reports"] < 233
        ):
            time.sleep(0.2)
        alpha, bravo = (s.counts for s in source.stats)
        assert bravo["reports"] == 233  # the other feed is unaffected
        assert (
            alpha["frames"] == 400 * 239 and alpha["error:garbage"] >= 1
        )  # all read, garbage said
        assert source.waiting() <= 5_000 + 239 * 400  # bounded: the oldest dropped and counted
        assert alpha.get("dropped_reports", 0) + bravo.get("dropped_reports", 0) > 0
        got = source.poll(pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1))
        # at most the bound plus the newest batch, which is kept whole: one read of up to
        # BATCH_BYTES + CHUNK_BYTES, i.e. that many bytes' worth of this stream's frames
        batch_frames = math.ceil((BATCH_BYTES + CHUNK_BYTES) / len(sample) * 239) + 239
        assert len(got) <= 5_000 + batch_frames
    finally:
        source.stop()
