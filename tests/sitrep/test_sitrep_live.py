"""The sitrep endpoint of the demo app draws the caller's live picture, bases and scenario
operations besides the log's entries: its counts match the engine's own picture and scenario."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from deconflict import sitrep
from deconflict.service.live_app import live_app


def _counts(png: bytes) -> dict[str, int]:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return dict(json.loads(image.info["sitrep-counts"]))


def test_demo_sitrep_counts_the_live_picture(tmp_path: Path) -> None:
    app, session = live_app(scenario=None, db=f"sqlite:///{tmp_path / 'live.db'}")
    with TestClient(app) as client:
        for _ in range(95):  # the first conflict alerts come at about 88 s
            session.step(1.0)
        scenario = session.scenario
        assert scenario is not None
        for name, token in app.state.demo_tokens.items():
            r = client.get("/v1/sitrep.png", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            counts = _counts(r.content)
            picture = session.engine.picture(name)
            placed = np.isfinite(picture["longitude"].to_numpy(float)) & np.isfinite(
                picture["latitude"].to_numpy(float)
            )
            assert counts["tracks"] == int(placed.sum()), name
            assert counts["bases"] == sum(b.party == name for b in scenario.bases), name
            assert counts["operations"] == sum(o.party == name for o in scenario.operations)
            # each raised alert is logged once per party it was raised for (area: "area")
            alerts = [e.payload for e in session.engine.desk.entries_since_start("alert.raised")]
            assert counts["alerts"] == sum(a["party"] == name for a in alerts), name
        assert sum(int(len(session.engine.picture(n)) > 0) for n in app.state.demo_tokens) >= 2
        assert alerts, "the scenario's first conflicts were not reached: the check is vacuous"
        # the store alone (``deconflict sitrep --db``, no live session) draws the same scene:
        # the operations declared, the bases of the scene entry, the tracks of the samples
        alone = sitrep.collect(app.state.store)
        assert alone.counts["operations"] == len(scenario.operations)
        assert alone.counts["bases"] == len(scenario.bases)
        own = sum(
            int((session.engine.picture(n)["identity"] == "own").sum()) for n in alone.parties
        )
        assert 0 < own <= alone.counts["tracks"]
        assert {a[0] for a in alone.areas} == {a.name for a in scenario.areas}
