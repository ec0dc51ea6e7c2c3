// The demo page: a host game's browser side. It asks its own backend (the
// demo server) to join, which returns the control plane's session; it then
// drives proximity-voice-client exactly as MVP-SPEC 26 shows: connect, set
// the listener pose as the player moves, upsert the other players' poses.
//
// Test hooks (set by the browser tests before the page loads):
//   window.PV_DEMO_OPTIONS = { rawMic, rtcConfig, peerConnectionTimeoutMs, statsIntervalMs, cap }
// URL parameters: ?cap=N (voices heard at once, default 3 so capping shows
// with a few bots; production default 12), ?relay=1 (force TURN relay).
import { createProximityVoiceClient } from '/pkg/index.js';
import { Room, createLocalAudioTrack } from 'livekit-client';
import { classify, draw } from '/arena.js';
import { createTappedContext } from '/meter.js';
import { tappedWebSocket } from '/tap.js';

const params = new URLSearchParams(location.search);
const opts = window.PV_DEMO_OPTIONS ?? {};
const CAP = Math.max(0, Math.min(64, Number(params.get('cap') ?? opts.cap ?? 3) | 0));
const WALK_MPS = 6;
const RUN_MPS = 12;
const EAR_M = 1.7;
const TICK_MS = 100;
if (params.get('relay') === '1')
  opts.rtcConfig = { ...(opts.rtcConfig ?? {}), iceTransportPolicy: 'relay' };

const $ = (id) => document.getElementById(id);
const canvas = $('arena');
const state = {
  me: null, // { id, x, z, heading }
  entities: [], // everyone else, from the demo server
  bots: [],
  arena: { minX: -60, maxX: 60, minZ: -40, maxZ: 40 },
  radii: { enterM: 24, exitM: 26 },
  voiceMode: null,
  joined: false,
  joinError: null,
  canHear: null, // Set, from the daemon's policy messages
  canHearRevision: -1,
  audience: [],
  audienceRevision: -1,
  classes: new Map(),
  speaking: new Set(),
  levels: {},
  rms: 0,
  diag: null,
  mic: { open: false, talking: false },
  errors: [],
  events: [],
  poses: null,
};
let voice = null;
let meter = null;
const keys = new Set();

// ---- policy messages, seen through the client's WebSocket -----------------------
function onPolicy(m) {
  if (
    (m.type === 'policy.snapshot' || m.type === 'policy.audibility.delta') &&
    Array.isArray(m.canHear)
  ) {
    state.canHear = new Set(m.canHear);
    state.canHearRevision = m.revision;
  } else if (m.type === 'policy.audience' && Array.isArray(m.audience)) {
    state.audience = m.audience;
    state.audienceRevision = m.revision;
  }
}

function clientDeps() {
  const deps = { WebSocket: tappedWebSocket(onPolicy) };
  if (opts.statsIntervalMs) deps.stats_interval_ms = opts.statsIntervalMs;
  // A steady test tone would be faded out by WebRTC's voice processing.
  if (opts.rawMic)
    deps.createMicrophoneTrack = (deviceId) =>
      createLocalAudioTrack({
        deviceId,
        echoCancellation: false,
        noiseSuppression: false,
        autoGainControl: false,
      });
  if (opts.rtcConfig || opts.peerConnectionTimeoutMs)
    deps.createRoom = (o) => {
      const room = new Room(o);
      const connect = room.connect.bind(room);
      room.connect = (url, token, co) =>
        connect(url, token, {
          ...co,
          ...(opts.rtcConfig ? { rtcConfig: opts.rtcConfig } : {}),
          ...(opts.peerConnectionTimeoutMs
            ? { peerConnectionTimeout: opts.peerConnectionTimeoutMs }
            : {}),
        });
      return room;
    };
  return deps;
}

function note(name, ...args) {
  state.events.push({ t: Math.round(performance.now()), name, args });
  if (state.events.length > 200) state.events.shift();
}

// ---- joining ------------------------------------------------------------------------
async function postJson(path, body) {
  const r = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`${path}: ${r.status} ${j.error ?? ''}`);
  return j;
}

async function join() {
  $('join').disabled = true;
  $('join-error').textContent = '';
  state.joinError = null;
  // Created inside the click: browsers start an AudioContext only after a gesture.
  meter = createTappedContext();
  meter.ctx.resume().catch(() => undefined);
  try {
    const j = await postJson('/api/join', { name: opts.name ?? 'Player' });
    Object.assign(state, { bots: j.bots, arena: j.arena, radii: j.radii, voiceMode: j.voiceMode });
    state.me = { id: j.participantId, x: 0, z: 0, heading: 0 };
    setEntities(j.entities, Date.now());
    voice = createProximityVoiceClient(clientDeps());
    voice.on('connected', () => note('connected'));
    voice.on('disconnected', (reason) => note('disconnected', reason));
    voice.on('participant-speaking', (id, on) =>
      on ? state.speaking.add(id) : state.speaking.delete(id),
    );
    voice.on('error', onVoiceError);
    voice.setListenerPose(listenerPose());
    await voice.connect({ ...pick(j.session), audioContext: meter.ctx, maxSubscribedVoices: CAP });
    await voice.setMicState({ enabled: true, pushToTalk: true, pushToTalkActive: false });
    state.joined = true;
    $('join-panel').classList.add('hidden');
    canvas.focus();
  } catch (e) {
    state.joinError = { code: e.code ?? e.name, message: String(e.message ?? e) };
    note('join-failed', state.joinError.code, state.joinError.message);
    $('join-error').textContent = `Could not join: ${state.joinError.message}`;
    $('join').disabled = false;
    voice = null;
  }
}

const pick = (s) => ({
  livekitUrl: s.livekitUrl,
  token: s.token,
  participantId: s.participantId,
  roomId: s.roomId,
  policySocketUrl: s.policySocketUrl,
  policySocketToken: s.policySocketToken,
});

async function onVoiceError(e) {
  state.errors.push({
    t: Math.round(performance.now()),
    code: e.code,
    message: e.message,
    retryable: e.retryable,
  });
  if (state.errors.length > 50) state.errors.shift();
  note('error', e.code, e.message);
  // Expired or revoked socket credentials: the host fetches a fresh session.
  if (e.code === 'POLICY_AUTH' && state.me) {
    try {
      const j = await postJson('/api/session', { participantId: state.me.id });
      voice?.updateCredentials({
        policySocketToken: j.session.policySocketToken,
        token: j.session.token,
      });
    } catch (err) {
      note('refresh-failed', String(err.message ?? err));
    }
  }
}

// ---- world sync (10 Hz) and movement (every frame) ---------------------------------------
function setEntities(all, nowMs) {
  state.entities = all.filter((e) => !state.me || e.id !== state.me.id);
  if (!voice) return;
  for (const e of state.entities)
    voice.upsertRemotePose({
      participantId: e.id,
      position: { x: e.x, y: EAR_M, z: e.z },
      orientation: facing(e.heading),
      timestampMs: nowMs,
    });
}

async function tick() {
  if (!state.me) return;
  try {
    const { x, z, heading } = state.me;
    const j = await postJson('/api/tick', { participantId: state.me.id, x, z, heading });
    setEntities(j.entities, j.nowMs);
    state.poses = j.poses;
  } catch (e) {
    note('tick-failed', String(e.message ?? e));
  }
}

async function idleWorld() {
  if (state.me) return;
  const r = await fetch('/api/world').catch(() => null);
  if (r?.ok) setEntities((await r.json()).entities, Date.now());
}

const facing = (h) => ({
  forward: { x: Math.sin(h), y: 0, z: Math.cos(h) },
  up: { x: 0, y: 1, z: 0 },
});
const listenerPose = () => ({
  position: { x: state.me.x, y: EAR_M, z: state.me.z },
  orientation: facing(state.me.heading),
});

function move(dtS) {
  if (!state.me) return;
  let vx = 0;
  let vz = 0;
  if (keys.has('KeyW') || keys.has('ArrowUp')) vz += 1;
  if (keys.has('KeyS') || keys.has('ArrowDown')) vz -= 1;
  if (keys.has('KeyD') || keys.has('ArrowRight')) vx += 1;
  if (keys.has('KeyA') || keys.has('ArrowLeft')) vx -= 1;
  if (!vx && !vz) return;
  const speed =
    (keys.has('ShiftLeft') || keys.has('ShiftRight') ? RUN_MPS : WALK_MPS) / Math.hypot(vx, vz);
  const a = state.arena;
  state.me.x = Math.min(a.maxX, Math.max(a.minX, state.me.x + vx * speed * dtS));
  state.me.z = Math.min(a.maxZ, Math.max(a.minZ, state.me.z + vz * speed * dtS));
  state.me.heading = Math.atan2(vx, vz);
  voice?.setListenerPose(listenerPose());
}

/** Test hook: puts the player at (x, z) at once and tells the server. */
function teleport(x, z, heading = 0) {
  Object.assign(state.me, { x, z, heading });
  voice?.setListenerPose(listenerPose());
  return tick();
}

async function setTalking(on) {
  if (!voice || state.mic.talking === on) return;
  state.mic.talking = on;
  await voice.setMicState({ pushToTalkActive: on }).catch(onVoiceError);
}

async function toggleOpenMic() {
  if (!voice) return;
  state.mic.open = !state.mic.open;
  await voice.setMicState({ pushToTalk: !state.mic.open }).catch(onVoiceError);
}

const GAME_KEYS = new Set([
  'KeyW',
  'KeyA',
  'KeyS',
  'KeyD',
  'ArrowUp',
  'ArrowDown',
  'ArrowLeft',
  'ArrowRight',
  'ShiftLeft',
  'ShiftRight',
]);
window.addEventListener('keydown', (e) => {
  if (GAME_KEYS.has(e.code) || e.code === 'Space') e.preventDefault();
  if (GAME_KEYS.has(e.code)) keys.add(e.code);
  if (e.code === 'Space' && !e.repeat) void setTalking(true);
  if (e.code === 'KeyM' && !e.repeat) void toggleOpenMic();
});
window.addEventListener('keyup', (e) => {
  keys.delete(e.code);
  if (e.code === 'Space') void setTalking(false);
});
window.addEventListener('blur', () => {
  keys.clear();
  void setTalking(false);
});

// ---- measuring, diagnostics, drawing ----------------------------------------------------------
function measure() {
  if (!meter) return null;
  const m = meter.measure(new Map(state.bots.map((b) => [b.id, b.toneHz])));
  state.levels = m.tones;
  state.rms = m.rms;
  return m;
}

function diag() {
  state.diag = voice ? voice.getDiagnostics() : null;
  return state.diag;
}

const esc = (s) =>
  String(s).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );
const yesNo = (v) =>
  v === null || v === undefined
    ? '<span class="dim">unknown</span>'
    : v
      ? '<span class="ok">yes</span>'
      : 'no';

function renderDiag() {
  const d = state.diag;
  const rows = [
    ['participant', state.me ? esc(state.me.id) : '-'],
    ['LiveKit connected', yesNo(d?.connected)],
    ['microphone published', yesNo(d?.publishedTrack)],
    [
      'policy socket',
      d
        ? d.policySocketConnected
          ? '<span class="ok">open</span>'
          : '<span class="bad">closed</span>'
        : '-',
    ],
    ['policy revision', d ? d.lastPolicyRevision : '-'],
    ['canHear (policy)', d ? d.audibleCount : '-'],
    ['subscribed voices', d ? `${d.subscribedCount} (cap ${CAP})` : '-'],
    ['TURN in use', yesNo(d?.turnLikelyInUse)],
    ['who may hear me', state.audience.length ? esc(state.audience.join(', ')) : 'nobody'],
    [
      'mic',
      state.mic.open
        ? '<span class="ok">open</span>'
        : state.mic.talking
          ? '<span class="ok">talking</span>'
          : 'push-to-talk',
    ],
    [
      'poses posted (4 Hz)',
      state.poses ? `${state.poses.ok} ok, ${state.poses.failed} failed` : '-',
    ],
    ['voices', esc(state.voiceMode ?? '-')],
  ];
  const last = state.errors.at(-1);
  if (last) rows.push(['last error', `<span class="bad">${esc(last.code)}</span>`]);
  $('diag').innerHTML =
    `<table>${rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join('')}</table>`;
}

function renderVoices() {
  const rows = [...state.entities]
    .map((e) => ({ e, c: state.classes.get(e.id) }))
    .filter((r) => r.c)
    .sort((a, b) => a.c.distM - b.c.distM)
    .map(({ e, c }) => {
      const amp = state.levels[e.id] ?? 0;
      const db = amp > 0 ? Math.max(-80, 20 * Math.log10(amp)) : -80;
      const bar =
        state.voiceMode === 'tone'
          ? `<span class="bar" style="width:${Math.round(((db + 80) / 80) * 40)}px"></span>`
          : state.speaking.has(e.id)
            ? '<span class="talk">speaking</span>'
            : '';
      return `<tr><td><span class="dot ${c.status}"></span>${esc(e.name)}</td><td>${bar}</td><td class="why">${esc(c.why)}</td></tr>`;
    });
  $('voices').innerHTML = `<table>${rows.join('')}</table>`;
}

let lastFrame = performance.now();
function frame(now) {
  // Capped so a stalled page does not teleport; generous so slow frames keep speed.
  move(Math.min(0.5, (now - lastFrame) / 1000));
  lastFrame = now;
  const me = state.me;
  state.classes = me ? classify(me, state.entities, state.canHear, CAP, state.radii) : new Map();
  draw(canvas, {
    arena: state.arena,
    radii: state.radii,
    me,
    others: state.entities,
    classes: state.classes,
    speaking: state.speaking,
    levels: state.voiceMode === 'tone' ? state.levels : {},
  });
  requestAnimationFrame(frame);
}

setInterval(() => void (state.me ? tick() : idleWorld()), TICK_MS);
setInterval(() => {
  measure();
  diag();
  renderDiag();
  renderVoices();
}, 250);
$('join').addEventListener('click', () => void join());
window.demo = { state, teleport, measure, diag, setTalking };
requestAnimationFrame(frame);
window.demoReady = true;
