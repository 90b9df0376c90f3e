"""``deconflict audit verify`` and ``audit keygen`` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.hotline.jsonl import write_log_jsonl
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.hotline.log import LogEntry, append_entry

runner = CliRunner()


def _write_log(tmp_path: Path, n: int = 6) -> tuple[Path, Path, list[LogEntry]]:
    keys = tmp_path / "keys.json"
    signers = []
    for party in ("alpha", "bravo"):
        pem = tmp_path / f"{party}.pem"
        result = runner.invoke(
            app, ["audit", "keygen", party, "--out", str(pem), "--keys", str(keys)]
        )
        assert result.exit_code == 0, result.output
        signers.append(Signer(party, private_key_from_pem(pem.read_bytes())))
    entries: list[LogEntry] = []
    for i in range(n):
        entries.append(
            append_entry(
                entries[-1] if entries else None,
                signers[i % 2],
                time_s=100.0 + i,
                kind="message",
                payload={"i": i},
            )
        )
    log = tmp_path / "log.jsonl"
    write_log_jsonl(entries, log)
    return log, keys, entries


def test_verify_ok_exit_0(tmp_path: Path) -> None:
    log, keys, entries = _write_log(tmp_path)
    result = runner.invoke(app, ["audit", "verify", str(log), "--keys", str(keys)])
    assert result.exit_code == 0, result.output
    assert "6 entries verified" in result.output and entries[-1].hash in result.output
    assert json.loads(keys.read_text()).keys() == {"alpha", "bravo"}


def test_verify_tampered_exit_1_names_entry(tmp_path: Path) -> None:
    log, keys, _ = _write_log(tmp_path)
    lines = log.read_text().splitlines()
    lines[3] = lines[3].replace('"i":3', '"i":30')
    log.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["audit", "verify", str(log), "--keys", str(keys), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["first_bad"] == {
        "line": 4,
        "seq": 3,
        "problem": "altered",
        "detail": report["first_bad"]["detail"],
    }


def test_verify_unknown_key_exit_1(tmp_path: Path) -> None:
    log, keys, _ = _write_log(tmp_path)
    ring = json.loads(keys.read_text())
    del ring["bravo"]
    keys.write_text(json.dumps(ring))
    result = runner.invoke(app, ["audit", "verify", str(log), "--keys", str(keys)])
    assert result.exit_code == 1
    assert "line 2 (seq 1): unknown_key" in result.output


def test_keygen_refuses_to_overwrite(tmp_path: Path) -> None:
    pem = tmp_path / "k.pem"
    pem.write_text("x")
    result = runner.invoke(app, ["audit", "keygen", "alpha", "--out", str(pem)])
    assert result.exit_code == 2 and pem.read_text() == "x"


def test_keygen_adds_to_a_ring_of_single_keys(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    first = runner.invoke(app, ["audit", "keygen", "alpha", "--out", str(tmp_path / "a.pem")])
    keys.write_text(json.dumps({"alpha": first.output.strip()}))  # one key, not a list
    result = runner.invoke(
        app, ["audit", "keygen", "alpha", "--out", str(tmp_path / "b.pem"), "--keys", str(keys)]
    )
    assert result.exit_code == 0, result.output
    text = keys.read_text()
    assert json.loads(text) == {"alpha": [first.output.strip(), result.output.strip()]}
    assert text.startswith('{\n  "alpha": [') and text.endswith("]\n}\n")


def test_keygen_refuses_a_malformed_ring_before_writing_a_key(tmp_path: Path) -> None:
    keys, pem = tmp_path / "keys.json", tmp_path / "k.pem"
    for bad in ('["not", "a", "ring"]', '{"alpha": 5}', "{oops"):
        keys.write_text(bad)
        result = runner.invoke(
            app, ["audit", "keygen", "alpha", "--out", str(pem), "--keys", str(keys)]
        )
        assert result.exit_code == 2
        assert "key ring" in result.output and "fix or move" in result.output, result.output
        assert not pem.exists() and keys.read_text() == bad
