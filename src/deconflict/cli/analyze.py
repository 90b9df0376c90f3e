"""``deconflict analyze``: every loss of separation and closest approach in recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deconflict.cli._app import Engine, app, complete_standards, echo_json, fail


@app.command("analyze")
def analyze(
    files: Annotated[
        list[Path], typer.Argument(help="Recordings: traffic-style or OpenSky Parquet / CSV.")
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Output folder (events.parquet, events.json, report.html)."),
    ],
    standard: Annotated[
        str, typer.Option(help="Separation standard.", autocompletion=complete_standards)
    ] = "icao-5nm",
    screen_nm: Annotated[float, typer.Option(help="Horizontal screening distance (NM).")] = 10.0,
    screen_ft: Annotated[float, typer.Option(help="Vertical screening distance (ft).")] = 2000.0,
    engine: Annotated[Engine, typer.Option(help="local (one process) or dask.")] = "dask",
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (else a local cluster).")
    ] = None,
    step_s: Annotated[
        float | None, typer.Option(help="Grid step (s); default: the median sampling step.")
    ] = None,
    max_gap_s: Annotated[
        float, typer.Option(help="Never interpolate across a longer gap (s).")
    ] = 60.0,
    window_s: Annotated[float, typer.Option(help="Length of a unit of work (s).")] = 3600.0,
    start: Annotated[
        str | None, typer.Option(help="Leave out data before this time (UTC).")
    ] = None,
    stop: Annotated[
        str | None, typer.Option(help="Leave out data from this time on (UTC).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Workers of the local Dask cluster.")] = 2,
    level_tolerance_ft: Annotated[
        float,
        typer.Option(
            help="Pairs on adjacent flight levels, each within this of its level, are reported "
            "as adjacent_levels, not losses (ICAO Doc 4444 8.5.5.1: 200 ft RVSM; 0: off)."
        ),
    ] = 200.0,
) -> None:
    """Find every loss of separation and closest approach inside the screening distances."""
    from deconflict.analysis.run import analyse_files
    from deconflict.errors import DeconflictError

    try:
        events = analyse_files(
            files,
            out,
            standard=standard,
            screen_nm=screen_nm,
            screen_ft=screen_ft,
            engine="dask" if engine == "dask" else "local",
            scheduler=scheduler,
            step_s=step_s,
            max_gap_s=max_gap_s,
            window_s=window_s,
            start=start,
            stop=stop,
            workers=workers,
            level_tolerance_ft=level_tolerance_ft,
        )
    except DeconflictError as exc:
        fail(exc)
    counts = events["severity"].value_counts().to_dict()
    echo_json(
        {
            "events": len(events),
            "losses": int(events["loss"].sum()),
            "adjacent_levels": int((events["category"] == "adjacent_levels").sum()),
            "severity": {k: int(v) for k, v in sorted(counts.items())},
            "out": str(out),
        }
    )
