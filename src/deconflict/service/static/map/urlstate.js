/* Deconflict map page: the view in the URL, so a link opens the same view for a colleague of the
 * same party: #c=LAT,LON&z=ZOOM&select=VIPER11&party=blue,red&identity=own,declared
 * &alt=10000-30000&q=TEXT&off=trails,labels&view=table&colour=altitude&labels=callsign,fl
 * &units=metric&follow=1. Read once when the page opens (before the login link's token and key
 * are taken out of the address), written back (replaceState, no history entry) as the view
 * changes. ``select`` may be a track's key or its callsign; it applies once a picture has it. */
"use strict";

(function () {
  const M = window.DeconflictMap;
  const initial = new URLSearchParams(location.hash.replace(/^#/, ""));
  let pendingSelect = null, centre = null, ready = false, timer = null;

  function list(v) { return v === null ? null : v.split(",").filter((x) => x !== "" || v === ""); }

  function read(p) {
    const patch = {}, f = Object.assign({}, M.view.filters);
    if (p.has("party")) f.parties = p.get("party").split(",").map((x) => (x === "-" ? "" : x));
    if (p.has("identity")) f.identities = list(p.get("identity"));
    if (p.has("alt")) {
      const [lo, hi] = p.get("alt").split("-").map((x) => (x === "" ? null : Number(x)));
      f.altMin = Number.isFinite(lo) ? lo : null; f.altMax = Number.isFinite(hi) ? hi : null;
    }
    if (p.has("q")) f.q = p.get("q");
    patch.filters = f;
    if (p.has("off")) {
      const layers = Object.assign({}, M.view.layers);
      for (const k of list(p.get("off"))) if (k in layers) layers[k] = false;
      patch.layers = layers;
    }
    if (p.get("view") === "table") patch.view = "table";
    if (p.get("colour") === "altitude") patch.colour = "altitude";
    if (p.has("labels")) {
      const on = list(p.get("labels"));
      patch.labels = { callsign: on.includes("callsign"), fl: on.includes("fl"), speed: on.includes("speed") };
    }
    if (p.get("units") === "metric") patch.units = { dist: "km", alt: "m", speed: "kmh" };
    if (p.get("follow") === "1") patch.follow = true;
    if (p.has("c") && p.has("z")) {
      const [lat, lon] = p.get("c").split(",").map(Number), z = Number(p.get("z"));
      if ([lat, lon, z].every(Number.isFinite)) centre = { lat, lon, z };
    }
    pendingSelect = p.get("select");
    return patch;
  }

  function write() {
    const v = M.view, f = v.filters, c = M.ctx.map.getCenter(), out = new URLSearchParams();
    out.set("c", `${c.lat.toFixed(4)},${c.lng.toFixed(4)}`);
    out.set("z", String(M.ctx.map.getZoom()));
    if (v.select) out.set("select", v.select);
    if (f.parties) out.set("party", f.parties.map((x) => x || "-").join(","));
    if (f.identities) out.set("identity", f.identities.join(","));
    if (f.altMin !== null || f.altMax !== null) out.set("alt", `${f.altMin ?? ""}-${f.altMax ?? ""}`);
    if (f.q) out.set("q", f.q);
    const off = Object.entries(v.layers).filter(([, on]) => !on).map(([k]) => k);
    if (off.length) out.set("off", off.join(","));
    if (v.view === "table") out.set("view", "table");
    if (v.colour === "altitude") out.set("colour", "altitude");
    const labels = Object.entries(v.labels).filter(([, on]) => on).map(([k]) => k);
    if (labels.join() !== "callsign,fl") out.set("labels", labels.join(","));
    if (v.units.dist === "km") out.set("units", "metric");
    if (v.follow) out.set("follow", "1");
    history.replaceState(null, "", location.pathname + location.search + "#" + out.toString());
  }

  function schedule() {
    if (!ready) return;
    clearTimeout(timer);
    timer = setTimeout(write, 250);
  }

  M.module((ctx) => {
    M.set(read(initial), "url");
    ctx.map.on("moveend", schedule);
  });
  M.onScene(() => {  // after the scene set its own centre
    if (centre) M.ctx.map.setView([centre.lat, centre.lon], centre.z, { animate: false });
    ready = true;
    schedule();
  });
  M.onPicture(() => {
    if (!pendingSelect) return;
    const key = M.resolve(pendingSelect);
    if (!key) return;
    pendingSelect = null;
    M.select.select(key, { frame: !centre });
  });
  M.onChange(schedule);
  M.urlstate = { write, read };
})();
