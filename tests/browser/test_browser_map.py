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
    keys, ids = page.evaluate(  # one picture: read both columns at once
        "(() => { const t = window.deconflict.tracks(); return [t.key, t.identity]; })()"
    )
    # Blue's own sortie aircraft are on Blue's map as its own; airliners as declared (civil)
    own = {k.split("/", 1)[1] for k, i in zip(keys, ids, strict=True) if i == "own"}
    assert {"VIPER11", "TEXACO51", "REAPER01"} <= own
    assert page.inner_text("#whoami") == "Blue air operations centre"
    assert re.match(r"\d+ tracks", page.inner_text("#track-count"))
    # the basemap is drawn (Natural Earth countries as vector paths), the shared area outlined
    assert page.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").count() > 0
    # the log's latest signed checkpoint and who cosigned it (nobody witnesses in the demo)
    page.wait_for_function(
        "document.getElementById('log-checkpoint').textContent.startsWith('log checkpoint')"
    )
    assert re.match(
        r"log checkpoint \d+: cosigned by nobody yet", page.inner_text("#log-checkpoint")
    )
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
    track_key = blue.page.evaluate("window.deconflict.state.requests[0].track_id")
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
    open_page: Callable[[str], Any], artifacts_dir: Path, live: LiveServer, tmp_path: Path
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
    assert "key=" not in blue.page.url  # the login link's key left the address bar
    # the pages signed the message and the acknowledgement with the parties' keys: the exported
    # log verifies offline with every party's own signature checked
    from deconflict.hotline.jsonl import read_log_records
    from deconflict.hotline.keys import KeyRing
    from deconflict.hotline.log import verify_log
    from deconflict.workflows.audit import export_log

    out, keys = tmp_path / "log.jsonl", tmp_path / "keys.json"
    export_log(live.app.state.store, out, keys)
    records = list(read_log_records(out))
    report = verify_log(records, KeyRing.load(keys))
    assert report.ok, report.first_bad
    signed = {
        (r["payload"]["sender"], r["payload"]["kind"])
        for r in records
        if r["kind"] == "message" and "client_signature" in r["payload"]
    }
    assert {("blue", "free_text"), ("red", "acknowledgement")} <= signed
    text = next(
        r for r in records if r["payload"].get("body", {}).get("text", "").startswith("Blue")
    )
    text["payload"]["body"]["text"] = "Blue to Red: VIPER flight descending"
    bad = verify_log(records, KeyRing.load(keys)).first_bad
    assert bad is not None and bad.seq == text["seq"]


CANONICAL_CASES: list[Any] = [
    {"b": 1, "a": [True, False, None], "é": "x", "a\u00e9": 2, "\U0001f600": 3, "\uffff": 4},
    {"text": 'quote " backslash \\ newline \n tab \t ctrl \u0001 del \u007f \u2028 ☃ 😀'},
    {"nested": {"z": [1, 2.5, -0.001, 123456.789, 1e-7, 1e22, 0.1 + 0.2]}, "n": -17},
]
FLOATS = [0.0, -0.0, 1.0, 1700000000.0, 1732540000.123456, 0.0001, 0.00001, 1e15, 1e16, 2.5e16,
          1e21, 1e22, 1.5e-7, -3.25, 123456789.5, 5e-324, 1.7976931348623157e308]  # fmt: skip


def test_the_pages_canonical_json_is_rfc8785_as_pythons_byte_for_byte(
    open_page: Callable[[str], Any],
) -> None:
    import json

    from deconflict.hotline.authorship import acknowledgement_content, message_content
    from deconflict.hotline.canonical import canonical_json
    from deconflict.hotline.messages import make_message

    page = open_page("blue").page
    for case in CANONICAL_CASES:
        got = page.evaluate("(v) => DeconflictSign.canonicalJson(v)", case)
        assert got.encode() == canonical_json(case), case
    # numbers as RFC 8785 writes them (ECMAScript's), on the page (npm canonicalize) and in
    # Python (rfc8785): whole floats as integers, no float emulation needed any more
    texts = page.evaluate("(xs) => xs.map((x) => DeconflictSign.canonicalJson(x))", FLOATS)
    assert [t.encode() for t in texts] == [canonical_json(x) for x in FLOATS]
    assert page.evaluate("() => DeconflictSign.canonicalJson(1.0)") == "1"
    message = make_message("free_text", "blue", ["red", "civil"], {"text": "hi"}, time_s=1.7e9)
    got = page.evaluate(
        "() => DeconflictSign.canonicalJson(DeconflictSign.messageContent("
        "'blue', ['red', 'civil'], 'free_text', {text: 'hi'}, 1.7e9))"
    )
    assert got.encode() == canonical_json(message_content(message))
    got = page.evaluate(
        "() => DeconflictSign.canonicalJson(DeconflictSign.acknowledgementContent('m1', 'red', 12))"
    )
    assert json.loads(got) == acknowledgement_content("m1", "red", 12)
    assert got.encode() == canonical_json(acknowledgement_content("m1", "red", 12))
