// Benchmark on a REAL LiveKit server with the real daemon (same rig as e2e.mjs):
//
//  1. Hearing latency, BENCH_BOTS (default 20) bots in pairs far apart: one of
//     each pair walks into range (10 m) and out again (40 m), staggered.
//     enter -> audible: the game's POST /policy/poses is sent -> first audible
//     frame of the partner at the listener; exit -> silent: POST -> last
//     audible frame. Both directions of every pair count. One process, one
//     clock (performance.now()), so the numbers include the daemon's
//     recompute round, the policy socket, the bot applying its allow-list,
//     LiveKit and the receiver's jitter buffer and decoder.
//  2. Downstream bitrate per listener, BENCH_TALKERS (default 30) talkers
//     standing within 10 m: with the daemon (cap: 12 nearest voices) versus
//     the same talkers subscribed to everyone (no control plane, LiveKit's
//     default allow-lists). Measured with LiveKit's own counter of media
//     bytes sent (Prometheus) over BENCH_BITRATE_S seconds, per listener.
//
//   node tests/e2e/bench.mjs [--only latency|bitrate]
import '../bots/lib/quiet.mjs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bot } from '../bots/lib/bot.mjs';
import { toneHz } from '../bots/lib/audio.mjs';
import { RoomService } from '../bots/lib/roomservice.mjs';
import { joinToken } from '../bots/lib/token.mjs';
import { LoadBots, toneOgg } from './lib/loadbot.mjs';
import { cpuSeconds } from './lib/procstat.mjs';
import { benchScale } from './lib/scale.mjs';
import { Rig, joinAll, now, pct, sleep, waitUntil } from './lib/rig.mjs';
import { dispose } from './lib/rtc.mjs';

const args = process.argv.slice(2);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const BOTS = Number(process.env.BENCH_BOTS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const TALKERS = Number(process.env.BENCH_TALKERS ?? 30);
const BITRATE_S = Number(process.env.BENCH_BITRATE_S ?? 20);
// Bots run in this many worker processes. Latency: 1 (everything in this
// process) measured p99 809 ms, 4 workers 1,206 ms on 2 cores: the extra
// rtc-node runtimes cost more than the parallel JS saves. Bitrate: 30
// talkers in one process never settled (LiveKit: "track not bound after
// timeout"), 3 workers of 10 settle the capped run in ~23 s.
const PROCS = Number(process.env.BENCH_PROCS ?? 1);
const BITRATE_PROCS = Number(process.env.BENCH_BITRATE_PROCS ?? 3);
// Bitrate talkers: 'go' = the loadbot (tests/loadbot, one light Go process,
// no decoding), 'rtc-node' = rtc-node bots in BENCH_BITRATE_PROCS workers
// (they decode everything they receive and starve this machine at 30).
const BITRATE_BOTS = process.env.BENCH_BITRATE_BOTS ?? 'go';
const LOADBOT = process.env.PV_LOADBOT ?? fileURLToPath(new URL('../../build/loadbot', import.meta.url));
const WORKER = args.includes('--worker') ? args[args.indexOf('--worker') + 1] : null;
const wall = (t) => performance.timeOrigin + t; // performance.now() -> epoch ms, comparable across processes
// extra daemon variables, e.g. BENCH_DAEMON_ENV=RECOMPUTE_ON_POSE=1,LOG_LEVEL=warn
const DAEMON_ENV = Object.assign({ LOG_LEVEL: 'debug' }, Object.fromEntries(
  (process.env.BENCH_DAEMON_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
));
// Which of rtc-node's two peer-connection modes the bots use (BENCH_PC =
// dual | single | both; latency runs once per mode, bitrate uses the first).
// Why dual by default: in rtc-node's single-PC mode (its default) every
// server-side subscription needs a client offer, and the Rust SDK debounces
// that offer by up to 150 ms (PUBLISHER_NEGOTIATION_FREQUENCY); the browser
// client (livekit-client 2.23, single PC) debounces 20 ms. In dual-PC mode
// LiveKit offers on the subscriber connection (debounce 10 ms when idle) and
// the bot answers at once, which is closer to what a browser player sees.
const PC_MODES = (process.env.BENCH_PC ?? 'both') === 'both' ? ['dual', 'single'] : [process.env.BENCH_PC];
const PC_LABEL = { dual: 'dual-PC mode (publisher + subscriber connections)', single: 'single-PC mode (its default)' };
function setPeerConnectionMode(mode) {
  if (!PC_LABEL[mode]) throw new Error(`BENCH_PC: dual, single or both, not ${mode}`);
  process.env.BOT_SINGLE_PC = mode === 'single' ? '1' : '0'; // read by Bot.connect, inherited by workers
}
const ENTER_P99_TARGET = 500;
const EXIT_P99_TARGET = 300;

const fmt = (xs) =>
  xs.length
    ? `n=${xs.length} p50=${pct(xs, 50).toFixed(0)} ms p90=${pct(xs, 90).toFixed(0)} ms p99=${pct(xs, 99).toFixed(0)} ms max=${Math.max(...xs).toFixed(0)} ms`
    : 'n=0';

// ------------------------------------------------------------ latency

async function firstAudibleAfter(listener, speaker, t0, timeoutMs) {
  let t = null;
  await waitUntil(() => {
    const m = listener.bot?.meters.get(speaker.id);
    t = m ? m.firstAudibleAfter(t0) : null;
    return t !== null;
  }, timeoutMs, 5);
  return t === null ? null : t - t0;
}

async function lastAudibleAfter(listener, speaker, t0, quietMs, timeoutMs) {
  let last = null;
  const ok = await waitUntil(() => {
    last = listener.bot?.meters.get(speaker.id)?.lastAudibleAt ?? -Infinity;
    return now() - Math.max(last, t0) >= quietMs;
  }, timeoutMs, 5);
  if (ok === null) return null;
  return last >= t0 ? last - t0 : 0;
}

async function benchLatency(rig, { room = 'bench-latency', nPairs = BOTS / 2, leave = true } = {}) {
  const game = rig.game(room);
  const pairs = [];
  for (let k = 0; k < nPairs; k++) {
    const a = rig.player(game, `a${k}`, 'honest', undefined, [`b${k}`]);
    const b = rig.player(game, `b${k}`, 'honest', undefined, [`a${k}`]);
    const base = k * 200;
    await game.move(a.id, { x: base });
    await game.move(b.id, { x: base + 40 });
    pairs.push({ a, b, base });
  }
  game.start();
  const players = pairs.flatMap((p) => [p.a, p.b]);
  const joined = new Set(await joinAll(players));
  pairs.splice(0, pairs.length, ...pairs.filter((p) => joined.has(p.a) && joined.has(p.b)));
  await sleep(1500);
  const enter = [];
  const exit = [];
  const samples = []; // enter samples, for the breakdown
  const missing = [];
  const cpu0 = rig.daemon.child ? cpuSeconds(rig.daemon.child.pid) : NaN;
  const t0All = now();
  for (let r = 0; r < ROUNDS; r++) {
    await Promise.all(
      pairs.map(async ({ a, b, base }) => {
        await sleep(Math.random() * 500); // stagger: poses land anywhere in the recompute period
        const tIn = await game.move(b.id, { x: base + 10 }, { now: true });
        const [e1, e2] = await Promise.all([firstAudibleAfter(a, b, tIn, 3000), firstAudibleAfter(b, a, tIn, 3000)]);
        for (const e of [e1, e2]) e === null ? missing.push(`enter ${a.id}/${b.id} r${r}`) : enter.push(e);
        if (e1 !== null) samples.push({ listener: a, speaker: b, tPose: tIn, tAudible: tIn + e1 });
        if (e2 !== null) samples.push({ listener: b, speaker: a, tPose: tIn, tAudible: tIn + e2 });
        await sleep(1200 + Math.random() * 300);
        const tOut = await game.move(b.id, { x: base + 40 }, { now: true });
        const [x1, x2] = await Promise.all([lastAudibleAfter(a, b, tOut, 500, 3000), lastAudibleAfter(b, a, tOut, 500, 3000)]);
        for (const x of [x1, x2]) x === null ? missing.push(`exit ${a.id}/${b.id} r${r}`) : exit.push(x);
      }),
    );
    await sleep(300);
  }
  const elapsed = (now() - t0All) / 1000;
  const cpu = rig.daemon.child ? cpuSeconds(rig.daemon.child.pid) - cpu0 : NaN;
  const removed = players.filter((p) => p.removedAt !== null).length;
  const wallSamples = samples.map((x) => {
    const au = x.speaker.events.find((e) => e.name === 'audience' && e.t >= x.tPose && e.t <= x.tAudible);
    return { listener: x.listener.id, speaker: x.speaker.id, tPose: wall(x.tPose), tAudible: wall(x.tAudible), tAudience: au ? wall(au.t) : null };
  });
  await game.stop();
  if (leave) await Promise.all(players.map((p) => p.leave())); // free the CPU for the next part
  return { enter, exit, missing, removed, cpuPct: (100 * cpu) / elapsed, players: players.length, samples: wallSamples };
}

/**
 * Where enter latency goes, from the daemon's debug log (LOG_LEVEL=debug):
 * pose -> UpdateSubscriptions{subscribe} for that listener leaves the
 * daemon (recompute wait), -> LiveKit's HTTP answer, -> first audible frame;
 * and the speaker's policy.audience arrival -> first audible frame. All
 * times are epoch ms (samples come from worker processes).
 */
function breakdown(rig, samples) {
  const subs = []; // { t, identity, callId }
  const answers = new Map(); // callId -> t
  for (const l of rig.daemon.lines) {
    const t = Date.parse(l.timestamp);
    if (l.message === 'livekit call' && l.method === 'UpdateSubscriptions' && l.subscribe === 1)
      subs.push({ t, identity: l.participantId, callId: l.callId });
    else if (l.message === 'livekit answer') answers.set(l.callId, t);
  }
  const parts = { poseToCall: [], callToAnswer: [], answerToAudible: [], audienceToAudible: [] };
  for (const s of samples) {
    const c = subs.find((x) => x.identity === s.listener && x.t >= s.tPose - 5 && x.t <= s.tAudible);
    if (c) {
      parts.poseToCall.push(c.t - s.tPose);
      const a = answers.get(c.callId);
      if (a !== undefined) {
        parts.callToAnswer.push(a - c.t);
        parts.answerToAudible.push(s.tAudible - a);
      }
    }
    if (s.tAudience !== null) parts.audienceToAudible.push(s.tAudible - s.tAudience);
  }
  return parts;
}

// ------------------------------------------------------------ workers

/** Starts a worker process of this script; returns { child, status, result, sids, done }. */
function startWorker(kind, cfg, index) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--worker', kind], {
    env: { ...process.env, BENCH_WORKER_CFG: JSON.stringify(cfg) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const w = { child, status: null, result: null, sids: null, exited: false };
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; ) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const tag = line.split(' ', 1)[0];
      const body = line.slice(tag.length + 1);
      if (tag === 'STATUS') w.status = JSON.parse(body);
      else if (tag === 'RESULT') w.result = JSON.parse(body);
      else if (tag === 'SIDS') w.sids = JSON.parse(body);
      else if (line.trim()) console.log(`  [w${index}] ${line}`);
    }
  });
  w.done = new Promise((r) => child.on('exit', () => r((w.exited = true))));
  return w;
}

async function stopWorkers(ws) {
  for (const w of ws) if (!w.exited) w.child.kill('SIGTERM');
  await Promise.race([Promise.all(ws.map((w) => w.done)), sleep(10000)]);
  for (const w of ws) if (!w.exited) w.child.kill('SIGKILL');
}

const emit = (tag, obj) => process.stdout.write(`${tag} ${JSON.stringify(obj)}\n`);

/** Splits n items into k nearly equal consecutive groups (index lists). */
function groups(n, k) {
  const out = Array.from({ length: Math.min(k, n) }, () => []);
  for (let i = 0; i < n; i++) out[Math.floor((i * out.length) / n)].push(i);
  return out;
}

async function benchLatencyWorkers(rig, mode) {
  const split = groups(BOTS / 2, PROCS);
  const cpu0 = cpuSeconds(rig.daemon.child.pid);
  const t0 = now();
  const ws = split.map((g, i) => startWorker('latency', { client: rig.clientInfo(), room: `bench-latency-${mode}-${i}`, nPairs: g.length }, i));
  await Promise.race([Promise.all(ws.map((w) => waitUntil(() => w.result || w.exited, 600000, 200))), sleep(600000)]);
  const cpuPct = (100 * (cpuSeconds(rig.daemon.child.pid) - cpu0)) / ((now() - t0) / 1000);
  await stopWorkers(ws);
  const L = { enter: [], exit: [], missing: [], removed: 0, samples: [], players: 0, cpuPct };
  ws.forEach((w, i) => {
    if (!w.result) return L.missing.push(`worker ${i} gave no result`);
    for (const k of ['enter', 'exit', 'missing', 'samples']) L[k].push(...w.result[k]);
    L.removed += w.result.removed;
    L.players += w.result.players;
  });
  return L;
}

async function worker(kind) {
  const cfg = JSON.parse(process.env.BENCH_WORKER_CFG);
  process.on('SIGTERM', () => process.exit(0)); // no leave: rtc-node can abort while 10+ bots disconnect
  const rig = Rig.client({ name: `bench-w-${kind}`, ...cfg.client });
  if (kind === 'latency') {
    const L = await benchLatency(rig, { room: cfg.room, nPairs: cfg.nPairs, leave: false });
    emit('RESULT', L);
  } else if (kind === 'capped') {
    const game = rig.game(cfg.room);
    const ps = cfg.ids.map((i) => rig.player(game, `t${i}`, 'honest', CountingBot));
    const joined = await joinAll(ps);
    joined.forEach((p) => {
      const i = Number(p.id.slice(1));
      game.move(p.id, around(i, cfg.talkers, 5 + (i % 3)));
    });
    game.start();
    for (;;) {
      emit('STATUS', { joined: joined.length, canHear: joined.map((p) => p.canHear.length), subscribed: joined.map((p) => subscribedCount(p.bot)) });
      await sleep(1000);
    }
  } else if (kind === 'all') {
    const bots = cfg.ids.map((i) => new CountingBot({ identity: `u${i}`, toneHz: toneHz(i), tones: new Map() }));
    const sids = {};
    for (const b of bots) {
      await Promise.race([
        b.connect(cfg.client.lk.url, joinToken(cfg.client.lk, cfg.room, b.identity)).then(() => b.publishTone()).then((sid) => (sids[b.identity] = sid)),
        sleep(20000),
      ]).catch((e) => console.log(`${b.identity}: join failed (${e.message ?? e})`));
    }
    emit('SIDS', sids);
    const up = bots.filter((b) => sids[b.identity]);
    for (;;) {
      emit('STATUS', { joined: up.length, subscribed: up.map(subscribedCount) });
      await sleep(1000);
    }
  }
  process.exit(0);
}

// ------------------------------------------------------------ bitrate

/** A bot that does not decode what it receives (the bitrate runs only count bytes). */
class CountingBot extends Bot {
  constructor(opts) {
    super(opts);
    this.room.setMaxListeners(100);
  }
  readAudio() {}
}

/** Remote participants whose track this bot's client shows subscribed. */
function subscribedCount(bot) {
  return [...bot.room.remoteParticipants.values()].filter((p) => [...p.trackPublications.values()].some((pub) => pub.subscribed)).length;
}

/** Every listener's client-side subscription count, from the workers' last STATUS. */
const subscribedOf = (ws) => ws.flatMap((w) => w.status?.subscribed ?? []);

/**
 * Downstream kbit/s per listener, from LiveKit's own counter of media bytes
 * sent (server-wide; only this room is active). Why not client stats:
 * rtc-node's getRtcStats takes seconds per bot with ~20 subscriptions on a
 * loaded machine. The counter is updated in batches, so the rate is taken
 * between its first and last change inside the window.
 */
async function measureDown(rig, listeners, subscribed, clientBytes = null, lbPid = null) {
  const rate = (changes) => {
    const first = changes[1] ?? changes[0]; // changes[0] is the starting value, not a change
    const last = changes[changes.length - 1];
    return { kbps: last.t > first.t ? ((last.v - first.v) * 8) / (last.t - first.t) : NaN, windowS: (last.t - first.t) / 1000 };
  };
  const seen = { in: [], out: [] };
  const prev = { in: -1, out: -1 };
  const c0 = clientBytes && { t: now(), v: clientBytes() };
  const cpu0 = { t: now(), lk: cpuSeconds(rig.lk.pid), lb: lbPid ? cpuSeconds(lbPid) : NaN };
  for (const end = now() + BITRATE_S * 1000; now() < end; await sleep(250)) {
    const v = await rig.livekitBytes();
    for (const d of ['in', 'out']) {
      if (v[d] !== prev[d]) seen[d].push({ t: now(), v: v[d] });
      prev[d] = v[d];
    }
  }
  if (process.env.BENCH_DEBUG) console.log(seen.out.map((c) => `${Math.round(c.t)}:${c.v}`).join(' '));
  const out = rate(seen.out);
  const inn = rate(seen.in);
  // what the listeners' clients counted (RTP bytes after SRTP, no UDP/IP
  // headers): a second measurement, independent of LiveKit's telemetry
  const kbpsClient = clientBytes ? ((clientBytes() - c0.v) * 8) / (now() - c0.t) / listeners : null;
  const cpuS = (now() - cpu0.t) / 1000;
  const cpuPct = { lk: (100 * (cpuSeconds(rig.lk.pid) - cpu0.lk)) / cpuS, lb: (100 * (cpuSeconds(lbPid) - cpu0.lb)) / cpuS };
  // kbpsIn: what the publishers delivered to the SFU; per stream = kbpsIn / talkers
  return { kbps: out.kbps / listeners, kbpsTotal: out.kbps, kbpsIn: inn.kbps, kbpsClient, cpuPct, talkers: listeners, windowS: out.windowS, subscribed: subscribed() };
}

function around(i, n, radius) {
  const a = (2 * Math.PI * i) / n;
  return { x: radius * Math.cos(a), y: radius * Math.sin(a) };
}

/** Waits until every listener's client shows `want` subscribed speakers (up to timeoutMs). */
async function settleSubscriptions(subscribed, listeners, want, timeoutMs) {
  const ok = () => {
    const xs = subscribed();
    return xs.length === listeners && xs.every((n) => n >= want);
  };
  const t = await waitUntil(ok, timeoutMs, 250);
  const xs = subscribed();
  console.log(
    `  subscriptions settled: ${t === null ? `NOT within ${timeoutMs} ms` : `${Math.round(t)} ms`} (want ${want} each; now ${Math.min(...xs)}..${Math.max(...xs)})`,
  );
  return t !== null;
}

async function benchBitrateCapped(rig) {
  // (a) with the control plane: cap 12 nearest voices per listener. Talkers
  // are spread over worker processes, all in one room, standing 5-7 m from
  // the centre on a circle; every talker hears its 12 nearest.
  const split = groups(TALKERS, BITRATE_PROCS);
  const ws = split.map((ids, i) => startWorker('capped', { client: rig.clientInfo(), room: 'bench-bitrate', ids, talkers: TALKERS }, i));
  const joinedAll = await waitUntil(() => ws.every((w, i) => w.status?.joined === split[i].length), 120000, 250);
  const joined = ws.reduce((n, w) => n + (w.status?.joined ?? 0), 0);
  console.log(`  capped run: ${joined} talkers joined${joinedAll === null ? ' (not all)' : ''} at ${Math.round(now() / 1000)} s`);
  const want = Math.min(12, joined - 1);
  const settled = await settleSubscriptions(() => subscribedOf(ws), joined, want, 60000);
  await sleep(2000);
  const capped = await measureDown(rig, joined, () => subscribedOf(ws));
  const canHear = ws.flatMap((w) => w.status?.canHear ?? []);
  await stopWorkers(ws);
  await sleep(3000); // LiveKit notices the departures before the next run
  return { capped, canHear, talkersCapped: joined, settledCapped: settled };
}

async function benchBitrateAll(rig) {
  // (b) no control plane: the same talkers, each subscribed to every other
  // track by one RoomService call per listener (LiveKit default allow-lists)
  const room = 'bench-all-to-all';
  const rs = new RoomService(rig.lk);
  const split = groups(TALKERS, BITRATE_PROCS);
  const ws = split.map((ids, i) => startWorker('all', { client: rig.clientInfo(), room, ids }, i));
  await waitUntil(() => ws.every((w) => w.sids || w.exited), 180000, 250);
  const sids = new Map(ws.flatMap((w) => Object.entries(w.sids ?? {})));
  for (const id of sids.keys()) {
    const others = [...sids].filter(([o]) => o !== id).map(([, sid]) => sid);
    const r = await rs.updateSubscriptions(room, id, others, true);
    if (r.status !== 200) console.log(`  ${id}: UpdateSubscriptions ${r.status}`);
  }
  console.log(`  all-to-all run: ${sids.size} talkers joined and subscribed at ${Math.round(now() / 1000)} s`);
  const settled = await settleSubscriptions(() => subscribedOf(ws), sids.size, sids.size - 1, 60000);
  await sleep(2000);
  const all = await measureDown(rig, sids.size, () => subscribedOf(ws));
  await stopWorkers(ws);
  return { all, talkersAll: sids.size, settledAll: settled };
}

/** Capped run with loadbot talkers (one Go process), same geometry as above. */
async function benchBitrateCappedGo(rig, lb) {
  const game = rig.game('bench-bitrate');
  const GoBot = lb.botClass();
  const ps = Array.from({ length: TALKERS }, (_, i) => rig.player(game, `t${i}`, 'honest', GoBot));
  const joined = await joinAll(ps);
  await Promise.all(
    joined.map((p) => {
      const i = Number(p.id.slice(1));
      return game.move(p.id, around(i, TALKERS, 5 + (i % 3)));
    }),
  );
  game.start();
  const ids = joined.map((p) => p.id);
  console.log(`  capped run (loadbot talkers): ${joined.length} talkers joined at ${Math.round(now() / 1000)} s`);
  const want = Math.min(12, joined.length - 1);
  const settled = await settleSubscriptions(() => lb.subscribed(ids), joined.length, want, 60000);
  await sleep(2000);
  const capped = await measureDown(rig, joined.length, () => lb.subscribed(ids), () => lb.rxBytes(ids), lb.child.pid);
  const canHear = joined.map((p) => p.canHear.length);
  const removed = joined.filter((p) => p.removedAt !== null).length;
  if (removed) console.log(`  honest talkers removed by the server: ${removed}`);
  await game.stop();
  await Promise.all(joined.map((p) => p.leave()));
  await sleep(3000); // LiveKit notices the departures before the next run
  return { capped, canHear, talkersCapped: joined.length, settledCapped: settled && removed === 0 };
}

/** All-to-all run with loadbot talkers: everyone allowed, subscribed by RoomService. */
async function benchBitrateAllGo(rig, lb) {
  const room = 'bench-all-to-all';
  const rs = new RoomService(rig.lk);
  const GoBot = lb.botClass();
  const bots = Array.from({ length: TALKERS }, (_, i) => new GoBot({ identity: `u${i}` }));
  const sids = new Map();
  for (let i = 0; i < bots.length; i += 5) {
    await Promise.all(
      bots.slice(i, i + 5).map(async (b) => {
        try {
          await b.connect(rig.lk.url, joinToken(rig.lk, room, b.identity));
          b.setAllowList(null); // LiveKit's default: everyone may subscribe
          sids.set(b.identity, await b.publishTone());
        } catch (e) {
          console.log(`  ${b.identity}: join failed (${e.message ?? e})`);
        }
      }),
    );
  }
  for (const id of sids.keys()) {
    const others = [...sids].filter(([o]) => o !== id).map(([, sid]) => sid);
    const r = await rs.updateSubscriptions(room, id, others, true);
    if (r.status !== 200) console.log(`  ${id}: UpdateSubscriptions ${r.status}`);
  }
  const ids = [...sids.keys()];
  console.log(`  all-to-all run (loadbot talkers): ${ids.length} talkers joined and subscribed at ${Math.round(now() / 1000)} s`);
  const settled = await settleSubscriptions(() => lb.subscribed(ids), ids.length, ids.length - 1, 60000);
  await sleep(2000);
  const all = await measureDown(rig, ids.length, () => lb.subscribed(ids), () => lb.rxBytes(ids), lb.child.pid);
  await Promise.all(bots.map((b) => b.disconnect()));
  return { all, talkersAll: ids.length, settledAll: settled };
}

// ------------------------------------------------------------ main


async function main() {
  const rig = new Rig({ name: 'bench', daemonEnv: DAEMON_ENV, metrics: true });
  console.log(`bench-livekit: logs in ${rig.dir}`);
  let ok = true;
  let lb = null;
  try {
    await rig.start();
    console.log(
      `bench-livekit: LiveKit ${rig.lk.version}; daemon: recompute round 250 ms, cap 12, enter 24 m / exit 26 m, ` +
        `poses at 4 Hz; extra env: ${JSON.stringify(DAEMON_ENV)}`,
    );
    if (!ONLY || ONLY === 'latency') {
      for (const mode of PC_MODES) {
        setPeerConnectionMode(mode);
        const L = PROCS > 1 ? await benchLatencyWorkers(rig, mode) : await benchLatency(rig, { room: `bench-latency-${mode}` });
        L.breakdown = breakdown(rig, L.samples);
        console.log(
          `latency: ${L.players} bots (${L.players / 2} pairs) in ${PROCS > 1 ? `${Math.min(PROCS, BOTS / 2)} worker processes` : 'this process'}, ` +
            `${ROUNDS} rounds, bots in rtc-node's ${PC_LABEL[mode]}, daemon CPU ${L.cpuPct.toFixed(1)}% of one core`,
        );
        console.log(`  enter -> audible: ${fmt(L.enter)}  (target p99 <= ${ENTER_P99_TARGET} ms: ${pct(L.enter, 99) <= ENTER_P99_TARGET ? 'met' : 'MISSED'})`);
        console.log(`  exit  -> silent:  ${fmt(L.exit)}  (target p99 <= ${EXIT_P99_TARGET} ms: ${pct(L.exit, 99) <= EXIT_P99_TARGET ? 'met' : 'MISSED'})`);
        for (const [k, xs] of Object.entries(L.breakdown)) if (xs.length) console.log(`    enter breakdown ${k}: ${fmt(xs)}`);
        if (L.missing.length) console.log(`  missing samples (no transition within 3 s): ${L.missing.join(', ')}`);
        if (L.removed) console.log(`  honest bots removed by the server: ${L.removed}`);
        ok = ok && L.missing.length === 0 && L.removed === 0;
      }
    }
    setPeerConnectionMode(PC_MODES[0]);
    if (!ONLY || ONLY === 'scale') {
      lb = lb ?? new LoadBots({ bin: LOADBOT, ogg: toneOgg(rig.dir), log: path.join(rig.dir, 'loadbot.log') });
      const S = await benchScale(rig, lb);
      ok = ok && S.ok;
    }
    let B = {};
    const wantCapped = !ONLY || ONLY === 'bitrate' || ONLY === 'bitrate-capped';
    const wantAll = !ONLY || ONLY === 'bitrate' || ONLY === 'bitrate-all';
    if ((wantCapped || wantAll) && BITRATE_BOTS === 'go') {
      lb = lb ?? new LoadBots({ bin: LOADBOT, ogg: toneOgg(rig.dir), log: path.join(rig.dir, 'loadbot.log') });
      console.log(`bitrate: talkers are loadbot participants (${LOADBOT}; Opus tone at 32 kbit/s, 20 ms packets, received bytes counted, not decoded)`);
      if (wantCapped) Object.assign(B, await benchBitrateCappedGo(rig, lb));
      if (wantAll) Object.assign(B, await benchBitrateAllGo(rig, lb));
      if (lb.errors.length) console.log(`  loadbot errors: ${lb.errors.slice(0, 5).join('; ')}`);
    } else {
      if (wantCapped) Object.assign(B, await benchBitrateCapped(rig));
      if (wantAll) Object.assign(B, await benchBitrateAll(rig));
    }
    const line = (name, x) =>
      console.log(
        `  ${name}: ${x.kbps.toFixed(1)} kbit/s per listener (SFU total ${x.kbpsTotal.toFixed(0)} kbit/s over ${x.windowS.toFixed(1)} s; ` +
          `publishers -> SFU ${x.kbpsIn.toFixed(0)} kbit/s, i.e. the SFU forwarded ${(x.kbpsTotal / (x.kbpsIn / x.talkers)).toFixed(0)} streams' worth); ` +
          (x.kbpsClient !== null ? `listeners' clients received ${x.kbpsClient.toFixed(1)} kbit/s each (RTP); ` : '') +
          `client-side subscriptions ${Math.min(...x.subscribed)}..${Math.max(...x.subscribed)}; ` +
          `CPU: livekit-server ${x.cpuPct.lk.toFixed(0)}%` + (Number.isNaN(x.cpuPct.lb) ? '' : `, loadbot ${x.cpuPct.lb.toFixed(0)}%`),
      );
    if (B.capped || B.all) console.log(`bitrate: ${TALKERS} talkers within 10 m, LiveKit media bytes sent over ~${BITRATE_S} s / listeners`);
    if (B.capped) {
      line(`with the daemon (cap 12), ${B.talkersCapped} talkers`, B.capped);
      console.log(`    canHear sizes ${Math.min(...B.canHear)}..${Math.max(...B.canHear)}`);
    }
    if (B.all) line(`everyone subscribed to everyone, ${B.talkersAll} talkers`, B.all);
    if (B.capped && B.settledCapped === false) console.log('  capped run did not settle: its rate is not a steady state');
    if (B.all && B.settledAll === false) console.log('  all-to-all run did not settle: its rate is not a steady state');
    if (B.capped && B.all) {
      // Both runs must deliver every subscribed voice at the same per-voice
      // rate; a saturated machine (e.g. 50 talkers all-to-all on 2 cores)
      // delivers less and the ratio then measures the machine, not the cap.
      const perVoice = (x, voices) => (x.kbpsClient ?? x.kbps) / voices;
      const pc = perVoice(B.capped, Math.min(12, B.talkersCapped - 1));
      const pa = perVoice(B.all, B.talkersAll - 1);
      if (Math.abs(pc / pa - 1) > 0.15) {
        console.log(`  per-voice rates differ (${pc.toFixed(1)} vs ${pa.toFixed(1)} kbit/s): a run did not get all its voices; the ratio below is not the cap's effect`);
      }
    }
    if (B.capped && B.all)
      console.log(
        `  ratio capped / all-to-all: ${(B.capped.kbps / B.all.kbps).toFixed(3)} at the SFU` +
          (B.capped.kbpsClient !== null ? `, ${(B.capped.kbpsClient / B.all.kbpsClient).toFixed(3)} at the clients` : '') +
          ` (voices ${Math.min(12, TALKERS - 1)}/${TALKERS - 1} = ${(Math.min(12, TALKERS - 1) / (TALKERS - 1)).toFixed(3)})`,
      );
  } catch (e) {
    ok = false;
    console.log(`bench-livekit: error ${e.stack ?? e}`);
  } finally {
    if (lb) await lb.stop();
    await rig.stop();
    await dispose().catch(() => {});
  }
  console.log(`bench-livekit: ${ok ? 'done' : 'FAILED'}`);
  process.exit(ok ? 0 : 1);
}

if (WORKER) worker(WORKER).catch((e) => {
  console.log(`worker error: ${e.stack ?? e}`);
  process.exit(1);
});
else main();
