"""Incident reports: HTML with both plots embedded, a valid PDF, and the CLI around them."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pyproj import Geod
from typer.testing import CliRunner

from deconflict.cli import app
from deconflict.incidents.detect import detect_incidents
from deconflict.incidents.geometry import Timeline
from deconflict.incidents.record import Incident, attach_context, save_incident
from deconflict.incidents.report import render_incident_html, render_incident_pdf

GEOD = Geod(ellps="WGS84")


def _line(party: str, ident: str, az: float, alt_m: float) -> Timeline:
    t = np.arange(1.7e9, 1.7e9 + 1200, 5.0)
    d = (t - 1.7e9 - 600) * 220.0
    lons, lats, _ = GEOD.fwd(
        np.full_like(t, 38.9), np.full_like(t, 35.5), np.where(d >= 0, az, az + 180), np.abs(d)
    )
    return Timeline.from_arrays(party, ident, t, lats, lons, np.full_like(t, alt_m))


@pytest.fixture(scope="module")
def incident() -> Incident:
    (inc,) = detect_incidents(
        _line("alpha", "VIPER11", 80.0, 9000.0), _line("bravo", "SU30-<x>", 280.0, 9100.0)
    )
    return attach_context(
        inc,
        alerts=[
            {"time_s": inc.time_s - 80, "level": 1, "text": "preventive"},
            {"time_s": inc.time_s - 40, "level": 3, "text": "warning"},
        ],
        messages=[
            {
                "time_s": inc.time_s - 35,
                "sender": "host",
                "to": ["alpha", "bravo"],
                "kind": "conflict_notice",
                "text": "climb <now>",
            }
        ],
    )


def test_html_has_both_plots_and_the_timeline(incident: Incident) -> None:
    html = render_incident_html(incident)
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert [title for title, _ in images] == [
        "Plan view and vertical profile",
        "Separation timeline",
    ]
    for _, data in images:
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(png)) as img:
            assert img.width >= 800 and img.height >= 300
    assert f"Incident {incident.incident_id}" in html
    assert f"Class {incident.severity.value}" in html
    for text in ("preventive", "warning", "separation lost", "closest approach"):
        assert text in html
    assert "climb &lt;now&gt;" in html and "<now>" not in html  # escaped
    assert "SU30-&lt;x&gt;" in html
    order = [
        html.index(s) for s in ("preventive", "warning", "climb &lt;now&gt;", "separation lost")
    ]
    assert order == sorted(order)


def test_pdf_is_a_laid_out_document(incident: Incident, artifacts_dir: Path) -> None:
    """A4 pages read back with an independent PDF reader (pypdf): the title, the class, the
    closest-approach table, the aircraft, both figures as images, the timeline in order, and a
    numbered footer on every page."""
    from pypdf import PdfReader

    pdf = render_incident_pdf(incident)
    (artifacts_dir / "incident.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.title == (
        f"Incident {incident.incident_id}"
    )
    pages = reader.pages
    for page in pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
            (595.27, 841.89), abs=0.5
        )
    text = "\n".join(page.extract_text() for page in pages)
    assert f"Incident {incident.incident_id}" in text
    assert f"Class {incident.severity.value}" in text
    for heading in ("Closest approach", "Aircraft", "Plan view and vertical profile",
                    "Separation timeline", "Timeline"):  # fmt: skip
        assert heading in text
    for track in incident.tracks:
        assert track.aircraft_id in text
    assert "climb <now>" in text and "SU30-<x>" in text  # escaped markup comes out as text
    order = [text.index(s) for s in ("preventive", "warning", "climb <now>", "separation lost")]
    assert order == sorted(order)
    images = sum(len(page.images) for page in pages)
    assert images == 2
    for number, page in enumerate(pages, start=1):
        assert f"page {number}" in page.extract_text()


def test_cli_report_and_list(incident: Incident, tmp_path: Path) -> None:
    path = tmp_path / "inc.json"
    save_incident(incident, path)
    runner = CliRunner()
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["incidents", "report", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().count("data:image/png;base64,") == 2
    pdf = tmp_path / "r.pdf"
    result = runner.invoke(app, ["incidents", "report", str(path), "--out", str(pdf), "--pdf"])
    assert result.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF-")
    result = runner.invoke(app, ["incidents", "list", str(path), "--json"])
    assert result.exit_code == 0
    (row,) = json.loads(result.output)
    assert row["incident_id"] == incident.incident_id and row["parties"] == ["alpha", "bravo"]
    result = runner.invoke(app, ["incidents", "list", str(path)])
    assert incident.incident_id in result.output
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = runner.invoke(app, ["incidents", "report", str(bad)])
    assert result.exit_code == 2 and "not an incident record" in result.output
