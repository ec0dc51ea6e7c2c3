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
//     default allow-lists). Measured from each bot's subscriber transport
//     (bytesReceived, rtc stats) over BENCH_BITRATE_S seconds.
//
//   node tests/e2e/bench.mjs [--only latency|bitrate]
import '../bots/lib/quiet.mjs';
import fs from 'node:fs';
import { Bot } from '../bots/lib/bot.mjs';
import { toneHz } from '../bots/lib/audio.mjs';
import { joinToken } from '../bots/lib/token.mjs';
import { Rig, now, pct, sleep, waitUntil } from './lib/rig.mjs';
import { dispose } from './lib/rtc.mjs';

const args = process.argv.slice(2);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const BOTS = Number(process.env.BENCH_BOTS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const TALKERS = Number(process.env.BENCH_TALKERS ?? 30);
const BITRATE_S = Number(process.env.BENCH_BITRATE_S ?? 10);
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
    const a = rig.player(game, `a${k}`);
    const b = rig.player(game, `b${k}`);
    const base = k * 200;
    await game.move(a.id, { x: base });
    await game.move(b.id, { x: base + 40 });
    pairs.push({ a, b, base });
  }
  game.start();
  const players = pairs.flatMap((p) => [p.a, p.b]);
  for (let i = 0; i < players.length; i += 5) await Promise.all(players.slice(i, i + 5).map((p) => p.join()));
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

async function downBytes(bot) {
  const st = await bot.room.getRtcStats();
  let bytes = 0n;
  let streams = 0;
  // LiveKit v1.13.5 with rtc-node 1.1.0 runs one peer connection for both
  // directions (the stats come as publisherStats): bytesReceived of its
  // transport is everything the SFU sent this bot (media, RTCP, STUN).
  for (const s of [...st.publisherStats, ...st.subscriberStats]) {
    if (s.stats.case === 'transport') bytes += BigInt(s.stats.value.transport.bytesReceived ?? 0);
    if (s.stats.case === 'inboundRtp' && s.stats.value.stream?.kind === 'audio') streams++;
  }
  return { bytes: Number(bytes), streams };
}

/** kbit/s per bot over BITRATE_S seconds. */
async function measureDown(bots) {
  const b0 = await Promise.all(bots.map(downBytes));
  const t0 = now();
  await sleep(BITRATE_S * 1000);
  const b1 = await Promise.all(bots.map(downBytes));
  const s = (now() - t0) / 1000;
  const kbps = bots.map((_, i) => ((b1[i].bytes - b0[i].bytes) * 8) / 1000 / s);
  const subscribed = bots.map((bot) => [...bot.room.remoteParticipants.values()].filter((p) => [...p.trackPublications.values()].some((pub) => pub.subscribed)).length);
  return { kbps, subscribed, streams: b1.map((x) => x.streams) };
}

function around(i, n, radius) {
  const a = (2 * Math.PI * i) / n;
  return { x: radius * Math.cos(a), y: radius * Math.sin(a) };
}

async function benchBitrate(rig) {
  // (a) with the control plane: cap 12 nearest voices per listener
  const game = rig.game('bench-bitrate');
  const ps = [];
  for (let i = 0; i < TALKERS; i++) {
    const p = rig.player(game, `t${i}`, 'honest', CountingBot);
    await game.move(p.id, around(i, TALKERS, 5 + (i % 3)));
    ps.push(p);
  }
  game.start();
  for (let i = 0; i < ps.length; i += 5) await Promise.all(ps.slice(i, i + 5).map((p) => p.join()));
  await sleep(3000);
  const capped = await measureDown(ps.map((p) => p.bot));
  const canHear = ps.map((p) => p.canHear.length);
  await game.stop();
  await Promise.all(ps.map((p) => p.leave()));
  // (b) no control plane: everyone subscribes to everyone (LiveKit defaults)
  const room = 'bench-all-to-all';
  const tones = new Map(ps.map((p, i) => [`u${i}`, toneHz(i)]));
  const bots = [...tones.keys()].map((id) => new CountingBot({ identity: id, toneHz: tones.get(id), tones, malicious: true }));
  for (let i = 0; i < bots.length; i += 5)
    await Promise.all(bots.slice(i, i + 5).map((b) => b.connect(rig.lk.url, joinToken(rig.lk, room, b.identity)).then(() => b.publishTone())));
  await sleep(3000);
  const all = await measureDown(bots);
  await Promise.all(bots.map((b) => b.disconnect()));
  return { capped, all, canHear };
}

// ------------------------------------------------------------ main

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main() {
  const rig = new Rig({ name: 'bench', daemonEnv: DAEMON_ENV });
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
    if (!ONLY || ONLY === 'bitrate') {
      const B = await benchBitrate(rig);
      const c = mean(B.capped.kbps);
      const a = mean(B.all.kbps);
      console.log(`bitrate: ${TALKERS} talkers within 10 m, ${BITRATE_S} s, subscriber transport bytes per listener`);
      console.log(`  with the daemon (cap 12): mean ${c.toFixed(1)} kbit/s (min ${Math.min(...B.capped.kbps).toFixed(1)}, max ${Math.max(...B.capped.kbps).toFixed(1)}); subscribed to ${Math.min(...B.capped.subscribed)}..${Math.max(...B.capped.subscribed)} speakers; canHear ${Math.min(...B.canHear)}..${Math.max(...B.canHear)}`);
      console.log(`  everyone subscribed to everyone: mean ${a.toFixed(1)} kbit/s (min ${Math.min(...B.all.kbps).toFixed(1)}, max ${Math.max(...B.all.kbps).toFixed(1)}); subscribed to ${Math.min(...B.all.subscribed)}..${Math.max(...B.all.subscribed)}`);
      console.log(`  ratio capped / all-to-all: ${(c / a).toFixed(3)} (voices ${12}/${TALKERS - 1} = ${(12 / (TALKERS - 1)).toFixed(3)})`);
    }
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
