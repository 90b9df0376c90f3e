"""The map's operations layer in Chromium: the operations declared in the store, as the party
may see them (its own in full, another's only where it meets its own)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_red_map_draws_its_operation_and_only_the_part_of_blue_that_meets_it(
    open_page: Callable[[str], Any], artifacts_dir: Path
) -> None:
    red = open_page("red")
    page = red.page
    page.wait_for_function("window.deconflict.operations() !== null", timeout=30_000)
    ops = page.evaluate("window.deconflict.operations()")
    # Red's own by its name; Blue's CAP (not its drone box) by its id only (issue 11)
    seen = {o["name"]: o["shared"] for o in ops}
    (cap,) = [o for o in ops if o["shared"]]
    assert seen == {"RED-STRIKE-1": False, cap["id"][:8]: True}
    # the layer is on the map: one shape per volume, with the operation's name in its tooltip
    tooltips = page.evaluate(
        """() => { const out = []; window.deconflict.map.eachLayer((l) => {
             if (l.getTooltip && l.getTooltip() && l.getLatLngs) out.push(l.getTooltip().getContent());
           }); return out; }"""
    )
    assert any("RED-STRIKE-1" in t for t in tooltips)
    assert any(cap["id"][:8] in t and "meets ours" in t for t in tooltips)
    assert not any("BLUE-CAP-1" in t for t in tooltips)
    assert not any("BLUE-ISR-1" in t for t in tooltips)
    page.screenshot(path=str(artifacts_dir / "red-operations.png"))
    assert red.errors == []
