// An independent verifier of Deconflict's transparency log, in Node.js with its built-in crypto
// only (no package of ours, no npm dependency): a party needs nothing of Deconflict's to check.
//
//   node verify_log.mjs BUNDLE.json
//
// BUNDLE.json: {
//   "host_key": "<C2SP vkey of the host: name+keyid+base64(0x01||key)>",
//   "checkpoint": "<C2SP signed note: tlog-checkpoint, host signature, cosignature lines>",
//   "log": "<path of an exported log, JSON lines: each line is an entry's leaf bytes>",
//   "inclusion": [{"index": I, "size": N, "hashes": ["base64", ...]}, ...],
//   "consistency": [{"from": M, "to": N, "from_checkpoint": "<signed note of size M>",
//                    "hashes": ["base64", ...]}, ...]
// }
// Checks (RFC 9162 §2.1, C2SP signed-note / tlog-checkpoint / tlog-cosignature): the host's
// signature on each checkpoint; every deconflict.witness/ cosignature (cosignature/v1, the key
// is in the name); the root of the log's first N lines; each inclusion proof from the leaf
// SHA-256(0x00 || line); each consistency proof. Prints one JSON report; exit 0 when all pass.

import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";

const sha256 = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const leafHash = (data) => sha256(Buffer.from([0]), data);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);
const b64 = (s) => Buffer.from(s, "base64");

function ed25519Key(raw) {
  const x = Buffer.from(raw).toString("base64url");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
}

function parseVkey(text) {
  const [name, kid, rest] = [text.split("+")[0], text.split("+")[1], text.split("+").slice(2).join("+")];
  const raw = b64(rest);
  if (raw.length !== 33 || raw[0] !== 0x01) throw new Error("host key is not an Ed25519 vkey");
  const key = raw.subarray(1);
  const id = sha256(Buffer.from(`${name}\n`), Buffer.from([0x01]), key).subarray(0, 4);
  if (id.toString("hex") !== kid) throw new Error("host key id does not match its name and key");
  return { name, key };
}

function parseNote(text) {
  const at = text.indexOf("\n\n");
  if (at < 0) throw new Error("not a signed note");
  const body = text.slice(0, at + 1);
  const sigs = text.slice(at + 2).split("\n").filter((l) => l.length).map((line) => {
    if (!line.startsWith("\u2014 ")) throw new Error(`bad signature line ${line}`);
    const [name, data] = line.slice(2).split(" ");
    const raw = b64(data);
    return { name, kid: raw.subarray(0, 4), data: raw.subarray(4) };
  });
  const [origin, size, root] = body.split("\n");
  if (!/^(0|[1-9][0-9]*)$/.test(size)) throw new Error("checkpoint size is not decimal");
  return { body, sigs, origin, size: Number(size), root: b64(root) };
}

function hostSigned(note, host) {
  const kid = sha256(Buffer.from(`${host.name}\n`), Buffer.from([0x01]), host.key).subarray(0, 4);
  return note.sigs.some((s) => s.name === host.name && s.kid.equals(kid) &&
    verify(null, Buffer.from(note.body), ed25519Key(host.key), s.data));
}

function cosigners(note) {  // [name, ok] of every deconflict.witness/ line
  const out = [];
  for (const s of note.sigs) {
    if (!s.name.startsWith("deconflict.witness/")) continue;
    const key = Buffer.from(s.name.slice("deconflict.witness/".length), "base64url");
    const kid = sha256(Buffer.from(`${s.name}\n`), Buffer.from([0x04]), key).subarray(0, 4);
    let ok = key.length === 32 && s.kid.equals(kid) && s.data.length === 72;
    if (ok) {
      const time = s.data.readBigUInt64BE(0);
      const msg = Buffer.from(`cosignature/v1\ntime ${time}\n${note.body}`);
      ok = verify(null, msg, ed25519Key(key), s.data.subarray(8));
    }
    out.push([s.name, ok]);
  }
  return out;
}

function mth(leaves) {  // RFC 9162 §2.1.1
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function verifyInclusion(index, size, leaf, proof, root) {  // RFC 9162 §2.1.3.2
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

function verifyConsistency(first, second, firstRoot, secondRoot, proof) {  // RFC 9162 §2.1.4.2
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0 || first > second || proof.length === 0) return false;
  const path = [...proof];
  if ((first & (first - 1)) === 0) path.unshift(firstRoot);
  let fn = first - 1, sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr); sr = nodeHash(c, sr);
      if (fn % 2 === 0) while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}

const bundle = JSON.parse(readFileSync(process.argv[2], "utf8"));
const checks = [];
const check = (name, ok) => checks.push({ name, ok: Boolean(ok) });
try {
  const host = parseVkey(bundle.host_key);
  const cp = parseNote(bundle.checkpoint);
  check(`checkpoint ${cp.size} signed by the host`, cp.origin === host.name && hostSigned(cp, host));
  for (const [name, ok] of cosigners(cp)) check(`cosignature of ${name}`, ok);
  const raw = readFileSync(bundle.log);
  const lines = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) if (raw[i] === 0x0a) { lines.push(raw.subarray(start, i)); start = i + 1; }
  const leaves = lines.map(leafHash);
  check(`root of the log's first ${cp.size} entries`, leaves.length >= cp.size && mth(leaves.slice(0, cp.size)).equals(cp.root));
  for (const p of bundle.inclusion || []) {
    const ok = p.size === cp.size && p.index < leaves.length &&
      verifyInclusion(p.index, p.size, leaves[p.index], p.hashes.map(b64), cp.root);
    check(`inclusion of entry ${p.index} in ${p.size}`, ok);
  }
  for (const p of bundle.consistency || []) {
    const old = parseNote(p.from_checkpoint);
    const ok = hostSigned(old, host) && old.size === p.from && p.to === cp.size &&
      verifyConsistency(p.from, p.to, old.root, cp.root, p.hashes.map(b64));
    check(`consistency from ${p.from} to ${p.to}`, ok);
  }
} catch (err) {
  check(`readable bundle (${err.message})`, false);
}
const ok = checks.length > 0 && checks.every((c) => c.ok);
process.stdout.write(JSON.stringify({ ok, checks }) + "\n");
process.exit(ok ? 0 : 1);
