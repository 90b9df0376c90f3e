"""The offline basemap in Chromium: Natural Earth land and coasts, borders, lakes and rivers,
the populated places and the airports are drawn under the overlays and the tracks, each switched
off and on by its layer, with labels readable at 100 % (12 px or more, none over another)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAND, SEA = (0xF4, 0xF1, 0xE8), (0xA9, 0xC7, 0xDD)  # map/basemap.js's land, the page's sea


def _pixel(page: Any, lat: float, lon: float) -> tuple[int, int, int]:
    """The colour of the screen at (lat, lon): the median of a 5 x 5 patch."""
    x, y = page.evaluate(
        "(p) => { const c = window.deconflict.map.latLngToContainerPoint(p); return [c.x, c.y]; }",
        [lat, lon],
    )
    shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"))
    patch = shot[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3].reshape(-1, 3)
    return tuple(int(v) for v in np.median(patch, axis=0))  # type: ignore[return-value]


def _near(a: tuple[int, ...], b: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_basemap_layers_draw_under_the_tracks_with_readable_labels(
    open_page: Callable[[str], Any], artifacts_dir: Path
) -> None:
    blue = open_page("blue")
    page = blue.page
    page.wait_for_function(
        "DeconflictMap.basemap.data.places && DeconflictMap.basemap.data.airports", timeout=30_000
    )
    # under everything: the basemap's panes below Leaflet's overlays and the track canvas
    z = page.evaluate(
        """() => { const m = window.deconflict.map, z = (n) => Number(getComputedStyle(m.getPane(n)).zIndex);
                   return [z('basemap'), z('basemap-labels'), z('overlayPane'), z('tracks')]; }"""
    )
    assert z == sorted(z) and len(set(z)) == 4, z
    # zoom 8 over northern Syria: the cities and their airports are labelled
    page.evaluate("() => window.deconflict.map.setView([36.0, 36.7], 8, {animate: false})")
    page.wait_for_timeout(500)
    places = page.evaluate("DeconflictMap.basemap.drawn.places")
    airports = page.evaluate("DeconflictMap.basemap.drawn.airports")
    names = {p["name"] for p in places}
    assert {"Aleppo", "Latakia", "Idlib"} <= names, names
    assert {"OSAP", "OSLK"} <= {a["name"] for a in airports if a["px"] > 0}
    assert all(p["px"] >= 12 for p in places)  # readable at 100 %
    boxes = [(p["x"], p["y"], p["w"], p["h"]) for p in places]
    for i, (x, y, w, h) in enumerate(boxes):  # no label over another
        for x2, y2, w2, h2 in boxes[i + 1 :]:
            assert not (x < x2 + w2 and x2 < x + w and y < y2 + h2 and y2 < y + h)
    # zoomed out, only the big cities keep a label, and the airports go
    page.evaluate("() => window.deconflict.map.setView([36.0, 36.7], 5, {animate: false})")
    page.wait_for_timeout(500)
    assert page.evaluate("DeconflictMap.basemap.drawn.airports.length") == 0
    few = {p["name"] for p in page.evaluate("DeconflictMap.basemap.drawn.places")}
    assert "Aleppo" in few and "Idlib" not in few  # 1 million people or more at zoom 5
    page.evaluate("() => window.deconflict.map.setView([36.0, 36.7], 8, {animate: false})")
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts_dir / "basemap.png"))

    # land is land-coloured (in the Syrian desert, clear of the overlays), the sea is sea
    desert, sea = (35.05, 37.6), (35.3, 35.2)
    page.evaluate("() => window.deconflict.map.setView([35.2, 36.4], 9, {animate: false})")
    page.wait_for_timeout(500)
    assert _near(_pixel(page, *sea), SEA)
    assert _near(_pixel(page, *desert), LAND)
    page.click("#display-panel summary")
    page.locator("#layers input[value=coast]").uncheck()
    assert _near(_pixel(page, *desert), SEA)  # the land is gone
    page.locator("#layers input[value=coast]").check()
    assert _near(_pixel(page, *desert), LAND)
    # places and airports switched off draw nothing, and come back
    for name in ("places", "airports"):
        page.locator(f"#layers input[value={name}]").uncheck()
        assert not page.evaluate(
            f"window.deconflict.map.hasLayer(DeconflictMap.basemap.layers.{name})"
        )
        page.locator(f"#layers input[value={name}]").check()
        assert page.evaluate(f"window.deconflict.map.hasLayer(DeconflictMap.basemap.layers.{name})")
    assert blue.errors == []
