/* Deconflict map page: the display panel — colour by party/identity or by altitude, labels,
 * units — and the legend that goes with the colour mode (the parties and identity shapes, or the
 * altitude scale as a bar with flight levels). */
"use strict";

(function () {
  const M = window.DeconflictMap;
  let scene = null;
  const SHAPE = { own: "arrow (filled)", declared: "arrow (hollow)", pending: "diamond", unknown: "square" };

  function legend() {
    const el = document.getElementById("legend");
    if (!el) return;
    const rows = [];
    if (M.view.colour === "altitude") {
      const stops = M.palette.legend();
      const grad = stops.map((s) => `${s.colour} ${(100 * s.ft / M.palette.ALT_TOP_FT).toFixed(1)}%`).join(", ");
      rows.push(`<li class="alt-legend"><div id="alt-legend-bar" style="background:linear-gradient(to right, ${grad})"></div>` +
        `<div class="alt-legend-ticks">${stops.filter((s, k) => k % 3 === 0).map((s) => `<span>${s.ft === 0 ? "GND" : "FL" + M.fmtFL(s.ft)}</span>`).join("")}</div></li>`);
      rows.push(`<li><span class="swatch" style="background:${M.palette.NO_ALT}"></span>altitude unknown</li>`);
    } else if (scene) {
      for (const p of scene.parties) {
        rows.push(`<li><span class="swatch" style="background:${M.esc(p.colour)};border-color:${M.esc(p.colour)}"></span>${M.esc(p.name)}</li>`);
      }
      for (const id of ["pending", "unknown"]) {
        rows.push(`<li><span class="swatch" style="background:${M.palette.IDENTITY_COLOURS[id]}"></span>${id}</li>`);
      }
    }
    rows.push(`<li class="muted">shape: ${Object.entries(SHAPE).map(([k, v]) => `${k} ${v}`).join(", ")}; rotated to the track; line: where in 60 s</li>`);
    el.innerHTML = rows.join("");
  }

  function show() {
    document.getElementById(M.view.colour === "altitude" ? "colour-altitude" : "colour-party").checked = true;
    for (const k of ["callsign", "fl", "speed"]) document.getElementById(`label-${k}`).checked = !!M.view.labels[k];
    const u = M.view.units;
    document.getElementById("units-button").textContent = `${u.dist === "km" ? "km" : "NM"} · ${u.alt} · ${u.speed === "kmh" ? "km/h" : "kt"}`;
    legend();
  }

  M.module(() => {
    document.getElementById("display-panel").addEventListener("change", (ev) => {
      const el = ev.target;
      if (el.name === "colour") M.set({ colour: el.value }, "colour");
      else if (el.id && el.id.startsWith("label-")) {
        M.set({ labels: Object.assign({}, M.view.labels, { [el.id.slice(6)]: el.checked }) }, "labels");
      }
    });
    document.getElementById("units-button").addEventListener("click", () => toggleUnits());
    show();
  });

  function toggleUnits() {
    const metric = M.view.units.dist === "nm";
    M.set({ units: metric ? { dist: "km", alt: "m", speed: "kmh" } : { dist: "nm", alt: "ft", speed: "kt" } }, "units");
  }
  function toggleColour() { M.set({ colour: M.view.colour === "altitude" ? "party" : "altitude" }, "colour"); }

  M.onScene((s) => { scene = s; legend(); });
  M.onChange((patch) => { if ("colour" in patch || "labels" in patch || "units" in patch) show(); });
  M.display = { toggleUnits, toggleColour, show };
})();
