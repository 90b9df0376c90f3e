"""``deconflict track``: recordings or report tables through the tracker, to track updates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from deconflict.cli._app import TrackFormat, app, echo_json, fail
from deconflict.errors import DeconflictError

if TYPE_CHECKING:
    import pandas as pd

_REPORT_SUFFIXES = {".csv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json"}


def read_reports(
    path: Path,
    format: str | None,
    party: str,
    reference: tuple[float, float] | None = None,
) -> tuple[pd.DataFrame, int]:
    """A report table from ``path``, and the number of decode errors.

    A table (CSV, Parquet, JSON lines) is read by ``deconflict.tables``: one written by
    ``deconflict decode`` or ``track`` (with ``source`` / ``sensor`` columns) as it is, any other
    aircraft table (the traffic convention or OpenSky's state vectors) through the ``table``
    decoder. ``format`` ``reports`` insists on a table; any other key goes through that decoder
    (``deconflict.surveillance``), with ``reference`` (the receiver's LAT, LON) for local CPR
    decoding of Mode S.
    """
    from deconflict.errors import InputError
    from deconflict.surveillance import DecodeOptions, decode
    from deconflict.surveillance.tables import decode_table
    from deconflict.tables import layout_of, read_file

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    options = DecodeOptions(party=party, sensor=path.stem, reference=reference)
    if format in (None, "reports") and path.suffix.lower() in _REPORT_SUFFIXES:
        table = read_file(path)
        if {"source", "sensor"} & set(table.columns):  # already reports
            if party and "party" not in table:
                table["party"] = party
            return table, 0
        try:
            layout_of(table.columns, str(path), need=("timestamp", "latitude", "longitude"))
        except InputError:
            if format == "reports":
                raise
        else:
            result = decode_table(table, options)
            return result.reports, int(result.counts.get("errors", len(result.errors)))
    key = None if format in (None, "reports") else format
    result = decode(path, key, options)
    return result.reports, int(result.counts.get("errors", len(result.errors)))


def write_updates(updates: pd.DataFrame, out: Path) -> None:
    """Write the track-update table; the format follows the suffix (Parquet, CSV, JSON lines)."""
    from deconflict.errors import InputError

    suffix = out.suffix.lower()
    if suffix in (".parquet", ".pq"):
        updates.to_parquet(out, index=False)
    elif suffix == ".csv":
        updates.to_csv(out, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    elif suffix in (".jsonl", ".ndjson", ".json"):
        updates.to_json(out, orient="records", lines=True, date_format="iso", date_unit="ns")
    else:
        raise InputError(f"--out {out}: use a .parquet, .csv or .jsonl file name")


@app.command("track")
def track_command(
    files: Annotated[list[Path], typer.Argument(help="Recordings or report tables to track.")],
    format: Annotated[
        TrackFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="'reports' (a table of reports or aircraft: CSV, Parquet or JSON lines) or a "
            "feed format (see 'deconflict decode --help'); guessed when omitted.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Track updates to this .parquet/.csv/.jsonl (default: stdout)."
        ),
    ] = None,
    party: Annotated[
        str, typer.Option("--party", help="Party of decoded reports without one.")
    ] = "",
    step_s: Annotated[
        float, typer.Option("--step", help="Replay window in seconds (one update each).")
    ] = 1.0,
    drop_after_s: Annotated[
        float, typer.Option("--drop-after", help="Drop a track silent this long (s).")
    ] = 60.0,
    stale_after_s: Annotated[
        float, typer.Option("--stale-after", help="An identity unconfirmed this long is stale (s).")
    ] = 60.0,
    reference: Annotated[
        str | None,
        typer.Option(
            help="Receiver position LAT,LON (deg) for local CPR decoding of raw Mode S captures."
        ),
    ] = None,
) -> None:
    """Track reports from several sensors and parties: one row per track per update
    (timestamp, track_id, status, latitude, longitude, altitude, groundspeed, track,
    vertical_rate, icao24, callsign, identity), then a JSON summary line."""
    import pandas as pd
    from rich.progress import Progress

    from deconflict.cli.decode import make_options
    from deconflict.tracking import TrackerConfig, replay

    try:
        ref = make_options("", "", None, reference, None).reference
        config = TrackerConfig(
            drop_after_s=drop_after_s,
            coast_after_s=min(10.0, drop_after_s),
            identity_stale_after_s=stale_after_s,
        )
        tables, decode_errors = [], 0
        for path in files:
            table, n_err = read_reports(path, format, party, ref)
            tables.append(table)
            decode_errors += n_err
        reports = pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]
        if len(tables) > 1:  # several feeds: merged in time order
            reports = reports.sort_values("timestamp", kind="stable", ignore_index=True)
        with Progress(transient=True, disable=out is None) as bar:
            task = bar.add_task("tracking", total=max(len(reports), 1))
            updates, tracker = replay(
                reports,
                config,
                step_s=step_s,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        if out is not None:
            write_updates(updates, out)
        else:
            text = updates.to_json(orient="records", lines=True, date_format="iso", date_unit="ns")
            sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    except DeconflictError as exc:
        fail(exc)
    errors = tracker.errors()
    summary = {
        **tracker.counters,
        "decode_errors": decode_errors,
        "tracks": int(updates["track_id"].nunique()),
        "track_updates": len(updates),
        "errors_by_kind": errors["kind"].value_counts().to_dict() if len(errors) else {},
    }
    echo_json({"summary": summary})
