// Experiments against a REAL LiveKit server that pin down the enforcement facts
// the control plane relies on (docs/LIVEKIT-ENFORCEMENT.md). Starts its own
// server on loopback (binary: $LIVEKIT_SERVER_BIN, deploy/paths.env, or /opt/livekit/bin/server),
// runs bots (tests/bots/lib/bot.mjs) that publish distinct tones and measure
// what they hear, prints a table and exits non-zero if a fact is not as
// documented. Usage: node tests/bots/experiments.mjs [--only a,b,...] [--write-fixtures]
// (--write-fixtures refreshes tests/bots/fixtures/ from this run's real payloads)
import './lib/quiet.mjs';
import { dispose } from '@livekit/rtc-node';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toneHz } from './lib/audio.mjs';
import { Bot } from './lib/bot.mjs';
import { Anonymiser, writeJsonFixture, writeWebhookFixture } from './lib/fixtures.mjs';
import { RoomService } from './lib/roomservice.mjs';
import { startLiveKit } from './lib/server.mjs';
import { adminToken, joinToken } from './lib/token.mjs';
import { WebhookReceiver } from './lib/webhooks.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, 'fixtures');
const args = process.argv.slice(2);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const WRITE_FIXTURES = args.includes('--write-fixtures');
const REPEATS = Number(process.env.PV_FACT_REPEATS ?? 10);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const results = []; // { id, fact, pass, detail }
const numbers = {}; // name -> [ms...]

function record(id, fact, pass, detail) {
  results.push({ id, fact, pass, detail });
  console.log(`${pass ? 'PASS' : 'FAIL'} ${id}: ${fact} -- ${detail}`);
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
}
const fmt = (xs) =>
  xs.length ? `n=${xs.length} p50=${pct(xs, 50).toFixed(0)}ms p99=${pct(xs, 99).toFixed(0)}ms max=${Math.max(...xs).toFixed(0)}ms` : 'n=0';

/** Resolves to ms from t0 to the first audible frame of speaker at bot, or null after timeoutMs. */
async function firstAudible(bot, speaker, t0, timeoutMs) {
  const m = bot.meter(speaker);
  for (const end = t0 + timeoutMs; now() < end; await sleep(5)) {
    const t = m.firstAudibleAfter(t0);
    if (t !== null) return t - t0;
  }
  return null;
}

/**
 * Waits until speaker has been inaudible at bot for quietMs; resolves to ms
 * from t0 to the last audible frame (<= 0 if none arrived after t0), or null if
 * the audio never stopped within timeoutMs.
 */
async function lastAudible(bot, speaker, t0, quietMs, timeoutMs) {
  const m = bot.meter(speaker);
  for (const end = t0 + timeoutMs; now() < end; await sleep(10)) {
    const last = m.lastAudibleAt ?? -Infinity;
    if (now() - Math.max(last, t0) >= quietMs) return last >= t0 ? last - t0 : 0;
  }
  return null;
}

/** Creates and connects bots: specs [{ identity, grants, malicious }] in order. */
async function joinBots(server, room, specs, tones) {
  const bots = {};
  for (const s of specs) {
    const b = new Bot({ identity: s.identity, toneHz: tones.get(s.identity), tones, malicious: s.malicious });
    await b.connect(server.url, joinToken(server, room, s.identity, s.grants ?? {}));
    bots[s.identity] = b;
  }
  return bots;
}

async function leaveAll(bots) {
  for (const b of Object.values(bots)) await b.disconnect();
}

function tonesFor(ids) {
  return new Map(ids.map((id, i) => [id, toneHz(i)]));
}

/** Waits until bot sees speaker's track publication (needed before the server subscribes it). */
async function seesTrack(bot, speaker, timeoutMs = 3000) {
  for (const end = now() + timeoutMs; now() < end; await sleep(10)) {
    const p = bot.room.remoteParticipants.get(speaker);
    if (p && p.trackPublications.size > 0) return true;
  }
  return false;
}

// ---- a: empty allow-list before publishing stops a self-subscribing client ----
async function expA(ctx) {
  const room = 'exp-a';
  const tones = tonesFor(['S', 'C', 'M']);
  const bots = await joinBots(ctx.server, room, [{ identity: 'S' }, { identity: 'C' }], tones);
  try {
    bots.S.setAllowList([]);
    await bots.S.publishTone();
    await bots.C.publishTone(); // control speaker: never sets permissions
    Object.assign(bots, await joinBots(ctx.server, room, [{ identity: 'M', malicious: true }], tones));
    const t0 = now();
    await sleep(3000);
    const s = bots.M.meter('S');
    const c = bots.M.meter('C');
    const heardControl = c.audibleCountAfter(t0) > 50 && c.dominantHz === tones.get('C');
    const failed = bots.M.events.filter((e) => e.name === 'subscription_failed').length;
    record(
      'a',
      'empty allow-list set before publish: self-subscribing listener gets no audio for 3 s',
      s.audibleFrames === 0 && heardControl,
      `from S: ${s.frames} frames, ${s.audibleFrames} audible, rms ${s.rms.toFixed(0)}; ` +
        `control C (no allow-list): ${c.audibleFrames} audible frames, tone ${c.dominantHz} Hz; ` +
        `M saw ${failed} trackSubscriptionFailed events`,
    );
    // a2: the same self-subscribing M once allowed, then revoked: the allow-list is the gate
    const tAllow = bots.S.setAllowList(['M']);
    const heard = await firstAudible(bots.M, 'S', tAllow, 3000);
    await sleep(300);
    const tRevoke = bots.S.setAllowList([]);
    const stopped = await lastAudible(bots.M, 'S', tRevoke, 400, 3000);
    const tQuiet = now();
    for (const p of bots.M.room.remoteParticipants.get('S')?.trackPublications.values() ?? []) p.setSubscribed(true);
    await sleep(2000);
    const after = s.audibleCountAfter(tQuiet);
    record(
      'a2',
      'a self-subscribing listener hears the speaker only while allow-listed (revoked: silent despite re-subscribing)',
      heard !== null && stopped !== null && stopped < 500 && after === 0,
      `allowed -> first audio ${heard?.toFixed(0)} ms; revoked -> last audio ${stopped?.toFixed(0)} ms; ` +
        `${after} audible frames in 2 s of re-subscribing after the revoke`,
    );
  } finally {
    await leaveAll(bots);
  }
}

// ---- b + e: server-side subscribe/unsubscribe latency for an allowed listener ----
async function expBE(ctx) {
  const room = 'exp-b';
  const tones = tonesFor(['S', 'L']);
  const bots = await joinBots(ctx.server, room, [{ identity: 'S' }, { identity: 'L' }], tones);
  const sub = [];
  const unsub = [];
  const http = [];
  let misses = 0;
  let leaks = 0;
  try {
    bots.S.setAllowList(['L']);
    const sid = await bots.S.publishTone();
    if (!(await seesTrack(bots.L, 'S'))) throw new Error('L never saw S publish');
    for (let i = 0; i < REPEATS; i++) {
      const r = await ctx.rs.updateSubscriptions(room, 'L', [sid], true);
      http.push(r.ms);
      if (r.status !== 200) throw new Error(`UpdateSubscriptions ${r.status} ${r.text}`);
      const lat = await firstAudible(bots.L, 'S', r.startedAt, 3000);
      if (lat === null) {
        misses++;
        continue;
      }
      sub.push(lat);
      await sleep(250);
      const u = await ctx.rs.updateSubscriptions(room, 'L', [sid], false);
      const stop = await lastAudible(bots.L, 'S', u.startedAt, 400, 3000);
      if (stop === null) leaks++;
      else unsub.push(stop);
    }
  } finally {
    await leaveAll(bots);
  }
  numbers['b subscribe->first audio'] = sub;
  numbers['e unsubscribe->last audio'] = unsub;
  numbers['UpdateSubscriptions HTTP round trip'] = http;
  record('b', 'UpdateSubscriptions(subscribe) delivers the allowed speaker within 1 s', misses === 0 && pct(sub, 99) < 1000,
    `${fmt(sub)}; ${misses} never heard; HTTP call ${fmt(http)}`);
  record('e', 'UpdateSubscriptions(unsubscribe) stops audio within 500 ms', leaks === 0 && unsub.length > 0 && pct(unsub, 99) < 500,
    `${fmt(unsub)}; ${leaks} kept playing`);
}

// ---- c + d: subscribe while not allowed, then the speaker allows / revokes ----
async function expCD(ctx) {
  const room = 'exp-c';
  const tones = tonesFor(['S', 'L']);
  const bots = await joinBots(ctx.server, room, [{ identity: 'S' }, { identity: 'L' }], tones);
  const start = [];
  const stop = [];
  let pendingLeaks = 0;
  let neverStarted = 0;
  let kept = 0;
  const reps = Math.max(3, Math.ceil(REPEATS / 2));
  try {
    bots.S.setAllowList([]);
    const sid = await bots.S.publishTone();
    if (!(await seesTrack(bots.L, 'S'))) throw new Error('L never saw S publish');
    for (let i = 0; i < reps; i++) {
      const r = await ctx.rs.updateSubscriptions(room, 'L', [sid], true); // pending: S has not allowed L
      if (r.status !== 200) throw new Error(`UpdateSubscriptions ${r.status} ${r.text}`);
      await sleep(600);
      if (bots.L.meter('S').audibleCountAfter(r.startedAt) > 0) pendingLeaks++;
      const tAllow = bots.S.setAllowList(['L']);
      const lat = await firstAudible(bots.L, 'S', tAllow, 3000);
      if (lat === null) neverStarted++;
      else start.push(lat);
      await sleep(250);
      const tRevoke = bots.S.setAllowList([]);
      const s = await lastAudible(bots.L, 'S', tRevoke, 400, 3000);
      if (s === null) kept++;
      else stop.push(s);
      await ctx.rs.updateSubscriptions(room, 'L', [sid], false); // reset: next round starts unsubscribed
    }
  } finally {
    await leaveAll(bots);
  }
  numbers['c allow (subscription pending)->first audio'] = start;
  numbers['d allow-list shrink->last audio'] = stop;
  record('c0', 'server-forced subscription is blocked while the speaker does not allow the listener',
    pendingLeaks === 0, `${pendingLeaks}/${reps} rounds leaked audio in the 600 ms before the allow`);
  record('c', 'a pending server subscription starts by itself once the speaker allows (no 2nd call)',
    neverStarted === 0 && pct(start, 99) < 1000, `${fmt(start)}; ${neverStarted}/${reps} never started`);
  record('d', 'shrinking the allow-list stops the listener\'s audio within 500 ms',
    kept === 0 && stop.length > 0 && pct(stop, 99) < 500, `${fmt(stop)}; ${kept} kept playing`);
}

// ---- f: canSubscribe=false token and a server-forced subscription ----
async function expF(ctx) {
  const room = 'exp-f';
  const tones = tonesFor(['S', 'N', 'L']);
  const bots = await joinBots(ctx.server, room,
    [{ identity: 'S' }, { identity: 'N', grants: { canSubscribe: false } }, { identity: 'L' }], tones);
  try {
    bots.S.setAllowList(['N', 'L']);
    const sid = await bots.S.publishTone();
    await seesTrack(bots.L, 'S');
    const rn = await ctx.rs.updateSubscriptions(room, 'N', [sid], true);
    const rl = await ctx.rs.updateSubscriptions(room, 'L', [sid], true);
    await sleep(3000);
    const n = bots.N.meter('S');
    const heardL = bots.L.meter('S').audibleCountAfter(rl.startedAt);
    const sawTrack = bots.N.room.remoteParticipants.get('S')?.trackPublications.size ?? 0;
    record('f', 'canSubscribe=false blocks even a server-forced subscription (v1.13.5, issue #4651)',
      n.audibleFrames === 0 && heardL > 50,
      `N (canSubscribe=false): call HTTP ${rn.status}, ${n.frames} frames, ${n.audibleFrames} audible, ` +
        `sees ${sawTrack} publication(s); control L: ${heardL} audible frames`);
  } finally {
    await leaveAll(bots);
  }
}

// ---- g + h: ListParticipants shape, RemoveParticipant, webhooks ----
async function expGH(ctx) {
  const room = 'exp-g';
  const tones = tonesFor(['S', 'L']);
  const bots = await joinBots(ctx.server, room, [{ identity: 'S' }, { identity: 'L' }], tones);
  try {
    bots.S.setAllowList(['L']);
    const sid = await bots.S.publishTone();
    await seesTrack(bots.L, 'S');
    const r = await ctx.rs.updateSubscriptions(room, 'L', [sid], true);
    await firstAudible(bots.L, 'S', r.startedAt, 3000);

    const lp = await ctx.rs.listParticipants(room);
    const ps = lp.body?.participants ?? [];
    const sp = ps.find((p) => p.identity === 'S');
    const tr = sp?.tracks?.find((t) => t.sid === sid);
    const shapeOk = lp.status === 200 && ps.length === 2 && tr?.type === 'AUDIO' && tr?.source === 'MICROPHONE';
    record('h', 'ListParticipants: participants[].identity, tracks[].sid/type AUDIO/source MICROPHONE',
      shapeOk, `HTTP ${lp.status}, ${ps.length} participants, S track ${tr?.sid === sid ? 'sid matches' : 'MISSING'} ` +
        `type=${tr?.type} source=${tr?.source}`);
    if (WRITE_FIXTURES) writeJsonFixture(path.join(FIXTURES, 'list_participants.json'), ctx.anon.apply(lp.body));

    const tR = now();
    const rm = await ctx.rs.removeParticipant(room, 'S');
    const stopMs = await lastAudible(bots.L, 'S', tR, 400, 3000);
    await sleep(300);
    const sGone = !bots.L.room.remoteParticipants.has('S');
    numbers['g RemoveParticipant->last audio'] = stopMs === null ? [] : [stopMs];
    let left = [];
    for (const end = now() + 3000; now() < end && left.length === 0; await sleep(50))
      left = ctx.hooks.find('participant_left', room).filter((d) => d.body?.participant?.identity === 'S');
    record('g', 'RemoveParticipant stops the speaker for everyone and yields participant_left',
      rm.status === 200 && stopMs !== null && stopMs < 500 && sGone && left.length === 1,
      `HTTP ${rm.status}; last audio at L ${stopMs?.toFixed(0)} ms after the call; S gone from L's room: ${sGone}; ` +
        `participant_left webhooks for S: ${left.length}` +
        (left[0] ? ` (${(left[0].t - tR).toFixed(0)} ms after the call)` : ''));
  } finally {
    await leaveAll(bots);
  }
}

// ---- i: Twirp error shapes and admin-token scoping ----
async function expI(ctx) {
  const room = 'exp-i';
  const tones = tonesFor(['S']);
  const bots = await joinBots(ctx.server, room, [{ identity: 'S' }], tones);
  try {
    // in parallel: the UpdateSubscriptions probes each block ~3 s
    const [rmUnknown, subUnknown, listNoRoom, subNoRoom, rmNoRoom, subBadTrack] = await Promise.all([
      ctx.rs.removeParticipant(room, 'nobody'),
      ctx.rs.updateSubscriptions(room, 'nobody', ['TR_none'], true),
      ctx.rs.listParticipants('no-such-room'),
      ctx.rs.updateSubscriptions('no-such-room', 'S', ['TR_none'], true),
      ctx.rs.removeParticipant('no-such-room', 'S'),
      ctx.rs.updateSubscriptions(room, 'S', ['TR_none'], true),
    ]);
    // admin token for exp-a used on exp-i
    const wrong = await fetch(`${ctx.server.httpUrl}/twirp/livekit.RoomService/ListParticipants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken(ctx.server, 'exp-a')}` },
      body: JSON.stringify({ room }),
    });
    const wrongText = await wrong.text();
    const errs = { remove_unknown_participant: rmUnknown, update_subscriptions_unknown_participant: subUnknown,
      list_participants_unknown_room: listNoRoom, update_subscriptions_unknown_room: subNoRoom,
      remove_participant_unknown_room: rmNoRoom, update_subscriptions_unknown_track: subBadTrack };
    if (WRITE_FIXTURES) {
      const out = {};
      for (const [k, v] of Object.entries(errs)) out[k] = { status: v.status, body: v.body };
      out.admin_token_for_other_room = { status: wrong.status, body: JSON.parse(wrongText) };
      writeJsonFixture(path.join(FIXTURES, 'twirp_errors.json'), out);
    }
    const desc = (r) => `${r.status} ${r.text} (${r.ms.toFixed(0)} ms)`;
    const notFound = (r) => r.status === 404 && r.body?.code === 'not_found';
    const stuck = (r) => r.status === 503 && r.body?.code === 'unavailable' && r.ms > 2500;
    record('i1', 'RemoveParticipant on an unknown identity or room -> HTTP 404 {"code":"not_found"} at once',
      notFound(rmUnknown) && notFound(rmNoRoom) && rmUnknown.ms < 1000,
      `identity: ${desc(rmUnknown)}; room: ${desc(rmNoRoom)}`);
    record('i3', 'UpdateSubscriptions for an identity not in the room (or no room) -> 503 "unavailable" after ~3 s, NOT 404',
      stuck(subUnknown) && stuck(subNoRoom), `identity: ${desc(subUnknown)}; room: ${desc(subNoRoom)}`);
    record('i4', 'UpdateSubscriptions with an unknown track SID for a present participant -> 200 {} (no error)',
      subBadTrack.status === 200, desc(subBadTrack));
    record('i5', 'ListParticipants on an unknown room -> 200 {"participants":[]} (not 404)',
      listNoRoom.status === 200 && Array.isArray(listNoRoom.body?.participants) && listNoRoom.body.participants.length === 0,
      desc(listNoRoom));
    record('i2', 'admin token with video.room=X is refused for room Y',
      wrong.status === 401 || wrong.status === 403, `HTTP ${wrong.status} ${wrongText}`);
  } finally {
    await leaveAll(bots);
  }
}

// ---- j: a listener that rejoins (same identity) loses its server-made subscription ----
async function expJ(ctx) {
  const room = 'exp-j';
  const tones = tonesFor(['S', 'L']);
  const bots = await joinBots(ctx.server, room, [{ identity: 'S' }, { identity: 'L' }], tones);
  try {
    bots.S.setAllowList(['L']);
    const sid = await bots.S.publishTone();
    await seesTrack(bots.L, 'S');
    const r = await ctx.rs.updateSubscriptions(room, 'L', [sid], true);
    const before = await firstAudible(bots.L, 'S', r.startedAt, 3000);
    await bots.L.disconnect();
    Object.assign(bots, await joinBots(ctx.server, room, [{ identity: 'L' }], tones));
    const tJoin = now();
    await sleep(1500);
    const heardAfterRejoin = bots.L.meter('S').audibleFrames;
    const r2 = await ctx.rs.updateSubscriptions(room, 'L', [sid], true);
    const again = await firstAudible(bots.L, 'S', r2.startedAt, 3000);
    record('j', 'a rejoining listener (same identity) is NOT re-subscribed: the daemon must call again; the allow-list (by identity) still holds',
      before !== null && heardAfterRejoin === 0 && again !== null,
      `before rejoin heard after ${before?.toFixed(0)} ms; ${heardAfterRejoin} audible frames in 1.5 s after rejoin ` +
        `(${(now() - tJoin).toFixed(0)} ms window); after a new UpdateSubscriptions: ${again?.toFixed(0)} ms`);
  } finally {
    await leaveAll(bots);
  }
}

// ---- k: a speaker's allow-list does not survive its own rejoin ----
async function expK(ctx) {
  const room = 'exp-k';
  const tones = tonesFor(['S', 'M']);
  const bots = await joinBots(ctx.server, room, [{ identity: 'S' }], tones);
  try {
    bots.S.setAllowList([]);
    await bots.S.publishTone();
    Object.assign(bots, await joinBots(ctx.server, room, [{ identity: 'M', malicious: true }], tones));
    await sleep(1000);
    const blocked = bots.M.meter('S').audibleFrames;
    await bots.S.disconnect();
    // the same identity rejoins and publishes WITHOUT sending its allow-list first
    Object.assign(bots, await joinBots(ctx.server, room, [{ identity: 'S' }], tones));
    const tPub = now();
    await bots.S.publishTone();
    const heard = await firstAudible(bots.M, 'S', tPub, 3000);
    record('k', 'a speaker\'s allow-list is per connection: after the speaker rejoins, everyone may subscribe until it sends the list again',
      blocked === 0 && heard !== null,
      `before rejoin M heard ${blocked} audible frames; after rejoin + publish without allow-list M hears S after ${heard?.toFixed(0)} ms ` +
        '(so the client must set the allow-list before publishing on EVERY join)');
  } finally {
    await leaveAll(bots);
  }
}

// ---- webhook deliveries collected during the whole run ----
function checkWebhooks(ctx) {
  const d = ctx.hooks.deliveries;
  const bad = d.filter((x) => !x.check.ok);
  const names = [...new Set(d.map((x) => x.body?.event))].sort();
  const need = ['participant_joined', 'participant_left', 'room_finished', 'room_started', 'track_published'];
  const missing = need.filter((n) => !names.includes(n));
  record('w', 'webhooks: bare-JWT Authorization (iss=key, sha256=base64 SHA-256 of body), application/webhook+json',
    d.length > 0 && bad.length === 0 && missing.length === 0,
    `${d.length} deliveries, ${bad.length} failed checks${bad[0] ? ` (${bad[0].check.why})` : ''}; events: ${names.join(' ')}` +
      (missing.length ? `; MISSING ${missing.join(' ')}` : ''));
  if (!WRITE_FIXTURES) return;
  const dir = path.join(FIXTURES, 'webhooks');
  const done = new Set();
  // prefer deliveries from exp-g (speaker removed) so participant_left shows that case
  const ordered = [...d.filter((x) => x.body?.room?.name === 'exp-g'), ...d];
  for (const x of ordered) {
    const ev = x.body?.event;
    if (!ev || done.has(ev) || !x.check.claims) continue;
    done.add(ev);
    const header = JSON.parse(Buffer.from(x.headers.authorization.split('.')[0], 'base64url'));
    writeWebhookFixture(dir, ev, ctx.anon.apply(x.body), x.check.claims, header);
  }
  // a participant_left after a client-initiated leave (the other reason the daemon sees)
  const clientLeft = d.find((x) => x.body?.event === 'participant_left' && x.body?.participant?.disconnectReason === 'CLIENT_INITIATED');
  if (clientLeft) {
    const header = JSON.parse(Buffer.from(clientLeft.headers.authorization.split('.')[0], 'base64url'));
    writeWebhookFixture(dir, 'participant_left.client_initiated', ctx.anon.apply(clientLeft.body), clientLeft.check.claims, header);
  }
  const first = d.find((x) => x.check.claims);
  if (first) {
    const header = JSON.parse(Buffer.from(first.headers.authorization.split('.')[0], 'base64url'));
    const h = { ...first.headers };
    h.authorization = '<JWT>';
    for (const k of ['host', 'content-length']) delete h[k];
    writeJsonFixture(path.join(dir, 'delivery-shape.json'), {
      method: first.method,
      headers: h,
      jwt_header: header,
      jwt_claim_names: Object.keys(first.check.claims),
      jwt_lifetime_s: first.check.claims.exp - (first.check.claims.nbf ?? first.check.claims.iat ?? first.check.claims.exp),
    });
  }
}

const EXPERIMENTS = { a: expA, b: expBE, c: expCD, f: expF, g: expGH, i: expI, j: expJ, k: expK };

async function main() {
  const t0 = now();
  const hooks = new WebhookReceiver({ key: 'pvtestkey', secret: 'pvtestsecret-at-least-32-characters-long' });
  const webhookUrl = await hooks.start();
  let server;
  try {
    server = await startLiveKit({ webhookUrl, key: hooks.key, secret: hooks.secret });
  } catch (e) {
    await hooks.stop();
    console.log(`FAIL setup: ${e.message}`);
    console.log('livekit-facts: 0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`LiveKit server ${server.version} at ${server.url} (log ${server.logFile}); rtc-node ` +
    JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules/@livekit/rtc-node/package.json'))).version);
  const anon = new Anonymiser([
    ['exp-g', 'room_alpha'], ['exp-a', 'room_beta'], ['exp-b', 'room_gamma'], ['exp-c', 'room_delta'],
    ['exp-f', 'room_epsilon'], ['exp-i', 'room_zeta'], ['exp-j', 'room_eta'], ['exp-k', 'room_theta'], ['S', 'p_speaker'], ['L', 'p_listener'],
    ['M', 'p_malicious'], ['C', 'p_control'], ['N', 'p_nosub'],
  ]);
  const ctx = { server, hooks, rs: new RoomService(server), anon };
  try {
    for (const [id, fn] of Object.entries(EXPERIMENTS)) {
      if (ONLY && !ONLY.includes(id)) continue;
      try {
        await fn(ctx);
      } catch (e) {
        record(id, 'experiment ran to completion', false, String(e.stack ?? e));
      }
    }
    if (!ONLY) {
      await sleep(3500); // departure/empty timeouts -> room_finished
      checkWebhooks(ctx);
    }
  } finally {
    await server.stop();
    await hooks.stop();
    await dispose();
  }
  console.log('\nlatency                                        samples');
  for (const [k, v] of Object.entries(numbers))
    console.log(`${k.padEnd(46)} ${fmt(v)}  [${v.map((x) => x.toFixed(0)).join(' ')}]`);
  console.log('\nid  result  fact');
  for (const r of results) console.log(`${r.id.padEnd(3)} ${r.pass ? 'PASS' : 'FAIL'}    ${r.fact}`);
  const passed = results.filter((r) => r.pass).length;
  const failed = results.length - passed;
  console.log(`(run took ${((now() - t0) / 1000).toFixed(1)} s)`);
  console.log(`livekit-facts: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
