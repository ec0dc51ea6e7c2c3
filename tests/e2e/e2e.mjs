// End-to-end tests of the control plane on a REAL LiveKit server (v1.13.5):
// the daemon (build/proximity-voice-control), its webhook endpoint, its
// policy socket and its RoomService calls, with rtc-node bots that publish
// their own tones and report what they really hear (tests/bots/lib).
//
//   node tests/e2e/e2e.mjs [--only webhook,hearing,...] [--keep]
//
// Prints one PASS/FAIL line per check and `e2e-livekit: N passed, M failed`;
// exits non-zero on any failure. Logs (daemon, LiveKit) stay in the printed
// temp dir.
import '../bots/lib/quiet.mjs';
import fs from 'node:fs';
import { signJwt } from '../bots/lib/token.mjs';
import { freeTcpPort } from '../bots/lib/server.mjs';
import { Daemon } from './lib/daemon.mjs';
import { Game } from './lib/game.mjs';
import { Rig, hearingMatrix, hearsNow, now, silentNow, sleep, waitUntil } from './lib/rig.mjs';
import { dispose } from './lib/rtc.mjs';
import crypto from 'node:crypto';

const args = process.argv.slice(2);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
// extra daemon variables, e.g. E2E_DAEMON_ENV=LOG_LEVEL=debug,RECOMPUTE_ON_POSE=1
const DAEMON_ENV = Object.fromEntries(
  (process.env.E2E_DAEMON_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` -- ${detail}` : ''}`);
  return ok;
}
const ms = (x) => (x === null ? 'never' : `${Math.round(x)} ms`);

// ---------------------------------------------------------------- webhooks

function webhookAuth(rig, body, { secret = rig.secret, iss = rig.key, expOffsetS = 300, sha = null } = {}) {
  const t = Math.floor(Date.now() / 1000);
  const sum = sha ?? crypto.createHash('sha256').update(body, 'utf8').digest('base64');
  return signJwt({ iss, nbf: t, iat: t, exp: t + expOffsetS, sha256: sum }, secret);
}

async function postWebhook(rig, body, auth, contentType = 'application/webhook+json') {
  const headers = { 'content-type': contentType };
  if (auth !== null) headers.authorization = auth;
  const res = await fetch(`${rig.daemon.url}/livekit/webhook`, { method: 'POST', headers, body });
  await res.text();
  return res.status;
}

async function caseWebhook(rig) {
  const marker = `turn-password-${crypto.randomBytes(6).toString('hex')}`;
  const body = JSON.stringify({
    event: 'participant_joined',
    room: { name: 'e2e-webhook', turnPassword: marker },
    participant: { sid: 'PA_x', identity: 'ghost' },
    id: 'EV_e2e1',
    createdAt: String(Math.floor(Date.now() / 1000)),
  });
  const good = webhookAuth(rig, body);
  check('webhook: valid signature accepted (200)', (await postWebhook(rig, body, good)) === 200);
  check('webhook: replayed delivery accepted idempotently (200)', (await postWebhook(rig, body, good)) === 200);
  check('webhook: "Bearer " prefix tolerated', (await postWebhook(rig, body, `Bearer ${good}`)) === 200);
  const altered = body.replace('ghost', 'ghoss');
  check('webhook: altered body -> 401', (await postWebhook(rig, altered, good)) === 401);
  check('webhook: forged (other secret) -> 401', (await postWebhook(rig, body, webhookAuth(rig, body, { secret: 'x'.repeat(48) }))) === 401);
  check('webhook: wrong issuer -> 401', (await postWebhook(rig, body, webhookAuth(rig, body, { iss: 'other' }))) === 401);
  check('webhook: expired token -> 401', (await postWebhook(rig, body, webhookAuth(rig, body, { expOffsetS: -120 }))) === 401);
  check('webhook: no Authorization -> 401', (await postWebhook(rig, body, null)) === 401);
  const noSha = signJwt({ iss: rig.key, exp: Math.floor(Date.now() / 1000) + 60 }, rig.secret);
  check('webhook: token without sha256 claim -> 401', (await postWebhook(rig, body, noSha)) === 401);
  await sleep(300); // the daemon writes its log before sleeping
  const logs = fs.readdirSync(rig.dir).filter((f) => f.startsWith('daemon-'));
  const leaked = logs.some((f) => fs.readFileSync(`${rig.dir}/${f}`, 'utf8').includes(marker));
  check('webhook: bodies never logged (room turnPassword absent from the daemon log)', !leaked);
}

// ---------------------------------------------------------------- readiness

async function getReady(url) {
  const res = await fetch(`${url}/ready`);
  return { status: res.status, body: await res.text() };
}

async function caseReady(rig) {
  const r = await getReady(rig.daemon.url);
  check('ready: 200 with LiveKit up and accepting our admin tokens', r.status === 200 && r.body.includes('"livekit":"ok"'), r.body);
  // a second daemon whose LIVEKIT_API_SECRET is wrong: LiveKit still answers
  // GET /, but refuses every RoomService call -> /ready must say so
  const bad = new Daemon({
    port: await freeTcpPort(),
    dir: rig.dir,
    livekit: { url: rig.lk.url, key: rig.key, secret: 'w'.repeat(48) },
    externalSecret: rig.externalSecret,
    policySecret: rig.policySecret,
    env: { LIVEKIT_RECONCILE_INTERVAL_MS: '300' },
  });
  await bad.start();
  try {
    const game = new Game({ daemonUrl: bad.url, secret: rig.externalSecret, roomId: 'e2e-badsecret' });
    await game.session('someone'); // the room exists: its ListParticipants runs every 300 ms
    let last = null;
    const t = await waitUntil(async () => (last = await getReady(bad.url)).status === 503, 5000, 200);
    check('ready: 503 NOT_READY when LiveKit rejects the RoomService token (wrong API secret)', t !== null && last.body.includes('HTTP 401'), last?.body);
  } finally {
    await bad.stop();
  }
}

// ---------------------------------------------------------------- hearing

/** Waits until every expected pair hears and every other pair is silent; returns ms or null. */
function converge(players, expectHear, timeoutMs) {
  return waitUntil(() => {
    for (const l of players)
      for (const s of players) {
        if (l === s || s.kind === 'malicious') continue;
        const want = expectHear.has(`${l.id}<-${s.id}`);
        if (want ? !hearsNow(l, s) : !silentNow(l, s, 500)) return false;
      }
    return true;
  }, timeoutMs);
}

/** Inbound audio streams of listener l that received RTP between two rtpPackets() snapshots. */
function liveStreams(before, after) {
  let n = 0;
  for (const [ssrc, pk] of after) if (pk - (before.get(ssrc) ?? 0) >= 10) n++;
  return n;
}

/**
 * Checks a hearing matrix over windowMs: expected pairs audible (their own
 * tone identified), every other pair 0 audible frames, and at the network
 * level each listener receives RTP on exactly as many audio streams as it
 * has expected speakers (so nothing else is forwarded to it).
 */
async function checkMatrix(label, players, expectHear, windowMs = 1500) {
  const rtp0 = await Promise.all(players.map((l) => l.rtpPackets()));
  const t0 = now();
  await sleep(windowMs);
  const m = hearingMatrix(players, t0, now());
  const rtp1 = await Promise.all(players.map((l) => l.rtpPackets()));
  const bad = [];
  const heard = [];
  players.forEach((l, i) => {
    let want = 0;
    for (const s of players) {
      if (l === s || s.kind === 'malicious') continue;
      const k = `${l.id}<-${s.id}`;
      const got = m[k];
      if (expectHear.has(k)) {
        want++;
        heard.push(`${k}:${got}`);
        if (got < windowMs / 10 / 2) bad.push(`${k} audible ${got} (want >= ${windowMs / 20})`);
      } else if (got > 0) bad.push(`${k} audible ${got} (want 0)`);
    }
    const live = liveStreams(rtp0[i], rtp1[i]);
    if (live !== want) bad.push(`${l.id} gets RTP on ${live} audio streams (want ${want})`);
  });
  check(label, bad.length === 0, bad.length ? bad.join('; ') : `in range ${heard.join(' ')}; no RTP from anyone else`);
  return m;
}

async function caseHearing(rig, ctx) {
  const game = rig.game('e2e-hear');
  const A = rig.player(game, 'A');
  const B = rig.player(game, 'B');
  const C = rig.player(game, 'C');
  const D = rig.player(game, 'D');
  const M = rig.player(game, 'M', 'malicious');
  await game.move('A', { x: 0 });
  await game.move('B', { x: 10 });
  await game.move('C', { x: 100 });
  await game.move('D', { x: 110 });
  await game.move('M', { x: 300 });
  game.start();
  const all = [A, B, C, D, M];
  await Promise.all(all.map((p) => p.join()));
  Object.assign(ctx, { game, A, B, C, D, M, all });
  const expect = new Set(['A<-B', 'B<-A', 'C<-D', 'D<-C']);
  const t = await converge(all, expect, 8000);
  check('hearing: converged after join (in-range pairs audible, others silent)', t !== null, `after ${ms(t)}`);
  await checkMatrix('hearing: in-range pairs hear each other, out-of-range pairs receive nothing', all, expect);
  const subs = M.bot.events.filter((e) => e.name === 'track_published').length;
  check(
    'hearing: malicious listener (self-subscribed to every track) gets no audio from speakers out of range',
    ['A', 'B', 'C', 'D'].every((s) => M.audible(s, 0) === 0),
    `it asked for ${subs} tracks; audible frames 0 (the RTP count is in the matrix check)`,
  );
}

async function caseMalicious(rig, ctx) {
  const { game, A, B, C, D, M, all } = ctx;
  await game.move('M', { x: 105, y: 5 }, { now: true });
  const t = await waitUntil(() => hearsNow(M, C) && hearsNow(M, D), 4000);
  check('malicious: in range of C and D it hears them (their allow-lists admit it)', t !== null, `after ${ms(t)}`);
  await sleep(500);
  const t0 = now();
  await sleep(1000);
  check(
    'malicious: still nothing from A and B (out of range) while near C/D',
    M.audible('A', t0) === 0 && M.audible('B', t0) === 0,
    `A ${M.audible('A', t0)}, B ${M.audible('B', t0)} audible frames`,
  );
  const tOut = await game.move('M', { x: 300 }, { now: true });
  const t2 = await waitUntil(() => silentNow(M, C, 400) && silentNow(M, D, 400), 4000);
  const lastC = M.bot.meters.get('C')?.lastAudibleAt ?? 0;
  check('malicious: leaving range silences C and D although it stays subscribed', t2 !== null, `last audible ${ms(lastC - tOut)} after the pose`);
  void all;
  void A;
  void B;
}

async function caseHysteresis(rig, ctx) {
  const { game, A, B } = ctx;
  const steps = [
    [23, true, 'enter at 23 m'],
    [25, true, '25 m stays audible (exit radius 26)'],
    [27, false, 'exit at 27 m'],
    [25, false, '25 m stays silent (enter radius 24)'],
    [23, true, 'enter again at 23 m'],
    [10, true, 'back to 10 m'],
  ];
  for (const [x, want, what] of steps) {
    const tPose = await game.move('B', { x }, { now: true });
    await sleep(1200);
    const t0 = now();
    await sleep(700);
    const ab = A.audible('B', t0);
    const ba = B.audible('A', t0);
    const ok = want ? ab >= 35 && ba >= 35 : ab === 0 && ba === 0;
    check(`transition: ${what}`, ok, `A<-B ${ab}, B<-A ${ba} audible frames in 700 ms (${Math.round(t0 - tPose)} ms after the pose)`);
  }
}

async function caseRogue(rig, ctx) {
  const { game, A, M } = ctx;
  await game.move('M', { x: 300 }, { now: true });
  const R = rig.player(game, 'R', 'rogue');
  await game.move('R', { x: 5 }, { now: true });
  const tJoin = now();
  await R.join();
  const t = await waitUntil(() => R.removedAt !== null, 6000);
  const after = R.removedAt !== null ? R.removedAt - R.publishedAt : null;
  check(
    'rogue speaker (never acks its audience) removed by RemoveParticipant within the 2 s deadline (+ slack)',
    after !== null && after <= 2000 + 800,
    `removed ${ms(after)} after publishing (${ms(t)} after the join finished)`,
  );
  const findR = () => rig.daemon.logs('speaker removed: audience not acknowledged', tJoin - 1000, (l) => l.participantId === 'R');
  await waitUntil(() => findR().length > 0, 2000);
  const logged = findR();
  check('rogue speaker: removal logged by the daemon', logged.length > 0, `${logged.length} log line(s)`);
  const leak = M.audible('R', 0);
  const lastR = M.bot.meters.get('R')?.lastAudibleAt ?? null;
  check(
    'rogue speaker: the far malicious listener stops receiving it at removal',
    lastR === null || (R.removedAt !== null && lastR <= R.removedAt + 300),
    `M heard R for ${leak} frames, last ${lastR === null ? 'never' : ms(lastR - (R.removedAt ?? 0))} relative to the removal`,
  );
  const stillA = A.errors.length === 0 && A.removedAt === null;
  check('rogue speaker: honest players are never removed', stillA, A.errors.join('; '));
  game.remove('R');
  await R.leave();
  // a speaker that complied at first, then stops acking: removed after a shrink
  const S = rig.player(game, 'S');
  await game.move('S', { x: -5 }, { now: true });
  const tS = now();
  await S.join();
  const heard = await waitUntil(() => hearsNow(A, S), 4000);
  check('stale speaker: heard by A while it complies', heard !== null, `after ${ms(heard)}`);
  S.frozen = true;
  const tShrink = await game.move('S', { x: -200 }, { now: true });
  await waitUntil(() => S.removedAt !== null, 5000);
  const afterS = S.removedAt === null ? null : S.removedAt - tShrink;
  check(
    'stale speaker: ignoring an audience shrink gets it removed within the 2 s deadline (+ slack)',
    afterS !== null && afterS <= 2000 + 800,
    `removed ${ms(afterS)} after the pose that shrank its audience`,
  );
  const findS = () => rig.daemon.logs('speaker removed: audience not acknowledged', tS, (l) => l.participantId === 'S');
  await waitUntil(() => findS().length > 0, 2000);
  const logS = findS();
  check('stale speaker: removal logged', logS.length > 0, `${logS.length} log line(s)`);
  game.remove('S');
  await S.leave();
}

// ---------------------------------------------------------------- restarts

async function caseDaemonRestart(rig, ctx) {
  const { game, A, B, C, D, all } = ctx;
  const wasRemoved = all.filter((p) => p.removedAt !== null).length;
  await rig.daemon.stop();
  const tDown = now();
  // while the daemon is down, B walks away from A
  await game.move('B', { x: 60 });
  await sleep(1000);
  await rig.daemon.start();
  const tUp = now();
  const expect = new Set(['C<-D', 'D<-C']);
  const t = await converge([A, B, C, D], expect, 15000);
  check(
    'daemon restart: converges (A and B, apart now, silent; C and D still hear each other)',
    t !== null,
    `down ${Math.round(tUp - tDown)} ms, converged ${ms(t)} after the restart; sessions re-issued ${game.stats.sessionsRecreated}x`,
  );
  // D walks over to A: D was never subscribed to A before, and the new daemon
  // saw no webhook for A's track: only ListParticipants can tell it the SID.
  await game.move('D', { x: -10 }, { now: true });
  const tD = now();
  const t2 = await converge([A, B, C, D], new Set(['A<-D', 'D<-A']), 15000);
  check(
    'daemon restart: a new pair (never subscribed before) hears each other: tracks learnt from ListParticipants',
    t2 !== null,
    `${ms(t2)} after the pose, ${ms(tD + (t2 ?? 0) - tUp)} after the restart (LIVEKIT_RECONCILE_INTERVAL_MS ${rig.daemon.env().LIVEKIT_RECONCILE_INTERVAL_MS ?? 'default 10000'})`,
  );
  await game.move('D', { x: 110 });
  await game.move('B', { x: 10 }, { now: true });
  const expect2 = new Set(['A<-B', 'B<-A', 'C<-D', 'D<-C']);
  const t3 = await converge([A, B, C, D], expect2, 15000);
  check('daemon restart: B back near A and D back near C are heard again', t3 !== null, `${ms(t3)} after the pose`);
  if (t3 !== null) await checkMatrix('daemon restart: hearing matrix after convergence', all, expect2, 1000);
  check('daemon restart: nobody removed', all.filter((p) => p.removedAt !== null).length === wasRemoved);
}

async function caseLiveKitRestart(rig, ctx) {
  const { A, B, C, D, M, all } = ctx;
  const tDown = now();
  await rig.restartLiveKit(500);
  const tUp = now();
  const back = (p) => p.events.some((e) => e.t > tDown && (e.name === 'lk_reconnected' || e.name === 'lk_rejoined'));
  const rejoined = await waitUntil(() => all.every(back), 20000, 100);
  check('livekit restart: every bot is connected to the new server', rejoined !== null, `${ms(rejoined)} after it was up again`);
  const expect = new Set(['A<-B', 'B<-A', 'C<-D', 'D<-C']);
  const t = await converge([A, B, C, D, M], expect, 20000);
  check(
    'livekit restart: hearing converges again (webhooks, audiences re-sent, subscriptions re-made)',
    t !== null,
    `server down ${Math.round(tUp - tDown)} ms (graceful stop); converged ${ms(t === null ? null : t + (rejoined ?? 0))} after it was up`,
  );
  if (t !== null) await checkMatrix('livekit restart: hearing matrix after convergence', all, expect, 1000);
  check(
    'livekit restart: the malicious listener heard nobody at any time during the restart',
    ['A', 'B', 'C', 'D'].every((s) => M.audible(s, tDown) === 0),
  );
}

// ---------------------------------------------------------------- main

const CASES = [
  ['webhook', caseWebhook],
  ['ready', caseReady],
  ['hearing', caseHearing],
  ['malicious', caseMalicious],
  ['hysteresis', caseHysteresis],
  ['rogue', caseRogue],
  ['daemon-restart', caseDaemonRestart],
  ['livekit-restart', caseLiveKitRestart],
];

async function main() {
  const t0 = now();
  const rig = new Rig({ name: 'e2e', daemonEnv: DAEMON_ENV });
  console.log(`e2e-livekit: logs in ${rig.dir}`);
  const ctx = {};
  try {
    await rig.start();
    console.log(`e2e-livekit: LiveKit ${rig.lk.version} at ${rig.lk.url}, daemon at ${rig.daemon.url}`);
    for (const [name, fn] of CASES) {
      if (ONLY && !ONLY.includes(name)) continue;
      if (!['webhook', 'ready', 'hearing'].includes(name) && !ctx.game) continue; // needs the hearing setup
      try {
        await fn(rig, ctx);
      } catch (e) {
        check(`${name}: ran without exceptions`, false, String(e.stack ?? e));
      }
    }
    for (const p of rig.players)
      if (p.kind === 'honest' && p.errors.length) check(`player ${p.id}: no protocol errors`, false, p.errors.join('; '));
  } catch (e) {
    check('rig started', false, String(e.stack ?? e));
  } finally {
    await rig.stop();
    await dispose().catch(() => {});
  }
  console.log(`e2e-livekit: ran ${Math.round((now() - t0) / 1000)} s`);
  console.log(`e2e-livekit: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
