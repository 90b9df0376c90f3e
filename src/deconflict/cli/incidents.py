"""``deconflict incidents``: list incident records and render their reports (HTML or PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from deconflict.cli._app import app, echo_json, fail

if TYPE_CHECKING:
    from deconflict.incidents.record import Incident

incidents_app = typer.Typer(
    help="Incident records: closest approach, severity, report with plots.",
    no_args_is_help=True,
)
app.add_typer(incidents_app, name="incidents")


DB_HELP = "Store URL (default $DECONFLICT_DATABASE_URL or sqlite file)."


def _from_store(db: str | None, incident_id: str | None = None) -> list[Incident]:
    """Every incident recorded in the store's log (the host's view), or only the last record of
    ``incident_id`` (none when there is no such incident)."""
    from deconflict.incidents.record import Incident
    from deconflict.settings import Settings
    from deconflict.store import hotline, open_store

    store = open_store(Settings.from_env(database_url=db).database_url)
    try:
        if incident_id is None:
            entries = hotline.entries(store, hotline.INCIDENT)
        else:
            match = {"incident_id": incident_id}
            last = hotline.latest(store, hotline.INCIDENT, match=match)
            entries = [] if last is None else [last]
        return [Incident.from_dict(e.payload) for e in entries]
    finally:
        store.close()


@incidents_app.command("list")
def list_incidents(
    files: list[Path] | None = typer.Argument(
        None, help="Incident JSON files (as saved by the library); none: the store's incidents."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List incidents, most severe first, then by time (from files, or recorded in the store)."""
    from datetime import UTC, datetime

    from deconflict.errors import DeconflictError
    from deconflict.incidents.record import load_incident
    from deconflict.units import FT

    try:
        incidents = [load_incident(f) for f in files] if files else _from_store(db)
    except DeconflictError as exc:
        fail(exc)
    incidents.sort(key=lambda i: (i.severity.value, i.time_s))
    rows = [i.summary() for i in incidents]
    if as_json:
        echo_json(rows)
        return
    typer.echo(
        f"{'id':<17} {'sev':<4} {'time (UTC)':<19}  {'kind':<19} {'parties':<14} "
        f"{'h (m)':>7} {'v (ft)':>7}"
    )
    for r in rows:
        when = datetime.fromtimestamp(r["time_s"], tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(
            f"{r['incident_id']:<17} {r['severity']:<4} {when}  {r['kind']:<19} "
            f"{'/'.join(r['parties']):<14} {r['horizontal_m']:7.0f} {r['vertical_m'] / FT:7.0f}"
        )


@incidents_app.command("report")
def report(
    incident_ref: str = typer.Argument(
        ..., metavar="ID", help="Incident id recorded in the store, or an incident JSON file."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    out: Path | None = typer.Option(
        None, "--out", help="Output file (default: incident-<id>.html or .pdf here)."
    ),
    pdf: bool = typer.Option(False, "--pdf", help="Write a PDF instead of HTML."),
) -> None:
    """Render an incident's report (recorded in the store, or from a file): plan view, vertical
    profile, separation and timeline."""
    from deconflict.errors import DeconflictError
    from deconflict.incidents.record import load_incident
    from deconflict.incidents.report import render_incident_html, render_incident_pdf

    try:
        if Path(incident_ref).is_file():
            incident = load_incident(incident_ref)
        else:
            found = _from_store(db, incident_ref)
            if not found:
                fail(
                    f"no incident {incident_ref!r} in the store, and no such file: "
                    "list them with `deconflict incidents list`"
                )
            incident = found[0]
    except DeconflictError as exc:
        fail(exc)
    target = out or Path(f"incident-{incident.incident_id}.{'pdf' if pdf else 'html'}")
    try:
        if pdf:
            target.write_bytes(render_incident_pdf(incident))
        else:
            target.write_text(render_incident_html(incident), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {target}: {exc}", code=1)
    typer.echo(str(target))
