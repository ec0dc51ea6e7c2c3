// The servers of the daemon e2e test, all on 127.0.0.1: the real daemon
// (build/proximity-voice-control), the "game server" that holds the external
// shared secret (POST /sessions, POST /policy/poses at 4 Hz), a static file
// server for the pages, and a TCP relay per player between its browser and
// the daemon's policy socket (so the test can cut that player's network path
// without touching the others). LiveKit comes from tests/bots/lib/server.mjs.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import { extname, join, normalize } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const secret = () => crypto.randomBytes(24).toString('hex'); // 48 bytes

/** The daemon binary: $PV_DAEMON, else $BUILD/proximity-voice-control (BUILD default build). */
export function daemonBin(repo) {
  return (
    process.env.PV_DAEMON ?? join(repo, process.env.BUILD ?? 'build', 'proximity-voice-control')
  );
}

/**
 * Starts the daemon with a test configuration (docs/DAEMON.md) and waits for
 * GET /health. opts: { bin, port, lk: {url, key, secret}, externalSecret,
 * policySecret, origin, logFile }. Returns { url, lines, stop() }; lines are
 * the parsed JSON log lines.
 */
export async function startDaemon(opts) {
  const url = `http://127.0.0.1:${opts.port}`;
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(opts.port),
    PUBLIC_BASE_URL: url,
    LIVEKIT_URL: opts.lk.url,
    LIVEKIT_PUBLIC_URL: opts.lk.url,
    LIVEKIT_API_KEY: opts.lk.key,
    LIVEKIT_API_SECRET: opts.lk.secret,
    POLICY_SOCKET_JWT_SECRET: opts.policySecret,
    EXTERNAL_AUTH_MODE: 'shared_secret',
    EXTERNAL_SHARED_SECRET: opts.externalSecret,
    CORS_ALLOWED_ORIGINS: opts.origin,
    // every page connects from 127.0.0.1
    RATE_LIMIT_SOCKET_AUTH_IP: '200:400',
    LOG_LEVEL: process.env.PV_E2E_LOG_LEVEL ?? 'info',
  };
  const log = openSync(opts.logFile, 'w');
  const child = spawn(opts.bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let exited = null;
  child.on('exit', (code, sig) => (exited = { code, sig }));
  let rest = '';
  child.stdout.on('data', (buf) => {
    writeSync(log, buf);
    rest += buf.toString('utf8');
    const parts = rest.split('\n');
    rest = parts.pop();
    for (const l of parts) {
      try {
        lines.push(JSON.parse(l));
      } catch {
        lines.push({ message: l });
      }
    }
  });
  child.stderr.on('data', (buf) => writeSync(log, buf));
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 60 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
      for (let i = 0; i < 20 && !exited; i++) await sleep(50);
    }
    try {
      closeSync(log);
    } catch {
      /* closed */
    }
  };
  for (let i = 0; i < 100; i++) {
    if (exited) break;
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, lines, stop, child };
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`daemon did not start (${JSON.stringify(exited)}); log ${opts.logFile}`);
}

/**
 * The game server: creates sessions and streams every player's position to
 * the daemon at 4 Hz. move(..., {now: true}) posts at once and resolves to
 * the Date.now() just before that POST (the start of a transition).
 */
export class Game {
  constructor({ url, secret: bearer, roomId, hz = 4 }) {
    Object.assign(this, { url, bearer, roomId, period_ms: 1000 / hz });
    this.positions = new Map();
    this.timer = null;
    this.inflight = null;
    this.revision = 0; // room revision from the latest POST /policy/poses answer
    this.errors = [];
  }

  async post(path, body) {
    const res = await fetch(this.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.bearer}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: res.ok ? JSON.parse(text) : null };
  }

  async session(participantId) {
    const r = await this.post('/sessions', { roomId: this.roomId, participantId });
    if (r.status !== 200) throw new Error(`POST /sessions ${participantId}: ${r.status} ${r.text}`);
    return r.json;
  }

  /** Posts are serialised with strictly increasing timestamps, like a real
   * game server's 4 Hz loop: an immediate move() racing the periodic post
   * must not hand the daemon two batches with one timestamp, or the later
   * one out of order (the daemon rightly drops those as stale). */
  postPoses() {
    const run = () => this.postPosesNow();
    this.chain = (this.chain ?? Promise.resolve()).then(run, run);
    return this.chain;
  }

  async postPosesNow() {
    const timestampMs = Math.max(Date.now(), (this.lastTimestampMs ?? 0) + 1);
    this.lastTimestampMs = timestampMs;
    const poses = [...this.positions].map(([participantId, position]) => ({
      participantId,
      position,
    }));
    if (poses.length === 0) return timestampMs;
    try {
      const r = await this.post('/policy/poses', { roomId: this.roomId, timestampMs, poses });
      if (r.status !== 200) this.errors.push(`${r.status} ${r.text}`);
      else if (r.json.unknown > 0 || r.json.stale > 0) this.errors.push(r.text);
      else this.revision = Math.max(this.revision, r.json.revision);
    } catch (e) {
      this.errors.push(String(e));
    }
    return timestampMs;
  }

  /** Sets positions ({id: {x,y,z}}); with now, posts them at once. */
  async move(moves, { now = false } = {}) {
    for (const [id, p] of Object.entries(moves)) this.positions.set(id, p);
    if (!now) return null;
    while (this.inflight) await this.inflight; // keep batches in order
    const t = this.postPoses();
    this.inflight = t.finally(() => (this.inflight = null));
    return t;
  }

  start() {
    this.timer = setInterval(() => {
      if (this.inflight) return;
      this.inflight = this.postPoses().finally(() => (this.inflight = null));
    }, this.period_ms);
  }

  async stop() {
    clearInterval(this.timer);
    if (this.inflight) await this.inflight;
  }
}

/** Static files for the pages: only dist/, test/e2e/ and livekit-client's dist/. */
export function servePages(root) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };
  const allowed = ['/dist/', '/test/e2e/', '/node_modules/livekit-client/dist/'];
  const server = createServer((req, res) => {
    const p = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!allowed.some((a) => p.startsWith(a)) || !existsSync(join(root, p)))
      return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(p)] ?? 'application/octet-stream' });
    res.end(readFileSync(join(root, p)));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/**
 * A TCP relay 127.0.0.1:port -> 127.0.0.1:target: one player's network path
 * to the daemon. cut() drops every open connection (both ends see a reset,
 * like a network failure, not a WebSocket close).
 */
export async function relay(target) {
  const pairs = new Set();
  const server = net.createServer((a) => {
    const b = net.connect(target, '127.0.0.1');
    const pair = [a, b];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      a.destroy();
      b.destroy();
    };
    a.on('error', drop).on('close', drop);
    b.on('error', drop).on('close', drop);
    a.pipe(b);
    b.pipe(a);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    connections: () => pairs.size,
    cut() {
      for (const [a, b] of pairs) {
        a.resetAndDestroy();
        b.resetAndDestroy();
      }
      pairs.clear();
    },
    close() {
      this.cut();
      server.close();
    },
  };
}

/**
 * CPU seconds (user + system) used so far by the live descendants of this
 * process, by command name (chromium, livekit-server, the daemon): what the
 * test itself costs on a shared machine. Linux /proc only; {} elsewhere.
 */
export function childCpuSeconds({ byType = false } = {}) {
  const procs = new Map();
  let ticks = 100;
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const st = readFileSync(`/proc/${d}/stat`, 'utf8');
        const close = st.lastIndexOf(')');
        const name = st.slice(st.indexOf('(') + 1, close);
        const f = st.slice(close + 2).split(' ');
        procs.set(Number(d), { name, ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) });
        // (utime, stime in clock ticks; children that exited are not counted)
      } catch {
        /* gone */
      }
    }
  } catch {
    return {};
  }
  const mine = (pid) => {
    for (let p = pid, n = 0; p > 1 && n < 64; n++) {
      if (p === process.pid) return true;
      p = procs.get(p)?.ppid ?? 0;
    }
    return false;
  };
  const out = {};
  for (const [pid, p] of procs) {
    if (pid === process.pid || !mine(pid)) continue;
    let key = p.name.startsWith('chrom') ? 'chromium' : p.name;
    if (byType && key === 'chromium') {
      // (Chromium rewrites its children's command lines into one string)
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const arg = (n) => cmd.match(new RegExp(`--${n}=([^\\s\\0]+)`))?.[1];
      key = `chromium:${arg('utility-sub-type') ?? arg('type') ?? 'browser'}`;
    }
    out[key] = (out[key] ?? 0) + p.cpu / ticks;
  }
  return out;
}
