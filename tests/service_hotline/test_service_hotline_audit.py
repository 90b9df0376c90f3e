"""``deconflict audit export`` of a live service's log, then ``audit verify`` offline: the export
verifies; one altered, dropped, reordered or foreign-signed line fails at that line (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hotline_helpers import ADMIN_HEADERS, make_client, signed_ack, signed_message
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.keys import Signer, generate_private_key
from deconflict.hotline.log import BODY_FIELDS, entry_hash

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def exported(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """A service run (parties, messages, an acknowledgement, an identification request), its
    log exported with the CLI: (log file, keys file, lines)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    with make_client(url) as client:
        heads, who = {}, {}
        for name in ("alpha", "bravo"):
            r = client.post("/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
            heads[name] = {"Authorization": f"Bearer {r.json()['token']}"}
            who[name] = r.json()
        for i in range(3):
            body = signed_message(who["alpha"], {"to": "*", "body": {"text": f"hello {i}"}})
            r = client.post("/v1/messages", json=body, headers=heads["alpha"])
            assert r.status_code == 201
        mid = r.json()["message"]["message_id"]
        client.get("/v1/messages", params={"after": r.json()["seq"]}, headers=heads["bravo"])
        r = client.post(
            f"/v1/messages/{mid}/ack", json=signed_ack(who["bravo"], mid), headers=heads["bravo"]
        )
        assert r.status_code == 200, r.text
    out = tmp_path / "log.jsonl"
    result = runner.invoke(app, ["audit", "export", "--db", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    keys = tmp_path / "log.keys.json"
    assert keys.is_file() and str(keys) in result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert f"{len(lines)} entries" in result.output
    return out, keys, lines


def verify(log: Path, keys: Path) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["audit", "verify", str(log), "--keys", str(keys), "--json"])
    return result.exit_code, json.loads(result.output)


def rewrite(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_export_verifies(exported: tuple[Path, Path, list[str]]) -> None:
    log, keys, lines = exported
    code, report = verify(log, keys)
    assert code == 0 and report["ok"]
    assert report["entries"] == len(lines)
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds.count("message") == 4  # three messages and one acknowledgement
    assert "message.delivered" in kinds and "host.key" in kinds
    assert report["head_hash"] == json.loads(lines[-1])["hash"]
    assert set(json.loads(keys.read_text())) >= {"host", "alpha", "bravo"}


def _message_line(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line)["kind"] == "message")


def test_an_altered_line_fails_at_that_entry(exported: tuple[Path, Path, list[str]]) -> None:
    log, keys, lines = exported
    k = _message_line(lines)
    entry = json.loads(lines[k])
    entry["payload"]["body"]["text"] = "hello, altered"
    rewrite(log, [*lines[:k], json.dumps(entry), *lines[k + 1 :]])
    code, report = verify(log, keys)
    assert code == 1
    assert report["first_bad"]["line"] == k + 1 and report["first_bad"]["problem"] == "altered"
    # re-hashing the altered entry does not help: the host's signature no longer matches
    entry["hash"] = entry_hash(entry)
    rewrite(log, [*lines[:k], json.dumps(entry), *lines[k + 1 :]])
    code, report = verify(log, keys)
    assert code == 1 and report["first_bad"]["line"] == k + 1
    assert report["first_bad"]["problem"] == "bad_signature"


def test_a_dropped_line_fails_at_the_next_entry(exported: tuple[Path, Path, list[str]]) -> None:
    log, keys, lines = exported
    k = _message_line(lines)
    rewrite(log, [*lines[:k], *lines[k + 1 :]])
    code, report = verify(log, keys)
    assert code == 1
    assert report["first_bad"]["line"] == k + 1 and report["first_bad"]["problem"] == "dropped"
    assert report["first_bad"]["seq"] == json.loads(lines[k + 1])["seq"]


def test_reordered_lines_fail_where_the_order_breaks(
    exported: tuple[Path, Path, list[str]],
) -> None:
    log, keys, lines = exported
    k = _message_line(lines)
    rewrite(log, [*lines[:k], lines[k + 1], lines[k], *lines[k + 2 :]])
    code, report = verify(log, keys)
    assert code == 1
    assert report["first_bad"]["line"] == k + 1 and report["first_bad"]["problem"] == "reordered"


def test_entries_signed_by_an_unknown_key_are_refused(
    exported: tuple[Path, Path, list[str]],
) -> None:
    log, keys, lines = exported
    k = _message_line(lines)
    forger = Signer("host", generate_private_key())
    entry = json.loads(lines[k])
    entry["payload"]["body"]["text"] = "forged"
    entry["key_id"] = forger.key_id
    entry["hash"], entry["signature"] = forger.seal({f: entry[f] for f in (*BODY_FIELDS, "format")})
    rewrite(log, [*lines[:k], json.dumps(entry), *lines[k + 1 :]])
    code, report = verify(log, keys)
    assert code == 1
    assert report["first_bad"]["line"] == k + 1
    assert report["first_bad"]["problem"] == "unknown_key"
    assert forger.key_id in report["first_bad"]["detail"]


def test_every_line_is_guarded(exported: tuple[Path, Path, list[str]]) -> None:
    """Whichever line of the export is altered, dropped or swapped with the next, verification
    fails at that line (a dropped last line is caught with the head the export printed)."""
    from deconflict.hotline.keys import KeyRing
    from deconflict.hotline.log import verify_log

    _log, keys, lines = exported
    ring = KeyRing.load(keys)
    head = json.loads(lines[-1])["hash"]
    records = [json.loads(line) for line in lines]
    assert verify_log(records, ring, expected_head=head).ok
    for k in range(len(records)):
        altered = json.loads(lines[k])
        altered["time_s"] += 1.0
        cases = {
            "altered": [*records[:k], altered, *records[k + 1 :]],
            "dropped": [*records[:k], *records[k + 1 :]],
        }
        if k + 1 < len(records):
            cases["reordered"] = [*records[:k], records[k + 1], records[k], *records[k + 2 :]]
        for problem, changed in cases.items():
            bad = verify_log(changed, ring, expected_head=head).first_bad
            assert bad is not None, (k, problem)
            expected = "truncated" if problem == "dropped" and k == len(records) - 1 else problem
            assert (bad.position, bad.problem.value) == (k, expected), (k, problem, bad)


def test_a_party_message_the_host_rewrote_and_resealed_fails_at_that_entry(
    exported: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    """The host holds its own key: it can re-hash, re-sign and re-chain the whole log after
    rewriting what alpha said, or after dropping alpha's signature. Alpha's own signature, which
    the host cannot make, names that entry."""
    from deconflict.hotline.keys import KeyRing
    from deconflict.hotline.log import append_entry

    log, keys, lines = exported
    records = [json.loads(line) for line in lines]
    k = _message_line(lines)
    assert records[k]["payload"]["sender"] == "alpha"
    ack = next(i for i, r in enumerate(records) if r["payload"].get("kind") == "acknowledgement")
    ring = KeyRing.load(keys)
    for target, change, problem in (
        (k, lambda p: p["body"].update(text="hello, rewritten by the host"), "bad_signature"),
        (k, lambda p: p.pop("client_signature"), "author_unsigned"),
        (ack, lambda p: p.update(time_s=p["time_s"] - 600), "bad_signature"),
    ):
        forger = Signer("host", generate_private_key())  # the host's key, re-registered
        changed = json.loads(json.dumps(records))
        change(changed[target]["payload"])
        resealed = []
        for r in changed:
            prev = resealed[-1] if resealed else None
            payload = r["payload"]
            resealed.append(
                append_entry(prev, forger, time_s=r["time_s"], kind=r["kind"], payload=payload)
            )
        forged_ring = KeyRing.from_public_keys(
            {**{p: list(ks.values()) for p, ks in ring.keys.items()}, "host": forger.public_key}
        )
        keys_file = tmp_path / "forged.keys.json"
        keys_file.write_text(forged_ring.to_json())
        rewrite(log, [json.dumps(e.to_dict()) for e in resealed])
        code, report = verify(log, keys_file)
        assert code == 1, report
        assert (report["first_bad"]["line"], report["first_bad"]["problem"]) == (
            target + 1,
            problem,
        )


def test_parties_registered_from_the_command_line_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``deconflict party add`` writes to the log like the service does: sealed with the host's
    key, which it logs first, so the export verifies; with a key file, one key across runs."""
    db = f"sqlite:///{tmp_path / 'parties.db'}"
    monkeypatch.setenv("DECONFLICT_HOST_KEY_FILE", str(tmp_path / "host.pem"))
    for name in ("alpha", "bravo"):
        added = runner.invoke(app, ["party", "add", name, "--db", db])
        assert added.exit_code == 0, added.output
    out = tmp_path / "log.jsonl"
    assert runner.invoke(app, ["audit", "export", "--db", db, "--out", str(out)]).exit_code == 0
    entries = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [e["kind"] for e in entries] == [  # one host identity: its key is logged once
        "host.key",
        "party.registered",
        "party.registered",
    ]
    assert len({e["key_id"] for e in entries}) == 1  # the key file's key, every entry
    code, report = verify(out, tmp_path / "log.keys.json")
    assert code == 0, report
