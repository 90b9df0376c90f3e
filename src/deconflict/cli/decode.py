"""``deconflict decode``: a recording to JSON lines of reports, error records and a summary."""

from __future__ import annotations

import itertools
import os
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TextIO

import typer

from deconflict.cli._app import FeedFormat, app, echo_json, fail
from deconflict.errors import DeconflictError

if TYPE_CHECKING:
    from deconflict.surveillance import DecodeOptions, DecodeResult
    from deconflict.surveillance.base import StreamDecoder


def write_result(result: DecodeResult, out: TextIO, *, errors: bool = True) -> None:
    """Reports as JSON lines (NaN/NA as null, times ISO 8601 UTC), then one line per error."""
    if len(result.reports):
        text = result.reports.to_json(
            orient="records", lines=True, date_format="iso", date_unit="ns"
        )
        text = text.replace("\\/", "/")  # pandas escapes "/" (e.g. in "25/201"); JSON need not
        out.write(text if text.endswith("\n") else text + "\n")
    if errors:
        for row in result.errors.to_dict("records"):
            record: dict[str, Any] = {
                "error": row["kind"],
                "level": row["level"],
                "position": int(row["position"]),
                "message": row["message"],
                "raw": row["raw"],
            }
            echo_json(record)


def make_options(
    party: str,
    sensor: str,
    sensors: Path | None,
    reference: str | None,
    start: str | None,
) -> DecodeOptions:
    """Decode options from the command-line flags (raises DeconflictError on bad values)."""
    import pandas as pd

    from deconflict.errors import InputError
    from deconflict.surveillance import DecodeOptions
    from deconflict.surveillance.sensors import load_sensors

    ref: tuple[float, float] | None = None
    if reference:
        try:
            lat, lon = (float(v) for v in reference.split(","))
        except ValueError:
            raise InputError(f"--reference {reference!r}: write LAT,LON in degrees") from None
        ref = (lat, lon)
    start_time = None
    if start:
        try:
            start_time = pd.Timestamp(start)
        except ValueError:
            raise InputError(f"--start {start!r}: write an ISO 8601 time") from None
        start_time = start_time.tz_localize("UTC") if start_time.tz is None else start_time
    return DecodeOptions(
        party=party,
        sensor=sensor,
        reference=ref,
        sensors=load_sensors(sensors) if sensors else None,
        start_time=start_time,
    )


@app.command("decode")
def decode_command(
    file: Annotated[str, typer.Argument(help="Recording to decode ('-' for stdin).")],
    format: Annotated[
        FeedFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="Feed format (a decoder key or alias); guessed from the content if left out.",
        ),
    ] = None,
    sensors: Annotated[
        Path | None, typer.Option(help="Sensor configuration TOML (radar sites for CAT048).")
    ] = None,
    party: Annotated[str, typer.Option(help="Party label on every report.")] = "",
    sensor: Annotated[
        str, typer.Option(help="Sensor id on every report (default: from data).")
    ] = "",
    reference: Annotated[
        str | None, typer.Option(help="Receiver position LAT,LON (deg) for local CPR decoding.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="UTC time of the first frame where the data has only relative times "
            "(Beast counters, bare hex lines); default: the file's modification time."
        ),
    ] = None,
) -> None:
    """Decode a recording: JSON lines of reports, an error record for each bad frame, and a
    summary count at the end. ``-`` reads stdin as it arrives (e.g. ``nc HOST 30005 |``) and
    prints each report at once; Beast counters and bare hex lines are then timed by when their
    bytes arrived."""
    import pandas as pd

    from deconflict.surveillance import detect_format, get_decoder

    try:
        if file == "-":
            stdin = sys.stdin.buffer
            piped = not stat.S_ISREG(os.fstat(stdin.fileno()).st_mode)
            head = _read_some(stdin)
            options = make_options(party, sensor, sensors, reference, start)
            decoder = get_decoder(format or detect_format(head, ""))
            if decoder.stream is None:
                result = decoder.decode(head + stdin.read(), options)
                write_result(result, sys.stdout)
            else:
                chunks = itertools.chain([head], iter(lambda: _read_some(stdin), b""))
                result = _stream(decoder.stream(options), chunks, live=piped)
            echo_json(result.summary())
            return
        path = Path(file)
        if not path.is_file():
            fail(f"no such file: {file}: give the path of a recording")
        data, name = path.read_bytes(), path.name
        if start is None:
            start = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC").isoformat()
        options = make_options(party, sensor, sensors, reference, start)
        decoder = get_decoder(format or detect_format(data, name))
        if decoder.stream is None:
            result = decoder.decode(data, options)
            write_result(result, sys.stdout)
        else:  # stream in chunks: output starts at once and memory stays bounded
            parts = (data[at : at + (1 << 20)] for at in range(0, len(data), 1 << 20))
            result = _stream(decoder.stream(options), parts, live=False)
        echo_json(result.summary())
    except DeconflictError as exc:
        fail(exc)


def _read_some(stream: BinaryIO) -> bytes:
    """What is there (up to 64 KiB) as soon as anything is: a pipe's bytes as they arrive."""
    read1 = getattr(stream, "read1", None)
    return bytes(read1(1 << 16) if read1 is not None else stream.read(1 << 16))


def _stream(decoder: StreamDecoder, chunks: Iterable[bytes], *, live: bool) -> DecodeResult:
    """Feed chunks, printing each part's reports and errors at once; the summed counters."""
    from deconflict.surveillance.base import DecodeResult, concat_results

    parts = []
    for chunk in chunks:
        part = decoder.feed(chunk, arrival_ns=time.time_ns() if live else None)
        write_result(part, sys.stdout)
        sys.stdout.flush()
        parts.append(DecodeResult(part.reports.iloc[:0], part.errors.iloc[:0], part.counts))
    tail = decoder.close()
    write_result(tail, sys.stdout)
    parts.append(tail)
    return concat_results(parts)
