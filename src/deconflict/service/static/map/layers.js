/* Deconflict map page: layers on and off.
 *
 * Our operations, the parts of others' operations that meet ours (need-to-know), restricted areas
 * and agreed lines, the shared area, bases, trails, labels, and the offline basemap (map/basemap.js:
 * Natural Earth land and coasts, borders, lakes and rivers; populated places; airports). Each is
 * a Leaflet layer added to or removed from the map, or a switch the canvas reads (trails,
 * labels). */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const NAMES = {
    ownOps: "our operations", otherOps: "others' operations (need-to-know)", areas: "restricted areas",
    shared: "shared area", bases: "bases", trails: "trails", labels: "labels",
    coast: "land and coasts", borders: "borders", water: "lakes and rivers",
    places: "populated places", airports: "airports",
  };
  let groups = {};

  function sync() {
    const map = M.ctx.map;
    for (const [name, group] of Object.entries(groups)) {
      if (!group) continue;
      const on = !!M.view.layers[name];
      if (on && !map.hasLayer(group)) group.addTo(map);
      if (!on && map.hasLayer(group)) map.removeLayer(group);
    }
    for (const box of document.querySelectorAll("#layers input")) box.checked = !!M.view.layers[box.value];
  }

  M.module((ctx) => {
    groups = { ...groups, ownOps: ctx.operationsLayer, otherOps: ctx.othersOperationsLayer,
               areas: ctx.sceneLayers.areas, shared: ctx.sceneLayers.shared, bases: ctx.sceneLayers.bases };
    document.getElementById("layers").innerHTML = Object.entries(NAMES).map(([k, v]) =>
      `<label><input type="checkbox" value="${k}" checked> ${M.esc(v)}</label>`).join("");
    document.getElementById("layers").addEventListener("change", (ev) => {
      const el = ev.target;
      M.set({ layers: Object.assign({}, M.view.layers, { [el.value]: el.checked }) }, "layers");
    });
    sync();
  });
  M.onChange((patch) => { if ("layers" in patch) sync(); });
  M.layers = {
    NAMES, sync,
    register(name, group) { groups[name] = group; if (M.ctx) sync(); },
    toggle(name) { M.set({ layers: Object.assign({}, M.view.layers, { [name]: !M.view.layers[name] }) }, "layers"); },
  };
})();
