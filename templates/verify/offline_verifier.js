"use strict";
// The offline verifier's check of a QR link: the same rules as credentials/links.py (form 2, the
// compact one, and form 1 of older transcripts), with WebCrypto's Ed25519 and the public keys
// embedded in this file. No network.
(() => {
  const keys = JSON.parse(document.getElementById("keys").textContent).keys;
  const T = JSON.parse(document.getElementById("texts").textContent);
  const LINK = /^(.+?)\/v\/([A-Za-z0-9-]+)\?d=([0-9]{8})&k=([A-Za-z0-9_-]{16})&h=([A-Za-z0-9_-]{22})&s=([A-Za-z0-9_-]{86})$/;
  const LINK2 = /^(.+?)\/V\/([A-Z0-9-]+)\/([0-9]{212})$/;
  const ORIGIN = /^([A-Za-z]+:\/\/[^/]+)(.*)$/;

  function b64u(text) {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    const raw = atob(padded);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function b64uEncode(bytes) {
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function hex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");
  }

  // What a link states: {version, base (as signed), serial, day, kid (form 2: its first 8
  // characters), digest, signature}, or null when it is not a transcript's link.
  function parse(text) {
    const m2 = LINK2.exec(text);
    if (m2) {
      const [, printed, serial, digits] = m2;
      const o = ORIGIN.exec(printed);
      if (!o || o[1] !== o[1].toUpperCase()) return null;
      const base = o[1].toLowerCase() + o[2];
      let n = BigInt(digits);
      if (n >= 1n << 704n) return null;
      const raw = new Uint8Array(88);
      for (let i = 87; i >= 0; i--) {
        raw[i] = Number(n & 255n);
        n >>= 8n;
      }
      const days = raw[0] * 256 + raw[1];
      const day = new Date(Date.UTC(2000, 0, 1) + days * 86400000).toISOString().slice(0, 10);
      return { version: 2, base, serial, day, kid: b64uEncode(raw.slice(2, 8)),
               digest: raw.slice(8, 24), signature: raw.slice(24) };
    }
    const m = LINK.exec(text);
    if (!m) return null;
    const [, base, serial, d, kid, h, s] = m;
    try {
      const digest = b64u(h);
      const signature = b64u(s);
      if (digest.length !== 16 || signature.length !== 64) return null;
      return { version: 1, base, serial, day: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`, kid,
               digest, signature };
    } catch (e) {
      return null;
    }
  }

  async function signedBy(jwk, claims) {
    const message = new TextEncoder().encode([`second-transcript/link/v${claims.version}`, claims.base,
                                              claims.serial, claims.day, hex(claims.digest)].join("\n"));
    const key = await crypto.subtle.importKey(
      "jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, claims.signature, message);
  }

  async function check(text) {
    const claims = parse(text.trim());
    if (!claims) return { ok: false, reason: T.malformed };
    const candidates = keys.filter((k) => (claims.version === 1 ? k.kid === claims.kid : k.kid.startsWith(claims.kid)));
    if (!candidates.length) return { ok: false, reason: fill(T.unknown_key, { kid: claims.kid }) };
    let jwk = null;
    for (const candidate of candidates) {
      if (await signedBy(candidate, claims)) {
        jwk = candidate;
        break;
      }
    }
    if (!jwk) return { ok: false, reason: T.bad_signature };
    if (jwk.revoked_from && claims.day >= jwk.revoked_from) {
      return { ok: false, reason: fill(T.key_revoked, { kid: jwk.kid, day: jwk.revoked_from }) };
    }
    return { ok: true, serial: claims.serial, day: claims.day, kid: jwk.kid, base: claims.base };
  }

  function show(result) {
    const box = document.getElementById("result");
    box.hidden = false;
    box.className = result.ok ? "verdict valid" : "verdict not-genuine";
    box.querySelector("h2").textContent = result.ok ? T.genuine : T.not_genuine;
    box.querySelector("p").textContent = result.ok
      ? fill(T.genuine_detail, { serial: result.serial, day: result.day, kid: result.kid, base: result.base })
      : result.reason;
  }

  document.getElementById("check").addEventListener("click", async () => {
    try {
      show(await check(document.getElementById("link").value));
    } catch (e) {
      show({ ok: false, reason: fill(T.no_webcrypto, { error: String(e) }) });
    }
  });
})();
