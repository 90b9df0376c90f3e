"""Decoding throughput (frames/s) on the real Mode S frames of AFR34ZG (57,793 frames).

Anchor, measured in the same run: the decoder library alone, ``rs1090.decode(frames,
timestamps, reference=...)`` (its batch call, Rust + pickle back to Python dicts). Our path,
``deconflict.surveillance.decode_frames``, adds the frame checks (hex, length, CRC-24), the
alignment of rs1090's output, local CPR decoding of the positions the batch leaves undecoded, and
the report table. Target: at most 20 % over the anchor. Also measured: Beast framing + decoding
of the same frames written as a Beast stream. Runs are interleaved and the best of ``--repeats``
is kept, both in wall time and in CPU time of the process (all threads: rs1090 decodes on
several threads), because the machine is shared and wall times of one run swing with its load.
If pyModeS (GPL, the ``gpl`` extra) is importable, its batch decoder is timed too, for the choice
of decoder (it is never used by the project's default path).

    .venv/bin/python bench/decode_throughput.py [--repeats 5] [--data ../shared/data/real]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import rs1090
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from deconflict.surveillance import DecodeOptions, decode, decode_frames

CDG = (49.0097, 2.5479)


def beast_stream(frames: list[str], times_ns: np.ndarray) -> bytes:
    """The frames as a Beast byte stream (12 MHz counter from the times; 0x1a escaped)."""
    out = bytearray()
    ticks = (times_ns - times_ns[0]) * 12 // 1000
    for frame, tick in zip(frames, ticks, strict=True):
        raw = bytes.fromhex(frame)
        if raw[0] >> 3 < 16:
            raw = raw[:7]
        body = int(tick).to_bytes(6, "big") + b"\x80" + raw
        out += b"\x1a" + (b"2" if len(raw) == 7 else b"3") + body.replace(b"\x1a", b"\x1a\x1a")
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    here = Path(__file__).resolve().parent
    parser.add_argument(
        "--data", type=Path, default=here.parent.parent / "shared" / "data" / "real"
    )
    args = parser.parse_args()

    table = pd.read_parquet(args.data / "traffic" / "afr34zg_modes_frames.parquet")
    frames = table["frame"].tolist()
    times_ns = table["timestamp"].astype("int64").to_numpy()
    times_s = (times_ns / 1e9).tolist()
    n = len(frames)
    beast = beast_stream(frames, times_ns)
    options = DecodeOptions(reference=CDG, start_time=table["timestamp"].iloc[0])

    runs: dict[str, Callable[[], object]] = {
        "rs1090 alone (anchor)": lambda: rs1090.decode(frames, times_s, reference=CDG),
        "decode_frames (ours)": lambda: decode_frames(frames, times_ns, options),
        "Beast stream (ours)": lambda: decode(beast, format="beast", options=options),
    }
    if importlib.util.find_spec("pyModeS") is not None:
        pms = importlib.import_module("pyModeS")
        runs["pyModeS batch (GPL, optional)"] = lambda: pms.decode(
            frames, timestamps=times_s, surface_ref=CDG
        )
    wall = {name: float("inf") for name in runs}
    cpu = {name: float("inf") for name in runs}
    with Progress(transient=True) as progress:
        task = progress.add_task("decoding", total=args.repeats * len(runs))
        for _ in range(args.repeats):
            for name, run in runs.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                run()
                wall[name] = min(wall[name], time.perf_counter() - start)
                cpu[name] = min(cpu[name], time.process_time() - start_cpu)
                progress.advance(task)

    anchor = "rs1090 alone (anchor)"
    out = Table(title=f"Mode S decoding, {n:,} real frames, best of {args.repeats}")
    for col in ("path", "wall (s)", "frames/s", "wall ratio", "CPU (s)", "CPU ratio"):
        out.add_column(col, justify="right" if col != "path" else "left")
    for name in runs:
        out.add_row(
            name,
            f"{wall[name]:.3f}",
            f"{n / wall[name]:,.0f}",
            f"{wall[name] / wall[anchor]:.3f}",
            f"{cpu[name]:.3f}",
            f"{cpu[name] / cpu[anchor]:.3f}",
        )
    Console().print(out)
    for label, table_ in (("wall", wall), ("CPU", cpu)):
        over = table_["decode_frames (ours)"] / table_[anchor] - 1.0
        print(f"{label} overhead of our path over rs1090 alone: {over:+.1%} (target <= +20%)")


if __name__ == "__main__":
    main()
