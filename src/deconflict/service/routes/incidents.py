"""Incidents recorded in the log, listed and reported to the parties involved and the host
only; the workflows are ``deconflict.workflows.incidents`` (m, s and degrees, as the record
keeps them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from deconflict.service.auth import PartyDep, StoreDep
from deconflict.workflows import incidents

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])

IncidentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[\w.-]+$")]


@router.get("")
def list_incidents(party: PartyDep, store: StoreDep) -> list[dict[str, Any]]:
    """Incidents involving you (every one for the host), most severe first, then by time."""
    return incidents.incident_summaries(store, party)


@router.get("/{incident_id}")
def get_incident(incident_id: IncidentId, party: PartyDep, store: StoreDep) -> dict[str, Any]:
    """The whole incident record: closest approach, severity, both tracks, alerts, messages."""
    return incidents.incident_record(store, party, incident_id)


@router.get("/{incident_id}/report.html", response_class=HTMLResponse)
def report_html(incident_id: IncidentId, party: PartyDep, store: StoreDep) -> HTMLResponse:
    """The incident report as one HTML page (plots inline)."""
    return HTMLResponse(incidents.incident_report_html(store, party, incident_id))


@router.get("/{incident_id}/report.pdf", response_class=Response)
def report_pdf(incident_id: IncidentId, party: PartyDep, store: StoreDep) -> Response:
    """The incident report as PDF."""
    return Response(
        incidents.incident_report_pdf(store, party, incident_id), media_type="application/pdf"
    )
