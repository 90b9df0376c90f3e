/* Deconflict map page: the officer's view state, shared by every map module.
 *
 * One object, DeconflictMap.view, holds what the officer chose: the selected track, whether the
 * map follows it, the filters (party, identity, altitude band, search), the colour mode, labels,
 * units, layers and whether the table is open. Modules register with DeconflictMap.module(fn);
 * app.js calls DeconflictMap.init(ctx) once its map exists, and DeconflictMap.scene(scene) /
 * DeconflictMap.picture(pic) as they arrive. A change goes through DeconflictMap.set(), which
 * tells every listener (the canvas redraws, the table, the URL). The filter is computed once per
 * picture and filter change (DeconflictMap.mask), so the map, the table and the counts read the
 * same tracks. Units at the edges of the page: ft, kt, NM (or m, km/h, km by the units toggle). */
"use strict";

(function () {
  const IDENTITIES = ["own", "declared", "pending", "unknown"];
  const view = {
    select: null, follow: false, view: "map",
    filters: { parties: null, identities: null, altMin: null, altMax: null, q: "" },
    colour: "party", labels: { callsign: true, fl: true, speed: false },
    units: { dist: "nm", alt: "ft", speed: "kt" },
    layers: { ownOps: true, otherOps: true, areas: true, shared: true, bases: true, trails: true,
              labels: true, coast: true, borders: true, water: true, places: true, airports: true },
  };
  const listeners = [], modules = [], sceneHooks = [], pictureHooks = [];
  let filterVersion = 0, maskCache = { tracks: null, version: -1, mask: null, shown: 0 };

  const M = {
    IDENTITIES, view, ctx: null,
    module(fn) { modules.push(fn); },
    onChange(fn) { listeners.push(fn); },
    onScene(fn) { sceneHooks.push(fn); },
    onPicture(fn) { pictureHooks.push(fn); },
    set(patch, why) {  // shallow-merge ``patch`` into the view (nested objects replaced whole)
      Object.assign(view, patch);
      if ("filters" in patch) filterVersion += 1;
      for (const fn of listeners) fn(patch, why);
      if (M.ctx) M.ctx.state.dirty = true;
    },
    init(ctx) { M.ctx = ctx; for (const fn of modules) fn(ctx); },
    scene(scene) { for (const fn of sceneHooks) fn(scene); },
    picture(pic) { for (const fn of pictureHooks) fn(pic); },
    tracks() { return M.ctx ? M.ctx.tracks() : null; },

    // one pass over the picture per filter change: 1 = shown
    mask(t) {
      if (!t || !t.key) return null;
      if (maskCache.tracks === t && maskCache.version === filterVersion) return maskCache.mask;
      const f = view.filters, n = t.key.length, out = new Uint8Array(n);
      const q = f.q.trim().toLowerCase();
      const parties = f.parties ? new Set(f.parties) : null;
      const ids = f.identities ? new Set(f.identities) : null;
      let shown = 0;
      for (let i = 0; i < n; i++) {
        if (ids && !ids.has(t.identity[i])) continue;
        if (parties && !parties.has(t.owner[i] || "")) continue;
        const alt = t.altitude[i];
        if (f.altMin !== null && !(alt >= f.altMin)) continue;
        if (f.altMax !== null && !(alt <= f.altMax)) continue;
        if (q && !matches(t, i, q)) continue;
        out[i] = 1; shown += 1;
      }
      maskCache = { tracks: t, version: filterVersion, mask: out, shown };
      return out;
    },
    shownCount(t) { M.mask(t); return maskCache.tracks === t ? maskCache.shown : 0; },
    indexOf(key) {
      const t = M.tracks();
      return t && t.key ? t.key.indexOf(key) : -1;
    },
    // a track named in a link or typed: its key, or the key of the track with that label
    resolve(name) {
      const t = M.tracks();
      if (!t || !t.key || !name) return null;
      if (t.key.indexOf(name) >= 0) return name;
      const lower = name.toLowerCase();
      for (let i = 0; i < t.key.length; i++) {
        if (String(t.label[i]).toLowerCase() === lower) return t.key[i];
      }
      return null;
    },

    // units (ft, kt, NM in; the officer's units out)
    fmtDist(nm) {
      if (nm === null || nm === undefined || nm !== nm) return "—";
      return view.units.dist === "km" ? `${(nm * 1.852).toFixed(1)} km` : `${nm.toFixed(1)} NM`;
    },
    fmtAlt(ft) {
      if (ft === null || ft === undefined || ft !== ft) return "—";
      return view.units.alt === "m" ? `${Math.round(ft * 0.3048)} m` : `${Math.round(ft)} ft`;
    },
    fmtSpeed(kt) {
      if (kt === null || kt === undefined || kt !== kt) return "—";
      return view.units.speed === "kmh" ? `${Math.round(kt * 1.852)} km/h` : `${Math.round(kt)} kt`;
    },
    fmtRate(fpm) {
      if (fpm === null || fpm === undefined || fpm !== fpm) return "—";
      return view.units.alt === "m" ? `${Math.round(fpm * 0.3048 / 60 * 10) / 10} m/s`
        : `${Math.round(fpm)} ft/min`;
    },
    fmtFL(ft) { return ft === null || ft === undefined || ft !== ft ? "---"
      : String(Math.round(ft / 100)).padStart(3, "0"); },
    fmtTime(s) { return s ? new Date(s * 1000).toISOString().slice(11, 19) + "Z" : "—"; },
    esc(s) {
      return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
        (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
    },
    known(v) { return v !== null && v !== undefined && v === v; },
    // great-circle distance (NM) and initial bearing (degrees true) between two points
    rangeBearing(lat1, lon1, lat2, lon2) {
      const r = Math.PI / 180, p1 = lat1 * r, p2 = lat2 * r, dl = (lon2 - lon1) * r;
      const a = Math.sin((p2 - p1) / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
      const d = 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a))) / 1852;
      const y = Math.sin(dl) * Math.cos(p2);
      const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
      return { nm: d, bearing: (Math.atan2(y, x) / r + 360) % 360 };
    },
  };

  function matches(t, i, q) {
    for (const col of ["label", "key", "icao24", "squawk"]) {
      const v = t[col] ? t[col][i] : null;
      if (v && String(v).toLowerCase().includes(q)) return true;
    }
    return false;
  }

  window.DeconflictMap = M;
})();
