/* RFC 8785 canonical JSON on the page: npm's canonicalize (vendored), the JCS implementation
 * the signatures the page makes are checked against (deconflict.hotline.canonical, log format 2).
 * sign.js looks it up when it signs. */
import canonicalize from "./vendor/canonicalize/canonicalize.js";

window.DeconflictCanonicalize = canonicalize;
