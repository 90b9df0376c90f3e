/* Deconflict map page: what a party signs, signed in the browser with its Ed25519 key (WebCrypto).
 *
 * The rules are deconflict.hotline.authorship's and deconflict.hotline.canonical's, byte for byte:
 * canonical JSON is RFC 8785 (JCS), here npm's canonicalize (vendored), in Python the rfc8785
 * package; both write numbers as JavaScript does, so nothing needs emulating.
 *
 * The private key is PKCS#8 (DER in base64url/base64, or PEM); it comes from the login link's URL
 * fragment (#token=...&key=..., never sent to the server) or the login form, and stays in this
 * browser (localStorage). The server checks each signature against the party's registered key. */
(function () {
  const KEY_STORAGE = "deconflict-key";

  function byCodePoint(a, b) {
    const x = Array.from(a), y = Array.from(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) return d;
    }
    return x.length - y.length;
  }

  function canonicalJson(v) {  // RFC 8785, by npm's canonicalize (vendor/, loaded by canonical.js)
    if (!window.DeconflictCanonicalize) throw new Error("canonical JSON is not loaded yet");
    return window.DeconflictCanonicalize(v);
  }

  const DEFAULT_PRIORITY = { free_text: 0, identification_request: 2, identification_answer: 2,
    conflict_notice: 2, operation_change: 1, incident_report: 1, acknowledgement: 0 };

  function messageContent(sender, to, kind, body, timeS, priority) {
    const addressed = to.includes("*") ? ["*"] : Array.from(new Set(to)).sort(byCodePoint);
    return { sender, to: addressed, kind, body, time_s: Number(timeS),
      priority: priority === undefined || priority === null ? DEFAULT_PRIORITY[kind] : priority };
  }
  function acknowledgementContent(messageId, party, timeS) {
    return { action: "acknowledgement", message_id: messageId, party, time_s: Number(timeS) };
  }
  function answerContent(requestId, party, answer, aircraft, operation, timeS) {
    return { action: "identification_answer", request_id: requestId, party, answer,
      aircraft: aircraft || "", operation: operation || "", time_s: Number(timeS) };
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

  /* ``body`` with time_s (the engine's clock) and the signature of ``content(time_s)``. */
  async function signed(api, content, body) {
    const timeS = (await api("/v1/live/clock")).time_s;
    return Object.assign({}, body, { time_s: timeS, signature: await signContent(content(timeS)) });
  }

  /* {token, key} from a login link's fragment, which is then removed from the address bar. */
  function takeLoginFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const token = params.get("token"), key = params.get("key");
    if (token || key) history.replaceState(null, "", location.pathname + location.search);
    return { token, key };
  }

  window.DeconflictSign = { canonicalJson, messageContent, acknowledgementContent,
    answerContent, setKey, hasKey, signContent, signed, takeLoginFragment };
})();
