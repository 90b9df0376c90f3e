"""``deconflict witness`` against a real ``deconflict serve``: it cosigns an honest host's
checkpoints, and when the host is restored from an older copy of its store (the tree rolled
back) it refuses with exit status 1 and a line naming the rollback. ``deconflict audit verify
--checkpoint`` checks an export against the cosigned checkpoint."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import httpx
from service_server import Server
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.authorship import message_content, sign_content
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.hotline.messages import make_message

ADMIN = "admin-token-for-witness-tests"
runner = CliRunner()


def register(url: str, name: str) -> dict[str, Any]:
    r = httpx.post(
        f"{url}/v1/parties", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def send(url: str, who: dict[str, Any], to: str, text: str) -> None:
    signer = Signer(who["name"], private_key_from_pem(who["private_key_pem"].encode()))
    now = time.time()
    message = make_message("free_text", who["name"], [to], {"text": text}, time_s=now)
    body = {
        "to": [to],
        "body": {"text": text},
        "time_s": now,
        "signature": sign_content(signer, message_content(message)),
        "key_id": signer.key_id,
    }
    r = httpx.post(
        f"{url}/v1/messages", json=body, headers={"Authorization": f"Bearer {who['token']}"}
    )
    assert r.status_code == 201, r.text


def witness(url: str, who: dict[str, Any], key: Path, state: Path) -> Any:
    args = ["witness", "--host", url, "--token", who["token"], "--key", str(key)]
    return runner.invoke(app, [*args, "--state", str(state), "--once"])


def copy_db(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.parent.glob(src.name + "*"):
        shutil.copy(path, dst / path.name)


def test_witness_cosigns_then_refuses_a_rolled_back_host(tmp_path: Path) -> None:
    db = tmp_path / "host" / "store.db"
    db.parent.mkdir()
    url_db = f"sqlite:///{db}"
    env = {"DECONFLICT_CHECKPOINT_INTERVAL_S": "0"}
    server = Server(url_db, ADMIN, **env).start()
    try:
        blue, red = register(server.url, "blue"), register(server.url, "red")
        key = tmp_path / "blue.pem"
        key.write_text(blue["private_key_pem"], encoding="utf-8")
        state = tmp_path / "blue-witness"
        send(server.url, blue, "red", "one")
        first = witness(server.url, blue, key, state)
        assert first.exit_code == 0, first.output
        assert "consistent with 0" in first.output and "cosigned (by blue" in first.output
    finally:
        server.stop()
    copy_db(db, tmp_path / "old")  # the host's store as it was at that checkpoint

    server = Server(url_db, ADMIN, **env).start()
    try:
        send(server.url, red, "blue", "two")
        send(server.url, blue, "red", "three")
        second = witness(server.url, blue, key, state)
        assert second.exit_code == 0, second.output
        assert "2 held entries included" in second.output
    finally:
        server.stop()

    out = tmp_path / "log.jsonl"
    exported = runner.invoke(app, ["audit", "export", "--db", url_db, "--out", str(out)])
    assert exported.exit_code == 0 and "latest checkpoint" in exported.output, exported.output
    keys, note = out.with_suffix(".keys.json"), out.with_suffix(".checkpoint")
    check = ["audit", "verify", str(out), "--keys", str(keys), "--checkpoint", str(note)]
    verified = runner.invoke(app, [*check, "--quorum", "1"])
    assert verified.exit_code == 0, verified.output
    assert "matches the export, cosigned by blue" in verified.output
    assert runner.invoke(app, [*check, "--quorum", "2"]).exit_code == 1
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:-2]), encoding="utf-8")  # a cut-off tail: a valid chain
    cut = runner.invoke(app, check)
    assert cut.exit_code == 1 and "dropped from its end" in cut.output, cut.output

    for path in db.parent.glob(db.name + "*"):
        path.unlink()
    copy_db(tmp_path / "old" / db.name, db.parent)  # the host rolls its store back
    server = Server(url_db, ADMIN, **env).start()
    try:
        refused = witness(server.url, blue, key, state)
        assert refused.exit_code == 1, refused.output
        assert refused.output.startswith("REFUSED: rollback"), refused.output
    finally:
        server.stop()


def test_witness_as_a_service_prints_a_line_per_checkpoint(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    server = Server(f"sqlite:///{tmp_path / 's.db'}", ADMIN, DECONFLICT_CHECKPOINT_INTERVAL_S="0")
    server.start()
    try:
        blue, red = register(server.url, "blue"), register(server.url, "red")
        key = tmp_path / "blue.pem"
        key.write_text(blue["private_key_pem"], encoding="utf-8")
        cmd = [sys.executable, "-c", "from deconflict.cli import main; main()", "witness"]
        cmd += ["--host", server.url, "--token", blue["token"], "--key", str(key)]
        cmd += ["--state", str(tmp_path / "state"), "--every", "0.3"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
        try:
            lines = [proc.stdout.readline() for _ in range(2)] if proc.stdout else []
            send(server.url, red, "blue", "while witnessing")
            deadline = time.monotonic() + 30
            while proc.stdout and time.monotonic() < deadline:
                line = proc.stdout.readline()
                lines.append(line)
                if "1 held entries included" in line:
                    break
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        server.stop()
    assert all(line.startswith("checkpoint ") for line in lines), lines
    assert "1 held entries included" in lines[-1]
