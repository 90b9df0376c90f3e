"""The demo through the real path: the simulated sensors send Beast, ASTERIX CAT048 and SBS over
loopback into the feed client a real site uses (``deconflict.sim.wire``), and the engine, fed
only by the decoders, makes the same scripted decisions as on the in-memory path: the conflict
alerted and resolved, the unknown track identified over the hotline, the close approach an
incident, each at the same second. What comes off the wire is checked against what the
simulator reported, within each format's resolution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deconflict.engine.engine import Engine
from deconflict.geo import distance_m
from deconflict.sim.crews import Crews
from deconflict.sim.scenario import load_scenario
from deconflict.sim.simulator import Simulator
from deconflict.sim.source import SimSource
from deconflict.sim.wire import WireSimSource
from deconflict.store import Event
from deconflict.surveillance.feed_urls import parse_feed

DURATION_S = 800
DECISIONS = ("alert.raised", "alert.updated", "alert.cleared", "incident",
             "identification.resolved", "message")  # fmt: skip


def _decisions(wire: bool) -> list[tuple[str, int, object]]:
    sc = load_scenario()
    sim = Simulator(sc)
    memory = SimSource(sim)
    source = WireSimSource(lambda: sim) if wire else memory
    engine = Engine(
        [p.id for p in sc.parties], [source], fleets=memory.fleets(), hooks=[Crews(sim)]
    )
    events: list[Event] = []
    try:
        for t in range(1, DURATION_S + 1):
            events += engine.tick(sc.time(t))
        events += engine.finish()
    finally:
        if isinstance(source, WireSimSource):
            source.close()
    start = sc.start.value / 1e9
    return [
        (e.kind, round(float(e.payload.get("time_s", start)) - start),
         e.payload.get("level") or e.payload.get("outcome") or e.payload.get("kind"))
        for e in events
        if e.kind in DECISIONS
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(1800)  # two 800 s runs of the engine: minutes on a shared 2-core machine
def test_wire_path_makes_the_scripted_decisions_of_the_memory_path() -> None:
    memory, wire = _decisions(False), _decisions(True)
    kinds = {k for k, _, _ in memory}
    # the scripted story is there: the conflict, the identification, the incident
    assert {"alert.raised", "alert.cleared", "incident", "identification.resolved"} <= kinds
    assert sorted(wire, key=repr) == sorted(memory, key=repr)


@pytest.fixture(scope="module")
def short_run() -> tuple[WireSimSource, pd.DataFrame]:
    sc = load_scenario()
    sim = Simulator(sc)
    wire = WireSimSource(lambda: sim, record=True)
    got = []
    try:
        for t in range(1, 61):
            got.append(wire.poll(sc.time(t)))
    finally:
        wire.close()
    return wire, pd.concat(got, ignore_index=True)


def test_every_frame_sent_is_decoded_without_error(
    short_run: tuple[WireSimSource, pd.DataFrame],
) -> None:
    wire, _ = short_run
    for status, sensor in zip(wire.feeds.status(), wire.sensors, strict=True):
        counts = status["counts"]
        assert counts["frames"] == sensor.sent > 0
        assert counts.get("errors", 0) == 0 and counts.get("dropped_reports", 0) == 0
        assert counts["connections"] == 1


def _joined(wire: WireSimSource, got: pd.DataFrame, sensor: str) -> pd.DataFrame:
    truth = pd.concat(wire.encoded[sensor], ignore_index=True)
    mine = got[(got["sensor"] == sensor) & got["latitude"].notna()]
    key = ["t_ms", "callsign_key"]
    truth = truth.assign(t_ms=truth["timestamp"].astype("int64") // 10**6,
                         callsign_key=truth["icao24"].fillna(truth["callsign"]))  # fmt: skip
    mine = mine.assign(t_ms=mine["timestamp"].astype("int64") // 10**6,
                       callsign_key=mine["icao24"])  # fmt: skip
    return truth.merge(mine, on=key, suffixes=("", "_wire"))


def test_adsb_positions_and_identity_off_the_wire(
    short_run: tuple[WireSimSource, pd.DataFrame],
) -> None:
    wire, got = short_run
    j = _joined(wire, got, "civil-adsb")
    truth = pd.concat(wire.encoded["civil-adsb"], ignore_index=True)
    assert len(j) >= 0.95 * len(truth)  # a first position before its pair may be held back
    d = distance_m(j["latitude"], j["longitude"], j["latitude_wire"], j["longitude_wire"])
    assert np.max(d) < 6.0  # a 17-bit CPR cell
    assert (j["altitude"] == j["altitude_wire"]).all()  # 25 ft steps, as the simulator made
    adsb = got[got["sensor"] == "civil-adsb"]
    named = adsb.dropna(subset=["callsign"]).groupby("icao24")["callsign"].first()
    expect = truth.dropna(subset=["icao24"]).groupby("icao24")["callsign"].first()
    assert named.to_dict() == expect.to_dict()
    squawks = adsb.dropna(subset=["squawk"]).groupby("icao24")["squawk"].first()
    assert (
        squawks.to_dict()
        == truth.dropna(subset=["icao24"]).groupby("icao24")["squawk"].first().to_dict()
    )
    moving = adsb.dropna(subset=["groundspeed"])
    assert len(moving) > 0 and moving["latitude"].isna().all()  # velocity: reports of their own


def test_links_and_radars_off_the_wire(short_run: tuple[WireSimSource, pd.DataFrame]) -> None:
    wire, got = short_run
    for sensor, tolerance_m in (("blue-link", 1.2), ("red-radar", 25.0), ("civil-ssr", 25.0)):
        truth = pd.concat(wire.encoded[sensor], ignore_index=True)
        mine = got[got["sensor"] == sensor].reset_index(drop=True)
        assert len(mine) == len(truth)
        order = np.lexsort((truth["latitude"].round(3), truth["timestamp"].astype("int64")))
        mine_order = np.lexsort((mine["latitude"].round(3), mine["timestamp"].astype("int64")))
        a, b = (
            truth.iloc[order].reset_index(drop=True),
            mine.iloc[mine_order].reset_index(drop=True),
        )
        d = distance_m(a["latitude"], a["longitude"], b["latitude"], b["longitude"])
        assert np.max(d) < tolerance_m
        assert np.allclose(a["altitude"], b["altitude"], atol=12.5)
        assert (a["squawk"].fillna("") == b["squawk"].fillna("")).all()


def test_feed_urls_carry_the_clock_and_the_hold() -> None:
    spec = parse_feed("beast+tcp://127.0.0.1:30005?clock=gps&hold_ms=0")
    assert (spec.clock, spec.hold_s) == ("gps", 0.0)
    assert parse_feed(spec.url()) == spec
    assert parse_feed("tcp://127.0.0.1:30005").clock == "receiver"
    from deconflict.errors import InputError

    with pytest.raises(InputError, match="clock"):
        parse_feed("beast+tcp://127.0.0.1:30005?clock=atomic")
    with pytest.raises(InputError, match="hold_ms"):
        parse_feed("beast+tcp://127.0.0.1:30005?hold_ms=soon")


def test_a_new_cycle_of_traffic_goes_on_over_the_same_feeds() -> None:
    """The served demo starts its traffic again at the scenario's end with a fresh simulator
    (shifted to start then): the wire source follows it on the same connections."""
    import dataclasses

    sc = load_scenario()
    sims = [Simulator(sc)]
    wire = WireSimSource(lambda: sims[-1])
    try:
        for t in range(1, 21):
            wire.poll(sc.time(t))
        later = dataclasses.replace(sc, start=sc.time(20))
        sims.append(Simulator(later))
        got = pd.concat([wire.poll(later.time(t)) for t in range(1, 21)], ignore_index=True)
    finally:
        wire.close()
    assert len(got) > 100 and (got["timestamp"] > sc.time(20)).all()
    for status in wire.feeds.status():
        assert status["counts"]["connections"] == 1 and status["counts"].get("errors", 0) == 0


def test_headless_demo_on_the_wire(tmp_path: object) -> None:
    import json

    from typer.testing import CliRunner

    from deconflict.cli import app

    result = CliRunner().invoke(
        app, ["demo", "--headless", "--duration", "30", "--sensors", "wire"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    feeds = {f["url"].split("+")[0]: f["counts"] for f in summary["feeds"]}
    assert set(feeds) == {"beast", "asterix", "sbs"}
    assert all(c["frames"] > 0 and c.get("errors", 0) == 0 for c in feeds.values())
    bad = CliRunner().invoke(app, ["demo", "--headless", "--sensors", "radio"])
    assert bad.exit_code != 0 and "--sensors" in bad.output
