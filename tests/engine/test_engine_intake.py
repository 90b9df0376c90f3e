"""Between two ticks the engine takes the reports as they arrive and alerts a conflict of a
track they just confirmed at once (``engine.intake``): the ``alert.raised`` entries are those
the next tick would have written, earlier, and that tick carries the alert on without raising
it again. Read back from the entries written to the store."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deconflict.engine.engine import Engine
from deconflict.engine.session import Session
from deconflict.store import Event
from deconflict.surveillance.report import REPORT_DTYPES
from deconflict.surveillance.source import ReportBuffer

START = pd.Timestamp("2026-06-01T12:00:00Z")
T0_S = START.value / 1e9
FLEETS = {"alpha": {"a00001", "a00002"}, "beta": {"b00001"}}
LAT = 46.0


def _track(party: str, icao24: str, lon0: float, hdg: float, first_s: float, alt_ft: float,
           until_s: float = 40.0) -> pd.DataFrame:  # fmt: skip
    """Once-a-second reports of a 450 kt aircraft flying east (90) or west (270)."""
    t = np.arange(first_s, until_s, 1.0)
    sign = 1.0 if hdg == 90.0 else -1.0
    lon = lon0 + sign * 450.0 * t / 3600.0 / 60.0 / np.cos(np.radians(LAT))
    n = t.size
    return pd.DataFrame(
        {
            "timestamp": START + pd.to_timedelta(t, unit="s"),
            "party": party, "sensor": "adsb", "source": "test", "icao24": icao24,
            "callsign": None, "squawk": None, "track_number": pd.NA,
            "latitude": np.full(n, LAT), "longitude": lon, "altitude": np.full(n, alt_ft),
            "groundspeed": np.full(n, 450.0), "track": np.full(n, hdg),
            "vertical_rate": np.zeros(n), "accuracy_m": np.full(n, 10.0),
        }
    ).astype(REPORT_DTYPES)  # fmt: skip


def _reports(beta_first_s: float = 0.3) -> pd.DataFrame:
    """beta's b00001 flying west from the start; alpha's a00001 head-on at the same level,
    60 NM away, first seen at 10.3 s (confirmed by its third report, at 12.3 s; the tick's
    scene lists alpha's tracks first, the intake's the new one last: the pair comes in the
    other order); alpha's a00002 far away at another level (no conflict)."""
    half = 0.5 / np.cos(np.radians(LAT))
    parts = [
        _track("alpha", "a00001", 8.0 - half, 90.0, 10.3, 30000.0),
        _track("beta", "b00001", 8.0 + half, 270.0, beta_first_s, 30000.0),
        _track("alpha", "a00002", 12.0, 270.0, 0.6, 20000.0),
    ]
    frame = pd.concat(parts, ignore_index=True)
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def _engine(beta_first_s: float = 0.3) -> Engine:
    buffer = ReportBuffer()
    buffer.put(_reports(beta_first_s))
    return Engine(["alpha", "beta"], [buffer], fleets=FLEETS)


def _raised(engine: Engine) -> list[Event]:
    return [e for e in engine.desk.entries_since_start("alert.raised")
            if e.payload["kind"] == "conflict"]  # fmt: skip


def _run(
    intakes: tuple[float, ...], ticks: int = 30, beta_first_s: float = 0.3
) -> tuple[Engine, list[Event]]:
    engine = _engine(beta_first_s)
    events: list[Event] = []
    for t in range(1, ticks + 1):
        events += engine.tick(START + pd.Timedelta(seconds=t))
        for f in intakes:
            engine.intake(START + pd.Timedelta(seconds=t + f))
    return engine, events


def test_a_new_track_in_conflict_is_alerted_before_the_next_tick_and_once() -> None:
    ticks_only, tick_events = _run(())
    with_intakes, events = _run((0.25, 0.5, 0.75))
    before, after = _raised(ticks_only), _raised(with_intakes)
    # the tick alone alerts at 13 s, the first tick after the confirming report (12.3 s)
    assert {e.payload["time_s"] - T0_S for e in before} == {13.0}
    # the intake after that report alerts at 12.5 s, both parties, in one alert
    assert {e.payload["time_s"] - T0_S for e in after} == {12.5}
    assert len(after) == 2 and len({e.payload["alert_id"] for e in after}) == 1
    assert {(e.payload["party"], e.payload["own_aircraft"]) for e in after} == {
        (e.payload["party"], e.payload["own_aircraft"]) for e in before
    }  # the same decision as the tick's: both parties, each its own aircraft
    for a, b in zip(sorted(before, key=lambda e: e.payload["party"]),
                    sorted(after, key=lambda e: e.payload["party"]), strict=True):  # fmt: skip
        assert a.payload.keys() == b.payload.keys()
        assert a.payload["level"] == b.payload["level"]
        assert a.payload["resolution"]["manoeuvre"] == b.payload["resolution"]["manoeuvre"]
        assert abs(a.payload["tcpa_s"] - b.payload["tcpa_s"]) < 1.0  # half a second later
    # the following ticks carry it on: no second raise, the alert still open under its id
    kinds = [e.kind for e in events if e.payload.get("kind") == "conflict"]
    assert kinds.count("alert.raised") == 2 and "alert.cleared" not in kinds
    alert_id = after[0].payload["alert_id"]
    assert [a.alert_id for a in with_intakes.alerts.conflicts.values()] == [alert_id]
    assert with_intakes.intakes.raised == 1

    # the conflict notices are still the tick's: the same messages at the same time
    def notices(events: list[Event]) -> list[tuple[float, object]]:
        return [(e.payload["time_s"] - T0_S, e.payload["to"]) for e in events
                if e.kind == "message" and e.payload["kind"] == "conflict_notice"]  # fmt: skip

    assert notices(events) == notices(tick_events) and notices(events)[0][0] == 13.0


def test_two_tracks_confirmed_between_the_same_two_ticks_are_checked_against_each_other() -> None:
    # beta's aircraft first seen at 10.6 s: confirmed at 12.6 s, after alpha's (12.3 s)
    engine, _ = _run((0.25, 0.5, 0.75), beta_first_s=10.6)
    raised = _raised(engine)
    assert {round(e.payload["time_s"] - T0_S, 3) for e in raised} == {12.75}
    assert len(raised) == 2 and engine.intakes.raised == 1


def test_fast_time_runs_decide_as_before() -> None:
    """Without intakes (fast time) the engine's decisions are the ticks' alone; with them the
    same alerts are raised, once each, and the rest of the log is the same."""
    a, ea = _run((), ticks=40)
    b, eb = _run((0.2, 0.4, 0.6, 0.8), ticks=40)
    assert a.intakes.count == 0 and b.intakes.count == 160
    assert a.summary()["events"] == b.summary()["events"]
    assert [e.kind for e in ea] == [e.kind for e in eb]


def test_the_real_time_loop_alerts_between_its_ticks() -> None:
    engine = _engine()
    session = Session(engine, START, 15.0)
    session.run_realtime(speed=4.0, loop=False)  # 15 ticks in about 4 s
    raised = _raised(engine)
    assert len(raised) == 2
    at_s = raised[0].payload["time_s"] - T0_S
    assert 12.3 < at_s < 13.0  # after the confirming report, before the next tick
    assert engine.intakes.count > 15


def test_a_simulator_is_polled_at_the_ticks_only() -> None:
    """A simulator makes its reports when polled, one step per tick: an intake leaves it (and
    so the demo's traffic and sensors) as the ticks fly it."""
    session = Session.from_scenario()
    session.step(1.0)
    session.step(1.0)
    assert session.simulator is not None and session.simulator.t_s == 2.0
    assert session.engine.intake(session.time(2.5)) == 0
    assert session.simulator.t_s == 2.0
