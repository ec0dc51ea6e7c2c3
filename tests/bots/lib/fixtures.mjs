// Turns real LiveKit payloads into stable, anonymised fixtures: server SIDs
// (RM_/PA_/TR_/EV_/...), our room names and identities, and time stamps are
// replaced by fixed placeholders; keys, nesting, value types (int64 stay
// strings) and key order are kept exactly as LiveKit sent them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { signJwt } from './token.mjs';

/** Fixed key/secret the fixture Authorization headers are signed with. */
export const FIXTURE_KEY = 'fixturekey';
export const FIXTURE_SECRET = 'fixture-secret-0123456789abcdef0123456789';
export const FIXTURE_NOW_S = 1760000000; // createdAt of every fixture webhook

const SID_RE = /^([A-Z]{2})_[A-Za-z0-9]{6,}$/;
const TIME_KEY_RE = /(At|Time|AtMs|TimeMs|_at|_time|_at_ms|_time_ms|[Tt]imestamp|unixMicro|unix_micro)$/;
// values that are random per run (or secret-ish) and carry no structure
const OPAQUE_KEYS = new Map([
  ['turnPassword', 'fixture-turn-password'],
  ['turn_password', 'fixture-turn-password'],
  ['cid', 'fixture-cid'],
]);

export class Anonymiser {
  /** names: Map real string -> placeholder (room names, identities). */
  constructor(names) {
    this.names = new Map(names);
    this.sids = new Map();
    this.count = new Map();
  }

  sid(s) {
    if (!this.sids.has(s)) {
      const prefix = s.slice(0, 2);
      const n = (this.count.get(prefix) ?? 0) + 1;
      this.count.set(prefix, n);
      this.sids.set(s, `${prefix}_fixture${String.fromCharCode(64 + n)}`);
    }
    return this.sids.get(s);
  }

  time(key, v) {
    const digits = String(v);
    if (!/^\d+$/.test(digits) || digits === '0') return v;
    const scale = digits.length >= 16 ? 1e6 : digits.length >= 13 ? 1e3 : digits.length >= 10 ? 1 : 0;
    const fixed = scale ? String(FIXTURE_NOW_S * scale) : digits;
    return typeof v === 'number' ? Number(fixed) : fixed;
  }

  /** Returns a deep copy of value with every known id replaced. */
  apply(value, key = '') {
    if (Array.isArray(value)) return value.map((v) => this.apply(v, key));
    if (value && typeof value === 'object') {
      const out = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.apply(v, k);
      return out;
    }
    if (TIME_KEY_RE.test(key)) return this.time(key, value);
    if (typeof value !== 'string') return value;
    if (OPAQUE_KEYS.has(key)) return OPAQUE_KEYS.get(key);
    if (this.names.has(value)) return this.names.get(value);
    if (SID_RE.test(value)) return this.sid(value);
    if (key === 'id' && /^EV_/.test(value)) return this.sid(value);
    return value;
  }
}

/**
 * Writes dir/<event>.json (the anonymised body, compact as LiveKit sends it)
 * and dir/<event>.auth (an Authorization header with LiveKit's claim set,
 * re-signed with FIXTURE_KEY/FIXTURE_SECRET over the anonymised body).
 * realClaims/realHeader: the real delivery's JWT claims (names reused) and JOSE header.
 */
export function writeWebhookFixture(dir, event, body, realClaims, realHeader) {
  fs.mkdirSync(dir, { recursive: true });
  const raw = JSON.stringify(body);
  const claims = {};
  for (const k of Object.keys(realClaims)) {
    if (k === 'iss') claims.iss = FIXTURE_KEY;
    else if (k === 'sha256') claims.sha256 = crypto.createHash('sha256').update(raw).digest('base64');
    else if (k === 'exp') claims.exp = FIXTURE_NOW_S + (realClaims.exp - (realClaims.nbf ?? realClaims.exp - 300));
    else if (k === 'nbf' || k === 'iat') claims[k] = FIXTURE_NOW_S;
    else claims[k] = realClaims[k];
  }
  fs.writeFileSync(path.join(dir, `${event}.json`), raw);
  fs.writeFileSync(path.join(dir, `${event}.auth`), signJwt(claims, FIXTURE_SECRET, realHeader));
}

/** Writes a pretty JSON fixture file. */
export function writeJsonFixture(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}
