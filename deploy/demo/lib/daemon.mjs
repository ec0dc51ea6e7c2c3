// The game backend's side of the control-plane API (docs/API.md): POST
// /sessions and POST /policy/poses with the external shared secret. Only this
// server holds the secret; pages and bots get what /sessions returns.

const TIMEOUT_MS = 5000;

export class Daemon {
  /** baseUrl: http://127.0.0.1:PORT of proximity-voice-control; secret: EXTERNAL_SHARED_SECRET. */
  constructor(baseUrl, secret) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.secret = secret;
  }

  /** POSTs body as JSON; resolves to { status, body } (body parsed when JSON). Rejects on network failure. */
  async post(path, body) {
    const res = await fetch(this.baseUrl + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep the text */
    }
    return { status: res.status, body: parsed };
  }

  /** POST /sessions. Resolves to the VoiceSessionResponse; rejects with the error body otherwise. */
  async session(participantId, roomId, displayName) {
    const r = await this.post('/sessions', { participantId, roomId, displayName });
    if (r.status !== 200)
      throw new Error(`POST /sessions ${participantId}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** POST /policy/poses. Resolves to { status, body } (200 body: accepted/stale/unknown/revision). */
  poses(batch) {
    return this.post('/policy/poses', batch);
  }
}
