"""The body of ``POST /v1/reports``: JSON against Arrow IPC on the same decoded reports, and the
push path end to end (agent encode + service decode and apply), per report.

Reports: the fleet traffic of ``../shared/tools/fleet_frames.py`` (real AFR34ZG frames), decoded
once; batches of ``--batch`` reports (about half a second of a 20,000 frames/s receiver). Timed in
CPU time of this process, best of ``--repeats``. JSON is pandas' records with ISO times (what a
JSON body would be); Arrow is ``deconflict.surveillance.push.encode_reports`` (LZ4 buffers).

    .venv/bin/python bench/report_push.py [--batch 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import time
import warnings
import zlib
from pathlib import Path

import pandas as pd

from deconflict.surveillance import DecodeOptions, decode
from deconflict.surveillance.push import MEDIA_TYPE, decode_reports, encode_reports

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO.parent / "shared" / "tools" / "fleet_frames.py"


def _reports(n: int) -> pd.DataFrame:
    spec = importlib.util.spec_from_file_location("fleet_frames", TOOL)
    assert spec is not None and spec.loader is not None
    fleet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fleet)
    table = fleet.build(1650, max(2.0, n / 15000))
    wire = b"".join(
        fleet.beast(bytes.fromhex(f), int(c))
        for f, c in zip(table.frame, table.counter, strict=False)
    )
    options = DecodeOptions(reference=(49.0097, 2.5479), start_time=pd.Timestamp.now(tz="UTC"))
    return decode(wire, format="beast", options=options).reports.iloc[:n].reset_index(drop=True)


def _best(fn: object, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        fn()  # type: ignore[operator]
        best = min(best, time.process_time() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    reports = _reports(args.batch)
    n = len(reports)
    js = reports.to_json(orient="records", date_format="iso", date_unit="ns").encode()
    arrow = encode_reports(reports)
    rows = {
        "JSON records": (
            len(js),
            len(zlib.compress(js)),
            _best(
                lambda: reports.to_json(orient="records", date_format="iso", date_unit="ns"),
                args.repeats,
            ),
            _best(
                lambda: pd.read_json(io.BytesIO(js), orient="records", dtype=False), args.repeats
            ),
        ),
        "Arrow IPC (LZ4)": (
            len(arrow),
            len(zlib.compress(arrow)),
            _best(lambda: encode_reports(reports), args.repeats),
            _best(lambda: decode_reports(arrow), args.repeats),
        ),
    }
    print(f"{n:,} reports a batch, best of {args.repeats}, CPU time")
    print("| body | bytes/report | zlib'd bytes/report | encode µs/report | decode µs/report |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (size, packed, enc, dec) in rows.items():
        print(
            f"| {name} | {size / n:.0f} | {packed / n:.0f} | {enc / n * 1e6:.2f} | {dec / n * 1e6:.2f} |"
        )

    # the push path end to end: POST /v1/reports through the app (in process)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    import tempfile

    from deconflict.cli.serve_feeds import feed_app

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("DECONFLICT_ADMIN_TOKEN", "bench")
        app, _, _ = feed_app([], f"sqlite:///{Path(tmp) / 'push.db'}", None, ["alpha"])
        token = app.state.demo_tokens["alpha"]
        with TestClient(app) as client:
            seq = 0

            def push() -> None:
                nonlocal seq
                seq += 1
                answer = client.post(
                    "/v1/reports", params={"stream": "bench", "seq": seq}, content=encode_reports(reports),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": MEDIA_TYPE},
                )  # fmt: skip
                assert answer.status_code == 200, answer.text

            cpu = _best(push, args.repeats)
    print(
        f"push path (agent encode + POST + service decode and apply, one process): "
        f"{n / cpu:,.0f} reports per CPU-second"
    )
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
