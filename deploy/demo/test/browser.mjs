// Shared by the browser tests of the demo stack (deploy/demo/test/ and
// tests/browser/): Debian's headless Chromium through playwright-core, a
// tone WAV as the fake microphone, polling helpers and the result line.
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Writes a mono 16-bit 48 kHz WAV of a sine (amplitude 0.3 FS). */
export function toneWav(path, hz, seconds = 10) {
  const sr = 48000;
  const n = sr * seconds;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sr, 24);
  b.writeUInt32LE(sr * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++)
    b.writeInt16LE(Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * hz * i) / sr)), 44 + i * 2);
  writeFileSync(path, b);
}

/** Launches headless Chromium with a fake microphone playing micWav. */
export function launchChromium(micWav) {
  return chromium.launch({
    executablePath: process.env.PV_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`,
      '--allow-loopback-in-peer-connection',
    ],
  });
}

/** Opens the demo page with test options (window.PV_DEMO_OPTIONS) and waits for its script. */
export async function openDemo(browser, url, options) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
  await page.addInitScript((o) => {
    window.PV_DEMO_OPTIONS = o;
  }, options);
  await page.goto(url);
  await page.waitForFunction(() => window.demoReady === true, null, { timeout: 10000 });
  return page;
}

/** Polls fn(arg) in the page every intervalMs until it returns a truthy value; returns it, or null on timeout. */
export async function poll(page, fn, arg, timeoutMs, intervalMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await page.evaluate(fn, arg);
    if (v) return v;
    if (Date.now() >= end) return null;
    await sleep(intervalMs);
  }
}

/** Collects checks; done() prints `NAME: N passed, M failed` and returns the exit code. */
export function reporter(name) {
  const results = [];
  return {
    check(what, ok, detail = '') {
      results.push(!!ok);
      console.log(`${ok ? 'PASS' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
      return !!ok;
    },
    done() {
      const passed = results.filter(Boolean).length;
      const failed = results.length - passed;
      console.log(`${name}: ${passed} passed, ${failed} failed`);
      return failed === 0 && passed > 0 ? 0 : 1;
    },
  };
}

/** The demo server's /api/status. */
export async function demoStatus(url) {
  const r = await fetch(new URL('/api/status', url), { signal: AbortSignal.timeout(5000) });
  return r.json();
}
