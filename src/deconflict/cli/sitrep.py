"""``deconflict sitrep``: a one-page situation report (PNG or PDF) from the store's log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from deconflict.cli._app import app, echo_json, fail


@app.command("sitrep")
def sitrep(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL (default $DECONFLICT_DATABASE_URL or sqlite file)"),
    ] = None,
    party: Annotated[
        str | None,
        typer.Option("--party", help="Show only what this party may see (default: the host's)"),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Output file; .png, .pdf or .svg picks the format")
    ] = Path("sitrep.png"),
    day: Annotated[
        str | None, typer.Option("--day", help="UTC day YYYY-MM-DD (default: the newest)")
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario file (TOML): its areas, bases and colours"),
    ] = None,
) -> None:
    """Draw the shared area: each party's operations, bases and tracks, the day's alerts,
    identification requests and incidents, with counts; prints the counts as JSON."""
    from deconflict import sitrep as report
    from deconflict.errors import DeconflictError
    from deconflict.settings import Settings
    from deconflict.store import open_store

    try:
        scene: Any = None
        if scenario is not None:
            from deconflict.sim.scenario import load_scenario

            scene = load_scenario(scenario)
        store = open_store(Settings.from_env(database_url=db).database_url)
        try:
            rep = report.collect(store, party, day=day, scenario=scene)
        finally:
            store.close()
        report.write(rep, out)
    except DeconflictError as exc:
        fail(exc)
    echo_json({"out": str(out), "scope": rep.scope, "counts": rep.counts})
