"""``deconflict feed`` stops cleanly (duration, Ctrl-C), ``decode -`` prints as bytes arrive,
``track --reference`` decodes a raw capture's lone CPR positions."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from deconflict.cli import app

runner = CliRunner()
CDG = "49.0097,2.5479"
MAIN = "from deconflict.cli import main; main()"


def _env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_feed_duration_stops_with_summary_and_exit_0() -> None:
    port = _closed_port()  # nobody listens: the client keeps retrying until the duration ends
    started = time.monotonic()
    result = runner.invoke(
        app, ["feed", f"beast+tcp://127.0.0.1:{port}", "--duration", "1.5", "--max-backoff", "0.3"]
    )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 6
    summary = json.loads(result.stdout.strip().splitlines()[-1])["summary"]
    assert summary["connect_failures"] >= 4  # 0.25, 0.3, 0.3, ... s: capped low
    bad = runner.invoke(app, ["feed", f"tcp://127.0.0.1:{port}", "--max-backoff", "0"])
    assert bad.exit_code == 2 and "--max-backoff" in bad.output


def test_feed_ctrl_c_prints_the_summary_and_exits_0(real_data: Path) -> None:
    data = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "feed", f"tcp://127.0.0.1:{port}", "--format", "beast"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        server.settimeout(20)
        conn, _ = server.accept()
        conn.sendall(data)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # a report, printed as soon as decoded
        assert json.loads(first)["source"] == "beast"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
        server.close()
    assert proc.returncode == 0, err
    summary = json.loads(out.decode().strip().splitlines()[-1])["summary"]
    assert summary["reports"] == 233 and summary["connections"] == 1


def test_decode_stdin_prints_each_report_as_it_arrives(real_data: Path) -> None:
    data = (real_data / "traffic" / "sample_dump1090.bin").read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-c", MAIN, "decode", "-", "--format", "beast"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    cut = data.index(b"\x1a3", 200)
    proc.stdin.write(data[:cut])
    proc.stdin.flush()
    line = proc.stdout.readline()  # before stdin is closed: decoded as it arrived
    report = json.loads(line)
    assert report["icao24"] in {"3981e4", "48520a", "44ce69", "440062"}  # the sample's aircraft
    now = pd.Timestamp.now(tz="UTC")
    assert abs((pd.Timestamp(report["timestamp"]) - now).total_seconds()) < 30  # on the wall clock
    out, _ = proc.communicate(data[cut:], timeout=30)
    assert proc.returncode == 0
    summary = json.loads(out.decode().strip().splitlines()[-1])["summary"]
    assert summary["reports"] == 233


def test_track_reference_decodes_lone_positions(real_data: Path, tmp_path: Path) -> None:
    afr = pd.read_parquet(real_data / "traffic" / "afr34zg_modes_frames.parquet")
    capture = tmp_path / "afr.avr"
    # a raw capture with gaps (every 40th frame kept): CPR pairs are rare, lone positions common
    part = afr.iloc[::40]
    capture.write_text(
        "".join(
            f"{t.timestamp():.3f},{f}\n"
            for t, f in zip(part["timestamp"], part["frame"], strict=True)
        )
    )
    out = tmp_path / "without.parquet"
    plain = runner.invoke(app, ["track", str(capture), "--out", str(out)])
    assert plain.exit_code == 0, plain.output
    out_ref = tmp_path / "with.parquet"
    placed = runner.invoke(app, ["track", str(capture), "--reference", CDG, "--out", str(out_ref)])
    assert placed.exit_code == 0, placed.output
    with_ref, without = pd.read_parquet(out_ref), pd.read_parquet(out)
    assert len(with_ref) > len(without)
    # without a reference the first position needs an even/odd pair, 21 minutes in (taxiing at
    # CDG the capture has none); with it the track starts at the gate
    assert with_ref["timestamp"].min() - afr["timestamp"].min() < pd.Timedelta(seconds=30)
    assert without["timestamp"].min() - with_ref["timestamp"].min() > pd.Timedelta(minutes=10)
    bad = runner.invoke(app, ["track", str(capture), "--reference", "north"])
    assert bad.exit_code == 2 and "LAT,LON" in bad.output
