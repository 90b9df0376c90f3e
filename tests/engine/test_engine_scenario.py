"""The built-in scenario through the live engine: the conflict is alerted before separation is
lost and resolved, the unknown track is identified over the hotline, the close approach becomes
an incident. Checked against the simulator's truth, not against the engine's own figures; what
the engine decided is read back from the log entries it wrote through the store's workflows."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from deconflict.engine.engine import Engine
from deconflict.geo import distance_m
from deconflict.sim.crews import Crews
from deconflict.sim.scenario import Scenario, load_scenario
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource
from deconflict.store import Event

DURATION_S = 800
NM = 1852.0


@dataclass
class Run:
    scenario: Scenario
    engine: Engine
    events: list[Event]
    truth: pd.DataFrame
    red_pictures: dict[int, pd.DataFrame]


def _min_separation(truth: pd.DataFrame, a: str, b: str) -> tuple[float, float, float]:
    """(time s, horizontal NM, vertical ft) of the pair's closest approach in truth (slant)."""
    A = truth[truth["id"] == a]
    B = truth[truth["id"] == b]
    j = A.merge(B, on="t", suffixes=("_a", "_b")).set_index("t")
    h = distance_m(j["latitude_a"], j["longitude_a"], j["latitude_b"], j["longitude_b"])
    v_ft = (j["altitude_a"] - j["altitude_b"]).abs().to_numpy()
    lost = (h < 5 * NM) & (v_ft < 999)
    k = int(np.argmin(np.hypot(h, v_ft * 0.3048)))
    return float(j.index[k]), float(h[k] / NM), float(v_ft[k]) if not lost.any() else -1.0


@pytest.fixture(scope="module")
def run() -> Run:
    sc = load_scenario()
    sim = Simulator(sc)
    source = SimSource(sim)
    engine = Engine(
        [p.id for p in sc.parties], [source], fleets=source.fleets(), hooks=[Crews(sim)]
    )
    truth, red, events = [], {}, []
    for t in range(1, DURATION_S + 1):
        events += engine.tick(sc.time(t))
        truth.append(sim.truth().assign(t=t))
        if t in (20, 200):
            red[t] = engine.picture("red").copy()
    events += engine.finish()
    return Run(sc, engine, events, pd.concat(truth, ignore_index=True), red)


def _first(events: list[Event], entry_kind: str, **match: object) -> Event | None:
    for e in events:
        if e.kind == entry_kind and all(e.payload.get(k) == v for k, v in match.items()):
            return e
    return None


def _recipients(run: Run, e: Event) -> set[str]:
    store = run.engine.desk.store
    names = {p.id: p.name for p in store.list_parties()}
    from deconflict.store import hotline as log

    return {names.get(i, i) for i in log.recipients_of(store, e.seq)}


@pytest.mark.slow
def test_conflict_is_alerted_before_loss_and_resolved(run: Run) -> None:
    blue = _first(run.events, "alert.raised", own_aircraft="VIPER11")
    red = _first(run.events, "alert.raised", own_aircraft="FALCON21")
    assert blue is not None and red is not None
    assert _recipients(run, blue) == {"blue"} and _recipients(run, red) == {"red"}
    # Without the resolution the two would have collided: fly the scenario with nobody reacting.
    alone = Simulator(run.scenario)
    frames = []
    for t in range(1, 480):
        alone.advance(t)
        frames.append(alone.truth().assign(t=t))
    _, h0, _ = _min_separation(pd.concat(frames), "VIPER11", "FALCON21")
    assert h0 < 1.0
    # The alert came minutes before the loss that would have happened ...
    assert blue.payload["t_in_s"] > 120
    assert blue.payload["resolution"]["manoeuvre"].startswith("turn")
    # ... and with the resolution flown, separation was never lost in truth.
    _, h, v = _min_separation(run.truth, "VIPER11", "FALCON21")
    assert v != -1.0 and h >= 5.0
    cleared = [e for e in run.events if e.kind == "alert.cleared"
               and e.payload["alert_id"] == blue.payload["alert_id"]]  # fmt: skip
    assert cleared and cleared[0].payload["time_s"] > blue.payload["time_s"]
    # a conflict notice went to both parties over the hotline, with the resolution
    notices = [e for e in run.events if e.kind == "message"
               and e.payload["kind"] == "conflict_notice"]  # fmt: skip
    assert {e.payload["to"][0] for e in notices} >= {"blue", "red"}
    assert any("turn" in e.payload["body"].get("resolution", "") for e in notices)


@pytest.mark.slow
def test_unknown_track_is_identified_over_the_hotline(run: Run) -> None:
    entry = _first(run.events, "message", kind="identification_request")
    assert entry is not None and entry.payload["sender"] == "host"
    req = entry.payload["body"]
    assert req["observer"] == "red" and "red" not in entry.payload["recipients"]
    assert set(entry.payload["recipients"]) == {"blue", "civil"}
    # the request is about the drone: its reported position is where REAPER01 truly was
    t = round(req["created_s"] - run.scenario.start.value / 1e9)
    drone = run.truth[(run.truth["id"] == "REAPER01") & (run.truth["t"] == t)].iloc[0]
    pos = req["position"]
    d = distance_m(pos["latitude"], pos["longitude"], drone["latitude"], drone["longitude"])
    assert d < 2000
    # red's picture: unknown (or pending) before, declared as blue's REAPER01 after the answer
    before = run.red_pictures[20]
    after = run.red_pictures[200]
    no_id = before[before["icao24"].isna()]
    assert len(no_id) == 1 and no_id["identity"].iloc[0] in ("unknown", "pending")
    row = after[after["key"] == req["track_id"]].iloc[0]
    assert (row["identity"], row["owner"], row["aircraft"]) == ("declared", "blue", "REAPER01")
    resolved = _first(run.events, "identification.resolved")
    assert resolved is not None and resolved.payload["outcome"] == "declared"
    # the outcome reaches the observer and the claimant (and the host), not the civil party
    assert _recipients(run, resolved) == {"red", "blue", "host"}
    answer = [e for e in run.events if e.kind == "message"
              and e.payload["kind"] == "identification_answer"]  # fmt: skip
    assert answer and answer[0].payload["sender"] == "blue"
    assert "client_signature" in answer[0].payload  # signed with Blue's key by its crew


@pytest.mark.slow
def test_close_approach_becomes_an_incident(run: Run) -> None:
    incidents = [e for e in run.events if e.kind == "incident"]
    assert len(incidents) == 1
    from deconflict.incidents.record import Incident

    record = Incident.from_dict({k: v for k, v in incidents[0].payload.items() if k != "by"})
    inc = record.summary()
    assert sorted(inc["aircraft"]) == ["FALCON23", "TEXACO51"]
    assert inc["kind"] == "loss_of_separation"
    t, h_nm, _ = _min_separation(run.truth, "FALCON23", "TEXACO51")
    # the recorded closest approach agrees with the truth within the sensors' accuracy
    assert abs(inc["horizontal_m"] / NM - h_nm) < 0.3
    assert abs(inc["time_s"] - (run.scenario.start.value / 1e9 + t)) < 20
    assert record.alerts  # the alerts that came before it are in the report
    assert _recipients(run, incidents[0]) == {"blue", "red", "host"}
    # the report the map opens
    from deconflict.incidents.report import render_incident_html

    html = render_incident_html(record)
    assert "FALCON23" in html and "TEXACO51" in html


@pytest.mark.slow
def test_every_event_is_json_and_the_tick_is_cheap(run: Run) -> None:
    for e in run.events:
        json.dumps(e.payload, allow_nan=False)
    stats = run.engine.stats.summary()
    assert stats["ticks"] == DURATION_S
    assert stats["p50_s"] < 0.5  # 12 aircraft: far under a 1 Hz budget even on a busy machine
