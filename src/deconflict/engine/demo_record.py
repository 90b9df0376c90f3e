"""What the demo records in its store besides the engine's decisions, so that a report read
from the store alone (``deconflict sitrep --db``) shows what the served demo shows, headless or
served (degrees WGS84, times Unix s):

- the scenario's operations, declared through the deconfliction workflow as their parties
  (``declare_operations``; the served demo does it when its app starts);
- its scene: one ``scene`` entry (bases, areas, the parties' colours), addressed to every party
  (the map shows every party the same scene);
- samples of the pictures: a ``picture.sample`` entry every ``SAMPLE_EVERY_S`` for each party
  (its picture as it may see it, under the procedures' track sharing, addressed to it) and one
  for the host (every party's own aircraft, addressed to no party): the light trails of the
  situation report.

``record_demo(session, settings)`` does all three for a session (``Session.on_tick``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from deconflict.errors import DeconflictError
from deconflict.hotline.keys import Signer
from deconflict.settings import Settings
from deconflict.sim.scenario import Scenario
from deconflict.strategic.model import Operation, parse_operation
from deconflict.workflows.declarations import Signed, signed_declaration
from deconflict.workflows.deconfliction import Deconflictor, buffers_for
from deconflict.workflows.disclosure import Disclosure

if TYPE_CHECKING:
    from deconflict.engine.session import Session

log = logging.getLogger(__name__)

SCENE = "scene"
PICTURE_SAMPLE = "picture.sample"
SAMPLE_EVERY_S = 30.0
HOST = "host"


def _volume(spec: Any, scenario: Scenario) -> dict[str, Any]:
    return {  # GeoJSON order; the store closes the ring and makes it counter-clockwise
        "polygon": [[[lon, lat] for lat, lon in spec.polygon]],
        "altitude_lower": {"value": spec.floor_ft, "units": "ft"},
        "altitude_upper": {"value": spec.ceiling_ft, "units": "ft"},
        "time_start": scenario.time(spec.start_s).isoformat(),
        "time_end": scenario.time(spec.end_s).isoformat(),
    }


def _candidate(owner: str, contact: str, volume: dict[str, Any], priority: int) -> Operation:
    return parse_operation(
        {"id": "new", "owner": owner, "contact": contact, "volumes": [volume],
         "priority": priority, "aircraft_ids": [], "state": "Accepted"}
    )  # fmt: skip


def declare_operations(
    deconflictor: Deconflictor,
    scenario: Scenario,
    ids: Mapping[str, str],
    signers: Mapping[str, Signer],
) -> dict[str, str]:
    """Declare ``scenario``'s operations in ``deconflictor``'s store as their parties (``ids``:
    scenario party -> store party id; each signed with its party's key in ``signers`` where
    there is one). They are meant to meet (that is what need-to-know shows): each is planned at
    a higher priority than those before it, under the priority procedure, and presents the
    tokens of those before it. Returns store id -> the scenario's name of each declared."""
    store = deconflictor.store
    settings = deconflictor.settings.replace(conflict_rule="accept-by-priority")
    rules = Deconflictor(settings, store, deconflictor.shared_view)
    names: dict[str, str] = {}
    tokens: list[str] = []
    for rank, spec in enumerate(scenario.operations):
        party = store.get_party(ids[spec.party])
        candidate = _candidate(party.id, party.contact, _volume(spec, scenario), rank)
        signed = None
        if spec.party in signers:
            body = {"volumes": list(candidate.volumes), "priority": rank}
            s = signed_declaration(signers[spec.party], party.name, body, time_s=time.time())
            signed = Signed(s["time_s"], s["signature"], s["key_id"])
        try:
            record = rules.write(party, candidate, tokens, signed=signed)
        except DeconflictError as exc:
            log.warning("the demo could not declare operation %s: %s", spec.id, exc)
            continue
        tokens.append(record.token)
        names[record.id] = spec.id
    return names


def scene_payload(scenario: Scenario, now_s: float) -> dict[str, Any]:
    """The ``scene`` entry: bases and areas in degrees (rings of [lon, lat]), colours."""
    return {
        "time_s": now_s,
        "scenario": scenario.name,
        "colours": {p.id: p.colour for p in scenario.parties},
        "bases": [
            {"id": b.id, "name": b.name, "party": b.party, "lat": b.lat, "lon": b.lon}
            for b in scenario.bases
        ],
        "areas": [
            {"name": a.name, "kind": a.kind, "ring": [[lon, lat] for lat, lon in a.polygon]}
            for a in scenario.areas
        ],
    }


def sample_payload(picture: pd.DataFrame, viewer: str, now_s: float) -> dict[str, Any]:
    """A ``picture.sample`` entry: the placed tracks of ``picture`` as columns (degrees)."""
    lon = picture["longitude"].to_numpy(float) if len(picture) else np.zeros(0)
    lat = picture["latitude"].to_numpy(float) if len(picture) else np.zeros(0)
    placed = np.isfinite(lon) & np.isfinite(lat)
    rows = picture[placed]

    def text(column: str) -> list[str]:
        if column not in rows:
            return [""] * len(rows)
        return ["" if v is None or v != v else str(v) for v in rows[column]]

    return {
        "time_s": now_s,
        "viewer": viewer,
        "key": text("key"),
        "owner": text("owner"),
        "label": text("label"),
        "lon": np.round(lon[placed], 5).tolist(),
        "lat": np.round(lat[placed], 5).tolist(),
    }


class DemoRecorder:
    """A session hook (``Session.on_tick``): the scene once, then the pictures' samples."""

    def __init__(self, every_s: float = SAMPLE_EVERY_S) -> None:
        self.every_s = every_s
        self.last_s = -math.inf
        self.scene_written = False

    def __call__(self, session: Session) -> None:
        engine = session.engine
        desk, now = engine.desk, float(engine.now_s)
        if not self.scene_written and session.scenario is not None:
            desk.append(SCENE, scene_payload(session.scenario, now), list(desk.ids))
            self.scene_written = True
        if now - self.last_s < self.every_s - 1e-9:
            desk.flush()
            return
        self.last_s = now
        own = []
        for party in engine.parties:
            desk.append(PICTURE_SAMPLE, sample_payload(engine.view(party), party, now), (party,))
            pic = engine.picture(party)
            if len(pic):
                own.append(pic[(pic["identity"] == "own").to_numpy()].assign(owner=party))
        host = pd.concat(own, ignore_index=True) if own else engine.picture(engine.parties[0])[:0]
        desk.append(PICTURE_SAMPLE, sample_payload(host, HOST, now), ())
        desk.flush()


def record_demo(session: Session, settings: Settings) -> None:
    """Declare the session's scenario's operations in its store (the demo plays every party)
    and record its scene and picture samples as it runs."""
    desk = session.engine.desk
    if session.scenario is not None:
        store = desk.store
        disclosure = Disclosure(store, buffers_for(settings))
        deconflictor = Deconflictor(settings, store, disclosure.describe)
        declare_operations(deconflictor, session.scenario, desk.ids, desk.signers)
    session.on_tick.append(DemoRecorder())
