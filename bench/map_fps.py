"""Frames per second of the map page drawing 10,000 tracks in Chromium (headless).

Run: .venv/bin/python bench/map_fps.py [--tracks 10000] [--seconds 5]

Serves the map page's static files, loads it in Debian's Chromium (Playwright), injects a
picture of N tracks (the true positions of a synthetic scenario, classified over the four
identities), and counts requestAnimationFrame redraws while every frame redraws everything
(``window.deconflict.benchFps``). The anchor, in the same run and the same browser, is the page
with 100 tracks; the N tracks are measured twice, given as JSON arrays and as the WebSocket's
compressed binary frame (decoded by the page into typed arrays, as the live page holds them).
The whole picture is in view (labels are left out above 1,500 tracks in view,
as on the live page); trails are not drawn (a fresh page has none).
"""

from __future__ import annotations

import argparse
import base64
import shutil
import socket
import threading
import time

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI
from rich.console import Console

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def picture(n: int) -> dict[str, object]:
    from deconflict.sim.simulator import Simulator
    from deconflict.sim.synthetic import synthetic_scenario

    sim = Simulator(synthetic_scenario(n, seed=2, half_width_deg=4.0))
    sim.advance(1)
    t = sim.truth()
    ident = np.array(["own", "declared", "pending", "unknown"])[np.arange(len(t)) % 4]
    return {
        "type": "picture", "seq": 1, "time_s": 0, "alerts": [], "requests": [], "messages": [],
        "incidents": [],
        "tracks": {
            "key": [f"{p}/{i}" for p, i in zip(t["party"], t["id"], strict=True)],
            "owner": t["party"].tolist(), "identity": ident.tolist(), "label": t["id"].tolist(),
            "latitude": t["latitude"].round(5).tolist(), "longitude": t["longitude"].round(5).tolist(),
            "altitude": t["altitude"].round().tolist(), "groundspeed": t["groundspeed"].round().tolist(),
            "track": t["track"].round().tolist(), "vertical_rate": t["vertical_rate"].round().tolist(),
        },
    }  # fmt: skip


def frame(pic: dict[str, object]) -> str:
    """The same picture as the WebSocket's compressed binary frame, in base64 (for the page)."""
    import pandas as pd

    from deconflict.service.picture_wire import compress_frame, encode_frame

    tracks = pd.DataFrame(pic["tracks"])
    head = {k: v for k, v in pic.items() if k != "tracks"}
    small = {"type": "picture", "seq": 1, "tick_wall_s": 0.0}
    return base64.b64encode(compress_frame(encode_frame(head, tracks), small)).decode()


LOAD_FRAME = """(b64) => window.deconflict.loadFrame(
    Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer)"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    console = Console()
    from playwright.sync_api import sync_playwright

    from deconflict.service.live_app import mount_map

    app = FastAPI()
    mount_map(app)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}/map/"
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_function("window.deconflict !== undefined")
        # the anchor (100 tracks), then N tracks as JSON arrays and as the WebSocket's frame
        # (typed arrays, as the live page holds them)
        for n, wire in ((100, False), (args.tracks, False), (args.tracks, True)):
            pic = picture(n)
            if wire:
                page.evaluate(LOAD_FRAME, frame(pic))
            else:
                page.evaluate("(pic) => window.deconflict.loadPicture(pic)", pic)
            page.evaluate("() => { window.deconflict.map.setView([36.0, 37.5], 7); }")
            page.wait_for_timeout(500)
            fps = page.evaluate(f"() => window.deconflict.benchFps({args.seconds})")
            drawn = page.inner_text("#track-count")
            results[(n, wire)] = fps
            how = "binary frame" if wire else "JSON arrays"
            console.print(f"{n:>6} tracks ({how}): {fps:6.1f} frames/s  ({drawn})")
        browser.close()
    server.should_exit = True
    anchor = results[(100, False)]
    for wire in (False, True):
        fps = results[(args.tracks, wire)]
        console.print(f"{args.tracks} tracks ({'binary frame' if wire else 'JSON arrays'}): "
                      f"{fps:.1f} fps (target >= 20); ratio to the 100-track anchor "
                      f"{fps / anchor:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
