"""The duty officer's map in Chromium against the demo: selecting a track from the map, the table
and an alert; filters that change the map, the table and the counts alike; a link that restores the
same view in a fresh page; the shortcuts; measuring against an independent geodesic; the altitude
colours under a colour-vision-deficiency simulator; no console errors."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from browser_live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _track(live: LiveServer, party: str, key: str) -> dict[str, Any]:
    r = httpx.get(
        f"{live.url}/v1/live/track",
        params={"key": key},
        headers={"Authorization": f"Bearer {live.tokens[party]}"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _click_track(page: Any, key: str) -> None:
    """Click the map where the page draws ``key`` (its container point, plus the map's offset)."""
    xy = page.evaluate(
        """(key) => { const t = window.deconflict.tracks(), i = t.key.indexOf(key);
             const p = window.deconflict.map.latLngToContainerPoint([t.latitude[i], t.longitude[i]]);
             const r = document.getElementById('map').getBoundingClientRect();
             return [r.left + p.x, r.top + p.y]; }""",
        key,
    )
    page.mouse.click(xy[0], xy[1])


def test_select_from_the_map_the_table_and_an_alert(
    open_page: Callable[[str], Any], live: LiveServer, artifacts_dir: Path
) -> None:
    blue = open_page("blue")
    page = blue.page
    page.wait_for_function("DeconflictMap.indexOf('blue/VIPER11') >= 0", timeout=30_000)
    page.evaluate("() => { window.deconflict.map.setView([36.3, 37.2], 9); }")
    page.wait_for_timeout(300)
    _click_track(page, "blue/VIPER11")
    page.wait_for_function("DeconflictMap.view.select === 'blue/VIPER11'", timeout=5_000)
    page.wait_for_selector("#info dd[data-field=sensors]:not(:text-is('—'))", timeout=10_000)
    served = _track(live, "blue", "blue/VIPER11")
    info = dict(
        zip(
            page.locator("#info dt").all_inner_texts(),
            page.locator("#info dd[data-field]").all_inner_texts(),
            strict=True,
        )
    )
    assert info["identity"] == "own" and info["callsign"] == "VIPER11"
    assert info["icao24"] == served["icao24"] and info["squawk"] == served["squawk"]
    assert info["sensors"] == ", ".join(served["sensors"])
    assert info["altitude"].endswith(f"(FL{served['flight_level']:03d})")
    assert "s ago" in info["last update"]
    page.screenshot(path=str(artifacts_dir / "select-map.png"))

    # the table: its rows are the shown tracks in view; a click selects, and the map rings it
    page.keyboard.press("t")
    page.wait_for_selector("#table-body tr", timeout=5_000)
    page.locator("#table-body tr", has_text="TEXACO51").click()
    assert page.evaluate("DeconflictMap.view.select") == "blue/TEXACO51"
    assert page.inner_text("#info-title") == "TEXACO51"
    page.wait_for_selector("#table-body tr.selected", timeout=5_000)
    assert "TEXACO51" in page.inner_text("#table-body tr.selected")
    # sortable: by altitude, each way
    page.click("#table-head th[data-col=altitude]")
    page.wait_for_timeout(300)
    keys = page.evaluate("DeconflictMap.table.keys()")
    alts = page.evaluate(
        "(ks) => ks.map((k) => window.deconflict.tracks().altitude[DeconflictMap.indexOf(k)])", keys
    )
    known = [a for a in alts if a is not None]
    assert known == sorted(known) and len(known) >= 5
    page.click("#table-head th[data-col=altitude]")
    page.wait_for_timeout(300)
    keys = page.evaluate("DeconflictMap.table.keys()")
    alts = page.evaluate(
        "(ks) => ks.map((k) => window.deconflict.tracks().altitude[DeconflictMap.indexOf(k)])", keys
    )
    known = [a for a in alts if a is not None]
    assert known == sorted(known, reverse=True)
    page.keyboard.press("t")

    # an alert: both aircraft framed, ours selected
    alert = page.locator("#alerts li[data-kind=conflict]")
    alert.first.wait_for(timeout=60_000)
    page.evaluate("() => { window.deconflict.map.setView([30, 20], 5); }")
    alert.first.click()
    page.wait_for_timeout(500)
    own_key, other = page.evaluate(
        """() => { const a = window.deconflict.state.picture.alerts.find((x) => x.kind === 'conflict');
                   return [a.own_key, [a.other.latitude, a.other.longitude]]; }"""
    )
    assert page.evaluate("DeconflictMap.view.select") == own_key
    inside = page.evaluate(
        """([key, other]) => { const m = window.deconflict.map, b = m.getBounds();
             const t = window.deconflict.tracks(), i = t.key.indexOf(key);
             return b.contains([t.latitude[i], t.longitude[i]]) && b.contains(other); }""",
        [own_key, other],
    )
    assert inside
    page.screenshot(path=str(artifacts_dir / "select-alert.png"))
    assert blue.errors == []


def test_filters_change_the_map_the_table_and_the_counts_alike(
    open_page: Callable[[str], Any], artifacts_dir: Path
) -> None:
    red = open_page("red")
    page = red.page
    page.wait_for_function("window.deconflict.tracks().key.length >= 8", timeout=30_000)
    page.evaluate("() => { window.deconflict.map.fitBounds([[34.5, 35.0], [37.8, 40.5]]); }")
    page.keyboard.press("t")

    def views() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(every track, the shown ones), each a row of the picture, read in one animation frame
        right after the map's redraw, the table rebuilt then; checks on the way that the map
        draws, and the table lists, exactly the shown tracks in the map's bounds, and that the
        count is the number shown."""
        page.wait_for_timeout(300)
        rows, drawn, table, counted, inside = page.evaluate(
            """() => new Promise((done) => requestAnimationFrame(() => {
                 window.deconflict.state.dirty = true;
                 requestAnimationFrame(() => {
                   const t = window.deconflict.tracks(), m = DeconflictMap.mask(t);
                   const b = window.deconflict.map.getBounds();
                   const inside = (i) => b.contains([t.latitude[i], t.longitude[i]]);
                   const rows = t.key.map((k, i) => ({key: k, shown: m[i] === 1,
                     identity: t.identity[i], owner: t.owner[i], altitude: t.altitude[i],
                     squawk: t.squawk[i]}));
                   const r = DeconflictMap.render.last;
                   const drawn = Array.from(r.drawn.slice(0, r.count)).filter(inside).map((i) => r.t.key[i]);
                   const shownInside = t.key.filter((k, i) => m[i] && inside(i));
                   DeconflictMap.table.refresh();
                   const counted = Number(document.querySelector('#filter-counts [data-count=shown]').textContent);
                   done([rows, drawn, DeconflictMap.table.keys(), counted, shownInside]);
                 }); }))"""
        )
        shown = [r for r in rows if r["shown"]]
        assert set(drawn) == set(table) == set(inside) and inside
        assert counted == len(shown)
        return rows, shown

    rows, shown = views()
    assert len(shown) == len(rows) >= 8  # nothing filtered yet
    # identity: only the tracks Red has declared to it
    for identity in ("own", "pending", "unknown"):
        page.locator(f"#filter-identities input[value={identity}]").uncheck()
    rows, shown = views()
    assert {r["key"] for r in shown} == {r["key"] for r in rows if r["identity"] == "declared"}
    page.screenshot(path=str(artifacts_dir / "filter-declared.png"))
    page.click("#filter-clear")
    # search by squawk: the picture's own column, independent of the label
    squawk = next(r["squawk"] for r in rows if r["squawk"])
    page.fill("#filter-search", squawk)
    rows, shown = views()
    assert shown and {r["key"] for r in shown} == {r["key"] for r in rows if r["squawk"] == squawk}
    page.fill("#filter-search", "")
    # altitude band: FL250 and above
    page.evaluate(
        """() => { const s = document.getElementById('alt-min'); s.value = '25000';
                   s.dispatchEvent(new Event('input', {bubbles: true})); }"""
    )
    rows, shown = views()
    high = {r["key"] for r in rows if r["altitude"] is not None and r["altitude"] >= 25000}
    assert shown and {r["key"] for r in shown} == high and len(high) < len(rows)
    assert page.inner_text("#alt-band").startswith("FL250")
    # party: the civil provider's only
    page.evaluate(
        """() => { const s = document.getElementById('alt-min'); s.value = '0';
                   s.dispatchEvent(new Event('input', {bubbles: true})); }"""
    )
    for p in ("blue", "red", ""):
        page.locator(f"#filter-parties input[value='{p}']").uncheck()
    rows, shown = views()
    assert shown and {r["key"] for r in shown} == {r["key"] for r in rows if r["owner"] == "civil"}
    assert red.errors == []


def test_a_link_restores_the_same_view_in_a_fresh_page(
    browser: Any, open_page: Callable[[str], Any], live: LiveServer, artifacts_dir: Path
) -> None:
    blue = open_page("blue")
    page = blue.page
    page.wait_for_function("DeconflictMap.indexOf('blue/TEXACO51') >= 0", timeout=30_000)
    page.evaluate("() => { window.deconflict.map.setView([36.2, 37.4], 9); }")
    page.evaluate("DeconflictMap.select.select('blue/TEXACO51', {frame: false})")
    page.locator("#filter-identities input[value=declared]").uncheck()
    page.fill("#filter-search", "a")
    page.check("#colour-altitude")
    page.uncheck("#label-fl")
    page.evaluate("document.activeElement.blur()")  # keys typed in a field are the field's
    page.keyboard.press("t")
    page.keyboard.press("u")
    page.evaluate("DeconflictMap.layers.toggle('trails')")
    page.wait_for_timeout(600)
    link = page.url
    assert "select=blue%2FTEXACO51" in link and "view=table" in link and "#token" not in link
    before = page.evaluate("JSON.stringify(DeconflictMap.view)")
    centre = page.evaluate("[window.deconflict.map.getCenter(), window.deconflict.map.getZoom()]")

    # a colleague of the same party: logged in once in its own browser, then opens the link
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        colleague = other.new_page()
        errors: list[str] = []
        colleague.on("pageerror", lambda e: errors.append(str(e)))
        colleague.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        colleague.goto(live.url + "/map/" + live.logins["blue"])
        colleague.wait_for_function("window.deconflict.tracks() !== null", timeout=30_000)
        colleague.goto("about:blank")
        colleague.goto(link)
        colleague.wait_for_function("DeconflictMap.view.select === 'blue/TEXACO51'", timeout=30_000)
        colleague.wait_for_timeout(500)
        assert colleague.evaluate("JSON.stringify(DeconflictMap.view)") == before
        got = colleague.evaluate(
            "[window.deconflict.map.getCenter(), window.deconflict.map.getZoom()]"
        )
        assert got[1] == centre[1]
        assert got[0]["lat"] == pytest.approx(centre[0]["lat"], abs=1e-3)
        assert got[0]["lng"] == pytest.approx(centre[0]["lng"], abs=1e-3)
        assert colleague.is_visible("#table-view") and colleague.is_visible("#info-panel")
        assert colleague.inner_text("#info-title") == "TEXACO51"
        assert "km/h" in colleague.inner_text("#info")
        assert not colleague.locator("#filter-identities input[value=declared]").is_checked()
        colleague.screenshot(path=str(artifacts_dir / "link-restored.png"))
        assert errors == []
    finally:
        other.close()
    assert blue.errors == []


def test_shortcuts_are_listed_on_question_mark_and_work(
    open_page: Callable[[str], Any],
) -> None:
    page = open_page("blue").page
    page.keyboard.press("?")
    assert page.is_visible("#help")
    listed = page.locator("#help-body kbd").all_inner_texts()
    assert {"?", "t", "f", "/", "c", "l", "r", "m", "u", "Space", "g"} <= set(listed)
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")
    page.keyboard.press("c")
    assert page.evaluate("DeconflictMap.view.colour") == "altitude"
    assert page.is_visible("#alt-legend-bar")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "filter-search"
    page.keyboard.press("Escape")
    page.keyboard.press("l")
    assert page.evaluate("DeconflictMap.view.layers.labels") is False


def test_range_and_bearing_between_two_tracks_agrees_with_the_geodesic(
    open_page: Callable[[str], Any], artifacts_dir: Path
) -> None:
    from pyproj import Geod

    page = open_page("blue").page
    page.wait_for_function(
        "DeconflictMap.indexOf('blue/VIPER11') >= 0 && DeconflictMap.indexOf('blue/TEXACO51') >= 0",
        timeout=30_000,
    )
    page.evaluate("() => { window.deconflict.map.fitBounds([[35.5, 36.3], [37.2, 38.3]]); }")
    page.wait_for_timeout(300)
    page.keyboard.press("m")
    _click_track(page, "blue/VIPER11")
    _click_track(page, "blue/TEXACO51")
    reading = page.evaluate("DeconflictMap.measureReading")
    a, b = page.evaluate(
        """() => ['blue/VIPER11', 'blue/TEXACO51'].map((k) => { const t = window.deconflict.tracks(),
             i = t.key.indexOf(k); return [t.latitude[i], t.longitude[i]]; })"""
    )
    az, _, dist_m = Geod(ellps="WGS84").inv(a[1], a[0], b[1], b[0])
    assert reading["nm"] == pytest.approx(dist_m / 1852, rel=0.006)  # sphere vs ellipsoid
    assert (reading["bearing"] - az) % 360 == pytest.approx(0, abs=0.5) or (
        (az - reading["bearing"]) % 360 == pytest.approx(0, abs=0.5)
    )
    assert page.inner_text("#measure-reading").endswith("°")
    page.keyboard.press("m")
    # range rings around the selection: 10, 25, 50, 100 NM
    page.evaluate("DeconflictMap.select.select('blue/VIPER11', {frame: false})")
    page.keyboard.press("r")
    radii = page.evaluate(
        """() => { const out = []; window.deconflict.map.eachLayer((l) => {
             if (l instanceof L.Circle && l.options.dashArray === '3 4') out.push(l.getRadius()); });
             return out.sort((x, y) => x - y); }"""
    )
    assert radii == pytest.approx([10 * 1852, 25 * 1852, 50 * 1852, 100 * 1852])
    # the scale bar's length is what it says, at the map's middle latitude
    bar = page.evaluate(
        """() => { const el = document.querySelector('.scale-bar');
             return [Number(el.dataset.value), el.getBoundingClientRect().width]; }"""
    )
    m = page.evaluate(
        """(px) => { const map = window.deconflict.map, y = map.getSize().y / 2;
             return map.distance(map.containerPointToLatLng([0, y]),
                                 map.containerPointToLatLng([px, y])); }""",
        bar[1],
    )
    assert m / 1852 == pytest.approx(bar[0], rel=0.05)
    page.screenshot(path=str(artifacts_dir / "measure.png"))


def test_altitude_colours_are_viridis_and_stay_ordered_under_colour_blindness(
    open_page: Callable[[str], Any],
) -> None:
    from colorspacious import cspace_convert
    from matplotlib import colormaps

    page = open_page("blue").page
    feet = np.arange(0, 45_001, 5_000)
    got = page.evaluate(
        "(fs) => fs.map((f) => DeconflictMap.palette.altitudeColour(f))", feet.tolist()
    )
    rgb = np.array([[int(c[k : k + 2], 16) / 255 for k in (1, 3, 5)] for c in got])
    want = np.array([colormaps["viridis"](f / 45_000)[:3] for f in feet])
    assert np.abs(rgb - want).max() < 4 / 255  # the page's scale is viridis
    for kind in ("protanomaly", "deuteranomaly", "tritanomaly"):
        cvd = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
        seen = cspace_convert(
            np.clip(cspace_convert(rgb, cvd, "sRGB1"), 0, 1), "sRGB1", "CAM02-UCS"
        )
        lightness = seen[:, 0]
        assert np.all(np.diff(lightness) > 3), kind  # the order survives: lighter is higher
        assert np.linalg.norm(np.diff(seen, axis=0), axis=1).min() > 5, kind
    # the party and identity colours stay apart for the common deficiencies (red-green)
    scene_colours = page.evaluate(
        """() => window.deconflict.state.scene.parties.map((p) => p.colour)
                 .concat(Object.values(DeconflictMap.palette.IDENTITY_COLOURS))"""
    )
    rgb = np.array([[int(c[k : k + 2], 16) / 255 for k in (1, 3, 5)] for c in scene_colours])
    for kind in ("protanomaly", "deuteranomaly"):
        cvd = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
        seen = cspace_convert(
            np.clip(cspace_convert(rgb, cvd, "sRGB1"), 0, 1), "sRGB1", "CAM02-UCS"
        )
        gaps = [
            np.linalg.norm(seen[i] - seen[j]) for i, j in itertools.combinations(range(len(rgb)), 2)
        ]
        assert min(gaps) > 10, kind


def test_each_layer_switch_takes_its_shapes_off_the_map_and_back(
    open_page: Callable[[str], Any],
) -> None:
    red = open_page("red")
    page = red.page
    page.wait_for_function(  # ours and the part of Blue's that meets it
        "(window.deconflict.operations() || []).some((o) => o.shared)", timeout=60_000
    )
    page.wait_for_function(  # the basemap's files are read
        """() => { let n = 0; window.deconflict.map.eachLayer((l) => { if (l instanceof L.GeoJSON) n++; });
                   return n >= 4 && DeconflictMap.basemap.data.places && DeconflictMap.basemap.data.airports; }""",
        timeout=30_000,
    )
    shown = """() => { const out = {ownOps: 0, otherOps: 0, areas: 0, shared: 0, bases: 0, coast: 0,
                             borders: 0, water: 0, places: 0, airports: 0};
      window.deconflict.map.eachLayer((l) => {
        if (l.options && l.options.basemapLayer) out[l.options.basemapLayer] += 1;
        const tip = l.getTooltip && l.getTooltip() ? String(l.getTooltip().getContent()) : '';
        if (tip.includes('RED-STRIKE-1')) out.ownOps += 1;
        if (tip.includes('meets ours')) out.otherOps += 1;
        if (tip.includes('R-101')) out.areas += 1;
        if (tip.includes('Shared area')) out.shared += 1;
        if (l instanceof L.CircleMarker && !(l instanceof L.Circle) && tip) out.bases += 1; });
      return out; }"""
    everything = page.evaluate(shown)
    assert all(n > 0 for n in everything.values()), everything
    page.click("#display-panel summary")  # the layers list opens
    for name in everything:
        page.locator(f"#layers input[value={name}]").uncheck()
        now = page.evaluate(shown)
        assert now[name] == 0 and all(now[k] == v for k, v in everything.items() if k != name)
        page.locator(f"#layers input[value={name}]").check()
        assert page.evaluate(shown) == everything
    assert red.errors == []


def test_an_identification_request_frames_and_selects_its_track(
    open_page: Callable[[str], Any],
) -> None:
    red = open_page("red")
    page = red.page
    request = page.locator("#requests li[data-request-id]")
    request.first.wait_for(timeout=60_000)
    page.evaluate("() => { window.deconflict.map.setView([30, 20], 5); }")
    request.first.locator("div").first.click()  # the item itself, not its buttons
    page.wait_for_timeout(500)
    track, where = page.evaluate(
        """() => { const r = window.deconflict.state.requests[0];
                   return [r.track_id, [r.position.latitude, r.position.longitude]]; }"""
    )
    assert page.evaluate("DeconflictMap.view.select") == track
    page.wait_for_function("window.deconflict.map.getZoom() >= 9", timeout=5_000)
    assert page.evaluate("(p) => window.deconflict.map.getBounds().contains(p)", where)
    assert red.errors == []


def test_clicking_an_incident_opens_its_report(browser: Any, tmp_path: Path) -> None:
    from browser_live_server import live_server

    with live_server(tmp_path, speed=60.0) as fast:  # the incident comes at about 12 minutes
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(fast.url + "/map/" + fast.logins["blue"])
            item = page.locator("#incidents li[data-incident-id]")
            item.first.wait_for(timeout=90_000)
            item.first.click(position={"x": 5, "y": 5})  # the item, not its button
            page.wait_for_selector("#report:not([hidden])", timeout=10_000)
            report = page.frame_locator("#report-frame").locator("body")
            assert "TEXACO51" in report.inner_text() and "FALCON23" in report.inner_text()
            assert errors == []
        finally:
            context.close()
