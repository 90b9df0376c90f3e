/* Deconflict map page: the filters — party, identity, altitude band, search — and their counts.
 *
 * What the officer ticks becomes DeconflictMap.view.filters; the map, the table and the counts
 * all read DeconflictMap.mask(), so they always show the same tracks. Parties are the scene's
 * (plus "no owner" for tracks nobody has declared); the altitude band is two sliders in ft; the
 * search matches callsign, key, icao24 and squawk, case-blind. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const ALT_TOP = 50000;
  let parties = [];

  function checked(box) {
    const all = [...document.querySelectorAll(`#${box} input[type=checkbox]`)];
    const on = all.filter((c) => c.checked).map((c) => c.value);
    return on.length === all.length ? null : on;
  }

  function apply() {
    const lo = Number(document.getElementById("alt-min").value);
    const hi = Number(document.getElementById("alt-max").value);
    M.set({ filters: {
      parties: checked("filter-parties"), identities: checked("filter-identities"),
      altMin: lo > 0 ? Math.min(lo, hi) : null, altMax: hi < ALT_TOP ? Math.max(lo, hi) : null,
      q: document.getElementById("filter-search").value,
    } }, "filters");
  }

  function boxes(id, items, on) {
    document.getElementById(id).innerHTML = items.map(([value, text]) =>
      `<label><input type="checkbox" value="${M.esc(value)}" ${on === null || on.includes(value) ? "checked" : ""}> ${M.esc(text)}</label>`).join("");
  }

  // the panel's inputs from the view (after a link restored filters)
  function show() {
    const f = M.view.filters;
    boxes("filter-parties", parties, f.parties);
    boxes("filter-identities", M.IDENTITIES.map((x) => [x, x]), f.identities);
    document.getElementById("alt-min").value = String(f.altMin === null ? 0 : f.altMin);
    document.getElementById("alt-max").value = String(f.altMax === null ? ALT_TOP : f.altMax);
    document.getElementById("filter-search").value = f.q;
    label();
  }

  function label() {
    const f = M.view.filters;
    const lo = f.altMin === null ? "ground" : `FL${M.fmtFL(f.altMin)}`;
    const hi = f.altMax === null ? "any" : `FL${M.fmtFL(f.altMax)}`;
    document.getElementById("alt-band").textContent = `${lo} – ${hi}`;
  }

  function counts() {
    const t = M.tracks(), el = document.getElementById("filter-counts");
    if (!el) return;
    if (!t || !t.key) { el.textContent = ""; return; }
    const mask = M.mask(t), by = {};
    for (const id of M.IDENTITIES) by[id] = 0;
    for (let i = 0; i < t.key.length; i++) if (mask[i]) by[t.identity[i]] = (by[t.identity[i]] || 0) + 1;
    el.innerHTML = `<b data-count="shown">${M.shownCount(t)}</b> of ${t.key.length} shown: ` +
      M.IDENTITIES.map((id) => `<span data-count="${id}">${id} ${by[id]}</span>`).join(", ");
  }

  M.module(() => {
    const panel = document.getElementById("filters-panel");
    panel.addEventListener("change", apply);
    document.getElementById("filter-search").addEventListener("input", apply);
    for (const id of ["alt-min", "alt-max"]) document.getElementById(id).addEventListener("input", apply);
    document.getElementById("filter-clear").addEventListener("click", () => {
      M.set({ filters: { parties: null, identities: null, altMin: null, altMax: null, q: "" } }, "filters");
      show();
    });
    show();
  });
  M.onScene((scene) => {
    parties = scene.parties.map((p) => [p.id, p.name]).concat([["", "no owner"]]);
    show();
  });
  M.onChange((patch, why) => {
    if ("filters" in patch) { label(); counts(); if (why !== "filters") show(); }
  });
  M.onPicture(counts);
  M.filters = { show, apply };
})();
