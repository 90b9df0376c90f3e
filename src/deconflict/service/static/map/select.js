/* Deconflict map page: selecting a track, its info panel, following it, and the linked panels.
 *
 * A track is selected by clicking it on the map, its row in the table, an alert (both aircraft
 * are framed, our own selected), an identification request (its track framed and selected) or
 * from a link (?select= in the URL). The info panel shows what GET /v1/live/track answers for
 * this party — identity and owner as it may see them, callsign, icao24, squawk, altitude and
 * flight level, ground speed, vertical rate, track, the sensors that reported it, the last
 * update and its age — refreshed once a second; in replay it shows the replayed row. "Follow"
 * keeps the selection in the middle of the map. Clicking an incident opens its report. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  let detail = null, fetchedAt = 0, fetching = false;

  function select(key, opts = {}) {
    if (key === M.view.select && !opts.force) return;
    detail = null; fetchedAt = 0;
    M.set({ select: key || null, follow: key ? M.view.follow : false }, "select");
    refresh();
    if (key && opts.frame !== false) frameKeys([key]);
  }

  function position(key) {
    const t = M.tracks(), i = M.indexOf(key);
    if (i < 0 || !M.known(t.latitude[i])) return null;
    return [t.latitude[i], t.longitude[i]];
  }

  function frameKeys(keys, extra = []) {
    const pts = keys.map(position).filter(Boolean).concat(extra);
    if (!pts.length) return;
    const map = M.ctx.map;
    // Leaflet drops a zoom asked for while another animates: frame once that one ends
    if (map._animatingZoom) { map.once("zoomend", () => frameKeys(keys, extra)); return; }
    const b = L.latLngBounds(pts);
    const now = { animate: false };
    if (pts.length === 1) { if (!map.getBounds().pad(-0.1).contains(b)) map.panTo(pts[0], now); return; }
    if (b.getNorthEast().equals(b.getSouthWest(), 1e-6)) map.setView(pts[0], Math.max(map.getZoom(), 9), now);
    else map.fitBounds(b.pad(0.6), { maxZoom: 10, animate: false });
  }

  async function fetchDetail() {
    const key = M.view.select;
    if (!key || fetching || M.ctx.state.replay) return;
    fetching = true;
    try {
      detail = await M.ctx.api(`/v1/live/track?key=${encodeURIComponent(key)}`);
    } catch (e) { detail = null; } finally { fetching = false; fetchedAt = Date.now(); }
    render();
  }

  function refresh() {
    if (M.view.select && Date.now() - fetchedAt > 1000) fetchDetail();
    render();
  }

  function row(t, i) {  // what the picture itself says of track i (a recorded one has fewer columns)
    const out = {};
    for (const c of ["key", "label", "identity", "owner", "latitude", "longitude", "altitude",
                     "groundspeed", "track", "vertical_rate", "icao24", "squawk"]) {
      if (t[c]) out[c] = t[c][i];
    }
    out.owner = out.owner || null;
    return out;
  }

  function render() {
    const panel = document.getElementById("info-panel"), key = M.view.select;
    if (!panel) return;
    panel.hidden = !key;
    if (!key) return;
    const t = M.tracks(), i = M.indexOf(key);
    const live = i >= 0 ? row(t, i) : null;
    const d = Object.assign({}, detail && detail.key === key && !M.ctx.state.replay ? detail : {}, live || {});
    const names = M.ctx.state.names;
    const identity = d.identity ? d.identity + (d.owner && d.identity !== "own" ? ` (${names[d.owner] || d.owner})` : "") : "—";
    const age = M.ctx.state.replay ? "replay" : M.known(d.age_s) ? `${Math.round(d.age_s)} s ago` : "—";
    const rows = [
      ["identity", identity], ["owner", d.owner ? names[d.owner] || d.owner : "unknown"],
      ["callsign", d.callsign || d.label || "—"], ["icao24", d.icao24 || "—"], ["squawk", d.squawk || "—"],
      ["altitude", `${M.fmtAlt(d.altitude)} (FL${M.fmtFL(d.altitude)})`],
      ["ground speed", M.fmtSpeed(d.groundspeed)], ["vertical rate", M.fmtRate(d.vertical_rate)],
      ["track", M.known(d.track) ? `${String(Math.round(d.track) % 360).padStart(3, "0")}°` : "—"],
      ["position", M.known(d.latitude) ? `${d.latitude.toFixed(4)}, ${d.longitude.toFixed(4)}` : "—"],
      ["sensors", (d.sensors || []).join(", ") || "—"],
      ["last update", `${M.fmtTime(d.last_update_s)} (${age})`],
    ];
    document.getElementById("info-title").textContent = d.label || key;
    document.getElementById("info").innerHTML = rows.map(([k, v]) =>
      `<dt>${M.esc(k)}</dt><dd data-field="${M.esc(k)}">${M.esc(v)}</dd>`).join("") +
      (i < 0 ? `<dd class="muted">not in the picture now</dd>` : "");
    document.getElementById("info-follow").checked = !!M.view.follow;
  }

  M.module((ctx) => {
    ctx.map.on("click", (ev) => {
      if (M.measuring && M.measuring()) return;
      const p = ev.containerPoint;
      select(M.render.hit(p.x, p.y), { frame: false });
    });
    document.getElementById("info-close").addEventListener("click", () => select(null));
    document.getElementById("info-follow").addEventListener("change", (ev) => {
      M.set({ follow: ev.target.checked }, "follow");
      if (ev.target.checked) follow();
    });
    // linked panels: an alert frames and selects both aircraft, a request its track
    document.getElementById("side").addEventListener("click", (ev) => {
      const el = ev.target;
      if (!(el instanceof HTMLElement) || el.closest("button, input, form")) return;
      const li = el.closest("li");
      if (!li) return;
      const pic = ctx.state.picture || {};
      if (li.dataset.alertId) {
        const a = (pic.alerts || []).find((x) => x.alert_id === li.dataset.alertId);
        if (!a) return;
        select(a.own_key, { frame: false });
        const extra = [a.own, a.other].filter((x) => x && M.known(x.latitude)).map((x) => [x.latitude, x.longitude]);
        frameKeys([a.own_key], extra);
      } else if (li.dataset.requestId) {
        // the requests panel's list (GET /v1/identification-requests, read by app.js)
        const r = (ctx.state.requests || []).find((x) => x.request_id === li.dataset.requestId);
        if (!r) return;
        select(r.track_id, { frame: false });
        const at = r.position && M.known(r.position.latitude) ? [[r.position.latitude, r.position.longitude]] : [];
        frameKeys([r.track_id], at);
      } else if (li.dataset.incidentId) {
        const b = li.querySelector("button.open-report");
        if (b) b.click();
      }
    });
  });

  function follow() {
    const p = M.view.follow && M.view.select ? position(M.view.select) : null;
    if (p) M.ctx.map.panTo(p, { animate: false });
  }
  M.onPicture(() => { follow(); refresh(); });
  M.onChange((patch) => { if ("units" in patch) render(); });

  M.select = { select, frameKeys, render, detail: () => detail };
})();
