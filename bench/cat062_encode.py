"""CAT062 out: CPU per 10,000-track picture, ours beside independent codecs, in one run.

What a user calls: the host's CAT062 output of one tick for one party
(``PictureOutputs.send_once``: the party's picture read under the session's lock, encoded into
1,400-byte data blocks and sent as UDP datagrams to a loopback socket). Beside it the kernel
alone, ``deconflict.surveillance.cat062_out.encode_cat062``, and the anchors on the same
picture: ``libasterix`` (pure Python, the codec the tests check us with) building the same
items record by record, and ``aviconv-asterix`` (the project's decoder library) encoding the
subset of items its typed model has (no track number, track status, rate or Mode 3/A). Also the
project's own decoder (``decode_asterix``) reading our blocks back. The records libasterix makes
are compared byte for byte with ours. Best of ``--repeats`` runs, CPU time of the process.

    .venv/bin/python bench/cat062_encode.py [--tracks 10000] [--repeats 5] [--anchor-tracks 1000]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from deconflict.settings import Settings
from deconflict.surveillance.asterix import decode_asterix
from deconflict.surveillance.cat062_out import Cat062Source, encode_cat062
from deconflict.units import KT

T0 = 1_728_302_401.25
# the tests' libasterix builder of the same items (one copy of it)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "surveillance"))
from libasterix_cat062 import libasterix_blocks  # noqa: E402


def picture_of(n: int, seed: int = 1) -> pd.DataFrame:
    """A picture as ``Engine.picture`` builds it (its columns and dtypes), over Europe."""
    rng = np.random.default_rng(seed)
    alt = rng.uniform(1000, 41000, n)
    alt[rng.random(n) < 0.03] = np.nan
    vr = rng.normal(0, 800, n)
    vr[np.isnan(alt)] = np.nan
    icao = np.array([f"{v:06x}" for v in rng.integers(0, 2**24, n)], dtype=object)
    icao[rng.random(n) < 0.05] = None  # radar-only tracks
    calls = np.array([f"AB{v:04d}" for v in rng.integers(0, 9999, n)], dtype=object)
    calls[rng.random(n) < 0.1] = None
    return pd.DataFrame({
        "key": [f"p/T{k}" for k in range(n)], "track_id": np.arange(1, n + 1, dtype=np.int64),
        "party": "p", "owner": "", "identity": "unknown", "aircraft": "", "label": "",
        "icao24": icao, "callsign": calls,
        "status": np.where(rng.random(n) < 0.05, "coasting", "confirmed").astype(object),
        "latitude": rng.uniform(35, 60, n), "longitude": rng.uniform(-10, 30, n),
        "altitude": alt, "groundspeed": rng.uniform(80, 520, n),
        "track": rng.uniform(0, 360, n), "vertical_rate": vr,
    })  # fmt: skip


def aviconv_blocks(picture: pd.DataFrame, time_s: float, source: Cat062Source) -> bytes:
    """aviconv-asterix's typed CAT062 encoder, on the items its model has."""
    import aviconv_asterix

    tod = time_s % 86400.0
    records = []
    for row in picture.itertuples(index=False):
        gs, trk = row.groundspeed * KT, np.radians(row.track)
        records.append(aviconv_asterix.Cat062Record(
            sac=source.sac, sic=source.sic, time_of_track_s=tod, lat=row.latitude,
            lon=row.longitude, vx_ms=float(gs * np.sin(trk)), vy_ms=float(gs * np.cos(trk)),
            measured_flight_level=None if np.isnan(row.altitude) else row.altitude / 100,
            callsign=row.callsign if isinstance(row.callsign, str) else None,
            target_address=row.icao24 if isinstance(row.icao24, str) else None,
        ))  # fmt: skip
    return bytes(aviconv_asterix.encode_records(records))


def _records(blocks: list[bytes]) -> bytes:
    return b"".join(b[3:] for b in blocks)


def best_cpu(run: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(best CPU s, best wall s) of ``repeats`` runs."""
    cpu = wall = float("inf")
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        run()
        cpu = min(cpu, time.process_time() - c)
        wall = min(wall, time.perf_counter() - w)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--anchor-tracks", type=int, default=1_000,
                        help="tracks the slow anchors encode (scaled to --tracks)")  # fmt: skip
    args = parser.parse_args()
    from deconflict.service.picture_out import PictureOutputs

    n = args.tracks
    picture = picture_of(n)
    source = Cat062Source(25, 100)
    ours = encode_cat062(picture, T0, source)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
    port = sink.getsockname()[1]
    engine = SimpleNamespace(parties=["p"], now_s=T0, tick_count=1, picture=lambda _p: picture)
    session: Any = SimpleNamespace(engine=engine, lock=threading.RLock(), on_tick=[])
    settings = Settings(picture_cat062_to=f"p=127.0.0.1:{port}", picture_cat062_sac=25,
                        picture_cat062_sic=100)  # fmt: skip
    out = PictureOutputs(session, settings)
    out.start()
    try:
        rows: list[tuple[str, float, float, int]] = []
        cpu, wall = best_cpu(out.send_once, args.repeats)
        rows.append(("CAT062 out of one tick (PictureOutputs.send_once: encode + sendto)",
                     cpu, wall, n))  # fmt: skip
    finally:
        out.close()
        sink.close()
    cpu, wall = best_cpu(lambda: encode_cat062(picture, T0, source), args.repeats)
    rows.append(("encode_cat062 (ours, the kernel)", cpu, wall, n))
    opts_start = pd.Timestamp(T0, unit="s", tz="UTC")
    from deconflict.surveillance.base import DecodeOptions

    data = b"".join(ours)
    cpu, wall = best_cpu(lambda: decode_asterix(data, DecodeOptions(start_time=opts_start)), 1)
    rows.append(("decode_asterix of our blocks (ours, aviconv-asterix)", cpu, wall, n))
    m = min(args.anchor_tracks, n)
    part = picture.iloc[:m]
    cpu, wall = best_cpu(lambda: libasterix_blocks(part, T0, source), 1)
    rows.append(("libasterix, same items (anchor)", cpu, wall, m))
    cpu, wall = best_cpu(lambda: aviconv_blocks(part, T0, source), 1)
    rows.append(("aviconv-asterix typed encode, item subset", cpu, wall, m))
    same = _records(libasterix_blocks(part, T0, source)) == _records(
        encode_cat062(part, T0, source, max_block_bytes=65535)
    )
    anchor = next(r for r in rows if "anchor" in r[0])
    anchor_per = anchor[1] / anchor[3] * n
    print(f"CAT062 encoding of a {n:,}-track picture ({len(ours)} blocks of <= 1,400 bytes, "
          f"{len(data):,} bytes); best of {args.repeats} (anchors: one run of {m:,} tracks, "
          f"scaled to {n:,})")  # fmt: skip
    print(f"{'path':<72} {'CPU/picture':>12} {'wall':>9} {'pictures/s':>11} {'vs anchor':>10}")
    for name, cpu, wall, k in rows:
        per, per_wall = cpu / k * n, wall / k * n
        print(f"{name:<72} {per * 1e3:>9.1f} ms {per_wall * 1e3:>6.1f} ms {1 / per:>11.1f} "
              f"{anchor_per / per:>9.0f}x")  # fmt: skip
    print(f"libasterix's records byte-identical to ours ({m:,} tracks): {same}")
    print(f"load average (1, 5, 15 min): {os.getloadavg()} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
