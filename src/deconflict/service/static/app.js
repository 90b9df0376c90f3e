/* Deconflict map page: the shared air picture of one party, with no internet.
 * Basemap: Natural Earth borders (world-atlas TopoJSON) in Leaflet, no tiles. Tracks are drawn on
 * one canvas (so 10,000 tracks keep 20+ frames per second). The picture (tracks and alerts)
 * arrives once a tick on /v1/live/ws; the hotline, identification requests and incidents are
 * read and written through the /v1 endpoints every other client uses, with the party's token. */
"use strict";

(function () {
  const TRAIL_POINTS = 30;          // positions kept per track for its trail
  const LEADER_S = 60;              // velocity leader: where the aircraft is in 60 s
  const LABEL_LIMIT = 1500;         // labels are drawn when this few tracks are in view
  const IDENTITY_COLOURS = { pending: "#d69e2e", unknown: "#4a5568" };

  const state = {
    token: null, party: null, scene: null, picture: null, replay: null,
    trails: new Map(), colours: {}, names: {}, cursor: -1, ws: null, lastSig: {},
    frames: 0, dirty: true, history: null, requests: [], messages: [], incidents: [],
    panelsAt: 0,
  };

  // ---------------------------------------------------------------- map and basemap
  const map = L.map("map", { zoomControl: true, preferCanvas: true, worldCopyJump: true,
                             attributionControl: true }).setView([36.0, 37.5], 7);
  map.attributionControl.setPrefix("Leaflet | borders: Natural Earth via world-atlas");
  const staticLayer = L.layerGroup().addTo(map);

  fetch("vendor/world-atlas/countries-50m.json")
    .then((r) => r.json())
    .then((topo) => {
      const countries = topojson.feature(topo, topo.objects.countries);
      L.geoJSON(countries, { interactive: false,
        style: { color: "#718096", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 } })
        .addTo(map).bringToBack();
    });

  // ---------------------------------------------------------------- the track canvas
  const TrackLayer = L.Layer.extend({
    onAdd(m) {
      this._canvas = L.DomUtil.create("canvas", "track-canvas leaflet-zoom-hide");
      const pane = m.getPane("tracks") || m.createPane("tracks");
      pane.style.zIndex = 450;  // above the basemap and areas (400), below tooltips
      pane.appendChild(this._canvas);
      m.on("moveend zoomend resize", this._reset, this);
      this._reset();
    },
    onRemove(m) { this._canvas.remove(); m.off("moveend zoomend resize", this._reset, this); },
    _reset() {
      const size = map.getSize();
      const topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(this._canvas, topLeft);
      this._canvas.width = size.x; this._canvas.height = size.y;
      state.dirty = true;
    },
    canvas() { return this._canvas; },
  });
  const trackLayer = new TrackLayer().addTo(map);

  function colourOf(owner, identity) {
    if (identity === "pending" || identity === "unknown") return IDENTITY_COLOURS[identity];
    return state.colours[owner] || "#2b6cb0";
  }

  function currentTracks() {
    const pic = state.replay || state.picture;
    return pic ? pic.tracks : null;
  }

  // Web Mercator straight into container pixels (what latLngToContainerPoint does, without
  // allocating two objects per call: the difference between 7 and 20+ frames/s at 10,000 tracks)
  function projector() {
    const scale = 256 * Math.pow(2, map.getZoom());
    const origin = map.getPixelOrigin();
    const pane = map.containerPointToLayerPoint([0, 0]);
    const ox = origin.x + pane.x, oy = origin.y + pane.y;
    return function (lat, lon, out, k) {
      const s = Math.sin(Math.max(Math.min(lat, 85.0511), -85.0511) * Math.PI / 180);
      out[k] = scale * (lon + 180) / 360 - ox;
      out[k + 1] = scale * (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) - oy;
    };
  }

  // Symbols are stamped as pixels into one image, blitted once per frame: with software
  // rendering, 10,000 drawImage or arc calls cost 80+ ms a frame, the stamps a few ms.
  // own: filled disc; declared: ring; pending: diamond; unknown: square.
  const MASKS = (() => {
    const m = { own: [], declared: [], pending: [], unknown: [] };
    for (let dy = -6; dy <= 6; dy++) {
      for (let dx = -6; dx <= 6; dx++) {
        const r = Math.hypot(dx, dy);
        if (r <= 4.2) m.own.push([dx, dy]);
        if (r >= 3.5 && r <= 5.2) m.declared.push([dx, dy]);
        if (Math.abs(dx) + Math.abs(dy) <= 6) m.pending.push([dx, dy]);
        if (Math.abs(dx) <= 4 && Math.abs(dy) <= 4) m.unknown.push([dx, dy]);
      }
    }
    return m;
  })();
  const rgbaCache = new Map();
  function rgba32(css) {  // "#rrggbb" -> little-endian ABGR word of an opaque pixel
    let v = rgbaCache.get(css);
    if (v === undefined) {
      const h = css.replace("#", "");
      const r = parseInt(h.slice(0, 2), 16), g = parseInt(h.slice(2, 4), 16), b = parseInt(h.slice(4, 6), 16);
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

  function draw() {
    const canvas = trackLayer.canvas();
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    ctx.clearRect(0, 0, W, H);
    const t = currentTracks();
    state.frames += 1;
    if (!t || !t.key) { setText("track-count", "0 tracks"); return; }
    const n = t.key.length;
    const proj = projector();
    const xy = new Float32Array(2 * n), lead = new Float32Array(2 * n);
    const visible = new Uint8Array(n);
    const mPerDegLat = 111320, margin = 20;
    let inView = 0;
    for (let i = 0; i < n; i++) {
      const lat = t.latitude[i], lon = t.longitude[i];
      if (!known(lat) || !known(lon)) continue;
      proj(lat, lon, xy, 2 * i);
      const x = xy[2 * i], y = xy[2 * i + 1];
      if (x < -margin || y < -margin || x > W + margin || y > H + margin) continue;
      visible[i] = 1; inView += 1;
      const gs = t.groundspeed ? t.groundspeed[i] : null, trk = t.track[i];
      if (!known(gs) || !known(trk)) { lead[2 * i] = x; lead[2 * i + 1] = y; continue; }
      const d = gs * 0.514444 * LEADER_S, a = trk * Math.PI / 180;
      proj(lat + d * Math.cos(a) / mPerDegLat,
           lon + d * Math.sin(a) / (mPerDegLat * Math.cos(lat * Math.PI / 180)), lead, 2 * i);
    }
    // one path per colour and symbol: a few draw calls however many tracks
    const groups = new Map();
    for (let i = 0; i < n; i++) {
      if (!visible[i]) continue;
      const c = colourOf(t.owner[i], t.identity[i]);
      let g = groups.get(c);
      if (!g) { g = []; groups.set(c, g); }
      g.push(i);
    }
    const tp = new Float32Array(2);
    const words = stampLayer(W, H);
    ctx.lineWidth = 1;
    for (const [c, idx] of groups) {
      ctx.strokeStyle = c;
      if (!state.replay) {
        ctx.globalAlpha = 0.45; ctx.beginPath();
        for (const i of idx) {
          const trail = state.trails.get(t.key[i]);
          if (!trail || trail.length < 2) continue;
          proj(trail[0][0], trail[0][1], tp, 0); ctx.moveTo(tp[0], tp[1]);
          for (let k = 1; k < trail.length; k++) {
            proj(trail[k][0], trail[k][1], tp, 0); ctx.lineTo(tp[0], tp[1]);
          }
        }
        ctx.stroke();
      }
      ctx.globalAlpha = 0.9; ctx.beginPath();
      for (const i of idx) {
        ctx.moveTo(xy[2 * i], xy[2 * i + 1]); ctx.lineTo(lead[2 * i], lead[2 * i + 1]);
      }
      ctx.stroke();
      const word = rgba32(c);
      for (const i of idx) {
        const x = Math.round(xy[2 * i]), y = Math.round(xy[2 * i + 1]);
        const mask = MASKS[t.identity[i]] || MASKS.unknown;
        for (let k = 0; k < mask.length; k++) {
          const px = x + mask[k][0], py = y + mask[k][1];
          if (px >= 0 && py >= 0 && px < W && py < H) words[py * W + px] = word;
        }
      }
      ctx.lineWidth = 1;
    }
    ctx.globalAlpha = 1;
    stampCanvas.getContext("2d").putImageData(stampImage, 0, 0);
    ctx.drawImage(stampCanvas, 0, 0);
    if (inView <= LABEL_LIMIT) {
      ctx.font = "11px system-ui, sans-serif";
      for (let i = 0; i < n; i++) {
        if (!visible[i]) continue;
        const alt = t.altitude[i], x = xy[2 * i], y = xy[2 * i + 1];
        const fl = !known(alt) ? "---" : String(Math.round(alt / 100)).padStart(3, "0");
        ctx.fillStyle = "#1a202c";
        ctx.fillText(`${t.label[i]} ${fl}`, x + 7, y - 5);
        if (t.identity[i] !== "own") {
          ctx.fillStyle = "#4a5568";
          ctx.fillText(t.identity[i] + (t.owner[i] ? " " + t.owner[i] : ""), x + 7, y + 8);
        }
      }
    }
    if (!state.replay && state.picture) drawConflicts(ctx, state.picture.alerts || []);
    setText("track-count", `${n} tracks (${inView} in view)`);
  }

  function drawConflicts(ctx, alerts) {
    ctx.save();
    for (const a of alerts) {
      if (a.kind !== "conflict" || !a.own || !a.other) continue;
      const p = map.latLngToContainerPoint([a.own.latitude, a.own.longitude]);
      const q = map.latLngToContainerPoint([a.other.latitude, a.other.longitude]);
      ctx.strokeStyle = a.level >= 3 ? "#c53030" : a.level >= 2 ? "#dd6b20" : "#d69e2e";
      ctx.lineWidth = 3; ctx.setLineDash([8, 5]);
      ctx.beginPath(); ctx.moveTo(p.x, p.y); ctx.lineTo(q.x, q.y); ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.arc(q.x, q.y, 7, 0, 6.283); ctx.stroke();
      const text = `${a.own_aircraft}: LoS ${fmtDuration(a.t_in_s)}` +
        (a.resolution ? ` — ${a.resolution.text}` : "");
      ctx.font = "bold 12px system-ui, sans-serif";
      const mx = (p.x + q.x) / 2 + 8, my = (p.y + q.y) / 2;
      ctx.fillStyle = "rgba(255,255,255,0.85)";
      ctx.fillRect(mx - 2, my - 12, ctx.measureText(text).width + 4, 16);
      ctx.fillStyle = "#742a2a"; ctx.fillText(text, mx, my);
    }
    ctx.restore();
  }

  function frame() {
    if (state.dirty || state.benchUntil) { state.dirty = false; draw(); }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  map.on("move zoom", () => { state.dirty = true; });

  // ---------------------------------------------------------------- helpers
  function setText(id, text) { const el = document.getElementById(id); if (el) el.textContent = text; }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }
  function fmtDuration(s) {
    if (s === null || s === undefined) return "—";
    if (s <= 0) return "now";
    const m = Math.floor(s / 60), r = Math.round(s % 60);
    return `${m}:${String(r).padStart(2, "0")}`;
  }
  function fmtTime(s) { return s ? new Date(s * 1000).toISOString().slice(11, 19) + "Z" : "—"; }
  async function api(path, options = {}) {
    const headers = Object.assign({ Authorization: `Bearer ${state.token}` }, options.headers || {});
    if (options.body) headers["Content-Type"] = "application/json";
    const r = await fetch(path, Object.assign({}, options, { headers }));
    if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
    const type = r.headers.get("content-type") || "";
    return type.includes("json") ? r.json() : r.text();
  }

  // ---------------------------------------------------------------- login and scene
  async function login(token) {
    state.token = token;
    const scene = await api("/v1/live/session");
    state.scene = scene; state.party = scene.party;
    for (const p of scene.parties) { state.colours[p.id] = p.colour; state.names[p.id] = p.name; }
    localStorage.setItem("deconflict-token", token);
    document.getElementById("login-panel").hidden = true;
    setText("whoami", `${state.names[scene.party] || scene.party}`);
    document.getElementById("whoami").style.color = state.colours[scene.party] || "";
    drawScene(scene);
    loadOperations();
    loadCheckpoint();
    fillRecipients(scene);
    fillLegend(scene);
    connect();
  }

  function drawScene(scene) {
    staticLayer.clearLayers();
    if (scene.center) map.setView(scene.center, 7);
    for (const a of scene.areas) {
      const style = a.kind === "shared"
        ? { color: "#2d3748", weight: 2, dashArray: "10 6", fill: false }
        : { color: "#c53030", weight: 2, fillColor: "#c53030", fillOpacity: 0.12 };
      L.polygon(a.polygon, style).bindTooltip(`${a.name} (${a.floor_ft}–${a.ceiling_ft} ft)`)
        .addTo(staticLayer);
    }
    for (const b of scene.bases) {
      L.circleMarker([b.lat, b.lon], { radius: 5, color: state.colours[b.party] || "#555" })
        .bindTooltip(b.name).addTo(staticLayer);
    }
  }

  // Operations from the store (GET /v1/live/operations): our own in full, another party's only
  // the parts that meet ours (need-to-know). Declarations change: read again every 15 s.
  const operationsLayer = L.layerGroup().addTo(map);
  async function loadOperations() {
    try {
      const got = await api("/v1/live/operations");
      state.operations = got.operations;
    } catch (e) { return; }
    operationsLayer.clearLayers();
    for (const o of state.operations) {
      const colour = state.colours[o.owner] || "#555";
      const style = o.shared
        ? { color: colour, weight: 1.5, dashArray: "2 5", fillColor: colour, fillOpacity: 0.18 }
        : { color: colour, weight: 1.5, dashArray: "4 4", fillOpacity: 0.06 };
      for (const v of o.volumes) {
        const text = `operation ${o.name} (${state.names[o.owner] || o.owner}) ` +
          `FL${Math.round(v.floor_ft / 100)}–FL${Math.round(v.ceiling_ft / 100)} ` +
          `${fmtTime(v.start_s)}–${fmtTime(v.end_s)}` +
          (o.shared ? ` — the part that meets ours; contact ${o.contact || "—"}` : "");
        const shape = v.circle
          ? L.circle([v.circle.lat, v.circle.lon], Object.assign({ radius: v.circle.radius_m }, style))
          : L.polygon(v.polygon, style);
        shape.bindTooltip(esc(text)).addTo(operationsLayer);
      }
    }
  }
  setInterval(() => { if (state.token) loadOperations(); }, 15000);

  // The log's latest signed checkpoint (GET /v1/log/checkpoint): its size and who cosigned it.
  async function loadCheckpoint() {
    let cp;
    try { cp = await api("/v1/log/checkpoint"); } catch (e) { return; }
    const who = cp.cosigned_by.length ? cp.cosigned_by.join(", ") : "nobody yet";
    const quorum = cp.counts ? "" : ` (quorum ${cp.quorum} not met)`;
    setText("log-checkpoint", `log checkpoint ${cp.size}: cosigned by ${who}${quorum}`);
  }
  setInterval(() => { if (state.token) loadCheckpoint(); }, 10000);

  function fillRecipients(scene) {
    const sel = document.getElementById("hotline-to");
    sel.innerHTML = "";
    for (const p of scene.parties) {
      if (p.id === scene.party) continue;
      const o = document.createElement("option"); o.value = p.id; o.textContent = p.name; sel.appendChild(o);
    }
    const all = document.createElement("option"); all.value = "*"; all.textContent = "all parties";
    sel.appendChild(all);
  }

  function fillLegend(scene) {
    const rows = scene.parties.map((p) =>
      `<li><span class="swatch" style="background:${esc(p.colour)};border-color:${esc(p.colour)}"></span>${esc(p.name)} — own (filled) / declared (ring)</li>`);
    rows.push(`<li><span class="swatch" style="background:${IDENTITY_COLOURS.pending}"></span>pending identification (diamond)</li>`);
    rows.push(`<li><span class="swatch" style="background:${IDENTITY_COLOURS.unknown}"></span>unknown (square)</li>`);
    document.getElementById("legend").innerHTML = rows.join("");
  }

  // ---------------------------------------------------------------- live stream
  function connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    // the token goes as the first message, never in the URL (URLs are logged: docs/security.md)
    const ws = new WebSocket(`${proto}://${location.host}/v1/live/ws`);
    ws.onopen = () => ws.send(JSON.stringify({ token: state.token }));
    state.ws = ws;
    ws.binaryType = "arraybuffer";
    let chain = Promise.resolve();  // inflating is asynchronous: keep the pictures in order
    ws.onmessage = (ev) => {
      chain = chain.then(() => decodePicture(ev.data)).then((pic) => {
        if (state.ws === ws) onPicture(pic);
      }).catch((e) => console.warn("picture dropped:", e));
    };
    ws.onclose = () => { if (state.ws === ws) setTimeout(connect, 1000); };
  }

  // The picture frame (deconflict.service.picture_wire): "DCPZ" + uint32 length + a small JSON
  // head + the zlib-deflated "DCPB" frame, which is "DCPB" + uint32 length + the JSON head
  // (every field but the tracks) + the track columns (float32, uint8 codes, U+001F-joined text).
  const utf8 = new TextDecoder();
  function magicOf(buf) { return String.fromCharCode(...new Uint8Array(buf, 0, 4)); }
  async function decodePicture(data) {
    let buf = data;
    if (magicOf(buf) === "DCPZ") {
      const skip = 8 + new DataView(buf).getUint32(4, true);
      const inflated = new Blob([new Uint8Array(buf, skip)]).stream()
        .pipeThrough(new DecompressionStream("deflate"));
      buf = await new Response(inflated).arrayBuffer();
    }
    if (magicOf(buf) !== "DCPB") return JSON.parse(utf8.decode(buf));
    const headLen = new DataView(buf).getUint32(4, true);
    const pic = JSON.parse(utf8.decode(new Uint8Array(buf, 8, headLen)));
    const base = 8 + headLen, n = pic.n, tracks = {};
    for (const c of pic.columns) {
      const at = base + c.offset;
      if (c.type === "f32") tracks[c.name] = new Float32Array(buf, at, n);  // NaN: unknown
      else if (c.type === "dict8") {
        const codes = new Uint8Array(buf, at, n), out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = c.values[codes[i]];
        tracks[c.name] = out;
      } else tracks[c.name] = n ? utf8.decode(new Uint8Array(buf, at, c.bytes)).split("\x1f") : [];
    }
    delete pic.columns; delete pic.n;
    pic.tracks = tracks;
    return pic;
  }
  function known(v) { return v !== null && v === v; }  // neither null (JSON) nor NaN (float32)

  function onPicture(pic) {
    state.picture = pic;
    const t = pic.tracks;
    if (t && t.key) {
      const seen = new Set();
      for (let i = 0; i < t.key.length; i++) {
        if (!known(t.latitude[i])) continue;
        seen.add(t.key[i]);
        let trail = state.trails.get(t.key[i]);
        if (!trail) { trail = []; state.trails.set(t.key[i], trail); }
        trail.push([t.latitude[i], t.longitude[i]]);
        if (trail.length > TRAIL_POINTS) trail.shift();
      }
      for (const k of state.trails.keys()) if (!seen.has(k)) state.trails.delete(k);
    }
    setText("clock", fmtTime(pic.time_s));
    renderAlerts(pic.alerts || []);
    updateSlider(pic.time_s);
    refreshPanels();
    state.dirty = true;
  }

  function changed(name, value) {
    const sig = JSON.stringify(value);
    if (state.lastSig[name] === sig) return false;
    state.lastSig[name] = sig; return true;
  }

  function renderAlerts(alerts) {
    setText("alert-count", String(alerts.length));
    const view = alerts.map((a) => [a.alert_id, a.level, a.kind, a.resolution && a.resolution.text,
      Math.round((a.t_in_s || 0) / 10)]);
    if (!changed("alerts", view)) return;
    document.getElementById("alerts").innerHTML = alerts.map((a) => a.kind === "conflict"
      ? `<li class="level-${a.level}" data-alert-id="${esc(a.alert_id)}" data-kind="conflict">
           <b>${esc(a.own_aircraft)}</b> ${esc(a.level_name)}: loss of separation in
           <span class="tlos">${fmtDuration(a.t_in_s)}</span>, closest ${a.dcpa_nm === null ? "—" : a.dcpa_nm.toFixed(1)} NM
           ${a.resolution ? `<div>recommended: <b class="resolution">${esc(a.resolution.text)}</b></div>` : ""}</li>`
      : `<li class="level-${a.level}" data-alert-id="${esc(a.alert_id)}" data-kind="area">
           <b>${esc(a.own_key)}</b> restricted area ${esc(a.area)} ahead</li>`).join("");
  }

  function renderRequests(reqs) {
    const view = reqs.map((r) => [r.request_id, r.outcome, r.answered, r.can_answer]);
    if (!changed("requests", view)) return;
    document.getElementById("requests").innerHTML = reqs.map((r) => {
      const who = r.observer === state.party ? "asked by us" : `asked by ${esc(state.names[r.observer] || r.observer)}`;
      const pos = r.position ? `${r.position.latitude.toFixed(3)}, ${r.position.longitude.toFixed(3)}, FL${Math.round(r.position.altitude_m / 0.3048 / 100)}` : "";
      const form = r.can_answer && r.outcome !== "declared" && r.outcome !== "disputed"
        ? `<div><input class="answer-aircraft" placeholder="our aircraft" size="10">
             <button class="answer-ours" data-request-id="${esc(r.request_id)}">Ours</button>
             <button class="answer-not-ours" data-request-id="${esc(r.request_id)}">Not ours</button></div>`
        : "";
      return `<li data-request-id="${esc(r.request_id)}" data-outcome="${esc(r.outcome)}">
        track ${esc(r.track_id)} — ${who}<div class="muted">${pos}</div>
        <div>state: <b class="outcome">${esc(r.outcome)}</b></div>${form}</li>`;
    }).join("");
  }

  function renderMessages(msgs) {
    const view = msgs.map((m) => [m.message_id, m.delivery]);
    if (!changed("messages", view)) return;
    document.getElementById("messages").innerHTML = msgs.slice().reverse().map((m) => {
      const body = m.body || {};
      const text = body.text || (m.kind === "conflict_notice" ? `conflict notice (${body.action}) ${body.own_aircraft || ""} ${body.resolution || ""}`
        : m.kind === "identification_request" ? `identification request ${body.track_id}`
        : m.kind === "identification_answer" ? `identification answer: ${body.answer} ${body.aircraft || ""}`
        : m.kind === "acknowledgement" ? `acknowledged ${String(body.ref).slice(0, 8)}` : m.kind);
      const states = Object.entries(m.delivery || {}).filter(([p]) => p !== m.sender)
        .map(([p, s]) => `<span class="state-${esc(s)}" data-party="${esc(p)}">${esc(state.names[p] || p)}: ${esc(s)}</span>`).join(" ");
      const mine = (m.delivery || {})[state.party];
      // an identification request is acknowledged by its answer (the requests panel)
      const ackable = !m.outgoing && mine && mine !== "acknowledged" && m.kind !== "acknowledgement"
        && m.kind !== "identification_request";
      return `<li data-message-id="${esc(m.message_id)}" data-kind="${esc(m.kind)}" data-outgoing="${m.outgoing}">
        <span class="muted">${fmtTime(m.time_s)} ${esc(state.names[m.sender] || m.sender)} →</span> ${esc(text)}
        <div class="delivery">${states}</div>
        ${ackable ? `<button class="ack" data-message-id="${esc(m.message_id)}">Acknowledge</button>` : ""}</li>`;
    }).join("");
  }

  function renderIncidents(incs) {
    if (!changed("incidents", incs.map((i) => i.incident_id))) return;
    document.getElementById("incidents").innerHTML = incs.map((i) =>
      `<li data-incident-id="${esc(i.incident_id)}">${fmtTime(i.time_s)} <b>${esc(i.severity)}</b>
        ${esc(i.kind.replace(/_/g, " "))}: ${esc(i.aircraft.join(" / "))},
        ${(i.horizontal_m / 1852).toFixed(2)} NM / ${Math.round(i.vertical_m / 0.3048)} ft
        <button class="open-report" data-incident-id="${esc(i.incident_id)}">Open report</button></li>`).join("");
  }

  // The panels read /v1 as any client does, at most twice a second: the inbox (passing the last
  // seq held confirms delivery), the newest messages sent and received with their delivery
  // states, the identification requests, the incidents.
  async function refreshPanels(force) {
    const now = performance.now();
    if (state.polling || (!force && now - state.panelsAt < 500)) return;
    state.polling = true; state.panelsAt = now;
    try {
      const inbox = await api(`/v1/messages?after=${state.cursor}`);
      state.cursor = inbox.next;
      const [messages, requests, incidents] = await Promise.all([
        api("/v1/messages/recent?limit=100"), api("/v1/identification-requests?limit=50"),
        api("/v1/incidents")]);
      state.messages = messages; state.requests = requests; state.incidents = incidents;
      renderMessages(messages); renderRequests(requests); renderIncidents(incidents);
    } catch (e) { /* the next tick retries */ } finally { state.polling = false; }
  }

  // ---------------------------------------------------------------- actions
  document.getElementById("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = document.getElementById("login-token").value.trim();
    const key = document.getElementById("login-key").value.trim();
    if (key) DeconflictSign.setKey(key);
    login(token).catch((e) => {
      state.token = null;
      setText("login-error", e.message.startsWith("401") ? "unknown token" : e.message);
    });
  });

  document.getElementById("hotline-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("hotline-text");
    const text = input.value.trim();
    if (!text || !state.token) return;
    const to = [document.getElementById("hotline-to").value];
    const body = await DeconflictSign.signed(api, (t) => DeconflictSign.messageContent(
      state.party, to, "free_text", { text }, t), { to });
    await api("/v1/messages", { method: "POST", body: JSON.stringify(
      Object.assign(body, { kind: "free_text", body: { text } })) });
    input.value = "";
    refreshPanels(true);
  });

  document.getElementById("side").addEventListener("click", async (ev) => {
    const el = ev.target;
    if (!(el instanceof HTMLElement)) return;
    if (el.classList.contains("answer-ours") || el.classList.contains("answer-not-ours")) {
      const ours = el.classList.contains("answer-ours");
      const li = el.closest("li");
      const aircraft = li ? li.querySelector(".answer-aircraft").value.trim() : "";
      if (ours && !aircraft) { li.querySelector(".answer-aircraft").focus(); return; }
      const rid = el.dataset.requestId, answer = ours ? "ours" : "not_ours";
      const body = await DeconflictSign.signed(api, (t) => DeconflictSign.answerContent(
        rid, state.party, answer, aircraft, "", t), { answer, aircraft });
      await api(`/v1/identification-requests/${rid}/answer`, { method: "POST", body: JSON.stringify(body) });
      refreshPanels(true);
    } else if (el.classList.contains("ack")) {
      const mid = el.dataset.messageId;
      const body = await DeconflictSign.signed(api, (t) => DeconflictSign.acknowledgementContent(
        mid, state.party, t), {});
      await api(`/v1/messages/${mid}/ack`, { method: "POST", body: JSON.stringify(body) });
      refreshPanels(true);
    } else if (el.classList.contains("open-report")) {
      const html = await api(`/v1/incidents/${el.dataset.incidentId}/report.html`);
      document.getElementById("report-frame").srcdoc = html;
      document.getElementById("report").hidden = false;
    }
  });
  document.getElementById("report-close").addEventListener("click", () => {
    document.getElementById("report").hidden = true;
  });
  document.getElementById("sitrep-button").addEventListener("click", async () => {  // one-page PNG
    const r = await fetch("/v1/sitrep.png", { headers: { Authorization: `Bearer ${state.token}` } });
    if (r.ok) Object.assign(document.createElement("a"), { href: URL.createObjectURL(await r.blob()), download: "sitrep.png" }).click();
  });

  // ---------------------------------------------------------------- time slider (last hour)
  const slider = document.getElementById("slider");
  function updateSlider(now) {
    if (!now) return;
    const live = !state.replay;
    slider.min = String(Math.max(now - 3600, state.scene ? state.scene.start_s : now - 3600));
    slider.max = String(now);
    if (live) { slider.value = String(now); setText("slider-label", "live " + fmtTime(now)); }
  }
  slider.addEventListener("change", async () => {
    const at = Number(slider.value);
    if (at >= Number(slider.max) - 1) { state.replay = null; state.dirty = true; return; }
    try {
      state.replay = await api(`/v1/live/picture?at=${at}`);
      setText("slider-label", "replay " + fmtTime(state.replay.time_s));
    } catch (e) { setText("slider-label", "nothing recorded then"); }
    state.dirty = true;
  });
  document.getElementById("live-button").addEventListener("click", () => {
    state.replay = null; slider.value = slider.max; state.dirty = true;
  });

  // ---------------------------------------------------------------- hooks for tests and benches
  window.deconflict = {
    state, map,
    tracks: currentTracks,
    operations() { return state.operations || null; },
    identityOf(key) {
      const t = currentTracks(); if (!t) return null;
      const i = t.key.indexOf(key); return i < 0 ? null : { identity: t.identity[i], owner: t.owner[i] };
    },
    loadPicture(pic) { state.picture = pic; state.dirty = true; },
    loadFrame(buf) {  // a picture frame as the WebSocket sends it (bench/map_fps.py)
      return decodePicture(buf).then((pic) => { state.picture = pic; state.dirty = true; });
    },
    benchFps(seconds) {
      return new Promise((resolve) => {
        const start = performance.now(), f0 = state.frames;
        state.benchUntil = start + seconds * 1000;
        setTimeout(() => {
          state.benchUntil = 0;
          resolve((state.frames - f0) / ((performance.now() - start) / 1000));
        }, seconds * 1000);
      });
    },
  };

  const link = DeconflictSign.takeLoginFragment();  // #token=...&key=... of a login link
  if (link.key) DeconflictSign.setKey(link.key);
  if (link.token) localStorage.setItem("deconflict-token", link.token);
  const saved = localStorage.getItem("deconflict-token");
  if (saved) login(saved).catch(() => { localStorage.removeItem("deconflict-token"); state.token = null; });
})();
