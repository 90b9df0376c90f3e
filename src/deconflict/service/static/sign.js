/* Deconflict map page: what a party signs, signed in the browser with its Ed25519 key (WebCrypto).
 *
 * The rules are deconflict.hotline.authorship's and deconflict.hotline.canonical's, byte for byte:
 * canonical JSON is sorted keys (by code point), no whitespace, strings as JSON.stringify writes
 * them (which is Python's ensure_ascii=False form), integers in decimal and floats as Python's repr
 * (shortest round-trip digits; "1.0" for a whole float, "1e+16", "1e-05"). JavaScript has one
 * number type, so a value that Python holds as a float (time_s) is wrapped in PyFloat.
 *
 * The private key is PKCS#8 (DER in base64url/base64, or PEM); it comes from the login link's URL
 * fragment (#token=...&key=..., never sent to the server) or the login form, and stays in this
 * browser (localStorage). The server checks each signature against the party's registered key. */
(function () {
  const KEY_STORAGE = "deconflict-key";

  class PyFloat { constructor(value) { this.value = Number(value); } }

  function pyFloat(x) {  // Python's repr of a float
    if (!Number.isFinite(x)) throw new Error("NaN and infinities have no canonical JSON form");
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    const [mant, expText] = x.toExponential().split("e");  // shortest round-trip digits
    const exp = parseInt(expText, 10);
    const sign = mant.startsWith("-") ? "-" : "";
    const digits = mant.replace("-", "").replace(".", "");
    if (exp >= -4 && exp < 16) {
      if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
      const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
      return `${sign}${whole}.${digits.slice(exp + 1) || "0"}`;
    }
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = String(Math.abs(exp)).padStart(2, "0");
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }

  function byCodePoint(a, b) {
    const x = Array.from(a), y = Array.from(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) return d;
    }
    return x.length - y.length;
  }

  function canonicalJson(v) {
    if (v instanceof PyFloat) return pyFloat(v.value);
    if (v === null) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new Error("NaN and infinities have no canonical JSON form");
      return Number.isInteger(v) ? String(v) : pyFloat(v);
    }
    if (typeof v === "string") return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (typeof v === "object") {
      const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort(byCodePoint);
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
    }
    throw new Error(`a ${typeof v} has no canonical JSON form`);
  }

  const DEFAULT_PRIORITY = { free_text: 0, identification_request: 2, identification_answer: 2,
    conflict_notice: 2, operation_change: 1, incident_report: 1, acknowledgement: 0 };

  function messageContent(sender, to, kind, body, timeS, priority) {
    const addressed = to.includes("*") ? ["*"] : Array.from(new Set(to)).sort(byCodePoint);
    return { sender, to: addressed, kind, body, time_s: new PyFloat(timeS),
      priority: priority === undefined || priority === null ? DEFAULT_PRIORITY[kind] : priority };
  }
  function acknowledgementContent(messageId, party, timeS) {
    return { action: "acknowledgement", message_id: messageId, party, time_s: new PyFloat(timeS) };
  }
  function answerContent(requestId, party, answer, aircraft, operation, timeS) {
    return { action: "identification_answer", request_id: requestId, party, answer,
      aircraft: aircraft || "", operation: operation || "", time_s: new PyFloat(timeS) };
  }

  function der(text) {  // PKCS#8 bytes from PEM, base64 or base64url
    const b64 = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")
      .replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  let cached = null;
  function setKey(text) {
    if (text) localStorage.setItem(KEY_STORAGE, text.trim()); else localStorage.removeItem(KEY_STORAGE);
    cached = null;
  }
  function hasKey() { return !!localStorage.getItem(KEY_STORAGE); }
  async function privateKey() {
    const text = localStorage.getItem(KEY_STORAGE);
    if (!text) throw new Error("no signing key: log in with your party's link or paste its key");
    if (!cached) {
      cached = await crypto.subtle.importKey("pkcs8", der(text), { name: "Ed25519" }, false, ["sign"]);
    }
    return cached;
  }
  async function signContent(content) {
    const data = new TextEncoder().encode(canonicalJson(content));
    const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", await privateKey(), data));
    return btoa(String.fromCharCode(...sig));
  }

  /* ``body`` with time_s (the service clock, GET /v1/clock) and the signature of ``content(time_s)``. */
  async function signed(api, content, body) {
    const timeS = (await api("/v1/clock")).time_s;
    return Object.assign({}, body, { time_s: timeS, signature: await signContent(content(timeS)) });
  }

  /* {token, key} from a login link's fragment, which is then removed from the address bar. */
  function takeLoginFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const token = params.get("token"), key = params.get("key");
    if (token || key) history.replaceState(null, "", location.pathname + location.search);
    return { token, key };
  }

  window.DeconflictSign = { PyFloat, pyFloat, canonicalJson, messageContent, acknowledgementContent,
    answerContent, setKey, hasKey, signContent, signed, takeLoginFragment };
})();
