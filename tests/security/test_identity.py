"""The host's identity is the host's (issue 11, item 2): no party may register a name that
reads as ``host`` (case, whitespace, NFKC forms, look-alike letters), names and keys are one
party's, the exported key ring files under ``host`` only the host's own keys, and ``audit
verify`` refuses a ring in which a party's key claims the host. The re-sealed-log attack end to
end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from security_helpers import ADMIN_HEADERS, Cast
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.identity import name_key
from deconflict.hotline.keys import (
    KeyRing,
    Signer,
    generate_private_key,
    key_id,
    public_key_from_b64,
    public_key_to_b64,
)
from deconflict.hotline.log import append_entry
from deconflict.service.signing import open_signed_store
from deconflict.settings import Settings
from deconflict.store import EventDraft

runner = CliRunner()

# Each reads as "host" to a person: case, padding, full-width (NFKC), Cyrillic 'о', zero for
# 'o', a zero-width space, an accent, Greek omicron.
HOST_LOOKALIKES = [
    "host",
    "Host",
    "host ",
    " HOST",
    "h o s t",
    "ｈｏｓｔ",
    "h\u043est",
    "h0st",
    "ho\u200bst",
    "hóst",
    "h\u03bfst",
]


def test_the_skeleton_of_every_lookalike_is_the_hosts() -> None:
    assert {name_key(n) for n in HOST_LOOKALIKES} == {"host"}
    assert name_key("hostile") != "host" and name_key("ghost") != "host"


def test_the_api_refuses_the_hosts_name(client: TestClient) -> None:
    for name in HOST_LOOKALIKES:
        r = client.post("/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
        assert r.status_code == 422, (name, r.text)
        message = r.json()["error"]["message"]
        if name != "ho\u200bst":  # the schema's name pattern refuses the zero-width space first
            assert "reserved for the host" in message and "choose another name" in message
    listed = client.get("/v1/parties", headers=ADMIN_HEADERS).json()
    assert listed == []


def test_the_command_line_refuses_the_hosts_name(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'parties.db'}"
    for name in ("host", "Host", "host ", "h\u043est", "h0st", "ho\u200bst", "*"):
        result = runner.invoke(app, ["party", "add", name, "--db", db])
        assert result.exit_code != 0, result.output
        assert "reserved for the" in result.output, result.output
    listed = runner.invoke(app, ["party", "list", "--db", db])
    assert listed.exit_code == 0 and json.loads(listed.output) == []
    assert runner.invoke(app, ["party", "add", "hostel", "--db", db]).exit_code == 0


def test_names_a_person_cannot_tell_apart_are_one_name(client: TestClient, cast: Cast) -> None:
    for name in ("Blue", "blue ", " BLUE", "blu\u0435", "b l u e", "ｂｌｕｅ"):
        r = client.post("/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
        assert r.status_code == 409, (name, r.text)
        assert "'blue'" in r.json()["error"]["message"]
    names = [p["name"] for p in client.get("/v1/parties", headers=ADMIN_HEADERS).json()]
    assert sorted(names) == ["blue", "civil", "red"]


def test_a_key_is_one_partys_and_never_the_hosts(client: TestClient, cast: Cast) -> None:
    r = client.post(
        "/v1/parties",
        json={"name": "mallory", "public_key": cast["blue"]["public_key"]},
        headers=ADMIN_HEADERS,
    )
    assert r.status_code == 409, r.text
    assert "already registered to party 'blue'" in r.json()["error"]["message"]
    log = client.get("/v1/log", headers=ADMIN_HEADERS).json()["events"]
    host_key = next(e["payload"]["public_key"] for e in log if e["kind"] == "host.key")
    r = client.post(
        "/v1/parties", json={"name": "mallory", "public_key": host_key}, headers=ADMIN_HEADERS
    )
    assert r.status_code == 422, r.text
    assert "host's signing key" in r.json()["error"]["message"]


# -- the re-sealed log --------------------------------------------------------------------


def _export(db: str, tmp_path: Path) -> tuple[list[dict[str, Any]], Path]:
    out = tmp_path / "log.jsonl"
    result = runner.invoke(app, ["audit", "export", "--db", db, "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    return records, tmp_path / "log.keys.json"


def _verify(log: Path, keys: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", str(log), "--keys", str(keys)])
    return result.exit_code, result.output


def _reseal(records: list[dict[str, Any]], forger: Signer, path: Path) -> None:
    """What the attacker does: rewrite the log, then hash, sign and chain it again."""
    resealed: list[Any] = []
    for r in records:
        payload = dict(r["payload"])
        if r["kind"] == "message":
            payload["body"] = {"text": "nothing happened"}
        prev = resealed[-1] if resealed else None
        resealed.append(
            append_entry(prev, forger, time_s=r["time_s"], kind=r["kind"], payload=payload)
        )
    path.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in resealed))


def _host_keys_logged(records: list[dict[str, Any]]) -> set[str]:
    return {r["payload"]["public_key"] for r in records if r["kind"] == "host.key"}


def test_a_log_resealed_with_a_partys_key_fails_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's attack: a party tries to register as 'host' (refused), registers under its
    own name with key K, and later rewrites the exported log and re-seals it with K as the
    host. The export's ring files only the host's keys under 'host', so the forgery fails at
    its first entry; a ring edited to file K under 'host' is refused naming the party."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("DECONFLICT_HOST_KEY_FILE", str(tmp_path / "host.pem"))
    attacker = Signer("host", generate_private_key())
    key_file = tmp_path / "k.pub"
    key_file.write_text(public_key_to_b64(attacker.public_key))
    refused = runner.invoke(
        app, ["party", "add", "Host", "--db", db, "--public-key", str(key_file)]
    )
    assert refused.exit_code != 0
    added = runner.invoke(
        app, ["party", "add", "mallory", "--db", db, "--public-key", str(key_file)]
    )
    assert added.exit_code == 0, added.output
    records, keys = _export(db, tmp_path)
    ring = json.loads(keys.read_text())
    assert set(ring["host"]) == _host_keys_logged(records)
    assert ring["mallory"] == [public_key_to_b64(attacker.public_key)]

    forged = tmp_path / "forged.jsonl"
    _reseal(records, attacker, forged)
    code, output = _verify(forged, keys)
    assert code == 1 and "unknown_key" in output and attacker.key_id in output

    edited = tmp_path / "edited.keys.json"
    edited.write_text(json.dumps({**ring, "host": [*ring["host"], ring["mallory"][0]]}))
    code, output = _verify(forged, edited)
    assert code == 1
    assert "is also the key of party 'mallory'" in output
    assert (
        f"{attacker.key_id} filed under 'host' is the registered key of party 'mallory'" in output
    )


def test_a_party_registered_as_host_before_the_fix_never_enters_the_host_ring(
    tmp_path: Path,
) -> None:
    """A store written by an older version holds a party that registered as 'Host' with key K.
    The export files K under no host-like name; the ring the old export made (K under 'host')
    is refused by ``audit verify``, naming the party's registration entry, and so is the log
    the party re-sealed with K."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    host_pem = tmp_path / "host.pem"
    settings = Settings(database_url=db, host_key_file=str(host_pem))
    attacker = Signer("host", generate_private_key())
    k = public_key_to_b64(attacker.public_key)
    store, _signer = open_signed_store(settings)
    try:
        store.add_party("blue", public_key="")
        store.append_events(
            [
                EventDraft(
                    "host",
                    "party.registered",
                    {"party": "0" * 32, "name": "Host", "role": "party", "public_key": k},
                ),
                EventDraft("host", "message", {"sender": "host", "body": {"text": "real"}}),
            ]
        )
    finally:
        store.close()
    records, keys = _export(db, tmp_path)
    ring = KeyRing.load(keys)
    assert set(ring.keys) == {"host"}  # blue has no key; 'Host' is never a key holder
    host_ids = {key_id(public_key_from_b64(t)) for t in _host_keys_logged(records)}
    assert set(ring.keys["host"]) == host_ids and attacker.key_id not in host_ids
    log = tmp_path / "log.jsonl"
    assert _verify(log, keys)[0] == 0

    forged = tmp_path / "forged.jsonl"
    _reseal(records, attacker, forged)
    assert _verify(forged, keys)[0] == 1

    seq = next(r["seq"] for r in records if r["payload"].get("name") == "Host")
    old_ring = tmp_path / "old.keys.json"
    old = json.loads(keys.read_text())
    old_ring.write_text(json.dumps({**old, "host": [*old["host"], k]}))
    for target in (log, forged):
        code, output = _verify(target, old_ring)
        assert code == 1, output
        assert f"the registered key of party 'Host' (log entry seq {seq})" in output
    lookalike = tmp_path / "lookalike.keys.json"
    lookalike.write_text(json.dumps({**old, "h\u043est": [k]}))
    code, output = _verify(log, lookalike)
    assert code == 1 and "reads as the host's name" in output
