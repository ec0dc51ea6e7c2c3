// The client on a REAL LiveKit server (v1.13.5 from deploy/paths.env) in
// headless Chromium, with the policy socket scripted by this driver through
// Playwright's WebSocket routing (the daemon's socket comes later). Two
// players, alice (listener) and bob (speaker, a 440 Hz tone as microphone).
// Checks: join + empty allow-list + publish, audience ack, policy-driven
// subscribe -> audible (latency measured), panning by pose, LiveKit-enforced
// revocation by the speaker's allow-list, unsubscribe -> silence (latency),
// revision gap -> snapshot.request, turnLikelyInUse from real ICE stats,
// participant-speaking. Usage: node test/browser/livekit-e2e.mjs [--json=FILE]
// Skips (exit 0, no checks) when the LiveKit binary is missing.
import { chromium } from 'playwright-core';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverBin, startLiveKit } from '../../../tests/bots/lib/server.mjs';
import { signJwt } from '../../../tests/bots/lib/token.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const jsonArg = process.argv.find((a) => a.startsWith('--json='));
const ROOM = 'room_e2e';
const POLICY_URL = 'ws://127.0.0.1:9/policy-socket'; // routed: never dialled
const AUDIBLE_RMS = 0.01;
const SILENT_RMS = 0.002;
const results = [];
const check = (name, ok, detail = '') => {
  results.push({ name, ok: !!ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(serverBin())) {
  console.log(`client livekit: skipped (no LiveKit binary at ${serverBin()})`);
  if (jsonArg)
    writeFileSync(jsonArg.slice(7), JSON.stringify({ numPassedTests: 0, numFailedTests: 0 }));
  process.exit(0);
}

/** A 10 s, 440 Hz, amplitude 0.3 mono WAV (Chromium loops it as the microphone). */
function toneWav(path) {
  const sr = 48000,
    n = sr * 10;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sr, 24);
  b.writeUInt32LE(sr * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    b.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 440 * i) / sr)), 44 + i * 2);
  writeFileSync(path, b);
}

function serve() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };
  const allowed = ['/dist/', '/test/browser/', '/node_modules/livekit-client/dist/'];
  const server = createServer((req, res) => {
    const p = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!allowed.some((a) => p.startsWith(a)) || !existsSync(join(root, p)))
      return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(p)] ?? 'application/octet-stream' });
    res.end(readFileSync(join(root, p)));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

/** One player: a browser context, its page, and its scripted policy socket. */
async function player(browser, port, lk, identity) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const sock = { ws: null, received: [] };
  await page.routeWebSocket(POLICY_URL, (ws) => {
    sock.ws = ws;
    ws.onMessage((m) => sock.received.push(JSON.parse(String(m))));
  });
  page.on('pageerror', (e) => console.log(`[${identity} page error] ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/test/browser/lk.html`);
  await page.waitForFunction(() => window.pvReady === true);
  const now = Math.floor(Date.now() / 1000);
  const video = {
    room: ROOM,
    roomJoin: true,
    canPublish: true,
    canSubscribe: true,
    canPublishSources: ['microphone'],
  };
  const token = signJwt(
    { iss: lk.key, sub: identity, nbf: now - 5, exp: now + 600, video },
    lk.secret,
  );
  const send = (msg) => sock.ws.send(JSON.stringify({ roomId: ROOM, ...msg }));
  const level = () => page.evaluate(() => window.pvLevel());
  const config = {
    livekitUrl: lk.url,
    token,
    participantId: identity,
    roomId: ROOM,
    policySocketUrl: POLICY_URL,
    policySocketToken: 'scripted.policy.token',
  };
  return {
    identity,
    page,
    sock,
    send,
    level,
    config,
    events: () => page.evaluate(() => window.pvEvents),
  };
}

/** Polls until pred(level) holds; returns the ms it took, or -1 on timeout. */
async function until(p, pred, timeout_ms) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout_ms) {
    if (pred(await p.level())) return Date.now() - t0;
    await sleep(20);
  }
  return -1;
}

async function waitMsg(p, pred, timeout_ms = 3000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout_ms) {
    const m = p.sock.received.find(pred);
    if (m) return m;
    await sleep(20);
  }
  return null;
}

const loud = (v) => v.l + v.r > AUDIBLE_RMS;
const quiet = (v) => v.l + v.r < SILENT_RMS;

async function scenario(alice, bob) {
  // Join: auth, first snapshot and audience come from the scripted server.
  for (const p of [alice, bob]) {
    const started = p.page.evaluate((c) => window.pvStart(c), p.config);
    await waitMsg(p, (m) => m.type === 'auth');
    p.send({ type: 'policy.snapshot', participantId: p.identity, revision: 1, canHear: [] });
    p.send({ type: 'policy.audience', revision: 1, audience: [] });
    const d = await started;
    check(
      `${p.identity}: connected, microphone published`,
      d.connected && d.publishedTrack,
      JSON.stringify(d),
    );
    const ack = await waitMsg(p, (m) => m.type === 'policy.audience.ack' && m.revision === 1);
    check(`${p.identity}: audience rev 1 acknowledged`, ack, JSON.stringify(ack));
  }
  check('alice hears nothing without policy', (await until(alice, loud, 1500)) < 0);

  // Bob allows alice; alice's policy lets her hear bob.
  bob.send({ type: 'policy.audience', revision: 2, audience: ['alice'] });
  check(
    'bob acks audience rev 2',
    await waitMsg(bob, (m) => m.type === 'policy.audience.ack' && m.revision === 2),
  );
  alice.send({
    type: 'policy.audibility.delta',
    revision: 2,
    previousRevision: 1,
    canHear: ['bob'],
  });
  const on_ms = await until(alice, loud, 5000);
  check('alice hears bob after the policy delta', on_ms >= 0, `policy -> audible ${on_ms} ms`);

  await alice.page.evaluate(() =>
    voice.upsertRemotePose({ participantId: 'bob', position: { x: 2, y: 0, z: 0 } }),
  );
  await sleep(400);
  const right = await alice.level();
  await alice.page.evaluate(() =>
    voice.upsertRemotePose({ participantId: 'bob', position: { x: -2, y: 0, z: 0 } }),
  );
  await sleep(400);
  const left = await alice.level();
  check(
    "bob at +X is on alice's right",
    right.r > 1.5 * right.l,
    `L ${right.l.toFixed(4)} R ${right.r.toFixed(4)}`,
  );
  check(
    "bob at -X is on alice's left",
    left.l > 1.5 * left.r,
    `L ${left.l.toFixed(4)} R ${left.r.toFixed(4)}`,
  );

  // Enforcement: bob's allow-list shrinks; alice (still wanting bob) goes silent.
  bob.send({ type: 'policy.audience', revision: 3, audience: [] });
  const revoke_ms = await until(alice, quiet, 5000);
  check(
    'speaker allow-list revocation silences the listener (LiveKit-enforced)',
    revoke_ms >= 0,
    `${revoke_ms} ms`,
  );
  bob.send({ type: 'policy.audience', revision: 4, audience: ['alice'] });
  const back_ms = await until(alice, loud, 5000);
  check('re-allowed: audible again without a new subscribe', back_ms >= 0, `${back_ms} ms`);

  // Honest unsubscribe, then a revision gap.
  alice.send({ type: 'policy.audibility.delta', revision: 5, previousRevision: 2, canHear: [] });
  const off_ms = await until(alice, quiet, 5000);
  check(
    'alice goes silent after the policy drops bob',
    off_ms >= 0,
    `policy -> silent ${off_ms} ms`,
  );
  alice.send({
    type: 'policy.audibility.delta',
    revision: 7,
    previousRevision: 6,
    canHear: ['bob'],
  });
  const req = await waitMsg(alice, (m) => m.type === 'policy.snapshot.request');
  check(
    'revision gap -> policy.snapshot.request',
    req && req.lastAppliedRevision === 5 && req.reason === 'revision_gap',
    JSON.stringify(req),
  );
  check('nothing applied during the gap', (await until(alice, loud, 600)) < 0);
  alice.send({ type: 'policy.snapshot', participantId: 'alice', revision: 7, canHear: ['bob'] });
  check('snapshot after the gap applies', (await until(alice, loud, 5000)) >= 0);

  const diag = await alice.page.evaluate(async () => {
    for (let i = 0; i < 70 && window.voice.getDiagnostics().turnLikelyInUse === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return window.voice.getDiagnostics();
  });
  check(
    'diagnostics from real ICE stats: direct, no TURN',
    diag.turnLikelyInUse === false && diag.subscribedCount === 1 && diag.lastPolicyRevision === 7,
    JSON.stringify(diag),
  );
  // Push-to-talk: bob's key up mutes the track, key down unmutes it.
  await bob.page.evaluate(() => voice.setMicState({ pushToTalk: true, pushToTalkActive: false }));
  const ptt_off_ms = await until(alice, quiet, 5000);
  check('push-to-talk released: alice hears silence', ptt_off_ms >= 0, `${ptt_off_ms} ms`);
  await sleep(1000); // LiveKit's active-speaker update for bob's silence
  await bob.page.evaluate(() => voice.setMicState({ pushToTalkActive: true }));
  const ptt_on_ms = await until(alice, loud, 5000);
  check('push-to-talk pressed: alice hears bob', ptt_on_ms >= 0, `${ptt_on_ms} ms`);
  await sleep(1500);
  const ev = await alice.events();
  check(
    'participant-speaking reported for bob',
    ev.some((e) => e[0] === 'speaking' && e[1] === 'bob' && e[2] === true),
    JSON.stringify(ev.filter((e) => e[0] !== 'connected')),
  );
  check(
    'no unexpected errors',
    ![...ev, ...(await bob.events())].some((e) => e[0] === 'error'),
    JSON.stringify(ev.filter((e) => e[0] === 'error')),
  );

  await alice.page.evaluate(() => window.voice.disconnect());
  check(
    'disconnect emits disconnected(client)',
    (await alice.events()).some((e) => e[0] === 'disconnected' && e[1] === 'client'),
  );
}

const tmp = mkdtempSync(join(tmpdir(), 'pv-lk-e2e-'));
const wav = join(tmp, 'tone.wav');
toneWav(wav);
if (!existsSync(join(root, 'dist/index.js')))
  throw new Error('build first: node scripts/build.mjs');
const lk = await startLiveKit();
const server = await serve();
const browser = await chromium.launch({
  executablePath: process.env.PV_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-audio-capture=${wav}`,
    '--allow-loopback-in-peer-connection',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
const watchdog = setTimeout(() => {
  console.log('client livekit: timed out');
  process.exit(1);
}, 90_000);
try {
  const port = server.address().port;
  const alice = await player(browser, port, lk, 'alice');
  const bob = await player(browser, port, lk, 'bob');
  await scenario(alice, bob);
} catch (e) {
  check('livekit scenario', false, String(e.stack ?? e));
} finally {
  clearTimeout(watchdog);
  await browser.close();
  server.close();
  await lk.stop();
  rmSync(tmp, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`client livekit (LiveKit ${lk.version ?? '?'}): ${passed} passed, ${failed} failed`);
if (jsonArg)
  writeFileSync(
    jsonArg.slice(7),
    JSON.stringify({ numPassedTests: passed, numFailedTests: failed }),
  );
process.exit(failed === 0 ? 0 : 1);
