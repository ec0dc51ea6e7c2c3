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
import fs from 'node:fs';
import { Bot } from '../bots/lib/bot.mjs';
import { toneHz } from '../bots/lib/audio.mjs';
import { RoomService } from '../bots/lib/roomservice.mjs';
import { joinToken } from '../bots/lib/token.mjs';
import { Rig, joinAll, now, pct, sleep, waitUntil } from './lib/rig.mjs';
import { dispose } from './lib/rtc.mjs';

const args = process.argv.slice(2);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const BOTS = Number(process.env.BENCH_BOTS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const TALKERS = Number(process.env.BENCH_TALKERS ?? 30);
const BITRATE_S = Number(process.env.BENCH_BITRATE_S ?? 20);
// extra daemon variables, e.g. BENCH_DAEMON_ENV=RECOMPUTE_ON_POSE=1,LOG_LEVEL=warn
const DAEMON_ENV = Object.assign({ LOG_LEVEL: 'debug' }, Object.fromEntries(
  (process.env.BENCH_DAEMON_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
));
const ENTER_P99_TARGET = 500;
const EXIT_P99_TARGET = 300;

const fmt = (xs) =>
  xs.length
    ? `n=${xs.length} p50=${pct(xs, 50).toFixed(0)} ms p90=${pct(xs, 90).toFixed(0)} ms p99=${pct(xs, 99).toFixed(0)} ms max=${Math.max(...xs).toFixed(0)} ms`
    : 'n=0';

/** CPU seconds (user+sys) of a process from /proc. */
function cpuSeconds(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

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

async function benchLatency(rig) {
  const game = rig.game('bench-latency');
  const pairs = [];
  for (let k = 0; k < BOTS / 2; k++) {
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
  const cpu0 = cpuSeconds(rig.daemon.child.pid);
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
  const cpu = cpuSeconds(rig.daemon.child.pid) - cpu0;
  const removed = players.filter((p) => p.removedAt !== null).length;
  await game.stop();
  await Promise.all(players.map((p) => p.leave())); // free the CPU for the next part
  return { enter, exit, missing, removed, cpuPct: (100 * cpu) / elapsed, players: players.length, breakdown: breakdown(rig, samples) };
}

/**
 * Where enter latency goes, from the daemon's debug log (LOG_LEVEL=debug):
 * pose -> UpdateSubscriptions{subscribe} for that listener leaves the
 * daemon (recompute wait), -> LiveKit's HTTP answer, -> first audible frame;
 * and the speaker's policy.audience arrival -> first audible frame.
 */
function breakdown(rig, samples) {
  const off = Date.now() - performance.now(); // wall = perf + off
  const calls = new Map(); // callId -> { t, identity }
  const subs = []; // { t, identity, callId }
  const answers = new Map(); // callId -> t
  for (const l of rig.daemon.lines) {
    const t = Date.parse(l.timestamp) - off;
    if (l.message === 'livekit call' && l.method === 'UpdateSubscriptions' && l.subscribe === 1)
      subs.push({ t, identity: l.participantId, callId: l.callId });
    else if (l.message === 'livekit answer') answers.set(l.callId, t);
  }
  void calls;
  const parts = { poseToCall: [], callToAnswer: [], answerToAudible: [], audienceToAudible: [] };
  for (const s of samples) {
    const c = subs.find((x) => x.identity === s.listener.id && x.t >= s.tPose - 5 && x.t <= s.tAudible);
    if (c) {
      parts.poseToCall.push(c.t - s.tPose);
      const a = answers.get(c.callId);
      if (a !== undefined) {
        parts.callToAnswer.push(a - c.t);
        parts.answerToAudible.push(s.tAudible - a);
      }
    }
    const au = s.speaker.events.find((e) => e.name === 'audience' && e.t >= s.tPose && e.t <= s.tAudible);
    if (au) parts.audienceToAudible.push(s.tAudible - au.t);
  }
  return parts;
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

/**
 * Downstream kbit/s per listener, from LiveKit's own counter of media bytes
 * sent (server-wide; only this room is active). Why not client stats:
 * rtc-node's getRtcStats takes seconds per bot with ~20 subscriptions on a
 * loaded machine. The counter is updated in batches, so the rate is taken
 * between its first and last change inside the window.
 */
async function measureDown(rig, bots) {
  const changes = [];
  let last = -1;
  for (const end = now() + BITRATE_S * 1000; now() < end; await sleep(250)) {
    const v = await rig.livekitBytesOut();
    if (v !== last) changes.push({ t: now(), v });
    last = v;
  }
  if (process.env.BENCH_DEBUG) console.log(changes.map((c) => `${Math.round(c.t)}:${c.v}`).join(' '));
  const first = changes[1] ?? changes[0]; // changes[0] is the starting value, not a change
  const lastC = changes[changes.length - 1];
  const kbpsTotal = lastC.t > first.t ? ((lastC.v - first.v) * 8) / (lastC.t - first.t) : NaN;
  const subscribed = bots.map((bot) => [...bot.room.remoteParticipants.values()].filter((p) => [...p.trackPublications.values()].some((pub) => pub.subscribed)).length);
  return { kbps: kbpsTotal / bots.length, kbpsTotal, windowS: (lastC.t - first.t) / 1000, subscribed };
}

function around(i, n, radius) {
  const a = (2 * Math.PI * i) / n;
  return { x: radius * Math.cos(a), y: radius * Math.sin(a) };
}

/** Waits until every bot's client shows `want` subscribed speakers (up to timeoutMs). */
async function settleSubscriptions(bots, want, timeoutMs) {
  const n = (bot) =>
    [...bot.room.remoteParticipants.values()].filter((p) => [...p.trackPublications.values()].some((pub) => pub.subscribed)).length;
  const t = await waitUntil(() => bots.every((b) => n(b) >= want), timeoutMs, 200);
  console.log(`  subscriptions settled: ${t === null ? `NOT within ${timeoutMs} ms` : `${Math.round(t)} ms`} (want ${want} each)`);
}

async function benchBitrateCapped(rig) {
  // (a) with the control plane: cap 12 nearest voices per listener. Everyone
  // joins first without a position (nobody hears anybody: no renegotiation
  // storm while 30 bots join), then the game posts all positions at once.
  const game = rig.game('bench-bitrate');
  const ps = [];
  for (let i = 0; i < TALKERS; i++) ps.push(rig.player(game, `t${i}`, 'honest', CountingBot));
  const joined = await joinAll(ps);
  console.log(`  capped run: ${joined.length} talkers joined at ${Math.round(now() / 1000)} s`);
  joined.forEach((p, i) => game.move(p.id, around(i, joined.length, 5 + (i % 3))));
  game.start();
  await waitUntil(() => joined.every((p) => p.canHear.length === Math.min(12, joined.length - 1)), 10000);
  await settleSubscriptions(joined.map((p) => p.bot), Math.min(12, joined.length - 1), 60000);
  await sleep(2000);
  const capped = await measureDown(rig, joined.map((p) => p.bot));
  const canHear = joined.map((p) => p.canHear.length);
  console.log(`  capped run measured at ${Math.round(now() / 1000)} s`);
  await game.stop();
  await Promise.all(joined.map((p) => Promise.race([p.leave(), sleep(5000)])));
  return { capped, canHear, talkersCapped: joined.length };
}

async function benchBitrateAll(rig) {
  // (b) no control plane: the same talkers, each subscribed to every other
  // track by one RoomService call per listener (LiveKit default allow-lists)
  const room = 'bench-all-to-all';
  const rs = new RoomService(rig.lk);
  const tones = new Map(Array.from({ length: TALKERS }, (_, i) => [`u${i}`, toneHz(i)]));
  const bots = [...tones.keys()].map((id) => new CountingBot({ identity: id, toneHz: tones.get(id), tones }));
  const up = [];
  const sids = new Map();
  for (let i = 0; i < bots.length; i += 5)
    await Promise.all(
      bots.slice(i, i + 5).map((b) =>
        Promise.race([
          b
            .connect(rig.lk.url, joinToken(rig.lk, room, b.identity))
            .then(() => b.publishTone())
            .then((sid) => {
              sids.set(b.identity, sid);
              up.push(b);
            }),
          sleep(20000),
        ]).catch((e) => console.log(`  ${b.identity}: join failed (${e.message ?? e})`)),
      ),
    );
  for (const b of up) {
    const others = [...sids].filter(([id]) => id !== b.identity).map(([, sid]) => sid);
    const r = await rs.updateSubscriptions(room, b.identity, others, true);
    if (r.status !== 200) console.log(`  ${b.identity}: UpdateSubscriptions ${r.status}`);
  }
  console.log(`  all-to-all run: ${up.length} talkers joined and subscribed at ${Math.round(now() / 1000)} s`);
  await settleSubscriptions(up, up.length - 1, 60000);
  await sleep(2000);
  const all = await measureDown(rig, up);
  await Promise.all(bots.map((b) => Promise.race([b.disconnect(), sleep(5000)])));
  return { all, talkersAll: up.length };
}

// ------------------------------------------------------------ main


async function main() {
  const rig = new Rig({ name: 'bench', daemonEnv: DAEMON_ENV, metrics: true });
  console.log(`bench-livekit: logs in ${rig.dir}`);
  let ok = true;
  try {
    await rig.start();
    console.log(
      `bench-livekit: LiveKit ${rig.lk.version}; daemon: recompute round 250 ms, cap 12, enter 24 m / exit 26 m, ` +
        `poses at 4 Hz; extra env: ${JSON.stringify(DAEMON_ENV)}`,
    );
    if (!ONLY || ONLY === 'latency') {
      const L = await benchLatency(rig);
      console.log(`latency: ${L.players} bots (${L.players / 2} pairs), ${ROUNDS} rounds, daemon CPU ${L.cpuPct.toFixed(1)}% of one core`);
      console.log(`  enter -> audible: ${fmt(L.enter)}  (target p99 <= ${ENTER_P99_TARGET} ms: ${pct(L.enter, 99) <= ENTER_P99_TARGET ? 'met' : 'MISSED'})`);
      console.log(`  exit  -> silent:  ${fmt(L.exit)}  (target p99 <= ${EXIT_P99_TARGET} ms: ${pct(L.exit, 99) <= EXIT_P99_TARGET ? 'met' : 'MISSED'})`);
      for (const [k, xs] of Object.entries(L.breakdown)) if (xs.length) console.log(`    enter breakdown ${k}: ${fmt(xs)}`);
      if (L.missing.length) console.log(`  missing samples (no transition within 3 s): ${L.missing.join(', ')}`);
      if (L.removed) console.log(`  honest bots removed by the server: ${L.removed}`);
      ok = ok && L.missing.length === 0 && L.removed === 0;
    }
    let B = {};
    if (!ONLY || ONLY === 'bitrate' || ONLY === 'bitrate-capped') Object.assign(B, await benchBitrateCapped(rig));
    if (!ONLY || ONLY === 'bitrate' || ONLY === 'bitrate-all') Object.assign(B, await benchBitrateAll(rig));
    const line = (name, x) =>
      console.log(
        `  ${name}: ${x.kbps.toFixed(1)} kbit/s per listener (SFU total ${x.kbpsTotal.toFixed(0)} kbit/s over ${x.windowS.toFixed(1)} s); client-side subscriptions ${Math.min(...x.subscribed)}..${Math.max(...x.subscribed)}`,
      );
    if (B.capped || B.all) console.log(`bitrate: ${TALKERS} talkers within 10 m, LiveKit media bytes sent over ~${BITRATE_S} s / listeners`);
    if (B.capped) {
      line(`with the daemon (cap 12), ${B.talkersCapped} talkers`, B.capped);
      console.log(`    canHear sizes ${Math.min(...B.canHear)}..${Math.max(...B.canHear)}`);
    }
    if (B.all) line(`everyone subscribed to everyone, ${B.talkersAll} talkers`, B.all);
    if (B.capped && B.all)
      console.log(
        `  ratio capped / all-to-all: ${(B.capped.kbps / B.all.kbps).toFixed(3)} (voices ${Math.min(12, TALKERS - 1)}/${TALKERS - 1} = ${(Math.min(12, TALKERS - 1) / (TALKERS - 1)).toFixed(3)})`,
      );
  } catch (e) {
    ok = false;
    console.log(`bench-livekit: error ${e.stack ?? e}`);
  } finally {
    await rig.stop();
    await dispose().catch(() => {});
  }
  console.log(`bench-livekit: ${ok ? 'done' : 'FAILED'}`);
  process.exit(ok ? 0 : 1);
}

main();
