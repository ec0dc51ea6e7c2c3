// The rig of the end-to-end tests and the benchmark: a real LiveKit server
// (tests/bots/lib/server.mjs) whose webhooks go to the real daemon
// (lib/daemon.mjs), both on 127.0.0.1, plus helpers to create players and
// to observe what they hear. Restarts keep the ports, so clients find the
// servers again where they were.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toneHz } from '../../bots/lib/audio.mjs';
import { freeTcpPort, startLiveKit } from '../../bots/lib/server.mjs';
import { Daemon } from './daemon.mjs';
import { Game } from './game.mjs';
import { Player } from './player.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();

/** Polls pred every stepMs; resolves to the elapsed ms when it holds, or null after timeoutMs. */
export async function waitUntil(pred, timeoutMs, stepMs = 50) {
  const t0 = now();
  for (;;) {
    if (await pred()) return now() - t0;
    if (now() - t0 > timeoutMs) return null;
    await sleep(stepMs);
  }
}

/** p-th percentile (nearest rank) of xs. */
export function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN;
}

export class Rig {
  /** opts: { daemonEnv, name } */
  constructor(opts = {}) {
    this.opts = opts;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `pv-${opts.name ?? 'e2e'}-`));
    this.key = 'pve2ekey';
    this.secret = crypto.randomBytes(24).toString('hex'); // 48 chars
    this.externalSecret = crypto.randomBytes(24).toString('hex');
    this.policySecret = crypto.randomBytes(24).toString('hex');
    this.tones = new Map();
    this.players = [];
    this.games = [];
    this.lkRuns = 0;
  }

  /** A rig without servers, for a worker process of the benchmark: it makes
   * games and players against a daemon and LiveKit another process runs. */
  static client({ name, daemonUrl, externalSecret, lk }) {
    const r = new Rig({ name });
    r.daemon = { url: daemonUrl, stop: async () => {} };
    r.externalSecret = externalSecret;
    r.lk = { ...lk, stop: async () => {} };
    return r;
  }

  /** What Rig.client() needs, for a worker's environment. */
  clientInfo() {
    return { daemonUrl: this.daemon.url, externalSecret: this.externalSecret, lk: { url: this.lk.url, key: this.key, secret: this.secret } };
  }

  async start() {
    // a crash must not leave LiveKit or the daemon running
    const bail = async (e) => {
      console.log(`fatal: ${e?.stack ?? e}`);
      await Promise.race([this.stop().catch(() => {}), sleep(8000)]);
      process.exit(2);
    };
    process.once('uncaughtException', bail);
    process.once('unhandledRejection', bail);
    process.once('SIGTERM', () => bail('SIGTERM'));
    process.once('SIGINT', () => bail('SIGINT'));
    this.daemonPort = await freeTcpPort();
    await this.startLiveKit();
    this.daemon = new Daemon({
      port: this.daemonPort,
      dir: this.dir,
      livekit: { url: this.lk.url, key: this.key, secret: this.secret },
      externalSecret: this.externalSecret,
      policySecret: this.policySecret,
      env: this.opts.daemonEnv,
    });
    await this.daemon.start();
  }

  async startLiveKit() {
    this.lkRuns++;
    if (this.opts.metrics && !this.metricsPort) this.metricsPort = await freeTcpPort();
    this.lk = await startLiveKit({
      key: this.key,
      secret: this.secret,
      webhookUrl: `http://127.0.0.1:${this.daemonPort}/livekit/webhook`,
      port: this.lk?.port,
      prometheusPort: this.metricsPort,
      udpPort: this.lk?.udpPort,
      logFile: path.join(this.dir, `livekit-${this.lkRuns}.log`),
    });
  }

  /** LiveKit's server-wide media bytes sent to subscribers so far (Prometheus
   * livekit_packet_bytes{direction="outgoing"}; needs opts.metrics). */
  /** LiveKit's own media byte counters (Prometheus), server-wide: { in, out }. */
  async livekitBytes() {
    const t = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    const sum = { in: 0, out: 0 };
    for (const l of t.split('\n')) {
      if (!l.startsWith('livekit_packet_bytes{')) continue;
      if (l.includes('direction="outgoing"')) sum.out += Number(l.split(' ').pop());
      else if (l.includes('direction="incoming"')) sum.in += Number(l.split(' ').pop());
    }
    return sum;
  }

  /** Stops LiveKit, waits gapMs, starts it again on the same ports. */
  async restartLiveKit(gapMs = 500) {
    await this.lk.stop();
    await sleep(gapMs);
    await this.startLiveKit();
  }

  game(roomId) {
    const g = new Game({ daemonUrl: this.daemon.url, secret: this.externalSecret, roomId });
    // After a daemon restart the room is gone: the game server issues its
    // players' sessions again (what a real game server does on 404).
    g.onRoomLost = () => {
      if (g.recreating) return;
      g.recreating = Promise.all([...g.positions.keys()].map((id) => g.session(id).catch(() => null))).finally(() => {
        g.stats.sessionsRecreated++;
        g.recreating = null;
      });
    };
    this.games.push(g);
    return g;
  }

  /** Creates a player with the next free tone (not joined yet). hears: the
   * only speakers it tells apart (fewer Goertzel candidates: cheaper with
   * many bots; default: everyone's tone). */
  player(game, id, kind = 'honest', BotClass, hears = null) {
    this.tones.set(id, toneHz(this.tones.size));
    // bots name what they hear among the tones known when they were made
    for (const q of this.players) if (q.bot && !q.hears) q.bot.candidatesHz = [...new Set(this.tones.values())];
    const p = new Player({ id, tones: this.tones, game, kind, BotClass, hears });
    this.players.push(p);
    return p;
  }

  async stop() {
    for (const g of this.games) await g.stop();
    await Promise.all(this.players.map((p) => p.leave().catch(() => {})));
    if (this.daemon) await this.daemon.stop();
    if (this.lk) await this.lk.stop();
  }
}

/** Audible frames per (listener <- speaker) in [t0, t1]. */
export function hearingMatrix(players, t0, t1) {
  const m = {};
  for (const l of players)
    for (const s of players) if (l !== s) m[`${l.id}<-${s.id}`] = l.audible(s.id, t0, t1);
  return m;
}

/** True when listener has had audible frames of speaker in the last windowMs (>= half of them). */
export function hearsNow(listener, speaker, windowMs = 300) {
  return listener.audible(speaker.id, now() - windowMs) >= windowMs / 10 / 2;
}

/** Joins players count at a time; a join that takes longer than timeoutMs is
 * given up (the player leaves). Resolves to the players that joined. */
export async function joinAll(players, { count = 5, timeoutMs = 20000 } = {}) {
  const ok = [];
  for (let i = 0; i < players.length; i += count) {
    await Promise.all(
      players.slice(i, i + count).map(async (p) => {
        let timer;
        const to = new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('join timeout')), timeoutMs)));
        try {
          await Promise.race([p.join(), to]);
          ok.push(p);
        } catch (e) {
          const ev = p.events.map((x) => `${x.name}${x.detail !== undefined ? `(${String(x.detail).slice(0, 30)})` : ''}`);
          console.log(`  ${p.id}: join failed (${e.message ?? e}); events: ${ev.join(' ')}`);
          await Promise.race([p.leave().catch(() => {}), sleep(5000)]);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }
  return ok;
}

export function silentNow(listener, speaker, windowMs = 300) {
  return listener.audible(speaker.id, now() - windowMs) === 0;
}
