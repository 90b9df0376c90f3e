"""Incidents recorded in the store by the engine's store function: visible through the API only
to the parties involved and the host; listed and reported by the CLI from the store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hotline_helpers import ADMIN_HEADERS, make_client
from pyproj import Geod
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.errors import InputError
from deconflict.incidents.detect import detect_incidents
from deconflict.incidents.geometry import Timeline
from deconflict.incidents.record import Incident
from deconflict.store import hotline as log

GEOD = Geod(ellps="WGS84")
runner = CliRunner()


def _line(party: str, ident: str, az: float, alt_m: float) -> Timeline:
    """Straight flight at 220 m/s through (35.5 N, 38.9 E) at t0 + 600 s, bearing ``az``."""
    t = np.arange(1.7e9, 1.7e9 + 1200, 5.0)
    d = (t - 1.7e9 - 600) * 220.0
    lons, lats, _ = GEOD.fwd(
        np.full_like(t, 38.9), np.full_like(t, 35.5), np.where(d >= 0, az, az + 180), np.abs(d)
    )
    return Timeline.from_arrays(party, ident, t, lats, lons, np.full_like(t, alt_m))


@pytest.fixture(scope="module")
def incident() -> Incident:
    (found,) = detect_incidents(
        _line("alpha", "VIPER11", 80.0, 9000.0), _line("bravo", "FLANKER2", 280.0, 9100.0)
    )
    return found


@pytest.mark.slow
def test_incidents_are_seen_only_by_the_parties_involved(
    db_url: str, tmp_path: Path, incident: Incident
) -> None:
    url = f"sqlite:///{tmp_path / 'service.db'}" if db_url == "sqlite://" else db_url
    with make_client(url) as client:
        heads = {}
        for name in ("alpha", "bravo", "charlie"):
            r = client.post("/v1/parties", json={"name": name}, headers=ADMIN_HEADERS)
            heads[name] = {"Authorization": f"Bearer {r.json()['token']}"}
        store = client.app.state.store  # type: ignore[attr-defined]
        entry = log.append_incident(store, incident.to_dict())
        assert entry.kind == "incident" and entry.author == "host"
        with pytest.raises(InputError, match="already recorded"):
            log.append_incident(store, incident.to_dict())
        iid = incident.incident_id
        for who in ("alpha", "bravo"):
            rows = client.get("/v1/incidents", headers=heads[who]).json()
            assert [r["incident_id"] for r in rows] == [iid]
            assert rows[0]["parties"] == ["alpha", "bravo"]
            got = client.get(f"/v1/incidents/{iid}", headers=heads[who]).json()
            assert Incident.from_dict(got).horizontal_m == pytest.approx(incident.horizontal_m)
            events = client.get("/v1/events", headers=heads[who]).json()["events"]
            assert [e["kind"] for e in events if e["kind"] == "incident"] == ["incident"]
        assert client.get("/v1/incidents", headers=heads["charlie"]).json() == []
        for path in (f"/v1/incidents/{iid}", f"/v1/incidents/{iid}/report.html"):
            r = client.get(path, headers=heads["charlie"])
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert [
            r["incident_id"] for r in client.get("/v1/incidents", headers=ADMIN_HEADERS).json()
        ] == [iid]
        html = client.get(f"/v1/incidents/{iid}/report.html", headers=heads["alpha"])
        assert html.status_code == 200 and html.text.count("data:image/png;base64,") == 2
        assert "VIPER11" in html.text and "FLANKER2" in html.text
    # the CLI looks the store up
    result = runner.invoke(app, ["incidents", "list", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert row["incident_id"] == iid and row["severity"] == incident.severity.value
    out = tmp_path / "r.pdf"
    result = runner.invoke(
        app, ["incidents", "report", iid, "--db", url, "--pdf", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    result = runner.invoke(app, ["incidents", "report", "nope", "--db", url])
    assert result.exit_code == 2 and "no incident 'nope'" in result.output


def test_the_closest_approach_is_the_geometry(incident: Incident) -> None:
    """Two aircraft through the same point at the same time, 100 m apart vertically: the
    recorded closest approach is that point's (independent of the store round trip)."""
    assert incident.horizontal_m < 50.0
    assert incident.vertical_m == pytest.approx(100.0, abs=1.0)
    assert incident.time_s == pytest.approx(1.7e9 + 600, abs=5.0)


def test_an_incident_id_is_refused_twice_and_only_where_it_is_the_record_s_own(
    incident: Incident,
) -> None:
    """The duplicate check reads the records whose text holds the id (SQLite): a record that
    only mentions another's id, or holds it in other letter case, is not that record."""
    from deconflict.store import open_store

    store = open_store("sqlite://")
    try:
        first = incident.to_dict()
        iid = str(first["incident_id"])
        mention = {**first, "incident_id": "other1", "severity_reason": f"after {iid}"}
        upper = {**first, "incident_id": iid.upper()}
        log.append_incident(store, mention)
        log.append_incident(store, upper)
        log.append_incident(store, first)
        for again in (first, mention, upper):
            with pytest.raises(InputError, match="already recorded"):
                log.append_incident(store, again)
        assert len(log.entries(store, log.INCIDENT)) == 3
    finally:
        store.close()
