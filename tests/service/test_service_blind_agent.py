"""``deconflict agent`` end to end: two parties' nodes as processes, talking through
``deconflict serve`` on loopback (blind procedures). Bravo's node declares and answers; alpha's
declares an overlapping operation (refused by the rule, after the check) and a far one
(accepted); with bravo's node stopped, alpha is told whom it could not check and the host
refuses its declaration, naming bravo."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from service_helpers import volume
from service_server import REPO, Server

ADMIN = "admin-agent-test"


def _party(url: str, name: str, tmp: Path) -> tuple[str, Path]:
    r = httpx.post(
        f"{url}/v1/parties",
        json={"name": name, "contact": f"ops@{name}"},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=10,
    )
    r.raise_for_status()
    key = tmp / f"{name}.pem"
    key.write_text(r.json()["private_key_pem"])
    return str(r.json()["token"]), key


def _op(tmp: Path, name: str, lon: float) -> Path:
    p = tmp / f"{name}.json"
    p.write_text(json.dumps({"volumes": [volume(lon, 46.5, 0.03, lower_ft=0, upper_ft=3000)]}))
    return p


def _agent(url: str, token: str, key: Path, tmp: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-c", "from deconflict.cli import main; main()", "agent",
        "--host", url, "--token", token, "--key", str(key),
        "--state", str(tmp / f"{key.stem}-state.json"), *args,
    ]  # fmt: skip


def _events(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_agents_check_through_the_host(tmp_path: Path) -> None:
    server = Server(
        f"sqlite:///{tmp_path}/host.db",
        ADMIN,
        DECONFLICT_DISCLOSURE="blind",
        DECONFLICT_SEPARATION_STANDARD="icao-5nm",
    ).start()
    bravo_proc = None
    try:
        a_token, a_key = _party(server.url, "alpha", tmp_path)
        b_token, b_key = _party(server.url, "bravo", tmp_path)
        bravo_proc = subprocess.Popen(
            _agent(server.url, b_token, b_key, tmp_path, "--declare", str(_op(tmp_path, "b", 7.0))),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # wait for bravo's declaration to be live at the host
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = httpx.get(
                f"{server.url}/v1/blind/parties",
                headers={"Authorization": f"Bearer {a_token}"},
                timeout=10,
            )
            if any(p["live"] for p in r.json()):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("bravo's node never declared")
        run = subprocess.run(
            _agent(
                server.url, a_token, a_key, tmp_path,
                "--declare", str(_op(tmp_path, "a-hit", 7.01)),
                "--declare", str(_op(tmp_path, "a-far", 9.0)),
                "--duration", "0", "--wait", "30",
            ),
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        ev = _events(run.stdout)
        refused = next(e for e in ev if e["event"] == "refused")
        assert refused["status"] == 409 and "reject" in refused["error"]["error"]["message"]
        declared = next(e for e in ev if e["event"] == "declared")
        assert declared["file"].endswith("a-far.json")
        # bravo's node goes offline: alpha is told, and the host names bravo
        bravo_proc.terminate()
        bravo_proc.wait(timeout=10)
        run = subprocess.run(
            _agent(
                server.url, a_token, a_key, tmp_path,
                "--declare", str(_op(tmp_path, "a-more", 11.0)), "--duration", "0", "--wait", "2",
            ),
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        ev = _events(run.stdout)
        assert ev[0] == {"event": "started", "party": "alpha", "operations": 1}  # kept its state
        assert {
            "event": "unchecked",
            "file": str(tmp_path / "a-more.json"),
            "parties": ["bravo"],
        } in ev
        refused = next(e for e in ev if e["event"] == "refused")
        assert refused["error"]["error"]["missing"][0]["party"] == "bravo"
    finally:
        if bravo_proc is not None and bravo_proc.poll() is None:
            bravo_proc.kill()
        server.stop()
