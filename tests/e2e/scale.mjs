// make test-livekit-scale: 100 loadbot players walk on the real LiveKit and
// daemon (lib/scale.mjs; BENCH_SCALE_S, BENCH_SCALE_RESTART_AT_S, BENCH_SEED
// ...); prints a PASS/FAIL line per check and "livekit-scale: N passed, M
// failed"; exits 1 on any failure.
import '../bots/lib/quiet.mjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadBots, toneOgg } from './lib/loadbot.mjs';
import { Rig } from './lib/rig.mjs';
import { dispose } from './lib/rtc.mjs';
import { benchScale } from './lib/scale.mjs';

const LOADBOT = process.env.PV_LOADBOT ?? fileURLToPath(new URL('../../build/loadbot', import.meta.url));
const rig = new Rig({ name: 'scale', daemonEnv: { LOG_LEVEL: process.env.PV_E2E_LOG_LEVEL ?? 'info' } });
console.log(`livekit-scale: logs in ${rig.dir}`);
let lb = null;
let checks = [];
try {
  await rig.start();
  lb = new LoadBots({ bin: LOADBOT, ogg: toneOgg(rig.dir), log: path.join(rig.dir, 'loadbot.log') });
  checks = (await benchScale(rig, lb)).checks;
} catch (e) {
  checks.push([`ran without an error (${e.stack ?? e})`, false]);
} finally {
  if (lb) await lb.stop();
  await rig.stop();
  await dispose().catch(() => {});
}
for (const [name, pass] of checks) console.log(`${pass ? 'PASS' : 'FAIL'} scale: ${name}`);
const passed = checks.filter(([, pass]) => pass).length;
console.log(`livekit-scale: ${passed} passed, ${checks.length - passed} failed`);
process.exit(checks.length > 0 && passed === checks.length ? 0 : 1);
