// Pure parts of the demo, checked without a browser: the game world
// (lib/world.mjs) and the page's "who do I hear, and why" (public/arena.js).
import { classify } from '../public/arena.js';
import { ARENA, EAR_HEIGHT_M, SCENARIOS, World } from '../lib/world.mjs';

const RADII = { enterM: 24, exitM: 26 };

export function worldChecks(r) {
  const w = new World('demo', 7, 0);
  let maxOff = 0;
  let moved = 0;
  const start = w.bots.map((b) => [b.x, b.z]);
  for (let t = 250; t <= 600000; t += 250) {
    w.step(t);
    for (const b of w.bots)
      maxOff = Math.max(maxOff, Math.hypot(b.x - b.home.x, b.z - b.home.z) - b.roam);
  }
  w.bots.forEach((b, i) => (moved += Math.hypot(b.x - start[i][0], b.z - start[i][1]) > 0.5));
  r.check(
    'world: bots wander (10 simulated minutes) but never beyond their roam radius',
    maxOff <= 1e-9 && moved >= 6,
    `max overshoot ${maxOff.toFixed(3)} m, ${moved}/8 moved`,
  );
  const a = new World('test', 3, 0);
  const b = new World('test', 3, 0);
  for (let t = 0; t <= 20000; t += 250) (a.step(t), b.step(t));
  r.check(
    'world: same seed, same wander (deterministic)',
    JSON.stringify(a.entities()) === JSON.stringify(b.entities()),
  );
  a.addPlayer('player-x', 'X', 0);
  a.setPlayerPose('player-x', 500, -500, Math.PI / 2, 0);
  const batch = a.poseBatch('demo', new Set(['player-x', 'bot-ada']), 1234);
  const p = batch.poses.find((q) => q.participantId === 'player-x');
  r.check(
    'world: pose batch = POST /policy/poses body; players clamped to the arena; +X when facing right',
    batch.roomId === 'demo' &&
      batch.timestampMs === 1234 &&
      batch.poses.length === 2 &&
      p.position.x === ARENA.maxX &&
      p.position.z === ARENA.minZ &&
      p.position.y === EAR_HEIGHT_M &&
      p.orientation.forward.x === 1 &&
      p.orientation.forward.z === 0,
    JSON.stringify(p),
  );
  r.check(
    'world: "test" scenario has one bot near (12, 0), two >= 40 m from it',
    SCENARIOS.test.length === 3 &&
      SCENARIOS.test.slice(1).every((s) => Math.hypot(s.home[0] - 12, s.home[1]) >= 40),
  );
  r.check(
    'world: player table is bounded',
    (() => {
      const full = new World('test', 1, 0);
      for (let i = 0; i < 100; i++) full.addPlayer(`player-${i}`, 'P', 0);
      return full.players.size === 16 && full.addPlayer('player-new', 'P', 0) === null;
    })(),
  );
}

export function classifyChecks(r) {
  const me = { x: 0, z: 0 };
  const others = [
    { id: 'a', x: 5, z: 0 },
    { id: 'b', x: 0, z: 10 },
    { id: 'c', x: -15, z: 0 },
    { id: 'd', x: 20, z: 0 },
    { id: 'e', x: 25, z: 0 }, // between 24 and 26, still allowed: hysteresis
    { id: 'f', x: 40, z: 0 },
    { id: 'g', x: 0, z: -12 }, // in range, not (yet) in the policy
  ];
  const c = classify(me, others, new Set(['a', 'b', 'c', 'd', 'e']), 3, RADII);
  const got = Object.fromEntries([...c].map(([id, v]) => [id, v.status]));
  r.check(
    'page: nearest 3 of canHear = hearing, the rest capped, in range but not allowed = pending, beyond 24 m = out',
    JSON.stringify(got) ===
      JSON.stringify({
        a: 'hearing',
        b: 'hearing',
        c: 'hearing',
        d: 'capped',
        e: 'capped',
        f: 'out',
        g: 'pending',
      }),
    JSON.stringify(got),
  );
  const h = classify(me, [{ id: 'e', x: 25, z: 0 }], new Set(['e']), 12, RADII).get('e');
  r.check(
    'page: a voice kept between 24 and 26 m says why (exit radius)',
    h.status === 'hearing' && /kept until 26 m/.test(h.why),
    h.why,
  );
}
