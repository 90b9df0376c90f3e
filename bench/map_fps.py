"""Frames per second of the map page drawing 10,000 tracks in Chromium (headless).

Run: .venv/bin/python bench/map_fps.py [--tracks 10000] [--seconds 5]

Serves the map page's static files, loads it in Debian's Chromium (Playwright), injects a
picture of N tracks (the true positions of a synthetic scenario, classified over the four
identities), and counts requestAnimationFrame redraws while every frame draws the whole
track layer again (``DeconflictMap.render.invalidate()`` each frame; ``benchFps`` counts; the page
itself draws the layer again only when a picture or the view changes). The anchor, in the same
run and the same browser, is the page with 100 tracks; the N tracks are measured twice, given as JSON arrays and as the WebSocket's
compressed binary frame (decoded by the page into typed arrays, as the live page holds them).
The whole picture is in view (labels are left out above 1,500 tracks in view,
as on the live page); trails are not drawn (a fresh page has none).

The page weight (the bytes of every file the page loads, the offline basemap's among them) is
printed first. Then the duty officer's page (``--no-officer`` leaves it out): the N tracks fed as live pictures
(30 of them, so every trail is full), every layer on (the basemap's included: land and coasts,
borders, lakes and rivers, places, airports), the table open, a filter active (the
identities own, declared and pending) and a track selected with its long trail, measured three
ways: nothing changing (the layer blitted), panning a pixel every frame (the layer blitted
shifted), and the layer drawn whole every frame (as if a picture came every frame); and the memory
of the page over an hour of live updates (3,600 pictures, one a second, 1 % of the tracks
replaced by new ones each time): the JS heap after garbage collection at 10 minutes and at the
hour (Chromium's DevTools protocol).
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import socket
import threading
import time

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI
from rich.console import Console

console = Console()
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


# the page moves every track a little and replaces 1 % of them, then feeds the picture as live
FEED = """([k0, count]) => { const base = window.deconflict.state.picture.tracks;
  const n = base.key.length;
  for (let k = k0; k < k0 + count; k++) {
    const t = {};
    for (const c of Object.keys(base)) t[c] = base[c];
    t.latitude = Float32Array.from(base.latitude, (v) => v + 0.0005 * k);
    t.key = base.key.map((key, i) => (i % 100 === k % 100 ? key + '#' + k : key));
    window.deconflict.livePicture({type: 'picture', seq: k, time_s: 1.7e9 + k, alerts: [],
      requests: [], messages: [], incidents: [], tracks: t});
  }
  window.deconflict.state.picture.tracks = base; }"""


PAN = """(seconds) => { const m = window.deconflict.map; let k = 0, on = true;
  const step = () => { if (!on) return; m.panBy([k++ % 2 ? 1 : -1, 0], {animate: false});
                       requestAnimationFrame(step); };
  requestAnimationFrame(step);
  return window.deconflict.benchFps(seconds).then((fps) => { on = false; return fps; }); }"""


BASEMAP = """(on) => { const M = DeconflictMap, layers = Object.assign({}, M.view.layers);
  for (const k of ['coast', 'borders', 'water', 'places', 'airports']) layers[k] = on;
  M.set({ layers }); }"""


REBUILD = PAN.replace(
    "m.panBy([k++ % 2 ? 1 : -1, 0], {animate: false});", "DeconflictMap.render.invalidate();"
)


def officer(page: object, console: Console, seconds: float, n: int) -> dict[str, float]:
    """fps with every layer on, the table open, a filter active, trails full, one selected; and
    the JS heap after 10 minutes and after an hour of live pictures."""
    pg: object = page
    cdp = pg.context.new_cdp_session(pg)  # type: ignore[attr-defined]
    cdp.send("HeapProfiler.enable")
    pg.evaluate(FEED, [0, 30])  # type: ignore[attr-defined]
    pg.evaluate(  # type: ignore[attr-defined]
        """() => { const M = DeconflictMap;
           for (const k of Object.keys(M.view.layers)) M.view.layers[k] = true;
           M.set({ layers: Object.assign({}, M.view.layers), view: 'table' });
           M.set({ filters: Object.assign({}, M.view.filters,
                                          { identities: ['own', 'declared', 'pending'] }) });
           M.select.select(window.deconflict.tracks().key[0], { frame: false });
           window.deconflict.map.setView([36.0, 37.5], 7); }"""
    )
    pg.wait_for_timeout(500)  # type: ignore[attr-defined]
    fps = pg.evaluate(f"() => window.deconflict.benchFps({seconds})")  # type: ignore[attr-defined]
    shown = pg.inner_text("#track-count")  # type: ignore[attr-defined]
    rows = pg.inner_text("#table-count")  # type: ignore[attr-defined]
    console.print(f"{n:>6} tracks, officer's page: {fps:6.1f} frames/s  ({shown}; table: {rows})")
    # the same while the map pans a pixel every frame: nothing cached survives a frame
    panning = pg.evaluate(PAN, seconds)  # type: ignore[attr-defined]
    console.print(f"{n:>6} tracks, officer's page, panning: {panning:6.1f} frames/s")
    # and with the whole layer drawn again every frame (as when a picture arrives every frame)
    rebuilt = pg.evaluate(REBUILD, seconds)  # type: ignore[attr-defined]
    console.print(f"{n:>6} tracks, officer's page, redrawn whole: {rebuilt:6.1f} frames/s")
    # what the basemap costs: the page with its five layers on and off, in turn, three times
    # (the best of each: on a shared machine the frame rate of one try varies by half)
    tries: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for _ in range(3):
        for on in (False, True):
            pg.evaluate(BASEMAP, on)  # type: ignore[attr-defined]
            pg.wait_for_timeout(300)  # type: ignore[attr-defined]
            still = pg.evaluate(f"() => window.deconflict.benchFps({seconds / 2})")  # type: ignore[attr-defined]
            tries[on].append((still, pg.evaluate(PAN, seconds / 2)))  # type: ignore[attr-defined]
    best = {on: tuple(max(t[i] for t in tries[on]) for i in (0, 1)) for on in tries}
    (with_still, with_pan), (bare, bare_panning) = best[True], best[False]
    console.print(f"{n:>6} tracks, officer's page, best of 3 with / without the basemap: still "
                  f"{with_still:6.1f} / {bare:6.1f}, panning {with_pan:6.1f} / {bare_panning:6.1f}")  # fmt: skip

    def heap() -> float:
        cdp.send("HeapProfiler.collectGarbage")
        metrics = cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize") / 2**20

    cdp.send("Performance.enable")
    pg.evaluate(FEED, [30, 570])  # type: ignore[attr-defined]
    at_10min = heap()
    for start in range(600, 3600, 300):
        pg.evaluate(FEED, [start, 300])  # type: ignore[attr-defined]
    at_hour = heap()
    trails = pg.evaluate("window.deconflict.state.trails.size")  # type: ignore[attr-defined]
    console.print(f"JS heap after GC: {at_10min:.1f} MiB at 10 min, {at_hour:.1f} MiB at 1 h "
                  f"({trails} trails kept for {n} tracks)")  # fmt: skip
    return {
        "fps": fps,
        "panning": panning,
        "rebuilt": rebuilt,
        "with_still": with_still,
        "with_panning": with_pan,
        "bare": bare,
        "bare_panning": bare_panning,
        "heap_10min_mib": at_10min,
        "heap_hour_mib": at_hour,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--no-officer", action="store_true", help="skip the officer's page and memory")
    args = ap.parse_args()
    console.print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
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
        weights: dict[str, int] = {}  # the page weight: every file the page loads, in bytes
        page.on("response", lambda r: weights.__setitem__(r.url, len(r.body())))
        page.goto(url)
        page.wait_for_function("window.deconflict !== undefined")
        page.wait_for_function(  # the basemap's files read and drawn (map/basemap.js)
            "DeconflictMap.basemap.data.places && DeconflictMap.basemap.data.airports"
        )
        page.wait_for_load_state("networkidle")
        basemap = sum(v for k, v in weights.items() if "/vendor/" in k and k.endswith(".json"))
        console.print(f"page weight: {sum(weights.values()) / 1024:.0f} KiB in {len(weights)} "
                      f"files, of which the basemap {basemap / 1024:.0f} KiB")  # fmt: skip
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
            fps = page.evaluate(REBUILD, args.seconds)  # every frame drawn whole
            drawn = page.inner_text("#track-count")
            results[(n, wire)] = fps
            how = "binary frame" if wire else "JSON arrays"
            console.print(f"{n:>6} tracks ({how}): {fps:6.1f} frames/s  ({drawn})")
        extra = None if args.no_officer else officer(page, console, args.seconds, args.tracks)
        browser.close()
    server.should_exit = True
    anchor = results[(100, False)]
    for wire in (False, True):
        fps = results[(args.tracks, wire)]
        console.print(f"{args.tracks} tracks ({'binary frame' if wire else 'JSON arrays'}): "
                      f"{fps:.1f} fps (target >= 20); ratio to the 100-track anchor "
                      f"{fps / anchor:.2f}")  # fmt: skip
    if extra is not None:
        console.print(f"{args.tracks} tracks, every layer, table open, filter active: "
                      f"{extra['fps']:.1f} fps (target >= 30); ratio to the 100-track anchor "
                      f"{extra['fps'] / anchor:.2f}")  # fmt: skip
        console.print(f"... the same while panning a pixel a frame: {extra['panning']:.1f} fps; "
                      f"ratio {extra['panning'] / anchor:.2f}")  # fmt: skip
        console.print(f"... drawn whole every frame: {extra['rebuilt']:.1f} fps; "
                      f"ratio {extra['rebuilt'] / anchor:.2f}")  # fmt: skip
        console.print(f"... the basemap's cost (best of 3): {extra['with_still']:.1f} / "
                      f"{extra['bare']:.1f} fps with / without it still (ratio "
                      f"{extra['with_still'] / extra['bare']:.2f}), {extra['with_panning']:.1f} / "
                      f"{extra['bare_panning']:.1f} panning (ratio "
                      f"{extra['with_panning'] / extra['bare_panning']:.2f})")  # fmt: skip
        grew = extra["heap_hour_mib"] / extra["heap_10min_mib"] - 1
        console.print(f"page memory from 10 min to 1 h of live updates: {100 * grew:+.1f} %")
    console.print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
