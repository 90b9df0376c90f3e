"""A second, independent verifier in another language: ``verify_log.mjs`` (Node.js, its built-in
crypto only) checks what the Python service wrote — the host's checkpoint signature, the
parties' cosignatures, the root of the exported log, inclusion and consistency proofs — and
names what a tampered bundle got wrong."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service_hotline"))
from hotline_helpers import ADMIN_HEADERS, make_client, signed_message

from deconflict.hotline.witness import WitnessState, witness_once
from deconflict.workflows.audit import export_log

VERIFIER = Path(__file__).with_name("verify_log.mjs")


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        message = "node is not installed: scripts/install-test-deps.sh installs Debian's nodejs"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message + " (CI=true: every test must run here)", pytrace=False)
        pytest.skip(message)
    return found


def run(node: str, bundle: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / f"bundle-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    done = subprocess.run(
        [node, str(VERIFIER), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    report: dict[str, Any] = json.loads(done.stdout)
    assert (done.returncode == 0) == report["ok"], done.stderr
    return report


def failed(report: dict[str, Any]) -> list[str]:
    return [c["name"] for c in report["checks"] if not c["ok"]]


def party(client: TestClient, name: str) -> dict[str, Any]:
    r = client.post("/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
    return {**r.json(), "headers": {"Authorization": f"Bearer {r.json()['token']}"}}


def build(client: TestClient, tmp_path: Path) -> dict[str, Any]:
    from deconflict.cli.witness import HttpLogSource
    from deconflict.hotline.keys import Signer, private_key_from_pem

    blue, red = party(client, "blue"), party(client, "red")
    for i, (a, b) in enumerate([(blue, red), (red, blue), (blue, red)]):
        body = signed_message(a, {"to": [b["name"]], "body": {"text": f"m{i}", "x": 1.5 * i}})
        assert client.post("/v1/messages", json=body, headers=a["headers"]).status_code == 201
    old = client.get("/v1/log/checkpoint", headers=red["headers"], params={"fresh": True}).json()
    for i in range(4):
        body = signed_message(red, {"to": ["blue"], "body": {"text": f"n{i}", "alt_ft": 25000.0}})
        assert client.post("/v1/messages", json=body, headers=red["headers"]).status_code == 201
    time.sleep(0.01)
    client.get("/v1/log/checkpoint", headers=red["headers"], params={"fresh": True})
    for who in (blue, red):
        signer = Signer(who["name"], private_key_from_pem(who["private_key_pem"].encode()))
        witness_once(
            HttpLogSource(client, who["headers"]), WitnessState(), signer, now_s=time.time()
        )
    cp = client.get("/v1/log/checkpoint", headers=red["headers"]).json()
    log = tmp_path / "log.jsonl"
    export_log(client.app.state.store, log, tmp_path / "keys.json")  # type: ignore[attr-defined]
    get = lambda path, **q: client.get(path, params=q, headers=blue["headers"]).json()  # noqa: E731
    inclusion = [
        {
            "index": i,
            "size": cp["size"],
            "hashes": get("/v1/log/proofs/inclusion", index=i, size=cp["size"])["hashes"],
        }
        for i in range(cp["size"])
    ]
    consistency = [
        {
            "from": old["size"],
            "to": cp["size"],
            "from_checkpoint": old["note"],
            "hashes": get("/v1/log/proofs/consistency", **{"from": old["size"], "to": cp["size"]})[
                "hashes"
            ],
        }
    ]
    return {
        "host_key": cp["host_key"],
        "checkpoint": cp["note"],
        "log": str(log),
        "inclusion": inclusion,
        "consistency": consistency,
    }


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_node_verifies_what_python_wrote_and_names_tampering(
    node: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = "sqlite://" if backend == "sqlite" else str(request.getfixturevalue("postgres_url"))
    with make_client(url) as client:
        bundle = build(client, tmp_path)
    report = run(node, bundle, tmp_path)
    assert report["ok"], failed(report)
    names = [c["name"] for c in report["checks"]]
    assert sum(n.startswith("cosignature of deconflict.witness/") for n in names) == 2
    assert sum(n.startswith("inclusion of entry") for n in names) == len(bundle["inclusion"])
    assert any(n.startswith("consistency from") for n in names)

    bad = copy.deepcopy(bundle)
    first = bad["inclusion"][3]["hashes"][0]
    bad["inclusion"][3]["hashes"][0] = ("A" if first[0] != "A" else "B") + first[1:]
    assert failed(run(node, bad, tmp_path)) == [
        f"inclusion of entry 3 in {bundle['inclusion'][3]['size']}"
    ]

    bad = copy.deepcopy(bundle)
    bad["consistency"][0]["hashes"] = bad["consistency"][0]["hashes"][1:]
    assert failed(run(node, bad, tmp_path))[0].startswith("consistency from")

    lines = Path(bundle["log"]).read_bytes().split(b"\n")
    k = next(i for i, line in enumerate(lines) if b'"n0"' in line)
    lines[k] = lines[k].replace(b'"n0"', b'"n9"')  # an entry rewritten in the export
    changed = tmp_path / "changed.jsonl"
    changed.write_bytes(b"\n".join(lines))
    failures = failed(run(node, {**bundle, "log": str(changed)}, tmp_path))
    assert failures[0].startswith("root of the log") and f"inclusion of entry {k} " in failures[1]

    other = dict(bundle)
    other["host_key"] = other["host_key"].rsplit("+", 1)[0] + "+AQ" + "A" * 42
    assert any(
        "signed by the host" in n or "readable" in n for n in failed(run(node, other, tmp_path))
    )

    lines = bundle["checkpoint"].split("\n")
    witness_line = next(i for i, line in enumerate(lines) if "deconflict.witness/" in line)
    sig = lines[witness_line].rsplit(" ", 1)
    lines[witness_line] = (
        sig[0] + " " + sig[1][:-6] + ("AAAA==" if sig[1][-6:] != "AAAA==" else "BBBB==")
    )
    forged = failed(run(node, {**bundle, "checkpoint": "\n".join(lines)}, tmp_path))
    assert forged and all(n.startswith("cosignature of") for n in forged)
