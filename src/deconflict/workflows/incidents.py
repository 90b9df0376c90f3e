"""Incidents in the shared service: the records the engine logged (``incident`` entries, written
through ``deconflict.store.hotline.append_incident``), listed and reported to the parties
involved and the host only (m, s and degrees, as the incident record keeps them)."""

from __future__ import annotations

from typing import Any

from deconflict.errors import NotFoundError
from deconflict.incidents.record import Incident
from deconflict.store import Party, Store
from deconflict.store import hotline as log


def visible_incidents(store: Store, party: Party) -> list[dict[str, Any]]:
    """The incident records ``party`` may see (all of them for the host), oldest first."""
    if party.role == "admin":
        found = log.entries(store, log.INCIDENT)
    else:
        found = log.entries_for(store, log.INCIDENT, party.id)
    return [{k: v for k, v in e.payload.items() if k != "by"} for e in found]


def incident_record(store: Store, party: Party, incident_id: str) -> dict[str, Any]:
    """One incident record ``party`` may see; ``NotFoundError`` for any other."""
    for record in visible_incidents(store, party):
        if record["incident_id"] == incident_id:
            return record
    raise NotFoundError(f"no incident {incident_id!r} involving you")


def incident_summaries(store: Store, party: Party) -> list[dict[str, Any]]:
    """The summaries of the incidents ``party`` may see, most severe first, then by time."""
    incidents = [Incident.from_dict(r) for r in visible_incidents(store, party)]
    incidents.sort(key=lambda i: (i.severity.value, i.time_s))
    return [i.summary() for i in incidents]


def incident_report_html(store: Store, party: Party, incident_id: str) -> str:
    """The report of one incident ``party`` may see, as one HTML page (plots inline)."""
    from deconflict.incidents.report import render_incident_html

    return render_incident_html(Incident.from_dict(incident_record(store, party, incident_id)))


def incident_report_pdf(store: Store, party: Party, incident_id: str) -> bytes:
    """The report of one incident ``party`` may see, as a PDF document."""
    from deconflict.incidents.report import render_incident_pdf

    return render_incident_pdf(Incident.from_dict(incident_record(store, party, incident_id)))
