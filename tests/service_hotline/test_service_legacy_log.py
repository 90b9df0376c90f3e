"""A store written by the version before the transparency log (log format 1: the earlier
canonical JSON, no Merkle tree) still verifies, gets its tree when opened, and carries on in
format 2 (RFC 8785). The fixture was made by ``tests/data/legacy_v1/make_legacy.py`` run on that
version's code (commit 87e8790): party-signed messages with whole and tiny floats, an ack."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from hotline_helpers import ADMIN_HEADERS, make_client, signed_message
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.jsonl import read_log_records
from deconflict.hotline.keys import KeyRing
from deconflict.hotline.log import verify_log
from deconflict.hotline.log_checkpoint import check_against_checkpoint

LEGACY = Path(__file__).resolve().parents[1] / "data" / "legacy_v1"
runner = CliRunner()


def test_an_export_of_the_previous_version_verifies() -> None:
    records = read_log_records(LEGACY / "v1_log.jsonl")
    assert all("format" not in r for r in records if r is not None)
    kinds = [r["kind"] for r in records if r is not None]
    assert kinds.count("message") == 3  # two messages and an acknowledgement, party-signed
    report = verify_log(records, KeyRing.load(LEGACY / "v1_log.keys.json"))
    assert report.ok, report.first_bad
    # a payload float written the old way ("25000.0") is part of what the party signed
    assert b'"alt_ft":25000.0' in (LEGACY / "v1_log.jsonl").read_bytes()


def test_a_store_of_the_previous_version_carries_on_in_format_2(tmp_path: Path) -> None:
    db = tmp_path / "v1_store.db"  # the store, from its SQL dump (no database file in the repo)
    with sqlite3.connect(db) as conn:
        conn.executescript((LEGACY / "v1_store.sql").read_text(encoding="utf-8"))
    url = f"sqlite:///{db}"
    with make_client(url, checkpoint_interval_s=0) as client:
        n_old = len((LEGACY / "v1_log.jsonl").read_text(encoding="utf-8").splitlines())
        old = client.get("/v1/log", headers=ADMIN_HEADERS).json()["events"]
        # the old entries, then the host key of this start (the old one was in a file)
        assert [e["format"] for e in old] == [1] * n_old + [2] and old[-1]["kind"] == "host.key"
        r = client.post("/v1/parties", json={"name": "green"}, headers=ADMIN_HEADERS)
        green = {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['token']}"}}
        body = signed_message(green, {"to": ["blue"], "body": {"text": "new", "alt_ft": 25000.0}})
        sent = client.post("/v1/messages", json=body, headers=green["headers"])
        assert sent.status_code == 201, sent.text
        time.sleep(0.01)
        cp = client.get("/v1/log/checkpoint", headers=green["headers"], params={"fresh": True})
        assert cp.json()["size"] == len(old) + 2  # green's registration, its message
    out = tmp_path / "log.jsonl"
    assert runner.invoke(app, ["audit", "export", "--db", url, "--out", str(out)]).exit_code == 0
    records = read_log_records(out)
    assert [r["format"] for r in records if r is not None] == [1] * n_old + [2, 2, 2]
    assert b'"alt_ft":25000,' in out.read_bytes()  # RFC 8785 writes the whole float as 25000
    ring = KeyRing.load(out.with_suffix(".keys.json"))
    report = verify_log(records, ring)
    assert report.ok, report.first_bad
    note = out.with_suffix(".checkpoint").read_text(encoding="utf-8")
    assert check_against_checkpoint(records, note, ring).ok
    assert json.loads(json.dumps(records[0]))["format"] == 1
