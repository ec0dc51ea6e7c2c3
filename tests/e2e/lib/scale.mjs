// The 100-player walk on the real LiveKit (make test-livekit-scale; also a
// part of make bench-livekit): loadbot players with full policy-socket
// behaviour walk in a square; once a second every listener's received RTP
// per speaker is compared with its canHear from the policy socket.
import { prng } from '../../../deploy/demo/lib/world.mjs'; // seeded, so a walk can be replayed (BENCH_SEED)
import { RoomService } from '../../bots/lib/roomservice.mjs';
import { cpuSeconds } from './procstat.mjs';
import { joinAll, now, sleep, waitUntil } from './rig.mjs';

const SCALE_PLAYERS = Number(process.env.BENCH_SCALE_PLAYERS ?? 100);
const SCALE_S = Number(process.env.BENCH_SCALE_S ?? 60);
const SCALE_SIDE_M = Number(process.env.BENCH_SCALE_SIDE_M ?? 200);
const SCALE_SEED = Number(process.env.BENCH_SEED ?? 1);
// A pair is judged only when its canHear membership has not changed for this
// long: the 2 s transition budget plus the 1 s window of a loadbot status.
const SCALE_GRACE_MS = Number(process.env.BENCH_SCALE_GRACE_MS ?? 3000); // 0: a control that must show transitions in flight
// Restart the daemon this many seconds into the walk (down 1 s): state must
// converge again from ListParticipants, webhooks and players reconnecting.
const SCALE_RESTART_AT_S = process.env.BENCH_SCALE_RESTART_AT_S ? Number(process.env.BENCH_SCALE_RESTART_AT_S) : null;

/** Per listener: canHear membership and since when, from the player's can_hear notes. */
class Membership {
  constructor(player) {
    this.p = player;
    this.idx = 0;
    this.set = new Set();
    this.since = new Map(); // speaker -> time its membership last changed
  }
  /** Applies the notes up to time t; returns this. */
  at(t) {
    const ev = this.p.events;
    for (; this.idx < ev.length && ev[this.idx].t <= t; this.idx++) {
      if (ev[this.idx].name !== 'can_hear') continue;
      const next = new Set(ev[this.idx].detail ? ev[this.idx].detail.split(',') : []);
      for (const s of new Set([...next, ...this.set])) if (next.has(s) !== this.set.has(s)) this.since.set(s, ev[this.idx].t);
      this.set = next;
    }
    return this;
  }
}

/**
 * 100 loadbot players (full policy-socket behaviour) walk at 1.4 m/s in a
 * 200 x 200 m square (about 4-5 others within 24 m each), poses at 4 Hz, for
 * SCALE_S seconds. Once a second every listener's received RTP per speaker
 * (loadbot status) is compared with its canHear from the policy socket:
 * - heard: in canHear for >= 3 s and >= 25 packets in the last second;
 * - missing: in canHear for >= 3 s but < 25 packets (liveness);
 * - leak: out of canHear for >= 3 s but >= 5 packets (must never happen).
 */
export async function benchScale(rig, lb) {
  const rnd = prng(SCALE_SEED);
  const game = rig.game('bench-scale');
  const GoBot = lb.botClass();
  const walkers = [];
  for (let i = 0; i < SCALE_PLAYERS; i++) {
    const w = { id: `w${i}`, x: rnd() * SCALE_SIDE_M, y: rnd() * SCALE_SIDE_M, dir: rnd() * 2 * Math.PI };
    walkers.push(w);
    await game.move(w.id, w);
  }
  const players = walkers.map((w) => rig.player(game, w.id, 'honest', GoBot));
  game.start();
  const t0 = now();
  const joined = await joinAll(players, { count: 10 });
  console.log(`scale: ${joined.length} of ${SCALE_PLAYERS} loadbot players joined in ${((now() - t0) / 1000).toFixed(1)} s; walking ${SCALE_S} s (seed ${SCALE_SEED})`);
  // how big LiveKit's answer is (the daemon parses it within 1 MB)
  const lp = await new RoomService(rig.lk).listParticipants('bench-scale');
  const listed = lp.body?.participants?.length ?? 0;
  console.log(`  ListParticipants answer: ${lp.text.length} bytes for ${listed} participants (${Math.round(lp.text.length / Math.max(1, listed))} per participant)`);
  const step = () => {
    for (const w of walkers) {
      if (rnd() < 0.02) w.dir = rnd() * 2 * Math.PI; // a new heading every ~12 s
      w.x += 0.35 * Math.cos(w.dir); // 1.4 m/s at 4 Hz
      w.y += 0.35 * Math.sin(w.dir);
      if (w.x < 0 || w.x > SCALE_SIDE_M) w.dir = Math.PI - w.dir;
      if (w.y < 0 || w.y > SCALE_SIDE_M) w.dir = -w.dir;
      w.x = Math.min(SCALE_SIDE_M, Math.max(0, w.x));
      w.y = Math.min(SCALE_SIDE_M, Math.max(0, w.y));
      game.move(w.id, w);
    }
  };
  const walk = setInterval(step, 250);
  const ids = joined.map((p) => p.id);
  const member = new Map(joined.map((p) => [p.id, new Membership(p)]));
  const c = { heard: 0, missing: 0, leak: 0, samples: 0, canHear: 0, changes: 0 };
  const leaks = [];
  const missing = [];
  const cpu0 = { t: now(), lk: cpuSeconds(rig.lk.pid), lb: cpuSeconds(lb.child.pid), d: cpuSeconds(rig.daemon.child.pid) };
  let prev = null;
  let seq = lb.statusSeq;
  const restart = { at: SCALE_RESTART_AT_S === null ? Infinity : now() + SCALE_RESTART_AT_S * 1000, up: null, lastMissing: null };
  for (const end = now() + SCALE_S * 1000; now() < end; ) {
    if (now() >= restart.at && restart.up === null) {
      await rig.daemon.stop();
      await sleep(1000);
      await rig.daemon.start();
      restart.up = now();
      console.log(`  daemon restarted ${SCALE_RESTART_AT_S} s into the walk (down ~1 s)`);
    }
    await waitUntil(() => lb.statusSeq !== seq, 3000, 20);
    seq = lb.statusSeq;
    const t = lb.statusAt;
    const cur = Object.fromEntries(ids.map((id) => [id, { ...(lb.status[id]?.from ?? {}) }]));
    if (prev) {
      c.samples++;
      for (const l of ids) {
        const m = member.get(l).at(t);
        c.canHear += m.set.size;
        for (const s of ids) {
          if (s === l) continue;
          const since = m.since.get(s) ?? -Infinity;
          if (t - since < SCALE_GRACE_MS) continue;
          const got = (cur[l][s] ?? 0) - (prev[l][s] ?? 0);
          if (m.set.has(s)) {
            if (got >= 25) c.heard++;
            else {
              c.missing++;
              if (restart.up !== null) restart.lastMissing = t;
              if (missing.length < 10) missing.push(`${l}<-${s} (${got} packets)`);
            }
          } else if (got >= 5) {
            c.leak++;
            if (leaks.length < 10) leaks.push(`${l}<-${s} (${got} packets)`);
          }
        }
      }
    }
    prev = cur;
  }
  clearInterval(walk);
  const secs = (now() - cpu0.t) / 1000;
  const pctOf = (pid, c0) => ((100 * (cpuSeconds(pid) - c0)) / secs).toFixed(0);
  const cpu = `livekit-server ${pctOf(rig.lk.pid, cpu0.lk)}%, loadbot ${pctOf(lb.child.pid, cpu0.lb)}%, daemon ${pctOf(rig.daemon.child.pid, cpu0.d)}%`;
  for (const m of member.values()) c.changes += m.p.events.filter((e) => e.name === 'can_hear').length;
  const removed = joined.filter((p) => p.removedAt !== null).length;
  if (restart.up !== null)
    console.log(
      `  after the restart: ${restart.lastMissing === null ? 'no settled pair missed audio' : `the last missing pair was seen ${((restart.lastMissing - restart.up) / 1000).toFixed(1)} s after the daemon was up`}; sessions re-issued ${game.stats.sessionsRecreated}x`,
    );
  await game.stop();
  await Promise.all(joined.map((p) => p.leave()));
  const judged = c.heard + c.missing;
  console.log(`  ${c.samples} one-second samples; mean canHear ${(c.canHear / Math.max(1, c.samples * ids.length)).toFixed(1)} voices; ${c.changes} canHear messages`);
  console.log(`  settled pairs in canHear: ${judged} pair-seconds, heard ${c.heard} (${((100 * c.heard) / Math.max(1, judged)).toFixed(2)}%), missing ${c.missing}${missing.length ? `: ${missing.join(', ')}` : ''}`);
  console.log(`  settled pairs out of canHear receiving audio (must be 0): ${c.leak}${leaks.length ? `: ${leaks.join(', ')}` : ''}`);
  console.log(`  CPU: ${cpu}; honest players removed: ${removed}`);
  const checks = [
    [`all ${SCALE_PLAYERS} players joined`, joined.length === SCALE_PLAYERS],
    ['no honest player removed by the server', removed === 0],
    ['no settled pair out of canHear received audio', c.leak === 0],
    ['settled pairs in canHear received audio (>= 99% of pair-seconds)', judged > 0 && c.missing <= 0.01 * judged],
  ];
  return { ok: checks.every(([, pass]) => pass), checks, c };
}
