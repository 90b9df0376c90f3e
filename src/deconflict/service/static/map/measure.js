/* Deconflict map page: measuring — range rings, range and bearing, a scale bar.
 *
 * Range rings: around the selected track, else the map's centre, at 10, 25, 50 and 100 NM (or
 * 20, 50, 100, 200 km), labelled. Range and bearing: click two points; a point clicked on a
 * track sticks to it, so the line and its reading (distance, bearing true from the first point)
 * follow the aircraft. The scale bar reads NM or km with the units toggle. Distances are
 * great-circle on a sphere of 6,371 km (what a map reading needs). */
"use strict";

(function () {
  const M = window.DeconflictMap;
  let ringLayer = null, lineLayer = null, mode = false, ends = [], scale = null;

  function where(end) {
    if (end.key) {
      const t = M.tracks(), i = M.indexOf(end.key);
      if (i >= 0 && M.known(t.latitude[i])) return [t.latitude[i], t.longitude[i]];
    }
    return end.at;
  }

  function rings(centre) {
    ringLayer.clearLayers();
    if (!centre) return;
    const steps = M.view.units.dist === "km" ? [20, 50, 100, 200] : [10, 25, 50, 100];
    const metres = M.view.units.dist === "km" ? 1000 : 1852;
    for (const r of steps) {
      L.circle(centre, { radius: r * metres, color: "#2d3748", weight: 1, fill: false,
                         dashArray: "3 4", interactive: false }).addTo(ringLayer);
      const north = L.latLng(centre).toBounds(2 * r * metres).getNorth();
      L.marker([north, centre[1] !== undefined ? centre[1] : centre.lng], { interactive: false,
        icon: L.divIcon({ className: "ring-label", html: `${r} ${M.view.units.dist === "km" ? "km" : "NM"}` }) })
        .addTo(ringLayer);
    }
  }

  function toggleRings() {
    if (ringLayer.getLayers().length) { ringLayer.clearLayers(); M.set({ rings: null }, "rings"); return; }
    const sel = M.view.select && M.indexOf(M.view.select) >= 0 ? M.view.select : null;
    const t = M.tracks(), i = sel ? M.indexOf(sel) : -1;
    const c = i >= 0 ? [t.latitude[i], t.longitude[i]] : [M.ctx.map.getCenter().lat, M.ctx.map.getCenter().lng];
    M.set({ rings: c }, "rings");
    rings(c);
  }

  function drawLine() {
    lineLayer.clearLayers();
    if (!ends.length) return;
    const a = where(ends[0]);
    L.circleMarker(a, { radius: 4, color: "#1a202c", interactive: false }).addTo(lineLayer);
    if (ends.length < 2) return;
    const b = where(ends[1]);
    const rb = M.rangeBearing(a[0], a[1], b[0], b[1]);
    L.polyline([a, b], { color: "#1a202c", weight: 2, interactive: false }).addTo(lineLayer);
    const text = `${M.fmtDist(rb.nm)} ${String(Math.round(rb.bearing) % 360).padStart(3, "0")}°`;
    L.marker([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2], { interactive: false,
      icon: L.divIcon({ className: "measure-label", html: M.esc(text), iconSize: null }) }).addTo(lineLayer);
    document.getElementById("measure-reading").textContent = text;
    M.measureReading = { nm: rb.nm, bearing: rb.bearing, text };
  }

  function toggleMeasure() {
    mode = !mode; ends = [];
    lineLayer.clearLayers();
    document.getElementById("measure-reading").textContent = mode ? "click two points or tracks" : "";
    document.getElementById("measure-button").classList.toggle("on", mode);
    M.ctx.map.getContainer().style.cursor = mode ? "crosshair" : "";
  }

  const ScaleBar = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd() { this._div = L.DomUtil.create("div", "scale-bar"); return this._div; },
    update(map) {
      const y = map.getSize().y / 2, p1 = map.containerPointToLatLng([0, y]), p2 = map.containerPointToLatLng([100, y]);
      const perPx = M.rangeBearing(p1.lat, p1.lng, p2.lat, p2.lng).nm / 100;  // NM per pixel
      const km = M.view.units.dist === "km", unit = km ? perPx * 1.852 : perPx;
      const target = unit * 120, pow = Math.pow(10, Math.floor(Math.log10(target)));
      const nice = [5, 2, 1].map((k) => k * pow).find((v) => v <= target) || pow;
      this._div.style.width = `${Math.round(nice / unit)}px`;
      this._div.textContent = `${nice} ${km ? "km" : "NM"}`;
      this._div.dataset.value = String(nice);
    },
  });

  M.module((ctx) => {
    ringLayer = L.layerGroup().addTo(ctx.map);
    lineLayer = L.layerGroup().addTo(ctx.map);
    scale = new ScaleBar().addTo(ctx.map);
    scale.update(ctx.map);
    ctx.map.on("zoomend moveend", () => scale.update(ctx.map));
    ctx.map.on("click", (ev) => {
      if (!mode) return;
      const key = M.render.hit(ev.containerPoint.x, ev.containerPoint.y);
      const end = { key, at: [ev.latlng.lat, ev.latlng.lng] };
      ends = ends.length >= 2 ? [end] : ends.concat([end]);
      drawLine();
    });
    document.getElementById("rings-button").addEventListener("click", toggleRings);
    document.getElementById("measure-button").addEventListener("click", toggleMeasure);
  });
  M.onPicture(() => { if (ends.some((e) => e.key)) drawLine(); });
  M.onChange((patch) => {
    if ("units" in patch) {
      if (scale) scale.update(M.ctx.map);
      if (M.view.rings) rings(M.view.rings);
      drawLine();
    }
  });
  M.measuring = () => mode;
  M.measure = { toggleRings, toggleMeasure, rings, scale: () => scale };
})();
