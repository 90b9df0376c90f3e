"""``deconflict host-key``: one host identity across commands and restarts (kept in the store),
shown as a C2SP verifier key, rotated by an entry both keys sign; the export still verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.checkpoint import parse_vkey
from deconflict.hotline.hostkey import rotation_verifies
from deconflict.hotline.keys import public_key_to_b64

runner = CliRunner()


def test_rotate_in_the_store_and_the_export_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DECONFLICT_HOST_KEY_FILE", raising=False)
    db = f"sqlite:///{tmp_path / 'host.db'}"
    assert runner.invoke(app, ["party", "add", "alpha", "--db", db]).exit_code == 0
    shown = [runner.invoke(app, ["host-key", "show", "--db", db]).output.strip() for _ in (1, 2)]
    assert shown[0] == shown[1]  # the same key at every start
    _name, old = parse_vkey(shown[0])
    rotated = runner.invoke(app, ["host-key", "rotate", "--db", db])
    assert rotated.exit_code == 0 and "handed over to" in rotated.output, rotated.output
    _name, new = parse_vkey(runner.invoke(app, ["host-key", "show", "--db", db]).output.strip())
    assert public_key_to_b64(new) != public_key_to_b64(old)
    assert runner.invoke(app, ["party", "add", "bravo", "--db", db]).exit_code == 0
    out = tmp_path / "log.jsonl"
    assert runner.invoke(app, ["audit", "export", "--db", db, "--out", str(out)]).exit_code == 0
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rotation = next(e for e in entries if e["kind"] == "host.key.rotated")
    assert rotation_verifies(rotation["payload"], public_key_to_b64(old)) == public_key_to_b64(new)
    assert [e["kind"] for e in entries].count("host.key") == 1
    after = entries[entries.index(rotation) + 1 :]
    assert after and {e["key_id"] for e in after} == {rotation["payload"]["new_key_id"]}
    keys = out.with_suffix(".keys.json")
    verified = runner.invoke(app, ["audit", "verify", str(out), "--keys", str(keys)])
    assert verified.exit_code == 0, verified.output


def test_rotate_with_a_key_file_writes_the_new_key_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECONFLICT_HOST_KEY_FILE", str(tmp_path / "host.pem"))
    db = f"sqlite:///{tmp_path / 'file.db'}"
    assert runner.invoke(app, ["party", "add", "alpha", "--db", db]).exit_code == 0
    missing = runner.invoke(app, ["host-key", "rotate", "--db", db])
    assert missing.exit_code == 2 and "--new-key" in missing.output
    taken = runner.invoke(
        app, ["host-key", "rotate", "--db", db, "--new-key", str(tmp_path / "host.pem")]
    )
    assert taken.exit_code == 2 and "exists" in taken.output
    new_key = tmp_path / "host2.pem"
    done = runner.invoke(app, ["host-key", "rotate", "--db", db, "--new-key", str(new_key)])
    assert done.exit_code == 0 and new_key.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("DECONFLICT_HOST_KEY_FILE", str(new_key))  # the host points at it
    assert runner.invoke(app, ["party", "add", "bravo", "--db", db]).exit_code == 0
    out = tmp_path / "log.jsonl"
    assert runner.invoke(app, ["audit", "export", "--db", db, "--out", str(out)]).exit_code == 0
    kinds = [json.loads(line)["kind"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert kinds.count("host.key") == 1 and kinds.count("host.key.rotated") == 1
    keys = out.with_suffix(".keys.json")
    assert runner.invoke(app, ["audit", "verify", str(out), "--keys", str(keys)]).exit_code == 0
