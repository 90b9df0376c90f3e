"""Incidents recorded in the log (``incident`` entries, written by the engine through
``deconflict.store.hotline.append_incident``): listed and reported to the parties involved and
the host only (m, s and degrees, as the incident record keeps them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from deconflict.errors import NotFoundError
from deconflict.service.auth import PartyDep, StoreDep
from deconflict.store import Party, Store
from deconflict.store import hotline as log

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

IncidentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]


def visible_incidents(store: Store, party: Party) -> list[dict[str, Any]]:
    """The incident records ``party`` may see (all of them for the host), oldest first."""
    if party.role == "admin":
        found = log.entries(store, log.INCIDENT)
    else:
        found = log.entries_for(store, log.INCIDENT, party.id)
    return [{k: v for k, v in e.payload.items() if k != "by"} for e in found]


def incident_record(store: Store, party: Party, incident_id: str) -> dict[str, Any]:
    for record in visible_incidents(store, party):
        if record["incident_id"] == incident_id:
            return record
    raise NotFoundError(f"no incident {incident_id!r} involving you")


@router.get("")
def list_incidents(party: PartyDep, store: StoreDep) -> list[dict[str, Any]]:
    """Incidents involving you (every one for the host), most severe first, then by time."""
    from deconflict.incidents.record import Incident

    incidents = [Incident.from_dict(r) for r in visible_incidents(store, party)]
    incidents.sort(key=lambda i: (i.severity.value, i.time_s))
    return [i.summary() for i in incidents]


@router.get("/{incident_id}")
def get_incident(incident_id: IncidentId, party: PartyDep, store: StoreDep) -> dict[str, Any]:
    """The whole incident record: closest approach, severity, both tracks, alerts, messages."""
    return incident_record(store, party, incident_id)


@router.get("/{incident_id}/report.html", response_class=HTMLResponse)
def report_html(incident_id: IncidentId, party: PartyDep, store: StoreDep) -> HTMLResponse:
    """The incident report as one HTML page (plots inline)."""
    from deconflict.incidents.record import Incident
    from deconflict.incidents.report import render_incident_html

    incident = Incident.from_dict(incident_record(store, party, incident_id))
    return HTMLResponse(render_incident_html(incident))


@router.get("/{incident_id}/report.pdf", response_class=Response)
def report_pdf(incident_id: IncidentId, party: PartyDep, store: StoreDep) -> Response:
    """The incident report as PDF."""
    from deconflict.incidents.record import Incident
    from deconflict.incidents.report import render_incident_pdf

    incident = Incident.from_dict(incident_record(store, party, incident_id))
    return Response(render_incident_pdf(incident), media_type="application/pdf")
