// Browser smoke test: serves the built bundle on 127.0.0.1, opens
// test/browser/page.html in Debian's headless Chromium (playwright-core) and
// runs the real-AudioContext checks in smoke.js. Prints one line per check.
// Usage: node test/browser/run.mjs [--json=FILE]   (builds dist/ if missing)
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TIMEOUT_MS = 60_000;
const jsonArg = process.argv.find((a) => a.startsWith('--json='));
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
};

if (!existsSync(join(root, 'dist/index.js')))
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });

// Only files under these prefixes are served.
const ALLOWED = ['/dist/', '/test/browser/', '/node_modules/livekit-client/dist/'];
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!ALLOWED.some((p) => path.startsWith(p)) || !existsSync(join(root, path))) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
  res.end(readFileSync(join(root, path)));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await chromium.launch({
  executablePath: process.env.PV_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
let results = [];
try {
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`[page ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[page error] ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/test/browser/page.html`);
  await page
    .waitForFunction(() => window.pvReady === true, null, { timeout: 10_000 })
    .catch(() => {
      throw new Error(`page did not load:\n${logs.join('\n')}`);
    });
  results = await Promise.race([
    page.evaluate(() => window.pvSmoke()),
    new Promise((_, rej) =>
      setTimeout(() => rej(new Error('browser checks timed out')), TIMEOUT_MS),
    ),
  ]);
} catch (e) {
  results.push({ name: 'browser harness', ok: false, detail: String(e.message ?? e) });
} finally {
  await browser.close();
  server.close();
}
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`);
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`client browser: ${passed} passed, ${failed} failed`);
if (jsonArg)
  writeFileSync(
    jsonArg.slice(7),
    JSON.stringify({ numPassedTests: passed, numFailedTests: failed }),
  );
process.exit(failed === 0 && passed > 0 ? 0 : 1);
