// The game world of the demo, as a host game server would keep it: bots that
// wander around home points, and browser players whose positions arrive from
// their pages. Pure and deterministic: time is passed in (ms), randomness is
// a seeded PRNG, iteration order is insertion order. server.mjs turns
// snapshot() into POST /policy/poses batches at 4 Hz.
//
// Coordinates (MVP-SPEC 7): metres, +X right, +Y up, +Z forward. The arena
// is the X/Z plane; everyone's ears are at EAR_HEIGHT_M.

export const ARENA = { minX: -60, maxX: 60, minZ: -40, maxZ: 40 };
export const EAR_HEIGHT_M = 1.7;
export const PLAYER_TIMEOUT_MS = 15000; // a page silent this long leaves the world
export const MAX_PLAYERS = 16;
const BOT_SPEED_MPS = 1.3;

/** mulberry32: a small seeded PRNG; returns () -> [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['Ada', 'Boris', 'Chen', 'Dara', 'Emil', 'Fay', 'Gus', 'Hana'];

/**
 * Bot layouts. 'demo': four bots around the spawn plaza (some in range, one
 * capped with the page's default cap of 3) and four far away in the corners.
 * 'test': one bot near a known point and two far away, each wandering only
 * 1.5 m, so a test can place the player deterministically.
 */
export const SCENARIOS = {
  demo: [
    { home: [-9, 6], roam: 7 },
    { home: [8, 9], roam: 7 },
    { home: [10, -7], roam: 7 },
    { home: [-7, -10], roam: 7 },
    { home: [-45, 28], roam: 10 },
    { home: [45, 28], roam: 10 },
    { home: [45, -28], roam: 10 },
    { home: [-45, -28], roam: 10 },
  ],
  test: [
    { home: [12, 0], roam: 1.5 },
    { home: [-45, 25], roam: 1.5 },
    { home: [45, -25], roam: 1.5 },
  ],
};

/** Tone of bot i (Hz), used in tone mode. 110 Hz apart: measured in the page's
 * mix, a loud tone's side noise is ~-45 dB 60 Hz away but ~-70 dB 110 Hz away,
 * so one bot's tone never reads as another's. */
export function botToneHz(i) {
  return 420 + 110 * i;
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

export class World {
  /** scenario: a key of SCENARIOS; seed: PRNG seed; nowMs: start time. */
  constructor(scenario, seed, nowMs) {
    const layout = SCENARIOS[scenario];
    if (!layout) throw new Error(`unknown scenario ${scenario}`);
    this.rand = prng(seed);
    this.bots = layout.map((b, i) => ({
      id: `bot-${NAMES[i].toLowerCase()}`,
      name: NAMES[i],
      kind: 'bot',
      toneHz: botToneHz(i),
      home: { x: b.home[0], z: b.home[1] },
      roam: b.roam,
      x: b.home[0],
      z: b.home[1],
      heading: 0, // radians; 0 = facing +Z
      target: null,
      pauseUntilMs: nowMs,
    }));
    this.players = new Map(); // id -> { id, name, x, z, heading, seenMs }
    this.lastStepMs = nowMs;
  }

  /** Adds (or refreshes) a player at the spawn. Returns the player or null when full. */
  addPlayer(id, name, nowMs) {
    if (!this.players.has(id) && this.players.size >= MAX_PLAYERS) return null;
    const p = this.players.get(id) ?? { id, name, kind: 'player', x: 0, z: 0, heading: 0 };
    p.seenMs = nowMs;
    this.players.set(id, p);
    return p;
  }

  /** Moves a player to where its page says it is (clamped to the arena). Returns false if unknown. */
  setPlayerPose(id, x, z, heading, nowMs) {
    const p = this.players.get(id);
    if (!p || !Number.isFinite(x) || !Number.isFinite(z) || !Number.isFinite(heading)) return false;
    p.x = clamp(x, ARENA.minX, ARENA.maxX);
    p.z = clamp(z, ARENA.minZ, ARENA.maxZ);
    p.heading = heading;
    p.seenMs = nowMs;
    return true;
  }

  /** Advances the bots to nowMs and drops silent players. */
  step(nowMs) {
    const dt = Math.min(1000, Math.max(0, nowMs - this.lastStepMs)) / 1000;
    this.lastStepMs = nowMs;
    for (const b of this.bots) this.stepBot(b, dt, nowMs);
    for (const [id, p] of this.players)
      if (nowMs - p.seenMs > PLAYER_TIMEOUT_MS) this.players.delete(id);
  }

  stepBot(b, dt, nowMs) {
    if (nowMs < b.pauseUntilMs) return;
    if (!b.target) {
      const a = this.rand() * 2 * Math.PI;
      const r = Math.sqrt(this.rand()) * b.roam;
      b.target = { x: b.home.x + r * Math.sin(a), z: b.home.z + r * Math.cos(a) };
    }
    const dx = b.target.x - b.x;
    const dz = b.target.z - b.z;
    const d = Math.hypot(dx, dz);
    const stepM = BOT_SPEED_MPS * dt;
    if (d <= stepM) {
      b.x = b.target.x;
      b.z = b.target.z;
      b.target = null;
      b.pauseUntilMs = nowMs + 1000 + this.rand() * 3000;
      return;
    }
    b.heading = Math.atan2(dx, dz);
    b.x += (dx / d) * stepM;
    b.z += (dz / d) * stepM;
  }

  /** Everyone, bots first then players, as plain objects for the page. */
  entities() {
    const out = [];
    for (const b of this.bots)
      out.push({
        id: b.id,
        name: b.name,
        kind: 'bot',
        x: b.x,
        z: b.z,
        heading: b.heading,
        toneHz: b.toneHz,
      });
    for (const p of this.players.values())
      out.push({ id: p.id, name: p.name, kind: 'player', x: p.x, z: p.z, heading: p.heading });
    return out;
  }

  /**
   * The POST /policy/poses body for everyone in ids (those with a voice
   * session), at wall time nowMs.
   */
  poseBatch(roomId, ids, nowMs) {
    const poses = [];
    for (const e of this.entities()) {
      if (!ids.has(e.id)) continue;
      poses.push({
        participantId: e.id,
        position: { x: round3(e.x), y: EAR_HEIGHT_M, z: round3(e.z) },
        orientation: {
          forward: { x: round3(Math.sin(e.heading)), y: 0, z: round3(Math.cos(e.heading)) },
          up: { x: 0, y: 1, z: 0 },
        },
      });
    }
    return { roomId, timestampMs: nowMs, poses };
  }
}

const round3 = (v) => Math.round(v * 1000) / 1000;
