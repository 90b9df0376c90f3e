"""The demo remembers: its store is a SQLite file by default (``.deconflict/demo.sqlite``), and
started again on it, the demo has the same parties, keys and login links, and everything that was
logged — messages, acknowledgements, identification requests, incidents — is still there."""

from __future__ import annotations

import json
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deconflict.cli import app as cli
from deconflict.hotline.authorship import acknowledgement_content, message_content, sign_content
from deconflict.hotline.messages import make_message
from deconflict.service.live_app import DEFAULT_DEMO_DB, live_app, signer_from_b64url
from deconflict.store import open_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@contextmanager
def demo(db: str | None, **kw: Any) -> Iterator[TestClient]:
    app, session = live_app(db=db, **kw)
    with TestClient(app) as c:
        c.session = session  # type: ignore[attr-defined]
        yield c


def _auth(c: TestClient, party: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {c.app.state.demo_tokens[party]}"}  # type: ignore[attr-defined]


def _signed(c: TestClient, party: str, content: Any, **body: Any) -> dict[str, Any]:
    t = c.get("/v1/clock", headers=_auth(c, party)).json()["time_s"]
    signer = signer_from_b64url(party, c.app.state.demo_keys[party])  # type: ignore[attr-defined]
    return {**body, "time_s": t, "signature": sign_content(signer, content(t))}


def _message_and_ack(c: TestClient) -> str:
    def text(t: float) -> dict[str, Any]:
        return message_content(make_message("free_text", "blue", ["red"], {"text": "remember"},
                                            time_s=t))  # fmt: skip

    r = c.post("/v1/messages", headers=_auth(c, "blue"),
               json=_signed(c, "blue", text, to=["red"], body={"text": "remember"}))  # fmt: skip
    assert r.status_code == 201, r.text
    mid = str(r.json()["message"]["message_id"])
    ack = _signed(c, "red", lambda t: acknowledgement_content(mid, "red", t))
    assert c.post(f"/v1/messages/{mid}/ack", json=ack, headers=_auth(c, "red")).status_code == 200
    return mid


def test_the_demo_store_is_a_file_by_default_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with demo(None, crews_answer=False) as first:
        for _ in range(40):
            first.session.step(1.0)  # type: ignore[attr-defined]
        mid = _message_and_ack(first)
        requests = first.get("/v1/identification-requests", headers=_auth(first, "red")).json()
        assert len(requests) == 1
        logins = dict(first.app.state.demo_logins)  # type: ignore[attr-defined]
        stopped_at = first.session.engine.now_s  # type: ignore[attr-defined]
        assert not first.app.state.demo_resumed  # type: ignore[attr-defined]
    assert (tmp_path / DEFAULT_DEMO_DB).exists()
    creds = tmp_path / DEFAULT_DEMO_DB.with_name(DEFAULT_DEMO_DB.name + ".logins.json")
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600  # private keys: the owner's only
    with demo(None, crews_answer=False) as again:
        assert again.app.state.demo_resumed  # type: ignore[attr-defined]
        assert again.app.state.demo_logins == logins  # type: ignore[attr-defined]
        # the old login links work: the same tokens are the same parties
        assert again.get("/v1/live/session", headers=_auth(again, "red")).json()["party"] == "red"
        mine = {m["message_id"]: m for m in again.get(
            "/v1/messages/recent", headers=_auth(again, "blue")).json()}  # fmt: skip
        assert mine[mid]["delivery"] == {"red": "acknowledged"}
        assert mine[mid]["body"] == {"text": "remember"}
        got = again.get("/v1/identification-requests", headers=_auth(again, "red")).json()
        assert [r["request_id"] for r in got] == [requests[0]["request_id"]]
        # the scenario starts again after the time the log stopped at: nothing decided twice
        again.session.step(1.0)  # type: ignore[attr-defined]
        assert again.session.engine.now_s > stopped_at  # type: ignore[attr-defined]
        # the keys are the ones registered: a write signed with the old login link's key passes
        _message_and_ack(again)
        store = again.app.state.store  # type: ignore[attr-defined]
        assert sorted(p.name for p in store.list_parties()) == ["blue", "civil", "red"]


def test_a_store_without_its_keys_is_refused_with_the_fix(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'd.sqlite'}"
    with demo(db):
        pass
    (tmp_path / "d.sqlite.logins.json").unlink()
    with pytest.raises(Exception, match="restore that file, or start the demo on a fresh --db"):
        live_app(db=db)


@pytest.mark.slow
def test_headless_runs_on_one_db_resume_and_keep_the_incident(tmp_path: Path) -> None:
    """`deconflict demo --db FILE` on an existing file resumes instead of refusing: the second
    run's decisions follow the first's, and the first run's incident is still listed."""
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    first = CliRunner().invoke(cli, ["demo", "--headless", "--duration", "780", "--db", db])
    assert first.exit_code == 0, first.output
    incidents = json.loads(first.stdout.strip().splitlines()[-1])["incidents"]
    assert len(incidents) == 1
    second = CliRunner().invoke(cli, ["demo", "--headless", "--duration", "40", "--db", db])
    assert second.exit_code == 0, second.output
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert len(summary["identification_requests"]) == 1  # this run's own, a new one
    store = open_store(db)
    try:
        parties = sorted(p.name for p in store.list_parties())
        requests = [e for e in store.log(limit=100_000) if e.kind == "message"
                    and e.payload["kind"] == "identification_request"]  # fmt: skip
    finally:
        store.close()
    assert parties == ["blue", "civil", "red"]
    assert len({r.payload["body"]["request_id"] for r in requests}) == 2
    listed = CliRunner().invoke(cli, ["incidents", "list", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    assert [i["incident_id"] for i in json.loads(listed.stdout)] == [incidents[0]["incident_id"]]
