"""``deconflict party add`` registers a party straight into the store and prints its token and
keys as JSON; the token then works against the service on the same store."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from service_helpers import make_client
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.keys import generate_private_key, public_key_to_b64


def test_party_add_prints_a_working_token(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    made = runner.invoke(app, ["party", "add", "alpha", "--db", db, "--contact", "ops@alpha"])
    assert made.exit_code == 0, made.output
    alpha = json.loads(made.stdout)
    assert alpha["name"] == "alpha" and alpha["private_key_pem"].startswith("-----BEGIN")
    key_file = tmp_path / "bravo.pub"
    key_file.write_text(public_key_to_b64(generate_private_key().public_key()))
    given = runner.invoke(app, ["party", "add", "bravo", "--db", db, "--public-key", str(key_file)])
    bravo = json.loads(given.stdout)
    assert bravo["public_key"] == key_file.read_text() and "private_key_pem" not in bravo
    again = runner.invoke(app, ["party", "add", "alpha", "--db", db])
    assert again.exit_code != 0 and "already registered" in again.output
    listed = json.loads(runner.invoke(app, ["party", "list", "--db", db]).stdout)
    assert [p["name"] for p in listed] == ["alpha", "bravo"]
    assert "token" not in repr(listed)
    client: TestClient
    with make_client(db) as client:
        me = client.get("/v1/parties/me", headers={"Authorization": f"Bearer {alpha['token']}"})
        assert me.status_code == 200 and me.json()["contact"] == "ops@alpha"
