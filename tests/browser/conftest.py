"""Browser fixtures: Debian's Chromium driven by Playwright, and the demo app on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_live_server import LiveServer, live_server

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")  # playwright's loop must stop before other tests run asyncio
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def live(tmp_path: Path) -> Iterator[LiveServer]:
    """The built-in scenario at 10x, with the identification answers left to the pages."""
    with live_server(tmp_path, speed=10.0, crews_answer=False) as server:
        yield server


class PartyPage:
    """One party's page in its own browser context, recording console errors."""

    def __init__(self, browser: Any, url: str, login: str) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url + "/map/" + login)  # the demo's login link: token and key
        self.page.wait_for_function(
            "window.deconflict.tracks() && window.deconflict.tracks().key.length > 0",
            timeout=30_000,
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def open_page(browser: Any, live: LiveServer) -> Iterator[Any]:
    pages: list[PartyPage] = []

    def make(party: str) -> PartyPage:
        p = PartyPage(browser, live.url, live.logins[party])
        pages.append(p)
        return p

    yield make
    for p in pages:
        p.close()
