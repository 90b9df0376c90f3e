"""``deconflict detect``: conflict prediction on a file of aircraft states."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from deconflict.cli._app import PairSearch, app, complete_standards, echo_json, fail
from deconflict.errors import DeconflictError


@app.command()
def detect(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet, JSON or JSON-lines file of states")],
    standard: Annotated[
        str, typer.Option(help="separation standard name", autocompletion=complete_standards)
    ] = "icao-5nm",
    lookahead: Annotated[
        float | None, typer.Option(help="lookahead in seconds (default: the standard's)")
    ] = None,
    format: Annotated[Literal["json", "table"], typer.Option(help="json or table")] = "json",
    standards: Annotated[
        Path | None, typer.Option(help="TOML file of user-defined standards to load first")
    ] = None,
    pair_search: Annotated[
        PairSearch,
        typer.Option(
            help="how candidate pairs are found: auto, grid (compiled; fastest on large scenes) "
            "or kdtree (no compilation); the result is the same"
        ),
    ] = "auto",
) -> None:
    """Predict every pair of aircraft that will lose separation within the lookahead.

    States: one row per aircraft with flight_id, id or icao24, latitude, longitude (deg),
    altitude (ft), groundspeed (kt), track (deg) and optionally vertical_rate (ft/min), or
    OpenSky's names and units (icao24, lat, lon, baroaltitude m, velocity m/s, heading,
    vertrate m/s). Bad rows are left out and listed on stderr; the run goes on with the rest.
    """
    from deconflict.predict.detect import conflicts_json, detect_states
    from deconflict.predict.standards import get_standard, load_standards
    from deconflict.predict.states import to_states_lenient

    try:
        if standards is not None:
            load_standards(standards)
        std = get_standard(standard).with_lookahead(lookahead)
        states, bad = to_states_lenient(file)
    except DeconflictError as exc:
        fail(exc)
    for row in bad:
        typer.echo(f"skipped row {row.row} (id {row.id!r}): {row.reason}", err=True)
    if bad:
        typer.echo(f"{len(bad)} bad row(s) skipped", err=True)
    if states is None:
        typer.echo("no valid aircraft state in the file: nothing to detect", err=True)
        frame = None
    else:
        frame = detect_states(states, std, pair_search)
    if format == "json":
        import pandas as pd

        from deconflict.predict.detect import COLUMNS

        payload = conflicts_json(
            frame if frame is not None else pd.DataFrame(columns=COLUMNS), std.name
        )
        payload["skipped_rows"] = len(bad)
        echo_json(payload)
        return
    _print_table(frame, std.name, len(bad))


def _print_table(frame: object, name: str, skipped: int) -> None:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"conflicts ({name})")
    for col, label in (
        ("a", "a"),
        ("b", "b"),
        ("level_name", "level"),
        ("t_in_s", "LoS in (s)"),
        ("t_out_s", "LoS out (s)"),
        ("tcpa_s", "CPA (s)"),
        ("dcpa_nm", "CPA (NM)"),
        ("dalt_cpa_ft", "CPA Δalt (ft)"),
        ("d_now_nm", "now (NM)"),
    ):
        table.add_column(label, justify="left" if col in {"a", "b", "level_name"} else "right")

    def fmt(v: float, digits: int = 1) -> str:
        return "—" if v != v else f"{v:.{digits}f}"

    if isinstance(frame, pd.DataFrame):
        for rec in frame.to_dict(orient="records"):
            table.add_row(
                str(rec["a"]),
                str(rec["b"]),
                str(rec["level_name"]),
                fmt(float(rec["t_in_s"])),
                fmt(float(rec["t_out_s"])),
                fmt(float(rec["tcpa_s"])),
                fmt(float(rec["dcpa_nm"]), 2),
                fmt(float(rec["dalt_cpa_ft"]), 0),
                fmt(float(rec["d_now_nm"]), 2),
            )
    console.print(table)
    n = 0 if not isinstance(frame, pd.DataFrame) else len(frame)
    console.print(f"{n} conflict(s); {skipped} bad row(s) skipped")
