// Runs the real control-plane binary (build/proximity-voice-control) on
// 127.0.0.1 for the end-to-end tests: configuration by environment (docs/DAEMON.md),
// JSON log lines collected from stdout (kept in memory and in a file), stop
// with SIGTERM (the daemon drains) and restart on the same port.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The binary: $PV_DAEMON if set, else $BUILD/proximity-voice-control (BUILD default build). */
export function daemonBin() {
  return process.env.PV_DAEMON ?? path.join(REPO, process.env.BUILD ?? 'build', 'proximity-voice-control');
}

export class Daemon {
  /**
   * opts: { port, livekit: { url, key, secret }, externalSecret, policySecret,
   *         dir (for the log file), env (extra variables, override the defaults) }
   */
  constructor(opts) {
    this.opts = opts;
    this.port = opts.port;
    this.url = `http://127.0.0.1:${opts.port}`;
    this.lines = []; // parsed JSON log objects (all runs), each with ._t = performance.now()
    this.runs = 0;
    this.child = null;
  }

  env() {
    const o = this.opts;
    return {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(o.port),
      PUBLIC_BASE_URL: this.url,
      LIVEKIT_URL: o.livekit.url,
      LIVEKIT_PUBLIC_URL: o.livekit.url,
      LIVEKIT_API_KEY: o.livekit.key,
      LIVEKIT_API_SECRET: o.livekit.secret,
      POLICY_SOCKET_JWT_SECRET: o.policySecret,
      EXTERNAL_AUTH_MODE: 'shared_secret',
      EXTERNAL_SHARED_SECRET: o.externalSecret,
      // every bot connects from 127.0.0.1: per-IP limits sized for a test rig
      RATE_LIMIT_SOCKET_AUTH_IP: '500:1000',
      RATE_LIMIT_SESSIONS_IP: '500:1000',
      LOG_LEVEL: 'info',
      ...(o.env ?? {}),
    };
  }

  /** Starts the binary and waits for GET /health (throws after 10 s). */
  async start() {
    const bin = daemonBin();
    if (!fs.existsSync(bin)) throw new Error(`daemon binary not found: ${bin} (make all)`);
    this.runs++;
    const logPath = path.join(this.opts.dir, `daemon-${this.runs}.log`);
    const logFd = fs.openSync(logPath, 'w');
    const child = spawn(bin, [], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = false;
    child.on('exit', (code, sig) => {
      this.exited = true;
      this.exitInfo = { code, sig };
      fs.closeSync(logFd);
    });
    let rest = '';
    child.stdout.on('data', (buf) => {
      fs.writeSync(logFd, buf);
      rest += buf.toString('utf8');
      const parts = rest.split('\n');
      rest = parts.pop();
      const t = performance.now();
      for (const l of parts) {
        try {
          this.lines.push({ ...JSON.parse(l), _t: t });
        } catch {
          this.lines.push({ message: l, _t: t });
        }
      }
    });
    child.stderr.on('data', (buf) => fs.writeSync(logFd, buf));
    for (let i = 0; i < 100; i++) {
      if (this.exited) throw new Error(`daemon exited at start (${JSON.stringify(this.exitInfo)}); log ${logPath}`);
      try {
        const res = await fetch(this.url + '/health');
        if (res.ok) return;
      } catch {
        /* not up yet */
      }
      await sleep(100);
    }
    throw new Error(`daemon did not answer /health; log ${logPath}`);
  }

  /** SIGTERM (drain), SIGKILL after 5 s. */
  async stop(signal = 'SIGTERM') {
    const c = this.child;
    if (!c || this.exited) return;
    c.kill(signal);
    for (let i = 0; i < 50 && !this.exited; i++) await sleep(100);
    if (!this.exited) c.kill('SIGKILL');
    for (let i = 0; i < 20 && !this.exited; i++) await sleep(50);
  }

  /** Log lines whose message is msg (and that match pred), since t0 (performance.now()). */
  logs(msg, t0 = 0, pred = () => true) {
    return this.lines.filter((l) => l._t >= t0 && l.message === msg && pred(l));
  }
}
