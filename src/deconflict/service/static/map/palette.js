/* Deconflict map page: colours.
 *
 * Altitude: matplotlib's viridis (perceptually uniform; its lightness rises monotonically, so the
 * order stays readable under the common colour-vision deficiencies — tests/browser check it with
 * a CVD simulator), from the ground to FL450, in 1,000 ft steps; unknown altitude is grey.
 * Identity: the party's colour for own and declared tracks, amber for pending, slate for unknown
 * (the shape tells identity apart too: arrow, hollow arrow, diamond, square). */
"use strict";

(function () {
  const M = window.DeconflictMap;
  // viridis at 0, 1/16, ..., 1 (matplotlib.colormaps["viridis"])
  const VIRIDIS = ["#440154", "#48186a", "#472d7b", "#424086", "#3b528b", "#33638d", "#2c728e",
                   "#26828e", "#21918c", "#1fa088", "#28ae80", "#3fbc73", "#5ec962", "#84d44b",
                   "#addc30", "#d8e219", "#fde725"];
  const ALT_TOP_FT = 45000, ALT_STEP_FT = 1000, NO_ALT = "#a0aec0";
  const IDENTITY_COLOURS = { pending: "#d69e2e", unknown: "#4a5568" };

  function hex(c) { return [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16)); }
  function toHex(rgb) { return "#" + rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join(""); }

  // the colour of an altitude (ft): viridis interpolated linearly in sRGB between its stops
  function altitudeColour(ft) {
    if (!M.known(ft)) return NO_ALT;
    const x = Math.min(Math.max(ft, 0), ALT_TOP_FT) / ALT_TOP_FT * (VIRIDIS.length - 1);
    const k = Math.min(Math.floor(x), VIRIDIS.length - 2), f = x - k;
    const a = hex(VIRIDIS[k]), b = hex(VIRIDIS[k + 1]);
    return toHex(a.map((v, j) => v + (b[j] - v) * f));
  }
  const BINS = [];
  for (let ft = 0; ft <= ALT_TOP_FT; ft += ALT_STEP_FT) BINS.push(altitudeColour(ft + ALT_STEP_FT / 2));

  M.palette = {
    VIRIDIS, ALT_TOP_FT, ALT_STEP_FT, NO_ALT, IDENTITY_COLOURS, altitudeColour,
    // one colour per 1,000 ft band: a few draw groups however many tracks
    altitudeBin(ft) {
      if (!M.known(ft)) return NO_ALT;
      return BINS[Math.min(Math.max(Math.floor(ft / ALT_STEP_FT), 0), BINS.length - 1)];
    },
    identityColour(owner, identity, colours) {
      if (identity === "pending" || identity === "unknown") return IDENTITY_COLOURS[identity];
      return colours[owner] || "#2b6cb0";
    },
    // the legend's stops (ft) and their colours, as drawn
    legend() {
      const out = [];
      for (let ft = 0; ft <= ALT_TOP_FT; ft += 5000) out.push({ ft, colour: altitudeColour(ft) });
      return out;
    },
  };
})();
