// The "game server" of the tests: the external authority that creates voice
// sessions (POST /sessions) and streams every player's position to the
// daemon (POST /policy/poses) at 4 Hz, authenticated with the shared secret.
// A move can also be posted at once (move(..., { now: true })): the time just
// before that POST is the "pose ingest" time the latency benchmark uses.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Game {
  /** opts: { daemonUrl, secret, roomId, hz (default 4) } */
  constructor({ daemonUrl, secret, roomId, hz = 4 }) {
    this.url = daemonUrl;
    this.secret = secret;
    this.roomId = roomId;
    this.periodMs = 1000 / hz;
    this.positions = new Map(); // participantId -> {x, y, z}
    this.timer = null;
    this.stats = { posts: 0, failed: 0, notFound: 0, sessionsRecreated: 0 };
    this.lastError = null;
    this.inflight = null;
  }

  async post(path, body) {
    const res = await fetch(this.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.secret}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* keep null */
    }
    return { status: res.status, json, text };
  }

  /** POST /sessions for participantId; resolves to the session JSON (throws on errors). */
  async session(participantId) {
    for (let attempt = 0; ; attempt++) {
      let r;
      try {
        r = await this.post('/sessions', { roomId: this.roomId, participantId, displayName: participantId });
      } catch (e) {
        r = { status: 0, text: String(e) };
      }
      if (r.status === 200) return r.json;
      if (attempt >= 40 || (r.status >= 400 && r.status < 500 && r.status !== 429))
        throw new Error(`POST /sessions ${participantId}: ${r.status} ${r.text}`);
      await sleep(250); // daemon restarting
    }
  }

  /** Sets a player's position (metres). With now: posts the batch at once;
   * resolves to performance.now() just before that POST was sent. */
  async move(participantId, pos, { now = false } = {}) {
    this.positions.set(participantId, { x: pos.x ?? 0, y: pos.y ?? 0, z: pos.z ?? 0 });
    if (!now) return null;
    return this.postPoses();
  }

  remove(participantId) {
    this.positions.delete(participantId);
  }

  /** Posts every known position; returns the send time. */
  async postPoses() {
    const t = performance.now();
    const ts = Date.now();
    const poses = [...this.positions].map(([participantId, position]) => ({ participantId, position }));
    if (poses.length === 0) return t;
    try {
      const r = await this.post('/policy/poses', { roomId: this.roomId, timestampMs: ts, poses });
      this.stats.posts++;
      if (r.status === 404) {
        this.stats.notFound++;
        this.onRoomLost?.(); // the daemon restarted: the game recreates the sessions
      } else if (r.status !== 200) {
        this.stats.failed++;
        this.lastError = `${r.status} ${r.text}`;
      } else if (r.json.unknown > 0) {
        this.onUnknown?.(r.json.unknown);
      }
    } catch (e) {
      this.stats.failed++;
      this.lastError = String(e);
    }
    return t;
  }

  /** Starts the 4 Hz pose stream. */
  start() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.inflight) return; // never queue up behind a slow daemon
      this.inflight = this.postPoses().finally(() => {
        this.inflight = null;
      });
    }, this.periodMs);
  }

  async stop() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.inflight) await this.inflight;
  }
}
