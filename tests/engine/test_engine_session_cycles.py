"""The served demo keeps a live picture past the scenario's end: its traffic starts again."""

from __future__ import annotations

import dataclasses
import time

import pytest

from deconflict.engine.session import Session
from deconflict.errors import InputError
from deconflict.sim.scenario import load_scenario


def _short(duration_s: float) -> Session:
    return Session.from_scenario(dataclasses.replace(load_scenario(None), duration_s=duration_s))


def _own(session: Session, party: str) -> set[str]:
    pic = session.engine.picture(party)
    return set(pic.loc[pic["identity"] == "own", "label"])


def test_realtime_loop_starts_the_traffic_again_at_the_scenario_end() -> None:
    session = _short(30.0)
    ticker = session.start_thread(speed=500.0)  # as `deconflict demo` serves it
    try:
        deadline = time.monotonic() + 120
        while session.t_s < 75.0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ticker.is_alive()  # still ticking past the scenario's end
    finally:
        session.stop.set()
        ticker.join(timeout=30)
    assert session.t_s >= 75.0 and session.cycle >= 2
    assert session.cycle_start_s == pytest.approx(30.0 * session.cycle)
    # the new cycle's aircraft are flying and seen: Blue's sortie is on its map again
    assert {"VIPER11", "TEXACO51", "REAPER01"} <= _own(session, "blue")
    assert session.simulator is not None and 0 < session.simulator.t_s <= 30.0
    # the engine's time went on (no tick back in time), and its source is the new simulator
    assert session.engine.now_s == pytest.approx(session.time(session.t_s).value / 1e9)
    assert any(getattr(s, "sim", None) is session.simulator for s in session.engine.sources)
    assert session.crews is not None and session.crews.sim is session.simulator
    assert session.crews in session.engine.hooks


def test_without_loop_it_stops_at_the_end_and_a_replay_cannot_cycle() -> None:
    session = _short(10.0)
    ticker = session.start_thread(speed=500.0, loop=False)
    ticker.join(timeout=60)
    assert not ticker.is_alive() and session.t_s == pytest.approx(10.0) and session.cycle == 0
    replay = dataclasses.replace(session, scenario=None, simulator=None)
    with pytest.raises(InputError, match="not a replay"):
        replay.new_cycle()
