// A webhook receiver on 127.0.0.1 (node:http) that records every delivery
// LiveKit makes and checks it the way the daemon must: Authorization is a bare
// HS256 JWT (no "Bearer"), iss = API key, claim sha256 = base64(SHA-256(body)).
import crypto from 'node:crypto';
import http from 'node:http';
import { verifyJwt } from './token.mjs';

export class WebhookReceiver {
  constructor({ key, secret }) {
    this.key = key;
    this.secret = secret;
    this.deliveries = []; // { t, method, url, headers, raw, body, check }
  }

  /** Starts listening; resolves to the URL to put in livekit.yaml. */
  start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let body = null;
        try {
          body = JSON.parse(raw);
        } catch {
          /* recorded as unparsable */
        }
        this.deliveries.push({
          t: performance.now(),
          method: req.method,
          url: req.url,
          headers: req.headers,
          raw,
          body,
          check: this.check(req.headers, raw),
        });
        res.writeHead(200).end();
      });
    });
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${this.server.address().port}/livekit/webhook`));
    });
  }

  /** Returns { ok, why, claims } for one delivery's headers and raw body. */
  check(headers, raw) {
    const auth = headers.authorization ?? '';
    if (auth.startsWith('Bearer ')) return { ok: false, why: 'has Bearer prefix' };
    if (!(headers['content-type'] ?? '').startsWith('application/webhook+json'))
      return { ok: false, why: `content-type ${headers['content-type']}` };
    try {
      const { claims } = verifyJwt(auth, this.secret);
      if (claims.iss !== this.key) return { ok: false, why: `iss ${claims.iss}`, claims };
      const sum = crypto.createHash('sha256').update(raw, 'utf8').digest('base64');
      if (claims.sha256 !== sum) return { ok: false, why: `sha256 ${claims.sha256} != ${sum}`, claims };
      return { ok: true, why: '', claims };
    } catch (e) {
      return { ok: false, why: String(e.message ?? e) };
    }
  }

  /** Deliveries whose body.event is name (and room.name is room, if given). */
  find(name, room) {
    return this.deliveries.filter((d) => d.body?.event === name && (!room || d.body?.room?.name === room));
  }

  stop() {
    if (!this.server) return Promise.resolve();
    this.server.closeAllConnections(); // LiveKit keeps its connection alive
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
