/* Deconflict map page: the track canvas.
 *
 * Every track passing the filter is drawn on one canvas: its trail, its 60 s velocity leader, its
 * symbol (shape by identity — own: arrow, declared: hollow arrow, pending: diamond, unknown:
 * square — rotated to its track in 10 degree steps, with a dark outline) and its label (callsign,
 * flight level, speed, as chosen). Symbols are stamped as pixels into one image, blitted once per
 * frame: with software rendering, 10,000 drawImage or arc calls cost 80+ ms a frame, the stamps a
 * few ms. Strokes are grouped by colour (party/identity, or 1,000 ft altitude bands), so a frame
 * is a few draw calls however many tracks. The selection is ringed and its trail drawn long. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const LEADER_S = 60, LABEL_LIMIT = 1500, LONG_TRAIL_POINTS = 3600, HEADINGS = 36;
  const OUTLINE = 0xff2c201a;  // #1a202c as a little-endian ABGR word

  // ---------------------------------------------------------------- symbol masks
  const ARROW = [[7, 0], [-5, 5], [-2, 0], [-5, -5]];
  function inPolygon(u, v, poly) {
    let inside = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [ui, vi] = poly[i], [uj, vj] = poly[j];
      if ((vi > v) !== (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui) inside = !inside;
    }
    return inside;
  }
  function edgeDistance(u, v, poly) {
    let best = Infinity;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [ax, ay] = poly[j], [bx, by] = poly[i];
      const dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
      const k = Math.max(0, Math.min(1, ((u - ax) * dx + (v - ay) * dy) / l2));
      best = Math.min(best, Math.hypot(u - ax - k * dx, v - ay - k * dy));
    }
    return best;
  }
  const SHAPES = {  // (u forward, v right) -> [solid, drawn]
    own: (u, v) => { const s = inPolygon(u, v, ARROW); return [s, s]; },
    declared: (u, v) => { const s = inPolygon(u, v, ARROW); return [s, s && edgeDistance(u, v, ARROW) <= 1.6]; },
    pending: (u, v) => {
      const s = Math.abs(u) / 6 + Math.abs(v) / 6 <= 1 || (u > 0 && u <= 9 && Math.abs(v) <= 0.8);
      return [s, s];
    },
    unknown: (u, v) => {
      const s = (Math.abs(u) <= 4.5 && Math.abs(v) <= 4.5) || (u > 0 && u <= 8 && Math.abs(v) <= 0.8);
      return [s, s];
    },
  };
  const MASKS = {};  // identity -> heading step -> {fill: [[dx,dy]], edge: [[dx,dy]]}
  for (const [identity, shape] of Object.entries(SHAPES)) {
    MASKS[identity] = [];
    for (let h = 0; h < HEADINGS; h++) {
      const a = h * 2 * Math.PI / HEADINGS, fx = Math.sin(a), fy = -Math.cos(a);
      const solid = new Map(), fill = [], edge = [];
      for (let dy = -11; dy <= 11; dy++) {
        for (let dx = -11; dx <= 11; dx++) {
          const u = dx * fx + dy * fy, v = dx * -fy + dy * fx;
          const [s, d] = shape(u, v);
          if (s) solid.set(`${dx},${dy}`, 1);
          if (d) fill.push([dx, dy]);
        }
      }
      for (let dy = -11; dy <= 11; dy++) {
        for (let dx = -11; dx <= 11; dx++) {
          if (solid.has(`${dx},${dy}`)) continue;
          if (solid.has(`${dx - 1},${dy}`) || solid.has(`${dx + 1},${dy}`) ||
              solid.has(`${dx},${dy - 1}`) || solid.has(`${dx},${dy + 1}`)) edge.push([dx, dy]);
        }
      }
      MASKS[identity].push({ fill, edge });
    }
  }

  const rgbaCache = new Map();
  function rgba32(css) {  // "#rrggbb" -> little-endian ABGR word of an opaque pixel
    let v = rgbaCache.get(css);
    if (v === undefined) {
      const r = parseInt(css.slice(1, 3), 16), g = parseInt(css.slice(3, 5), 16), b = parseInt(css.slice(5, 7), 16);
      v = ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;
      rgbaCache.set(css, v);
    }
    return v;
  }
  let stampCanvas = null, stampImage = null, stampWords = null;
  function stampLayer(W, H) {
    if (!stampCanvas || stampCanvas.width !== W || stampCanvas.height !== H) {
      stampCanvas = document.createElement("canvas"); stampCanvas.width = W; stampCanvas.height = H;
      stampImage = stampCanvas.getContext("2d").createImageData(W, H);
      stampWords = new Uint32Array(stampImage.data.buffer);
    }
    stampWords.fill(0);
    return stampWords;
  }

  // Web Mercator straight into container pixels (what latLngToContainerPoint does, without
  // allocating two objects per call)
  function projector(map, margin = 0) {
    const scale = 256 * Math.pow(2, map.getZoom());
    const origin = map.getPixelOrigin();
    const pane = map.containerPointToLayerPoint([0, 0]);
    const ox = origin.x + pane.x - margin, oy = origin.y + pane.y - margin;
    const f = function (lat, lon, out, k) {
      const s = Math.sin(Math.max(Math.min(lat, 85.0511), -85.0511) * Math.PI / 180);
      out[k] = scale * (lon + 180) / 360 - ox;
      out[k + 1] = scale * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) - oy;
    };
    Object.assign(f, { scale, ox, oy });
    return f;
  }

  // The tracks are drawn into one bitmap a margin wider than the map on every side, kept while
  // nothing it shows changes (a picture, the filter, the colours, labels, layers, selection, the
  // zoom): panning by less than the margin blits it shifted, so a pan costs one drawImage.
  const MARGIN = 256;
  let version = 0;
  M.onPicture(() => { version += 1; });
  M.onChange(() => { version += 1; });
  const layer = { canvas: null, key: "", t: null, mask: null, ox: 0, oy: 0, result: null };

  // the selection's long trail, kept while it is selected
  const long = { key: null, points: [] };
  M.onPicture((pic) => {
    const key = M.view.select, t = pic.tracks;
    if (!key || !t || !t.key) return;
    if (long.key !== key) {
      long.key = key;
      long.points = (M.ctx.state.trails.get(key) || []).slice();
      return;
    }
    const i = t.key.indexOf(key);
    if (i < 0 || !M.known(t.latitude[i])) return;
    long.points.push([t.latitude[i], t.longitude[i]]);
    if (long.points.length > LONG_TRAIL_POINTS) long.points.shift();
  });
  M.onChange((patch) => {
    if ("select" in patch && patch.select !== long.key) {
      long.key = patch.select;
      long.points = patch.select ? (M.ctx.state.trails.get(patch.select) || []).slice() : [];
    }
  });

  const last = { t: null, xy: null, drawn: null, count: 0, offX: 0, offY: 0 };

  function colourFn(colours) {
    if (M.view.colour === "altitude") return (t, i) => M.palette.altitudeBin(t.altitude[i]);
    return (t, i) => M.palette.identityColour(t.owner[i], t.identity[i], colours);
  }

  function labelText(t, i) {
    const L = M.view.labels, parts = [];
    if (L.callsign) parts.push(t.label[i]);
    if (L.fl) parts.push(M.fmtFL(t.altitude[i]));
    if (L.speed && t.groundspeed && M.known(t.groundspeed[i])) parts.push(M.fmtSpeed(t.groundspeed[i]));
    return parts.join(" ");
  }

  // draw the tracks ``t`` on ``ctx`` (W x H pixels); returns the counts for the status line
  function draw(ctx, W, H, t, replaying) {
    ctx.clearRect(0, 0, W, H);
    if (!t || !t.key) { last.t = null; last.count = 0; return { total: 0, shown: 0, inView: 0 }; }
    const mask = M.mask(t), proj = projector(M.ctx.map, MARGIN);
    const key = `${version}|${proj.scale}|${W}x${H}|${replaying}`;
    const dx = layer.ox - proj.ox, dy = layer.oy - proj.oy;
    if (layer.key !== key || layer.t !== t || layer.mask !== mask ||
        Math.abs(dx) >= MARGIN || Math.abs(dy) >= MARGIN) {
      if (!layer.canvas) layer.canvas = document.createElement("canvas");
      const c = layer.canvas, W2 = W + 2 * MARGIN, H2 = H + 2 * MARGIN;
      if (c.width !== W2 || c.height !== H2) { c.width = W2; c.height = H2; }
      layer.result = drawLayer(c.getContext("2d"), W2, H2, t, mask, proj, replaying);
      Object.assign(layer, { key, t, mask, ox: proj.ox, oy: proj.oy });
    }
    last.offX = layer.ox - proj.ox - MARGIN; last.offY = layer.oy - proj.oy - MARGIN;
    ctx.drawImage(layer.canvas, last.offX, last.offY);
    return layer.result;
  }

  function drawLayer(ctx, W, H, t, mask, proj, replaying) {
    const { state } = M.ctx;
    ctx.clearRect(0, 0, W, H);
    const n = t.key.length;
    const xy = new Float32Array(2 * n), lead = new Float32Array(2 * n);
    const drawn = new Int32Array(n);
    const mPerDegLat = 111320, margin = 20;  // pixels beyond the layer's edge still drawn
    let inView = 0;
    for (let i = 0; i < n; i++) {
      if (!mask[i]) continue;
      const lat = t.latitude[i], lon = t.longitude[i];
      if (!M.known(lat) || !M.known(lon)) continue;
      proj(lat, lon, xy, 2 * i);
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (x < -margin || y < -margin || x > W + margin || y > H + margin) continue;
      drawn[inView++] = i;
      const gs = t.groundspeed ? t.groundspeed[i] : null, trk = t.track[i];
      if (!M.known(gs) || !M.known(trk)) { lead[2 * i] = x; lead[2 * i + 1] = y; continue; }
      const d = gs * 0.514444 * LEADER_S, a = trk * Math.PI / 180;
      proj(lat + d * Math.cos(a) / mPerDegLat,
           lon + d * Math.sin(a) / (mPerDegLat * Math.cos(lat * Math.PI / 180)), lead, 2 * i);
    }
    const colourOf = colourFn(state.colours);
    const groups = new Map();
    for (let k = 0; k < inView; k++) {
      const i = drawn[k], c = colourOf(t, i);
      let g = groups.get(c);
      if (!g) { g = []; groups.set(c, g); }
      g.push(i);
    }
    const words = stampLayer(W, H), tp = new Float32Array(2), trails = M.view.layers.trails && !replaying;
    ctx.lineWidth = 1;
    for (const [c, idx] of groups) {
      ctx.strokeStyle = c;
      if (trails) {
        ctx.globalAlpha = 0.45; ctx.beginPath();
        for (const i of idx) {
          const trail = state.trails.get(t.key[i]);
          if (!trail || trail.length < 2) continue;
          proj(trail[0][0], trail[0][1], tp, 0); ctx.moveTo(tp[0], tp[1]);
          for (let k = 1; k < trail.length; k++) { proj(trail[k][0], trail[k][1], tp, 0); ctx.lineTo(tp[0], tp[1]); }
        }
        ctx.stroke();
      }
      ctx.globalAlpha = 0.9; ctx.beginPath();
      for (const i of idx) { ctx.moveTo(xy[2 * i], xy[2 * i + 1]); ctx.lineTo(lead[2 * i], lead[2 * i + 1]); }
      ctx.stroke();
      const word = rgba32(c);
      for (const i of idx) {
        const x = Math.round(xy[2 * i]), y = Math.round(xy[2 * i + 1]);
        const trk = t.track[i], h = M.known(trk) ? Math.round(trk / (360 / HEADINGS)) % HEADINGS : 0;
        const m = (MASKS[t.identity[i]] || MASKS.unknown)[h];
        stamp(words, W, H, x, y, m.edge, OUTLINE);
        stamp(words, W, H, x, y, m.fill, word);
      }
    }
    ctx.globalAlpha = 1;
    stampCanvas.getContext("2d").putImageData(stampImage, 0, 0);
    ctx.drawImage(stampCanvas, 0, 0);
    drawSelection(ctx, t, proj, xy, mask, replaying);
    if (M.view.layers.labels && inView <= LABEL_LIMIT) {
      ctx.font = "12px system-ui, sans-serif";
      for (let k = 0; k < inView; k++) {
        const i = drawn[k], x = xy[2 * i], y = xy[2 * i + 1];
        const text = labelText(t, i);
        if (text) { ctx.fillStyle = "#1a202c"; ctx.fillText(text, x + 9, y - 5); }
        if (t.identity[i] !== "own") {
          ctx.fillStyle = "#4a5568";
          ctx.fillText(t.identity[i] + (t.owner[i] ? " " + t.owner[i] : ""), x + 9, y + 9);
        }
      }
    }
    last.t = t; last.xy = xy; last.drawn = drawn; last.count = inView;
    let onMap = 0;  // those in the map itself, not its margin
    for (let k = 0; k < inView; k++) {
      const x = xy[2 * drawn[k]] - MARGIN, y = xy[2 * drawn[k] + 1] - MARGIN;
      if (x >= 0 && y >= 0 && x <= W - 2 * MARGIN && y <= H - 2 * MARGIN) onMap += 1;
    }
    return { total: n, shown: M.shownCount(t), inView: onMap };
  }

  function stamp(words, W, H, x, y, pixels, word) {
    for (let k = 0; k < pixels.length; k++) {
      const px = x + pixels[k][0], py = y + pixels[k][1];
      if (px >= 0 && py >= 0 && px < W && py < H) words[py * W + px] = word;
    }
  }

  function drawSelection(ctx, t, proj, xy, mask, replaying) {
    const key = M.view.select;
    if (!key) return;
    const i = t.key.indexOf(key);
    if (i < 0) return;
    const tp = new Float32Array(2);
    if (long.key === key && long.points.length > 1 && M.view.layers.trails && !replaying) {
      ctx.save(); ctx.strokeStyle = "#1a202c"; ctx.lineWidth = 2.5; ctx.globalAlpha = 0.8;
      ctx.beginPath();
      proj(long.points[0][0], long.points[0][1], tp, 0); ctx.moveTo(tp[0], tp[1]);
      for (const p of long.points) { proj(p[0], p[1], tp, 0); ctx.lineTo(tp[0], tp[1]); }
      ctx.stroke(); ctx.restore();
    }
    if (!M.known(t.latitude[i])) return;
    if (!mask[i]) proj(t.latitude[i], t.longitude[i], xy, 2 * i);
    const x = xy[2 * i], y = xy[2 * i + 1];
    ctx.save();
    ctx.lineWidth = 4; ctx.strokeStyle = "#1a202c";
    ctx.beginPath(); ctx.arc(x, y, 13, 0, 2 * Math.PI); ctx.stroke();
    ctx.lineWidth = 2; ctx.strokeStyle = "#ffd21f";
    ctx.beginPath(); ctx.arc(x, y, 13, 0, 2 * Math.PI); ctx.stroke();
    ctx.restore();
  }

  // the drawn track nearest a container point, within ``radius`` pixels (or null)
  function hit(x, y, radius = 10) {
    if (!last.t) return null;
    let best = null, bestD = radius * radius;
    for (let k = 0; k < last.count; k++) {
      const i = last.drawn[k], dx = last.xy[2 * i] + last.offX - x, dy = last.xy[2 * i + 1] + last.offY - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = last.t.key[i]; }
    }
    return best;
  }

  M.render = { draw, hit, MASKS, long, last, invalidate() { version += 1; } };
})();
