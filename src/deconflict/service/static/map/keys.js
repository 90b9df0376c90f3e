/* Deconflict map page: keyboard shortcuts, listed on "?". Keys typed into a field are the
 * field's; Escape leaves it. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const KEYS = [
    ["?", "this help", () => toggleHelp()],
    ["t", "table of the tracks in view", () => M.table.toggle()],
    ["f", "follow the selected track", () => M.view.select && M.set({ follow: !M.view.follow }, "follow")],
    ["Escape", "deselect, close this help", () => { toggleHelp(false); M.select.select(null); }],
    ["/", "search (callsign, icao24, squawk)", () => document.getElementById("filter-search").focus()],
    ["n", "select the next track of the table", () => cycle(1)],
    ["p", "select the previous track of the table", () => cycle(-1)],
    ["c", "colour by altitude / by party and identity", () => M.display.toggleColour()],
    ["l", "labels on / off", () => M.layers.toggle("labels")],
    ["r", "range rings around the selection (or the centre)", () => M.measure.toggleRings()],
    ["m", "measure range and bearing (click two points or tracks)", () => M.measure.toggleMeasure()],
    ["u", "units: NM, ft, kt / km, m, km/h", () => M.display.toggleUnits()],
    [" ", "replay: play / pause", () => (M.replay.playing() ? M.replay.pause() : M.replay.play())],
    ["[", "replay: 30 s back", () => M.replay.step(-1)],
    ["]", "replay: 30 s forward", () => M.replay.step(1)],
    ["g", "back to live", () => M.replay.live()],
  ];

  function cycle(dir) {
    const t = M.tracks(), keys = M.table.keys();
    if (!t || !keys.length) return;
    const k = keys.indexOf(M.view.select);
    M.select.select(keys[(k + dir + keys.length) % keys.length]);
  }

  function toggleHelp(on) {
    const el = document.getElementById("help");
    el.hidden = on === undefined ? !el.hidden : !on;
  }

  M.module(() => {
    document.getElementById("help-body").innerHTML = KEYS.map(([k, what]) =>
      `<tr><td><kbd>${k === " " ? "Space" : M.esc(k)}</kbd></td><td>${M.esc(what)}</td></tr>`).join("");
    document.getElementById("help-close").addEventListener("click", () => toggleHelp(false));
    document.getElementById("help-button").addEventListener("click", () => toggleHelp());
    document.addEventListener("keydown", (ev) => {
      const el = ev.target;
      if (el instanceof HTMLElement && el.matches("input, textarea, select")) {
        if (ev.key === "Escape") el.blur();
        return;
      }
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const hit = KEYS.find(([k]) => k === ev.key);
      if (!hit) return;
      ev.preventDefault();
      hit[2]();
    });
  });
  M.keys = { KEYS, toggleHelp };
})();
