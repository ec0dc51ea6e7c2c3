// The demo's "game backend": serves the arena page and the built client
// package, keeps the world (wandering bots + browser players), mints voice
// sessions at the daemon (POST /sessions, shared secret: the browser never
// sees it) and posts everyone's pose to POST /policy/poses at 4 Hz, like a
// real game server. Its bots join LiveKit and follow the policy socket.
//
// Environment (deploy/demo/stack.sh sets all of it):
//   DAEMON_URL                      http://127.0.0.1:PORT of proximity-voice-control
//   EXTERNAL_SHARED_SECRET[_FILE]   the daemon's game-server secret
//   DEMO_HOST, DEMO_PORT            where the page is served (127.0.0.1, 8090; 0 = any free port)
//   DEMO_ROOM (demo), DEMO_SCENARIO (demo|test), DEMO_SEED (1)
//   DEMO_VOICE                      speech (espeak-ng) or tone; default speech when espeak-ng runs
//   DEMO_READY_FILE                 written with the page URL once every bot publishes
import '../../tests/bots/lib/quiet.mjs'; // before rtc-node loads: keeps its logger quiet
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Daemon } from './lib/daemon.mjs';
import { botStatus, demoBot } from './lib/policybot.mjs';
import { haveEspeak, voiceGenerator } from './lib/speech.mjs';
import { staticFiles } from './lib/static.mjs';
import { ARENA, World } from './lib/world.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const env = process.env;
const POSE_INTERVAL_MS = 250; // MVP-SPEC 6.3: poses at 4 Hz
const MAX_BODY_BYTES = 16384;
const RADII = { enterM: 24, exitM: 26 };

function log(message, fields = {}) {
  process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), message, ...fields })}\n`);
}

function secret() {
  if (env.EXTERNAL_SHARED_SECRET) return env.EXTERNAL_SHARED_SECRET;
  if (env.EXTERNAL_SHARED_SECRET_FILE)
    return readFileSync(env.EXTERNAL_SHARED_SECRET_FILE, 'utf8').trim();
  throw new Error('EXTERNAL_SHARED_SECRET or EXTERNAL_SHARED_SECRET_FILE is required');
}

const daemon = new Daemon(env.DAEMON_URL ?? 'http://127.0.0.1:8080', secret());
const room = env.DEMO_ROOM ?? 'demo';
const scenario = env.DEMO_SCENARIO ?? 'demo';
const world = new World(scenario, Number(env.DEMO_SEED ?? 1), Date.now());
const voiceMode = env.DEMO_VOICE ?? ((await haveEspeak()) ? 'speech' : 'tone');
const playerNames = new Map(); // every player id handed out (oldest forgotten first) -> name
const MAX_KNOWN_PLAYERS = 1000;
const sessions = new Set(); // participant ids with a voice session: their poses are posted
const posts = { ok: 0, failed: 0, lastStatus: 0, lastBody: null, inflight: false };

const serveStatic = staticFiles([
  { prefix: '/pkg/', dir: here('../../client/dist') },
  {
    prefix: '/vendor/livekit-client.esm.mjs',
    file: here('node_modules/livekit-client/dist/livekit-client.esm.mjs'),
  },
  { prefix: '/', dir: here('public') },
]);

async function postPoses() {
  world.step(Date.now());
  if (posts.inflight || sessions.size === 0) return;
  posts.inflight = true;
  try {
    const r = await daemon.poses(world.poseBatch(room, sessions, Date.now()));
    posts.lastStatus = r.status;
    posts.lastBody = r.body;
    if (r.status === 200) posts.ok++;
    else {
      posts.failed++;
      if (posts.failed % 20 === 1)
        log('POST /policy/poses failed', { status: r.status, body: r.body });
    }
  } catch (e) {
    posts.failed++;
    posts.lastStatus = 0;
    if (posts.failed % 20 === 1)
      log('POST /policy/poses failed', { error: String(e.message ?? e) });
  } finally {
    posts.inflight = false;
  }
}

async function newSession(id, name) {
  const s = await daemon.session(id, room, name);
  sessions.add(id);
  return s;
}

// ---- HTTP API for the page ---------------------------------------------------

function readJson(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks)) : {});
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

function send(res, status, body, type = 'application/json; charset=utf-8') {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(data);
}

const bots = []; // tests/e2e Player objects (lib/policybot.mjs)
const botInfo = () => world.bots.map((b) => ({ id: b.id, name: b.name, toneHz: b.toneHz }));

async function apiJoin(body) {
  const name =
    String(body.name ?? 'Player')
      .replace(/[^\w .-]/g, '')
      .slice(0, 32) || 'Player';
  const id = `player-${Math.random().toString(16).slice(2, 8)}`;
  if (!world.addPlayer(id, name, Date.now())) return [503, { error: 'arena full' }];
  if (playerNames.size >= MAX_KNOWN_PLAYERS) {
    const oldest = playerNames.keys().next().value;
    playerNames.delete(oldest);
    sessions.delete(oldest);
  }
  playerNames.set(id, name);
  const session = await newSession(id, name);
  return [
    200,
    {
      participantId: id,
      session,
      bots: botInfo(),
      arena: ARENA,
      radii: RADII,
      voiceMode,
      entities: world.entities(),
    },
  ];
}

async function apiSession(body) {
  const id = String(body.participantId ?? '');
  if (!world.players.has(id)) return [404, { error: 'unknown player' }];
  return [200, { session: await newSession(id, world.players.get(id).name) }];
}

function apiTick(body) {
  const id = String(body.participantId ?? '');
  // A page that was throttled in a background tab comes back: same player.
  if (!world.players.has(id) && playerNames.has(id))
    world.addPlayer(id, playerNames.get(id), Date.now());
  const ok = world.setPlayerPose(
    id,
    Number(body.x),
    Number(body.z),
    Number(body.heading ?? 0),
    Date.now(),
  );
  if (!ok) return [404, { error: 'unknown player' }];
  return [
    200,
    {
      nowMs: Date.now(),
      entities: world.entities(),
      poses: {
        ok: posts.ok,
        failed: posts.failed,
        lastStatus: posts.lastStatus,
        revision: posts.lastBody?.revision ?? null,
      },
    },
  ];
}

function apiStatus() {
  return [
    200,
    {
      room,
      scenario,
      voiceMode,
      bots: bots.map(botStatus),
      posts: { ...posts },
      players: [...world.players.keys()],
    },
  ];
}

const apiWorld = () => [200, { entities: world.entities() }];

const ROUTES = {
  'POST /api/join': apiJoin,
  'POST /api/session': apiSession,
  'POST /api/tick': apiTick,
  'GET /api/world': apiWorld,
  'GET /api/status': apiStatus,
};

async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const route = ROUTES[`${req.method} ${url.pathname}`];
  try {
    if (route) {
      const [status, body] = await route(req.method === 'POST' ? await readJson(req) : {});
      return send(res, status, body);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, { error: 'method not allowed' });
    const f = await serveStatic(url.pathname);
    if (f.status !== 200) return send(res, 404, { error: 'not found' });
    return send(res, 200, f.body, f.type);
  } catch (e) {
    log('request failed', { path: url.pathname, error: String(e.message ?? e) });
    return send(res, 500, { error: String(e.message ?? e) });
  }
}

// ---- start and stop ------------------------------------------------------------

async function startBots() {
  const tones = new Map(world.bots.map((b) => [b.id, b.toneHz]));
  const names = new Map(world.bots.map((b) => [b.id, b.name]));
  const game = { roomId: room, session: (id) => newSession(id, names.get(id)) };
  for (const [i, b] of world.bots.entries()) {
    const frames = await voiceGenerator(voiceMode, i, b.name, b.toneHz, log);
    bots.push(demoBot({ entity: b, tones, frames, game }));
  }
  await Promise.all(bots.map((b) => b.join()));
  const failed = bots.filter((b) => !b.trackSid || b.errors.length);
  if (failed.length) throw new Error(`bots not on air: ${failed.map((b) => b.id).join(', ')}`);
}

const server = http.createServer((req, res) => void handle(req, res));
const host = env.DEMO_HOST ?? '127.0.0.1';
await new Promise((resolve) => server.listen(Number(env.DEMO_PORT ?? 8090), host, resolve));
const pageUrl = `http://${host}:${server.address().port}/`;
log('demo server listening', { url: pageUrl, scenario, voiceMode, room });
const poseTimer = setInterval(() => void postPoses(), POSE_INTERVAL_MS);

let stopping = false;
async function stop(signal, code = 0) {
  if (stopping) return;
  stopping = true;
  log('demo server stopping', { signal });
  clearInterval(poseTimer);
  server.close();
  const done = Promise.allSettled(bots.map((b) => b.leave()));
  await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
  process.exit(code);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

try {
  await startBots();
} catch (e) {
  log('bots failed to start', { error: String(e.stack ?? e) });
  await stop('error', 1);
}
log('bots published', { bots: bots.map((b) => b.id) });
if (env.DEMO_READY_FILE) writeFileSync(env.DEMO_READY_FILE, `${pageUrl}\n`);
