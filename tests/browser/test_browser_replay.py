"""Replay on the map in Chromium: the tracks move backwards and forwards to where the server
recorded them (interpolated between its recorded pictures), play runs at the chosen speed, the
party's events are listed at their times, and "live" comes back to the live picture."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KEY = "blue/VIPER11"


def _recorded(live: LiveServer, at: float) -> tuple[float, dict[str, Any]]:
    r = httpx.get(
        f"{live.url}/v1/live/picture",
        params={"at": at},
        headers={"Authorization": f"Bearer {live.tokens['blue']}"},
    )
    assert r.status_code == 200, r.text
    pic = r.json()
    t = pic["tracks"]
    i = t["key"].index(KEY)
    return float(pic["time_s"]), {"lat": t["latitude"][i], "lon": t["longitude"][i]}


def _expected(live: LiveServer, at: float, step: float) -> dict[str, float]:
    """The server's recorded positions around ``at``, interpolated as a reader would."""
    ta, a = _recorded(live, at)
    tb, b = _recorded(live, ta + step + 1e-6)
    f = 0.0 if tb <= ta else min(max((at - ta) / (tb - ta), 0.0), 1.0)
    return {k: a[k] + (b[k] - a[k]) * f for k in a}


def _replayed(page: Any, at: float) -> dict[str, float]:
    page.evaluate("(t) => DeconflictMap.replay.seek(t)", at)
    return dict(
        page.evaluate(
            """(key) => { const t = window.deconflict.state.replay.tracks, i = t.key.indexOf(key);
                 return {lat: t.latitude[i], lon: t.longitude[i]}; }""",
            KEY,
        )
    )


def test_replay_moves_backwards_and_forwards_and_returns_to_live(
    open_page: Callable[[str], Any], live: LiveServer, artifacts_dir: Path
) -> None:
    blue = open_page("blue")
    page = blue.page
    headers = {"Authorization": f"Bearer {live.tokens['blue']}"}
    deadline = time.monotonic() + 60
    while True:
        span = httpx.get(f"{live.url}/v1/live/history", headers=headers).json()
        if span["first_s"] is not None and span["last_s"] - span["first_s"] >= 100:
            break
        assert time.monotonic() < deadline, span
        time.sleep(1)
    first, step = span["first_s"], span["step_s"]
    early, late = first + 22.5, first + 87.5  # between two recorded pictures
    page.evaluate("() => DeconflictMap.replay.start()")
    page.evaluate("(k) => DeconflictMap.select.select(k, {frame: false})", KEY)

    at_late = _replayed(page, late)
    assert at_late == pytest.approx(_expected(live, late, step), abs=2e-5)
    at_early = _replayed(page, early)  # backwards
    assert at_early == pytest.approx(_expected(live, early, step), abs=2e-5)
    # VIPER11 flies south-east: earlier is further north-west
    assert at_early["lat"] > at_late["lat"] and at_early["lon"] < at_late["lon"]
    again = _replayed(page, late)  # and forwards again
    assert again == pytest.approx(at_late, abs=1e-9)
    assert page.inner_text("#slider-label").startswith("replay")
    assert float(page.input_value("#slider")) == pytest.approx(late)
    assert page.is_visible("#replay-events")
    # the selection's info panel shows the replayed row (a recorded picture has fewer columns)
    assert "(replay)" in page.inner_text("#info dd[data-field='last update']")
    assert page.inner_text("#info dd[data-field=callsign]") == "VIPER11"
    page.screenshot(path=str(artifacts_dir / "replay.png"))

    # play at x60: a second of play is a minute of the recording
    page.evaluate("(t) => DeconflictMap.replay.seek(t)", early)
    page.evaluate("() => DeconflictMap.replay.play(60)")
    page.wait_for_timeout(1000)
    moved = page.evaluate("DeconflictMap.replay.time()") - early
    assert 20 < moved < 100
    page.evaluate("() => DeconflictMap.replay.pause()")
    paused = page.evaluate("DeconflictMap.replay.time()")
    page.wait_for_timeout(500)
    assert page.evaluate("DeconflictMap.replay.time()") == paused

    page.click("#live-button")
    assert page.evaluate("window.deconflict.state.replay") is None
    assert page.inner_text("#slider-label").startswith("live")
    assert not page.is_visible("#replay-events")
    assert blue.errors == []


def _alert_entries(live: LiveServer, party: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {live.tokens[party]}"}
    r = httpx.get(f"{live.url}/v1/events", params={"after": -1, "limit": 500}, headers=headers)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["events"] if e["kind"].startswith("alert.")]


def test_replay_draws_the_alerts_open_at_the_replayed_time(
    open_page: Callable[[str], Any], live: LiveServer, artifacts_dir: Path
) -> None:
    """The first conflict (VIPER11 / FALCON21, raised at about 87 s, cleared at about 110 s):
    replayed inside it, its line is drawn and it is listed open; before and after, not."""
    blue = open_page("blue")
    page = blue.page
    deadline = time.monotonic() + 90
    while True:  # the server's log: the alert raised, then cleared
        entries = _alert_entries(live, "blue")
        raised = [e for e in entries if e["kind"] == "alert.raised"]
        cleared = {e["payload"]["alert_id"]: e for e in entries if e["kind"] == "alert.cleared"}
        if raised and raised[0]["payload"]["alert_id"] in cleared:
            break
        assert time.monotonic() < deadline, entries
        time.sleep(1)
    alert = raised[0]["payload"]
    t_raised, t_cleared = alert["time_s"], cleared[alert["alert_id"]]["payload"]["time_s"]
    assert t_cleared - t_raised > 10
    # the replay reads the recorded range once, when it starts: wait until the history holds a
    # picture past the times sought below (a time past its end is "live", not a replay)
    headers = {"Authorization": f"Bearer {live.tokens['blue']}"}
    while True:
        r = httpx.get(f"{live.url}/v1/live/history", headers=headers)
        assert r.status_code == 200, r.text
        if (r.json().get("last_s") or 0.0) > t_cleared + 20:
            break
        assert time.monotonic() < deadline + 60, r.json()
        time.sleep(1)
    page.evaluate("() => DeconflictMap.replay.start()")

    def drawn_at(t: float) -> list[str]:
        page.evaluate("(t) => DeconflictMap.replay.seek(t)", t)
        page.wait_for_function(  # a frame drawn since the replayed picture came
            "(t) => window.deconflict.state.replay && window.deconflict.state.replay.time_s === t",
            arg=t,
        )
        page.wait_for_timeout(200)
        return list(page.evaluate("window.deconflict.drawnAlerts()"))

    inside = (t_raised + t_cleared) / 2
    assert drawn_at(inside) == [alert["alert_id"]]
    listed = page.locator(f"#replay-events .open-alert[data-alert-id='{alert['alert_id']}']")
    assert listed.count() == 1 and "VIPER11" in listed.inner_text()
    # the other aircraft is drawn where Blue's replayed picture has a track: within 2 NM
    gap_nm = page.evaluate(
        """(own) => { const r = window.deconflict.state.replay, a = r.alerts[0], t = r.tracks;
             let best = Infinity;
             for (let i = 0; i < t.key.length; i++) {
               if (t.key[i] === own) continue;
               best = Math.min(best, DeconflictMap.rangeBearing(a.other.latitude, a.other.longitude,
                                                               t.latitude[i], t.longitude[i]).nm);
             }
             return best; }""",
        alert["own_key"],
    )
    assert gap_nm < 2.0, gap_nm
    page.screenshot(path=str(artifacts_dir / "replay-alert.png"))
    assert drawn_at(t_raised - 20) == []  # before it was raised
    assert page.locator("#replay-events .open-alert").count() == 0
    assert drawn_at(t_cleared + 10) == []  # after it was cleared
    assert drawn_at(inside) == [alert["alert_id"]]  # and back again
    page.click("#live-button")
    assert blue.errors == []
