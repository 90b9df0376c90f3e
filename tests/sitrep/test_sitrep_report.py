"""Situation report: PNG and PDF are produced and valid, and the counts they carry match the
events in the store — those an engine run wrote (checked against the run's own summary) and the
operations parties declared through the service — each party seeing only its own share."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from deconflict import sitrep
from deconflict.hotline.keys import Signer, private_key_from_pem
from deconflict.service import create_app
from deconflict.settings import Settings
from deconflict.store import open_store
from deconflict.workflows.declarations import signed_declaration

REPO = Path(__file__).resolve().parents[2]
ADMIN = "admin-token-sitrep"
CLI = [sys.executable, "-c", "from deconflict.cli import main; main()"]


def _png_counts(data: bytes) -> dict[str, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    image.load()
    assert image.size[0] > 1000 and image.size[1] > 700  # one A4 landscape page
    assert len(np.unique(np.asarray(image.convert("L")))) > 10  # drawn, not blank
    return dict(json.loads(image.info["sitrep-counts"]))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    """760 s of the built-in scenario through the engine into a SQLite store, and its summary
    (long enough for the incident at about 720 s)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('sitrep') / 'demo.db'}"
    done = subprocess.run(
        [*CLI, "demo", "--headless", "--duration", "760", "--db", db],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return db, json.loads(done.stdout)


@pytest.mark.slow
def test_counts_match_the_engine_run_and_are_scoped(
    demo_run: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    db, summary = demo_run
    store = open_store(db)
    try:
        host = sitrep.collect(store)
        parties = [p.name for p in store.list_parties() if p.role == "party"]
        mine = {name: sitrep.collect(store, name) for name in parties}
        log = store.log(limit=100_000)
    finally:
        store.close()
    kinds = summary["events"]
    assert kinds.get("alert.raised", 0) >= 1 and summary["identification_requests"]
    assert host.counts["alerts"] == kinds.get("alert.raised", 0)
    assert host.counts["identification_requests"] == len(summary["identification_requests"])
    assert host.counts["hotline_messages"] == kinds.get("message", 0)
    assert host.counts["incidents"] == len(summary["incidents"])
    raised_by_party = Counter(a["party"] for a in summary["alerts"])
    messages = [e.payload for e in log if e.kind == "message"]
    requests = [
        {**m["body"], "parties": m["recipients"]}
        for m in messages
        if m["kind"] == "identification_request"
    ]
    for name, rep in mine.items():
        # a party sees its own alerts only, the requests it made or is asked, its messages
        assert rep.counts["alerts"] == raised_by_party[name], name
        assert {a.party for a in rep.alerts} <= {name}
        asked = [r for r in requests if r["observer"] == name or name in r["parties"]]
        assert rep.counts["identification_requests"] == len(asked), name
        # the messages addressed to it (its crew's acknowledgements go to their senders)
        theirs = [
            m for m in messages if name in m["recipients"] or m["body"].get("observer") == name
        ]
        assert rep.counts["hotline_messages"] == len(theirs), name
    assert sum(r.counts["alerts"] for r in mine.values()) == host.counts["alerts"]

    png = sitrep.render(host, "png")
    assert _png_counts(png) == host.counts
    # what the page itself prints: every cell of its counts table (SVG text, one group per cell)
    page = _svg_cells(sitrep.render(host, "svg"))
    for what, n in host.counts.items():
        assert page[f"count-{what}-all"] == str(n), what
    for name, rep in mine.items():  # each party's row of the host's page is its own report's
        for what in ("alerts", "incidents"):
            assert page[f"count-{what}-{name}"] == str(rep.counts[what]), (name, what)
    assert host.counts["incidents"] >= 1  # and its two aircraft drawn as trails
    assert len(host.trails) == 2 * host.counts["incidents"]
    out = tmp_path / "red.pdf"
    done = subprocess.run(
        [*CLI, "sitrep", "--db", db, "--party", "red", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == mine["red"].counts
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert json.dumps(mine["red"].counts, sort_keys=True).encode() in pdf


def _svg_cells(svg: bytes) -> dict[str, str]:
    """The text of each SVG group whose id starts with ``count-`` (the page's table cells)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    return {
        g.attrib["id"]: "".join(g.itertext()).strip()
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if g.attrib.get("id", "").startswith("count-")
    }


def test_scenario_gives_the_page_its_areas_bases_and_colours(
    demo_run: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    from deconflict.sim.scenario import load_scenario

    db, _ = demo_run
    scenario = load_scenario(None)
    out = tmp_path / "host.svg"
    done = subprocess.run(
        [*CLI, "sitrep", "--db", db, "--scenario", str(REPO / "src/deconflict/data/scenarios/shared2015.toml"), "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["counts"]
    assert counts["bases"] == len(scenario.bases)
    page = _svg_cells(out.read_bytes())
    assert page["count-bases-all"] == str(len(scenario.bases))
    for p in scenario.parties:
        assert page[f"count-bases-{p.id}"] == str(sum(b.party == p.id for b in scenario.bases))
    text = out.read_text()
    assert all(a.name in text for a in scenario.areas)  # the shared area and the range, named
    assert "seen by host" in text


def _volume(lon0: float, lat0: float) -> dict[str, Any]:
    d = 0.05
    ring = [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d]]
    return {
        "polygon": [ring],
        "altitude_lower": {"value": 0, "units": "ft"},
        "altitude_upper": {"value": 400, "units": "ft"},
        "time_start": "2030-01-01T10:00:00Z",
        "time_end": "2030-01-01T11:00:00Z",
    }


def test_endpoint_draws_each_partys_own_operations(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ops.db'}"
    settings = Settings(database_url=db, admin_token=ADMIN, separation_standard="none")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    declared = {"alpha": [(8.5, 47.4), (8.7, 47.4)], "bravo": [(9.2, 47.6)]}
    with TestClient(create_app(settings)) as client:
        auth = {}
        for name, places in declared.items():
            r = client.post("/v1/parties", json={"name": name}, headers=admin)
            assert r.status_code == 201, r.text
            auth[name] = {"Authorization": f"Bearer {r.json()['token']}"}
            signer = Signer(name, private_key_from_pem(r.json()["private_key_pem"].encode()))
            for lon, lat in places:
                body = {"volumes": [_volume(lon, lat)]}
                body = signed_declaration(signer, name, body, time_s=time.time())
                r = client.post("/v1/operations", json=body, headers=auth[name])
                assert r.status_code == 201, r.text
        for name, places in declared.items():
            r = client.get("/v1/sitrep.png", params={"day": "2030-01-01"}, headers=auth[name])
            assert r.status_code == 200 and r.headers["content-type"] == "image/png"
            assert _png_counts(r.content)["operations"] == len(places), name
        r = client.get("/v1/sitrep.png", params={"day": "2030-01-01"}, headers=admin)
        assert _png_counts(r.content)["operations"] == sum(map(len, declared.values()))
        # a day with nothing on it shows no operation
        r = client.get("/v1/sitrep.png", params={"day": "2030-01-02"}, headers=auth["alpha"])
        assert _png_counts(r.content)["operations"] == 0
        assert client.get("/v1/sitrep.png").status_code == 401
        assert (
            client.get("/v1/sitrep.png", params={"day": "soon"}, headers=admin).status_code == 422
        )


def test_counts_the_services_messages_and_identification_requests(tmp_path: Path) -> None:
    """A ``deconflict serve`` store logs a message, and an identification request, as ``message``
    entries (store.hotline): the report counts both, and places the request on the map."""
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    settings = Settings(database_url=db, admin_token=ADMIN, separation_standard="none")
    admin = {"Authorization": f"Bearer {ADMIN}"}
    track = {
        "id": "T042",
        "timestamp": "2030-01-01T10:00:30Z",
        "latitude": 47.40,
        "longitude": 8.55,
        "altitude": 12000.0,
        "groundspeed": 300.0,
        "track": 90.0,
        "vertical_rate": 0.0,
    }
    with TestClient(create_app(settings)) as client:
        for name in ("alpha", "bravo"):
            r = client.post("/v1/parties", json={"name": name}, headers=admin)
            assert r.status_code == 201, r.text
        r = client.post(
            "/v1/messages",
            json={"to": "alpha", "kind": "free_text", "body": {"text": "hello"}},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        r = client.post("/v1/identification-requests", json={"track": track}, headers=admin)
        assert r.status_code == 201, r.text
    store = open_store(db)
    try:
        host = sitrep.collect(store)
    finally:
        store.close()
    assert host.counts["hotline_messages"] == 2  # the message and the request (also a message)
    assert host.counts["identification_requests"] == 1
    (request,) = host.identifications
    assert (request.lon, request.lat) == pytest.approx((8.55, 47.40))
    assert request.label == "T042 asked by host"


@pytest.mark.slow
def test_headless_store_alone_draws_operations_bases_tracks_and_events(
    demo_run: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    """``demo --headless --db`` records what the served demo shows (its scenario's operations,
    its scene, the pictures' samples): ``sitrep --db`` with nothing else draws them, each count
    equal to the store's and to the scenario's, none zero."""
    from deconflict.sim.scenario import load_scenario

    db, summary = demo_run
    scenario = load_scenario(None)
    out = tmp_path / "host.svg"
    done = subprocess.run(
        [*CLI, "sitrep", "--db", db, "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["counts"]
    store = open_store(db)
    try:
        parties = [p for p in store.list_parties() if p.role == "party"]
        ops = [o for p in parties for o in store.operations_of(p.id, include_ended=True)]
        log = store.log(limit=100_000)
        blue = sitrep.collect(store, "blue")
    finally:
        store.close()
    samples = [e.payload for e in log if e.kind == "picture.sample"]
    host_keys = {k for s in samples if s["viewer"] == "host" for k in s["key"]}
    flown = {f"{a.party}/{a.id}" for a in scenario.aircraft if a.start_s < 760}
    expected = {
        "operations": len(ops),
        "bases": len(scenario.bases),
        "tracks": len(host_keys),
        "alerts": summary["events"]["alert.raised"],
        "identification_requests": len(summary["identification_requests"]),
        "incidents": len(summary["incidents"]),
        "hotline_messages": summary["events"]["message"],
    }
    assert counts == expected
    assert all(n > 0 for n in counts.values()), counts
    assert len(ops) == len(scenario.operations)  # each declared as its party
    assert host_keys == flown  # every aircraft that flew, as the host's samples carry it
    # the samples come every 30 s of engine time, for each party and the host
    times = sorted({s["time_s"] for s in samples})
    assert len(times) == pytest.approx(760 / 30, abs=1) and np.allclose(np.diff(times), 30)
    page = _svg_cells(out.read_bytes())
    for what, n in counts.items():
        assert page[f"count-{what}-all"] == str(n), what
    text = out.read_text()
    assert all(a.name in text for a in scenario.areas)  # the recorded scene's areas, named
    assert all(b.id in text for b in scenario.bases)
    # a party's report: its own operations and bases, the tracks its own picture carried
    assert blue.counts["operations"] == sum(o.party == "blue" for o in scenario.operations)
    assert blue.counts["bases"] == sum(b.party == "blue" for b in scenario.bases)
    blue_keys = {k for s in samples if s["viewer"] == "blue" for k in s["key"]}
    assert blue.counts["tracks"] == len(blue_keys) > 0
    assert len(blue.track_trails) == len(blue_keys)
