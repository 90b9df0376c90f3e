"""``deconflict alert``: DO-365 (DAIDALUS) alerting, bands and resolutions for one encounter."""

from __future__ import annotations

from pathlib import Path

import typer

from deconflict.cli._app import app, echo_json, fail


@app.command("alert")
def alert_command(
    encounter: Path = typer.Argument(
        ...,
        help='Encounter JSON: {"ownship": STATE, "intruders": [STATE, ...], '
        '"wind": {"to_deg": .., "speed_kt": ..}}.',
    ),
    standard: str = typer.Option("do365", "--standard", help="Alerting standard (do365)."),
) -> None:
    """Print alert levels per intruder, manoeuvre bands and resolutions for the ownship as JSON
    (infinite values as "inf"/"-inf", not-applicable ones as null)."""
    from deconflict.errors import DeconflictError
    from deconflict.predict.daidalus.api import alert

    try:
        result = alert(encounter, standard=standard)
    except DeconflictError as exc:
        fail(exc)
    echo_json(result)
