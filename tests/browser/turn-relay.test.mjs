// TURN fallback, tested in a real browser: the demo page in headless
// Chromium joins with iceTransportPolicy 'relay', so its only path to LiveKit
// is through coturn (both on 127.0.0.1; the test coturn adds
// allow-loopback-peers, production keeps loopback and private peers denied).
//   1. LiveKit's own TURN credentials (rtc.turn_servers, TURN REST secret):
//      joins, the selected ICE pair is a relay, a nearby bot's tone arrives.
//   2. A wrong password, 3. an expired TURN REST credential: the join fails
//      cleanly (connect() rejects with code LIVEKIT, the client is left
//      disconnected) and coturn logs the refused allocations.
// Environment: DEMO_URL, TURN_HOST, TURN_PORT, TURN_SECRET, TURN_LOG, TEST_TMP.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  launchChromium,
  openDemo,
  poll,
  reporter,
  sleep,
  toneWav,
} from '../../deploy/demo/test/browser.mjs';

const HEAR_AMP = 0.003;
const FAIL_WITHIN_MS = 30000; // peerConnectionTimeout is 8 s; the rest is slack for a loaded machine
const env = process.env;
const url = env.DEMO_URL;
const turnUrl = `turn:${env.TURN_HOST}:${env.TURN_PORT}?transport=udp`;
const r = reporter('turn-browser');
const wav = join(env.TEST_TMP ?? '/tmp', 'turn-mic.wav');
toneWav(wav, 1500);

/** A TURN REST credential (coturn use-auth-secret) for user, expiring at expirySec. */
function turnCred(user, expirySec, secret = env.TURN_SECRET) {
  const username = `${expirySec}:${user}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

const turnLog = () => readFileSync(env.TURN_LOG, 'utf8');
const count = (text, re) => (text.match(re) ?? []).length;

async function joinDemo(browser, options) {
  const page = await openDemo(browser, url, { rawMic: true, statsIntervalMs: 500, ...options });
  const t0 = Date.now();
  await page.click('#join');
  await poll(
    page,
    () => window.demo.state.joined || window.demo.state.joinError,
    null,
    FAIL_WITHIN_MS + 5000,
  );
  const st = await page.evaluate(() => ({
    joined: window.demo.state.joined,
    error: window.demo.state.joinError,
    events: window.demo.state.events,
    errors: window.demo.state.errors,
  }));
  return { page, ms: Date.now() - t0, ...st };
}

const allocOk = () => count(turnLog(), /ALLOCATE processed, success/g);

async function relayWorks(browser) {
  const okBefore = allocOk();
  const j = await joinDemo(browser, { rtcConfig: { iceTransportPolicy: 'relay' } });
  if (
    !r.check(
      'relay-only: joins LiveKit through coturn',
      j.joined,
      `${j.ms} ms ${JSON.stringify(j.error ?? '')}`,
    )
  )
    return;
  const turn = await poll(
    j.page,
    () => window.demo.diag()?.turnLikelyInUse === true,
    null,
    8000,
    250,
  );
  r.check('relay-only: selected ICE candidate pair is a TURN relay (turnLikelyInUse)', turn);
  const bot = await j.page.evaluate(() => window.demo.state.bots[0].id);
  // First out of everyone's range (silence), then next to the bot.
  await j.page.evaluate(() => window.demo.teleport(0, -38, 0));
  const quiet = await poll(
    j.page,
    ([id, a]) => {
      const m = window.demo.measure();
      return m.tones[id] < a / 2 || m.tonality[id] < 2;
    },
    [bot, HEAR_AMP],
    8000,
  );
  r.check('relay-only: out of range, the bot is silent', quiet);
  const t0 = Date.now();
  await j.page.evaluate((id) => {
    const b = window.demo.state.entities.find((e) => e.id === id);
    return window.demo.teleport(b.x, b.z - 4, 0);
  }, bot);
  const heard = await poll(
    j.page,
    ([id, a]) => {
      const m = window.demo.measure();
      return m.tones[id] > a && m.tonality[id] > 4;
    },
    [bot, HEAR_AMP],
    8000,
  );
  r.check(
    `relay-only: audio flows (${bot}'s tone arrives through the relay)`,
    heard,
    `${Date.now() - t0} ms`,
  );
  const ok = allocOk() - okBefore;
  r.check("coturn: the browser's allocations succeeded", ok > 0, `${ok} successful ALLOCATE`);
  await j.page.context().close();
}

/** coturn's 401 answers to requests that carried user's credential (not the nonce challenge). */
const refusals = (user) =>
  count(
    turnLog(),
    new RegExp(`user <\\d+:${user}>: incoming packet \\S+ processed, error 401`, 'g'),
  );

async function refused(browser, what, user, cred) {
  const j = await joinDemo(browser, {
    rtcConfig: { iceTransportPolicy: 'relay', iceServers: [{ urls: [turnUrl], ...cred }] },
    peerConnectionTimeoutMs: 8000,
  });
  r.check(
    `${what}: join fails with a LIVEKIT error within ${FAIL_WITHIN_MS / 1000} s`,
    !j.joined && j.error?.code === 'LIVEKIT' && j.ms < FAIL_WITHIN_MS,
    `${j.ms} ms: ${JSON.stringify(j.error)}`,
  );
  const ev = j.events.filter((e) => e.name !== 'join-failed' && e.name !== 'error');
  r.check(
    `${what}: the client emits an 'error' event with code LIVEKIT`,
    j.errors.some((e) => e.code === 'LIVEKIT'),
    `error events ${JSON.stringify(j.errors)}; other events ${JSON.stringify(ev)}`,
  );
  await sleep(300);
  const d = await j.page.evaluate(() => window.demo.diag());
  r.check(
    `${what}: client left cleanly (no voice client, page can retry)`,
    d === null && (await j.page.isEnabled('#join')),
  );
  const n = refusals(user);
  r.check(`${what}: coturn refused the credential (401)`, n > 0, `${n} requests refused`);
  await j.page.context().close();
}

const watchdog = setTimeout(() => {
  console.log('turn-browser: timed out');
  process.exit(1);
}, 170_000);
const browser = await launchChromium(wav);
try {
  await relayWorks(browser);
  const now = Math.floor(Date.now() / 1000);
  await refused(browser, 'wrong TURN password', 'wrong-pass', {
    ...turnCred('wrong-pass', now + 600),
    credential: 'd3JvbmctcGFzc3dvcmQ=',
  });
  await refused(browser, 'expired TURN credential', 'expired', turnCred('expired', now - 60));
} catch (e) {
  r.check('turn scenario', false, String(e.stack ?? e));
} finally {
  clearTimeout(watchdog);
  await browser.close();
}
process.exit(r.done());
