"""Party-side agent: reports pushed to ``POST /v1/reports`` resume after any cut with none lost and
none applied twice (hypothesis over cut points); the attacks on the endpoint; what is shared."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.cli.serve_feeds import feed_app
from deconflict.surveillance import DecodeOptions, decode
from deconflict.surveillance.push import (
    MEDIA_TYPE,
    Pusher,
    ShareFilter,
    decode_reports,
    encode_reports,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN = "host-admin-token-for-push"


@pytest.fixture(scope="module")
def reports(real_data: Path) -> pd.DataFrame:
    data = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()
    start = pd.Timestamp.now(tz="UTC").floor("s") - pd.Timedelta(seconds=30)
    return decode(data, format="beast", options=DecodeOptions(start_time=start)).reports


def _served(db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("DECONFLICT_ADMIN_TOKEN", ADMIN)
    app, session, _ = feed_app([], db, None, ["alpha", "bravo"])
    with TestClient(app) as client:
        yield {"app": app, "client": client, "session": session,
               "tokens": app.state.demo_tokens, "pushed": app.state.pushed_reports}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    db = (
        f"sqlite:///{tmp_path / 'push.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    yield from _served(db, monkeypatch)


def _post(s: dict[str, Any], party: str, body: bytes, seq: int, stream: str = "s1") -> Any:
    return s["client"].post(
        "/v1/reports",
        params={"stream": stream, "seq": seq},
        content=body,
        headers={"Authorization": f"Bearer {s['tokens'][party]}", "Content-Type": MEDIA_TYPE},
    )


def test_push_attacks(served: dict[str, Any], reports: pd.DataFrame) -> None:
    body = encode_reports(reports)
    ok = _post(served, "alpha", body, 1)
    assert ok.status_code == 200 and ok.json() == {
        "stream": "s1", "acked": 1, "applied": True, "reports": len(reports)
    }  # fmt: skip
    # replaying a batch: answered, not applied twice
    again = _post(served, "alpha", body, 1)
    assert again.status_code == 200 and again.json()["applied"] is False
    assert served["pushed"].waiting() == len(reports)
    # a gap: refused with where to resume
    gap = _post(served, "alpha", body, 3)
    assert gap.status_code == 409 and "resume from batch 2" in gap.text
    # pushing as another party: refused
    forged = _post(served, "alpha", encode_reports(reports.assign(party="bravo")), 2)
    assert forged.status_code == 403 and "bravo" in forged.text
    # bravo's stream of the same name is bravo's own: alpha's position does not leak into it
    assert _post(served, "bravo", body, 1).json()["acked"] == 1
    position = served["client"].get(
        "/v1/reports/position",
        params={"stream": "s1"},
        headers={"Authorization": f"Bearer {served['tokens']['alpha']}"},
    )
    assert position.json() == {"stream": "s1", "acked": 1}
    # oversize, by the declared length and by the number of reports
    big = served["client"].post(
        "/v1/reports",
        params={"stream": "s1", "seq": 2},
        content=b"x" * (8 << 20 | 1),
        headers={"Authorization": f"Bearer {served['tokens']['alpha']}"},
    )
    assert big.status_code == 413
    many = pd.concat([reports] * (100_000 // len(reports) + 1), ignore_index=True)
    assert _post(served, "alpha", encode_reports(many), 2).status_code == 413
    # not a report body; the host's token; no token
    junk = _post(served, "alpha", b"not arrow", 2)
    assert junk.status_code == 422 and "Arrow IPC" in junk.text
    admin = served["client"].post(
        "/v1/reports", params={"stream": "s1", "seq": 2}, content=body,
        headers={"Authorization": f"Bearer {ADMIN}"},
    )  # fmt: skip
    assert admin.status_code == 403
    nobody = served["client"].post("/v1/reports", params={"stream": "s1", "seq": 2}, content=body)
    assert nobody.status_code == 401
    assert served["pushed"].position("alpha", "s1") == 1  # none of the refused ones counted


def test_pushed_reports_reach_only_the_pushers_picture(
    served: dict[str, Any], reports: pd.DataFrame
) -> None:
    assert _post(served, "alpha", encode_reports(reports), 1).status_code == 200
    session = served["session"]
    now = pd.Timestamp.now(tz="UTC")
    session.step(max(1.0, (now - session.time(session.t_s)).total_seconds() + 1.0))
    pictures = {
        p: served["client"]
        .get("/v1/live/picture", headers={"Authorization": f"Bearer {served['tokens'][p]}"})
        .json()["tracks"]
        for p in ("alpha", "bravo")
    }
    assert pictures["alpha"]["key"] == ["alpha/T1"] and pictures["alpha"]["label"] == ["TRA89M"]
    assert pictures["bravo"]["key"] == []  # a third party never receives another's reports


class _Flaky(httpx.AsyncClient):
    """Cuts the connection at chosen calls: before the request reaches the service (lost
    request) or after it was applied (lost answer)."""

    def __init__(self, cuts: set[tuple[int, str]], **kw: Any) -> None:
        super().__init__(**kw)
        self.cuts = cuts
        self.calls = 0

    async def post(self, *args: Any, **kw: Any) -> httpx.Response:  # type: ignore[override]
        self.calls += 1
        if (self.calls, "before") in self.cuts:
            raise httpx.ConnectError("cut before")
        answer = await super().post(*args, **kw)
        if (self.calls, "after") in self.cuts:
            raise httpx.ReadError("cut after")
        return answer


@pytest.fixture(scope="module")
def module_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    mp = pytest.MonkeyPatch()
    try:
        db = f"sqlite:///{tmp_path_factory.mktemp('push') / 'push.db'}"
        yield from _served(db, mp)
    finally:
        mp.undo()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=8),
    st.sets(
        st.tuples(st.integers(min_value=1, max_value=20), st.sampled_from(["before", "after"]))
    ),
)
def test_no_report_lost_or_applied_twice_wherever_the_connection_breaks(
    module_served: dict[str, Any],
    reports: pd.DataFrame,
    sizes: list[int],
    cuts: set[tuple[int, str]],
) -> None:
    pushed = module_served["pushed"]
    pushed.poll(pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1))  # empty from earlier examples
    pusher = Pusher("http://service", module_served["tokens"]["alpha"])
    batches, at = [], 0
    for k, n in enumerate(sizes):
        part = reports.iloc[at % len(reports) :][:n].assign(callsign=f"B{k}")
        at += n
        batches.append(part)

    async def run() -> None:
        transport = httpx.ASGITransport(app=module_served["app"])
        async with _Flaky(cuts, transport=transport) as client:
            for part in batches:
                pusher.add(part)
                await pusher.run_once(client, backoff_s=0.0)

    asyncio.run(run())
    got = pushed.poll(pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1))
    sent = pd.concat(batches, ignore_index=True)
    assert len(got) == len(sent) and pusher.acked == len(batches) and not pusher.pending
    key = ["timestamp", "icao24", "callsign"]
    assert sorted(map(tuple, got[key].astype(str).to_numpy())) == sorted(
        map(tuple, sent[key].astype(str).to_numpy())
    )


def test_share_filter_decides_what_leaves(reports: pd.DataFrame) -> None:
    only = ShareFilter.parse(["callsign:TRA"]).apply(reports)
    assert set(only["callsign"].dropna()) == {"TRA89M"} and len(only) > 0
    unid = ShareFilter.parse(["unidentified"]).apply(reports)
    assert unid["callsign"].isna().all() and len(unid) > 0
    assert len(ShareFilter.parse([]).apply(reports)) == len(reports)
    both = ShareFilter.parse(["callsign:TRA", "unidentified"]).apply(reports)
    assert len(both) == len(only) + len(unid)
    with pytest.raises(Exception, match="--share"):
        ShareFilter.parse(["fleet"])
    back = decode_reports(encode_reports(reports))
    pd.testing.assert_frame_equal(back, reports.reset_index(drop=True))


def test_feed_push_end_to_end_with_share_filter(
    real_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import threading
    import time

    import uvicorn
    from typer.testing import CliRunner

    from deconflict.cli import app as cli_app

    monkeypatch.setenv("DECONFLICT_ADMIN_TOKEN", ADMIN)
    app, _, _ = feed_app([], f"sqlite:///{tmp_path / 'e2e.db'}", None, ["alpha"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        capture = real_data / "traffic" / "sample_dump1090.bin"
        result = CliRunner().invoke(
            cli_app,
            ["feed", str(capture), "--speed", "0", "--push", f"http://127.0.0.1:{port}",
             "--token", app.state.demo_tokens["alpha"], "--share", "callsign:TRA"],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        summary = __import__("json").loads(result.stdout.strip().splitlines()[-1])["summary"]
        pushed = app.state.pushed_reports
        assert summary["unacknowledged_batches"] == 0
        assert summary["pushed_reports"] == summary["shared_reports"] == pushed.waiting() > 0
        got = pushed.poll(pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=3650))
        assert set(got["callsign"].dropna()) == {"TRA89M"} and set(got["party"]) == {"alpha"}
        assert len(got) < summary["reports"]  # the rest stayed on the party's premises
    finally:
        server.should_exit = True
        thread.join(10)


def test_agent_starts_a_fresh_stream_when_the_service_forgot_it(
    module_served: dict[str, Any], reports: pd.DataFrame
) -> None:
    pushed = module_served["pushed"]
    pushed.poll(pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1))
    pusher = Pusher("http://service", module_served["tokens"]["alpha"])

    async def run() -> None:
        transport = httpx.ASGITransport(app=module_served["app"])
        async with httpx.AsyncClient(transport=transport) as client:
            pusher.add(reports.iloc[:10])
            await pusher.run_once(client, backoff_s=0.0)
            first = pusher.stream
            # the service restarts (its positions go with its picture) while two batches wait
            pushed.acked.clear()
            pusher.add(reports.iloc[10:20])
            pusher.add(reports.iloc[20:30])
            await asyncio.wait_for(pusher.run_once(client, backoff_s=0.0), 10)
            assert pusher.stream != first and pusher.counts["stream_restarts"] == 1

    asyncio.run(run())
    got = pushed.poll(pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1))
    assert len(got) == 30 and not pusher.pending and pusher.acked == 2
