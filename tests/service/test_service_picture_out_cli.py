"""``deconflict serve --replay`` with the picture out on: a real process serving the real Paris
recording, read by a plain SBS client, a CAT062 UDP receiver (checked by libasterix) and an
``aircraft.json`` client with the printed token — each carrying the same tracks."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from deconflict.surveillance.sbs import decode_sbs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "surveillance"))
from libasterix_cat062 import decode_blocks

CLI = [sys.executable, "-c", "from deconflict.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.real_data
@pytest.mark.slow
def test_serve_replay_sends_the_picture_out(real_data: Path, tmp_path: Path) -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(30)
    http, sbs_port = _free_port(), _free_port()
    env = {**os.environ,
           "DECONFLICT_PICTURE_CAT062_TO": f"replay=127.0.0.1:{udp.getsockname()[1]}",
           "DECONFLICT_PICTURE_SBS_LISTEN": f"replay={sbs_port}",
           "DECONFLICT_PICTURE_JSON_PARTIES": "*"}  # fmt: skip
    cmd = [*CLI, "serve", "--replay", str(real_data / "traffic" / "quickstart.parquet"),
           "--port", str(http), "--speed", "5", "--db", f"sqlite:///{tmp_path / 's.db'}"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        token = ""
        deadline = time.monotonic() + 60
        while not token and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, f"serve stopped: {proc.poll()}"
            if m := re.search(r"replay\s+token: (\S+)", line):
                token = m.group(1)
        while True:  # the port opens with the app, after the tokens are printed
            try:
                sbs = socket.create_connection(("127.0.0.1", sbs_port), timeout=30)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        data = b""
        while data.count(b"MSG,3") < 5:  # a few ticks in: some confirmed tracks
            data += sbs.recv(1 << 16)
        blocks = [udp.recv(65535) for _ in range(3)]
        records = decode_blocks(blocks)
        assert records and all((r["sac"], r["sic"]) == (0, 1) for r in records)
        req = urllib.request.Request(f"http://127.0.0.1:{http}/v1/live/aircraft.json",
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        with urllib.request.urlopen(req, timeout=30) as r:
            doc = json.load(r)
        sbs.close()
        # the same real aircraft in every output (the recording's ICAO addresses)
        sbs_hex = set(decode_sbs(data).reports["icao24"])
        json_hex = {a["hex"] for a in doc["aircraft"]}
        cat_hex = {r["icao24"] for r in records if "icao24" in r}
        assert cat_hex and json_hex and sbs_hex
        assert cat_hex & (json_hex | sbs_hex) and json_hex & sbs_hex
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        udp.close()
