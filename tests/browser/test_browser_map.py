"""The map page in real headless Chromium against the demo app: tracks, a conflict that
appears and clears, an identification answered on the page, a hotline message and its
acknowledgement. Screenshots are kept in the test's artifacts folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

Page = Any


def test_page_loads_clean_and_shows_the_demo_tracks(
    open_page: Callable[[str], Any], live: LiveServer, artifacts_dir: Path
) -> None:
    blue = open_page("blue")
    page = blue.page
    page.wait_for_function("window.deconflict.tracks().key.length >= 6", timeout=30_000)
    keys = page.evaluate("window.deconflict.tracks().key")
    ids = page.evaluate("window.deconflict.tracks().identity")
    # Blue's own sortie aircraft are on Blue's map as its own; airliners as declared (civil)
    own = {k.split("/", 1)[1] for k, i in zip(keys, ids, strict=True) if i == "own"}
    assert {"VIPER11", "TEXACO51", "REAPER01"} <= own
    assert page.inner_text("#whoami") == "Blue air operations centre"
    assert re.match(r"\d+ tracks", page.inner_text("#track-count"))
    # the basemap is drawn (Natural Earth countries as vector paths), the shared area outlined
    assert page.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").count() > 0
    page.screenshot(path=str(artifacts_dir / "blue-picture.png"))
    assert blue.errors == []


def test_conflict_appears_with_resolution_and_clears(
    open_page: Callable[[str], Any], artifacts_dir: Path
) -> None:
    red = open_page("red")
    page = red.page
    alert = page.locator("#alerts li[data-kind=conflict]")
    alert.first.wait_for(timeout=60_000)
    text = alert.first.inner_text()
    assert "FALCON21" in text and "loss of separation in" in text
    assert re.search(r"turn (left|right) heading \d{3}", text)
    page.screenshot(path=str(artifacts_dir / "red-conflict.png"))
    page.wait_for_function(
        "document.querySelectorAll('#alerts li[data-kind=conflict]').length === 0",
        timeout=60_000,
    )
    page.screenshot(path=str(artifacts_dir / "red-conflict-cleared.png"))
    assert red.errors == []


def test_identification_answered_on_the_page_changes_identity_for_everyone(
    open_page: Callable[[str], Any], artifacts_dir: Path
) -> None:
    red = open_page("red")
    blue = open_page("blue")
    request = blue.page.locator("#requests li[data-request-id]")
    request.first.wait_for(timeout=60_000)
    track_key = blue.page.evaluate("window.deconflict.state.picture.requests[0].track_id")
    assert track_key.startswith("red/")
    # before the answer Red sees the drone as unknown or pending
    red.page.wait_for_function(
        f"(window.deconflict.identityOf({track_key!r}) || {{}}).identity !== undefined",
        timeout=30_000,
    )
    before = red.page.evaluate(f"window.deconflict.identityOf({track_key!r})")
    assert before["identity"] in ("unknown", "pending")
    red.page.screenshot(path=str(artifacts_dir / "red-unknown-track.png"))
    request.first.locator(".answer-aircraft").fill("REAPER01")
    request.first.locator(".answer-ours").click()
    red.page.wait_for_function(
        f"(window.deconflict.identityOf({track_key!r}) || {{}}).identity === 'declared'",
        timeout=30_000,
    )
    assert red.page.evaluate(f"window.deconflict.identityOf({track_key!r})")["owner"] == "blue"
    blue.page.wait_for_selector("#requests li[data-outcome=declared]", timeout=30_000)
    red.page.screenshot(path=str(artifacts_dir / "red-declared-track.png"))
    assert red.errors == [] and blue.errors == []


def test_hotline_message_arrives_and_its_acknowledgement_comes_back(
    open_page: Callable[[str], Any], artifacts_dir: Path
) -> None:
    blue = open_page("blue")
    red = open_page("red")
    blue.page.select_option("#hotline-to", "red")
    blue.page.fill("#hotline-text", "Blue to Red: VIPER flight climbing to FL300")
    blue.page.click("#hotline-send")
    incoming = red.page.locator("#messages li[data-kind=free_text][data-outgoing=false]")
    incoming.first.wait_for(timeout=30_000)
    assert "VIPER flight climbing" in incoming.first.inner_text()
    # Red's page fetched it: Blue sees it delivered, then acknowledged once Red clicks
    outgoing = blue.page.locator("#messages li[data-kind=free_text][data-outgoing=true]")
    outgoing.first.locator(".state-delivered, .state-acknowledged").first.wait_for(timeout=30_000)
    incoming.first.locator("button.ack").click()
    outgoing.first.locator(".state-acknowledged").first.wait_for(timeout=30_000)
    assert "acknowledged" in outgoing.first.inner_text()
    blue.page.screenshot(path=str(artifacts_dir / "blue-hotline-acknowledged.png"))
    red.page.screenshot(path=str(artifacts_dir / "red-hotline.png"))
    assert red.errors == [] and blue.errors == []
