// HS256 JWTs as LiveKit expects them (iss = API key, sub = identity, exp
// required), minted with node:crypto so the test tooling shows exactly which
// claims the daemon must produce. Also verifies webhook Authorization headers.
import crypto from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Signs claims (an object) with HS256; returns the compact JWT. header: the JOSE header to use. */
export function signJwt(claims, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const head = b64url(JSON.stringify(header));
  const body = b64url(JSON.stringify(claims));
  const sig = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(sig)}`;
}

/**
 * Verifies an HS256 JWT. Returns { header, claims } or throws with the reason.
 * Checks the signature and exp/nbf with leewaySec.
 */
export function verifyJwt(jwt, secret, nowSec = Date.now() / 1000, leewaySec = 60) {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWT');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url'));
  if (header.alg !== 'HS256') throw new Error(`alg ${header.alg}`);
  const want = crypto.createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) throw new Error('bad signature');
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  if (typeof claims.exp === 'number' && claims.exp + leewaySec < nowSec) throw new Error('expired');
  if (typeof claims.nbf === 'number' && claims.nbf - leewaySec > nowSec) throw new Error('not yet valid');
  return { header, claims };
}

/**
 * A participant join token. grants: { canSubscribe, canPublish, ... } merged
 * into video{}. Lifetime ttlSec (default 600).
 */
export function joinToken({ key, secret }, room, identity, grants = {}, ttlSec = 600) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt(
    {
      iss: key,
      sub: identity,
      nbf: now,
      iat: now,
      exp: now + ttlSec,
      name: identity,
      video: {
        room,
        roomJoin: true,
        canPublish: true,
        canSubscribe: true,
        canPublishData: false,
        canPublishSources: ['microphone'],
        ...grants,
      },
    },
    secret,
  );
}

/** Admin token for RoomService calls on one room (video.room must match). */
export function adminToken({ key, secret }, room, ttlSec = 600) {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ iss: key, nbf: now, iat: now, exp: now + ttlSec, video: { room, roomAdmin: true } }, secret);
}
