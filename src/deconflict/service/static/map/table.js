/* Deconflict map page: the table of every track in view.
 *
 * The tracks that pass the filter and lie in the map's bounds, one row each, sorted by the
 * column clicked (again: the other way). Only the rows scrolled into sight are built (a fixed row
 * height and a spacer), so 10,000 tracks cost one sort per picture and a few dozen rows. The
 * table is rebuilt when a picture arrives, the map moves, a filter or the sort changes; clicking
 * a row selects its track (shared with the map), and the selected row is marked. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const ROW_PX = 22;
  const COLUMNS = [
    ["label", "callsign"], ["identity", "identity"], ["owner", "owner"], ["icao24", "icao24"],
    ["squawk", "squawk"], ["altitude", "alt"], ["groundspeed", "speed"], ["vertical_rate", "v/s"],
    ["track", "track"],
  ];
  let sortCol = "label", sortDir = 1, rows = [], pending = false;

  function inView(t) {
    const b = M.ctx.map.getBounds(), mask = M.mask(t), out = [];
    const s = b.getSouth(), n = b.getNorth(), w = b.getWest(), e = b.getEast();
    for (let i = 0; i < t.key.length; i++) {
      if (!mask[i]) continue;
      const lat = t.latitude[i], lon = t.longitude[i];
      if (lat >= s && lat <= n && lon >= w && lon <= e) out.push(i);
    }
    return out;
  }

  function sortRows(t, idx) {
    const col = t[sortCol];
    if (!col) return idx;
    const numeric = col instanceof Float32Array || typeof col[0] === "number";
    idx.sort((a, b) => {
      let x = col[a], y = col[b];
      if (numeric) {
        const kx = M.known(x), ky = M.known(y);
        if (!kx || !ky) return kx === ky ? 0 : kx ? -1 : 1;  // unknowns last
        return (x - y) * sortDir;
      }
      x = String(x || ""); y = String(y || "");
      if (!x || !y) return x === y ? 0 : x ? -1 : 1;
      return x < y ? -sortDir : x > y ? sortDir : 0;
    });
    return idx;
  }

  function cell(t, i, name) {
    const v = t[name] ? t[name][i] : null;
    switch (name) {
      case "altitude": return M.known(v) ? `${M.fmtAlt(v)}` : "—";
      case "groundspeed": return M.fmtSpeed(v);
      case "vertical_rate": return M.fmtRate(v);
      case "track": return M.known(v) ? String(Math.round(v) % 360).padStart(3, "0") : "—";
      case "owner": return v ? M.ctx.state.names[v] || v : "";
      default: return v || "";
    }
  }

  function rebuild() {
    pending = false;
    const box = document.getElementById("table-view");
    if (!box || M.view.view !== "table") return;
    const t = M.tracks();
    rows = t && t.key ? sortRows(t, inView(t)) : [];
    document.getElementById("table-count").textContent = `${rows.length} tracks in view`;
    document.getElementById("table-spacer").style.height = `${rows.length * ROW_PX}px`;
    paint();
  }

  function paint() {
    const t = M.tracks(), scroller = document.getElementById("table-scroll");
    if (!t || !scroller) return;
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_PX) - 5);
    const last = Math.min(rows.length, first + Math.ceil(scroller.clientHeight / ROW_PX) + 10);
    const body = document.getElementById("table-body");
    document.getElementById("table-rows").style.top = `${first * ROW_PX}px`;
    const out = [];
    for (let k = first; k < last; k++) {
      const i = rows[k], key = t.key[i];
      out.push(`<tr data-key="${M.esc(key)}" class="${key === M.view.select ? "selected" : ""}">` +
        COLUMNS.map(([name]) => `<td>${M.esc(cell(t, i, name))}</td>`).join("") + "</tr>");
    }
    body.innerHTML = out.join("");
  }

  function schedule() {
    if (pending || M.view.view !== "table") return;
    pending = true;
    requestAnimationFrame(rebuild);
  }

  function show() {
    const box = document.getElementById("table-view");
    box.hidden = M.view.view !== "table";
    document.getElementById("table-button").classList.toggle("on", M.view.view === "table");
    schedule();
  }

  M.module((ctx) => {
    document.getElementById("table-head").innerHTML = "<tr>" + COLUMNS.map(([name, title]) =>
      `<th data-col="${name}" tabindex="0">${title}</th>`).join("") + "</tr>";
    document.getElementById("table-head").addEventListener("click", (ev) => {
      const th = ev.target.closest("th");
      if (!th) return;
      if (th.dataset.col === sortCol) sortDir = -sortDir; else { sortCol = th.dataset.col; sortDir = 1; }
      for (const h of document.querySelectorAll("#table-head th")) {
        h.dataset.sort = h.dataset.col === sortCol ? (sortDir > 0 ? "asc" : "desc") : "";
      }
      schedule();
    });
    document.getElementById("table-scroll").addEventListener("scroll", paint, { passive: true });
    document.getElementById("table-body").addEventListener("click", (ev) => {
      const tr = ev.target.closest("tr");
      if (tr) M.select.select(tr.dataset.key);
    });
    document.getElementById("table-button").addEventListener("click", () => toggle());
    ctx.map.on("moveend", schedule);
    show();
  });

  function toggle() { M.set({ view: M.view.view === "table" ? "map" : "table" }, "view"); }
  M.onPicture(schedule);
  M.onChange((patch) => {
    if ("view" in patch) show();
    else if ("filters" in patch || "units" in patch || "select" in patch) schedule();
  });

  M.table = {
    toggle, COLUMNS,
    keys() { const t = M.tracks(); return t && t.key ? rows.map((i) => t.key[i]) : []; },
    sortBy(col, dir) { sortCol = col; sortDir = dir; schedule(); },
    refresh: rebuild,
  };
})();
