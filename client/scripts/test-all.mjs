// Runs every client check in order and prints "client: N passed, M failed".
// N/M count unit tests, browser checks and the tool steps (typecheck, build,
// size) individually. PV_SKIP_BROWSER=1 leaves out both Chromium tests,
// PV_SKIP_LIVEKIT=1 only the real-LiveKit one (it skips itself when the
// LiveKit binary is not installed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'pv-client-'));
let passed = 0;
let failed = 0;

function run(name, args, env = {}) {
  console.log(`== client: ${name}`);
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  return r.status === 0;
}

function step(name, args) {
  if (run(name, args)) passed++;
  else failed++;
}

/* Counts from a JSON results file {numPassedTests, numFailedTests}; a run
 * that produced no file counts as one failure. */
function counted(name, args, file) {
  const ok = run(name, args);
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests + (ok || r.numFailedTests > 0 ? 0 : 1);
  } catch {
    failed++;
  }
}

const bin = (p) => join(root, 'node_modules', p);
step('format (prettier --check)', [
  bin('prettier/bin/prettier.cjs'),
  '--check',
  'src',
  'test',
  'scripts',
  'README.md',
]);
step('typecheck (src, ES2020 lib)', [bin('typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']);
step('typecheck (tests)', [bin('typescript/bin/tsc'), '-p', 'tsconfig.test.json']);
const unitJson = join(tmp, 'unit.json');
counted(
  'unit tests (vitest)',
  [
    bin('vitest/vitest.mjs'),
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${unitJson}`,
  ],
  unitJson,
);
step('build', ['scripts/build.mjs']);
step('host example type-checks against the built package', [
  bin('typescript/bin/tsc'),
  '-p',
  'tsconfig.consumer.json',
]);
step('size', ['scripts/size.mjs']);
if (process.env.PV_SKIP_BROWSER !== '1') {
  const browserJson = join(tmp, 'browser.json');
  counted(
    'browser audio smoke test (headless Chromium)',
    ['test/browser/run.mjs', `--json=${browserJson}`],
    browserJson,
  );
  if (process.env.PV_SKIP_LIVEKIT !== '1') {
    const lkJson = join(tmp, 'livekit.json');
    counted(
      'client on a real LiveKit server (headless Chromium, scripted policy socket)',
      ['test/browser/livekit-e2e.mjs', `--json=${lkJson}`],
      lkJson,
    );
  }
}
rmSync(tmp, { recursive: true, force: true });
console.log(`client: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
