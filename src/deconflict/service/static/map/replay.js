/* Deconflict map page: replay of the last hour, and the way back to live.
 *
 * GET /v1/live/history says which times are kept (first, last, step); GET /v1/live/picture?at=T
 * gives the picture recorded at or before T. The replayed picture at T is interpolated between
 * the two recorded pictures around it (positions and altitudes linearly, per track key), so the
 * tracks glide at x1, x10 and x60 instead of jumping between snapshots. Pictures are fetched ahead
 * of the play head and kept (a few dozen at most). The party's events (GET /v1/events: alerts,
 * identification requests, hotline messages, incidents) are listed at their times while
 * replaying, and the alerts open at the replayed time are drawn on the map as live ones are
 * (the conflict line from our aircraft, where the replayed picture has it, to the other, dead
 * reckoned from the alert's last entry; an area alert as a ring on our aircraft) and listed.
 * "Live" (or the slider at its right end, or G) goes back to the live picture. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const KEEP = 64, EVENT_KINDS = /alert|identification|message|incident/;
  let range = { first_s: null, last_s: null, step_s: 5 }, playing = false, speed = 1, at = null;
  let cache = new Map(), loading = new Map(), events = [], lastWall = 0, liveTime = null;

  async function frameAt(t) {  // the recorded picture at or before t: {time_s, tracks}
    const step = range.step_s || 5, first = range.first_s || 0;
    const slot = first + Math.floor((t - first) / step + 1e-9) * step;  // the recorded moments
    if (cache.has(slot)) return cache.get(slot);
    if (!loading.has(slot)) {
      loading.set(slot, M.ctx.api(`/v1/live/picture?at=${slot + 1e-6}`).then((pic) => {
        cache.set(slot, pic); loading.delete(slot);
        if (cache.size > KEEP) cache.delete(cache.keys().next().value);
        return pic;
      }).catch(() => { loading.delete(slot); return null; }));
    }
    return loading.get(slot);
  }

  function interpolate(a, b, t) {
    if (!a) return null;
    if (!b || b.time_s <= a.time_s) return { type: "history", time_s: t, tracks: a.tracks };
    const f = Math.min(Math.max((t - a.time_s) / (b.time_s - a.time_s), 0), 1);
    const ta = a.tracks, tb = b.tracks, where = new Map();
    tb.key.forEach((k, j) => where.set(k, j));
    const out = {};
    for (const c of Object.keys(ta)) out[c] = ta[c].slice();
    for (let i = 0; i < ta.key.length; i++) {
      const j = where.get(ta.key[i]);
      if (j === undefined) continue;
      for (const c of ["latitude", "longitude", "altitude"]) {
        const x = ta[c][i], y = tb[c][j];
        if (M.known(x) && M.known(y)) out[c][i] = x + (y - x) * f;
      }
    }
    return { type: "history", time_s: t, tracks: out };
  }

  async function seek(t) {
    if (range.first_s === null) await loadRange();
    if (range.first_s === null) return;
    if (t >= range.last_s) { live(); return; }
    at = Math.max(t, range.first_s);
    const step = range.step_s || 5;
    const a = await frameAt(at), b = a ? await frameAt(a.time_s + step) : null;
    if (at === null) return;  // went live meanwhile
    const pic = interpolate(a, b, at);
    if (!pic) { label("nothing recorded then"); return; }
    pic.alerts = alertsAt(at).map((x) => placed(x, at, pic.tracks)).filter((x) => x);
    M.ctx.state.replay = pic;
    M.ctx.state.dirty = true;
    document.getElementById("slider").value = String(at);
    label(`replay ${M.fmtTime(at)}${playing ? ` ×${speed}` : ""}`);
    showEvents();
    M.picture(pic);
  }

  function live() {
    playing = false; at = null;
    M.ctx.state.replay = null; M.ctx.state.dirty = true;
    const s = document.getElementById("slider");
    s.value = s.max;
    document.getElementById("replay-play").textContent = "Play";
    document.getElementById("replay-events").hidden = true;
    label(liveTime ? `live ${M.fmtTime(liveTime)}` : "live");
  }

  function play(x) {
    if (x) speed = x;
    document.getElementById("replay-speed").value = String(speed);
    if (at === null) seek(Math.max(range.first_s || 0, (range.last_s || 0) - 600));
    playing = true; lastWall = performance.now();
    document.getElementById("replay-play").textContent = "Pause";
  }
  function pause() { playing = false; document.getElementById("replay-play").textContent = "Play"; if (at !== null) seek(at); }

  function tick(now) {
    if (playing && at !== null) {
      const dt = (now - lastWall) / 1000;
      if (dt >= 0.1) { lastWall = now; seek(at + dt * speed); }
    } else lastWall = now;
    requestAnimationFrame(tick);
  }

  function label(text) { document.getElementById("slider-label").textContent = text; }

  async function loadRange() {
    try { range = await M.ctx.api("/v1/live/history"); } catch (e) { return; }
    const s = document.getElementById("slider");
    if (range.first_s !== null) { s.min = String(range.first_s); s.max = String(range.last_s); s.step = "1"; }
    if (at === null) s.value = s.max;
  }

  async function loadEvents() {
    let after = -1;
    events = [];
    try {
      for (let k = 0; k < 10; k++) {
        const page = await M.ctx.api(`/v1/events?after=${after}&limit=500`);
        for (const e of page.events || []) {
          if (EVENT_KINDS.test(e.kind)) events.push(e);
          after = Math.max(after, e.seq);
        }
        if (!page.events || page.events.length < 500) break;
      }
    } catch (e) { /* the list stays as it was */ }
  }

  // The alerts open at t: each alert's entries (raised, updated) up to t, unless one cleared it.
  function alertsAt(t) {
    const open = new Map();
    for (const e of events) {
      if (!e.kind.startsWith("alert.") || eventTime(e) > t + 1e-6) continue;
      const p = e.payload || {};
      if (e.kind === "alert.cleared") open.delete(p.alert_id);
      else open.set(p.alert_id, Object.assign({}, open.get(p.alert_id) || {}, p));
    }
    return [...open.values()];
  }

  // An open alert placed at t: our aircraft where the replayed picture has it, the other dead
  // reckoned from the alert's last entry (its position, ground speed and track then).
  function placed(a, t, tracks) {
    const i = tracks && tracks.key ? tracks.key.indexOf(a.own_key) : -1;
    if (i < 0 || !M.known(tracks.latitude[i])) return null;
    const own = { latitude: tracks.latitude[i], longitude: tracks.longitude[i] };
    if (a.kind !== "conflict") return Object.assign({}, a, { own });
    const o = a.other, dt = t - Number(a.time_s || t);
    if (!o || !M.known(o.latitude)) return null;
    const v = (o.groundspeed_kt || 0) * 1852 / 3600, r = (o.track_deg || 0) * Math.PI / 180;
    const other = {
      latitude: o.latitude + v * Math.cos(r) * dt / 111320,
      longitude: o.longitude + v * Math.sin(r) * dt / (111320 * Math.cos(o.latitude * Math.PI / 180)),
    };
    const tIn = M.known(a.t_in_s) ? Math.max(0, a.t_in_s - dt) : null;
    return Object.assign({}, a, { own, other, t_in_s: tIn });
  }

  function eventTime(e) { const p = e.payload || {}; return Number(p.time_s || p.created_s || e.time_s || 0); }
  function eventText(e) {
    const p = e.payload || {}, b = p.body || {};
    if (e.kind.startsWith("alert")) return `alert ${p.own_aircraft || p.own_key || ""} ${p.level_name || p.kind || ""}`;
    if (e.kind.startsWith("incident")) {  // the log's entry is the whole record: its tracks name the aircraft
      const aircraft = p.aircraft || (p.tracks || []).map((t) => t.aircraft_id);
      return `incident ${aircraft.join(" / ")} ${p.severity || ""}`;
    }
    if (e.kind.startsWith("identification")) return `identification request ${p.track_id || ""}`;
    return `${p.sender || ""} → ${(p.to || []).join(", ")}: ${b.text || p.kind || e.kind}`;
  }
  function showEvents() {
    const box = document.getElementById("replay-events");
    const past = events.filter((e) => eventTime(e) <= at).slice(-6);
    box.hidden = false;
    const open = alertsAt(at);
    box.innerHTML = `<b>at ${M.fmtTime(at)}</b>` + (past.length ? "" : `<div class="muted">no event yet</div>`) +
      past.map((e) => `<div data-kind="${M.esc(e.kind)}">${M.fmtTime(eventTime(e))} ${M.esc(eventText(e))}</div>`).join("") +
      (open.length ? `<b>open alerts</b>` : "") +
      open.map((a) => `<div class="open-alert level-${Number(a.level) || 1}" data-alert-id="${M.esc(a.alert_id)}">` +
        `${M.esc(a.own_aircraft || a.own_key || "")} ${M.esc(a.level_name || a.kind || "")}</div>`).join("");
  }

  M.module(() => {
    const s = document.getElementById("slider");
    s.addEventListener("input", () => { playing = false; seek(Number(s.value)); });
    document.getElementById("live-button").addEventListener("click", live);
    document.getElementById("replay-play").addEventListener("click", () => (playing ? pause() : play()));
    document.getElementById("replay-speed").addEventListener("change", (ev) => { speed = Number(ev.target.value); });
    document.getElementById("replay-back").addEventListener("click", () => step(-1));
    document.getElementById("replay-forward").addEventListener("click", () => step(1));
    requestAnimationFrame(tick);
  });

  function step(dir) {
    const base = at === null ? range.last_s : at;
    if (base !== null) seek(base + dir * 30);
  }

  M.onPicture((pic) => {
    if (pic.type === "history") return;
    liveTime = pic.time_s;
    if (range.last_s !== null && pic.time_s > range.last_s) range.last_s = pic.time_s;
    if (at === null) {
      const s = document.getElementById("slider");
      if (range.first_s === null || pic.time_s > Number(s.max) + 30) loadRange();
      s.max = String(pic.time_s); s.value = s.max;
      label(`live ${M.fmtTime(pic.time_s)}`);
    }
  });
  M.replay = {
    seek, live, play, pause, step, loadEvents, alertsAt,
    time: () => at, playing: () => playing,
    async start() { await loadRange(); await loadEvents(); },
  };
  M.onScene(() => { loadRange(); loadEvents(); setInterval(loadEvents, 30000); });
})();
