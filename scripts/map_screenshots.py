"""Take the map page's screenshots in docs/img: the demo at 10x in Debian's Chromium, one picture
per feature of the duty officer's map (the basemap included).

Run: PYTHONPATH=src .venv/bin/python scripts/map_screenshots.py
The situation report's (docs/img/sitrep.png) is the headless demo's store drawn alone:
deconflict demo --headless --db sqlite:///demo.sqlite; deconflict sitrep --db sqlite:///demo.sqlite
--out docs/img/sitrep.png
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMG = REPO / "docs" / "img"
sys.path.insert(0, str(REPO / "tests" / "browser"))


TOGGLE = "() => { for (const k of ['otherOps', 'areas']) DeconflictMap.layers.toggle(k); }"


def main() -> None:
    from browser_live_server import live_server
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with (
        tempfile.TemporaryDirectory() as tmp,
        live_server(Path(tmp), speed=10.0) as live,
        sync_playwright() as p,
    ):
        if True:
            browser = p.chromium.launch(
                executable_path=chromium, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(live.url + "/map/" + live.logins["blue"])
            page.wait_for_function("(window.deconflict.tracks() || {key: []}).key.length > 6")
            page.locator("#alerts li[data-kind=conflict]").first.wait_for(timeout=90_000)
            raised = page.evaluate(
                "window.deconflict.state.picture.alerts.find((a) => a.kind === 'conflict').raised_s"
            )

            def shot(name: str) -> None:
                page.wait_for_timeout(700)
                page.screenshot(path=str(IMG / name))

            # an alert: frames both aircraft, selects ours
            page.locator("#alerts li[data-kind=conflict]").first.click()
            page.evaluate("() => DeconflictMap.set({follow: false})")
            shot("map-select-alert.png")
            page.keyboard.press("t")
            shot("map-table.png")
            page.keyboard.press("t")
            page.keyboard.press("c")
            page.evaluate("() => { window.deconflict.map.setView([36.3, 37.6], 8); }")
            shot("map-colour-altitude.png")
            page.keyboard.press("c")
            page.locator("#filter-identities input[value=declared]").uncheck()
            page.evaluate("document.activeElement.blur()")
            shot("map-filter.png")
            page.click("#filter-clear")
            page.keyboard.press("r")
            page.keyboard.press("m")
            page.evaluate(
                """() => { const m = window.deconflict.map, t = window.deconflict.tracks();
                   for (const k of ['blue/VIPER11', 'blue/TEXACO51']) { const i = t.key.indexOf(k);
                     if (i < 0) continue;
                     m.fire('click', {latlng: L.latLng(t.latitude[i], t.longitude[i]),
                       containerPoint: m.latLngToContainerPoint(
                         [t.latitude[i], t.longitude[i]])}); } }"""
            )
            shot("map-measure.png")
            page.keyboard.press("m")
            page.keyboard.press("r")
            page.evaluate("() => { document.querySelector('#display-panel details').open = true; }")
            page.evaluate(TOGGLE)
            shot("map-layers.png")
            page.evaluate(TOGGLE)
            page.evaluate("() => DeconflictMap.replay.start()")
            first = float(page.evaluate("document.getElementById('slider').min"))
            page.evaluate("(t) => DeconflictMap.replay.seek(t)", max(first, raised + 8))
            shot("map-replay.png")  # the conflict drawn at its time
            page.click("#live-button")
            page.keyboard.press("?")
            shot("map-keys.png")
            page.keyboard.press("Escape")
            # the offline basemap at zoom 8: land and coasts, borders, lakes and rivers,
            # populated places and airports, under the operations and the tracks
            page.evaluate("() => window.deconflict.map.setView([36.0, 36.8], 8)")
            shot("map-basemap.png")
            browser.close()


if __name__ == "__main__":
    main()
