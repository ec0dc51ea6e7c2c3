// Starts a real LiveKit server on loopback for the experiments and stops it.
//
// Why our own starter and not an already running server: the experiments need
// a webhook URL in the server's config (fact g), fresh rooms and a known
// key/secret. Everything listens on 127.0.0.1 with ports picked free at start.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The LiveKit binary: $LIVEKIT_SERVER_BIN if set (used as is), else the first
 * that exists of LIVEKIT_SERVER_BIN in deploy/paths.env (where
 * deploy/install-deps.sh installs it) and the plain `go install` output
 * /opt/livekit/bin/server (else the first candidate, for the error message).
 */
export function serverBin() {
  if (process.env.LIVEKIT_SERVER_BIN) return process.env.LIVEKIT_SERVER_BIN; // explicit: no fallback
  const c = [];
  try {
    const env = fs.readFileSync(path.join(REPO, 'deploy/paths.env'), 'utf8');
    const m = env.match(/^LIVEKIT_SERVER_BIN=(.+)$/m);
    if (m) c.push(m[1].trim());
  } catch {
    /* no paths.env */
  }
  c.push('/opt/livekit/bin/server');
  return c.find((f) => fs.existsSync(f)) ?? c[0];
}

/** Resolves to a TCP port that was free on 127.0.0.1 a moment ago. */
export function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves to a UDP port that was free on 127.0.0.1 a moment ago. */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    sock.on('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      const { port } = sock.address();
      sock.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Writes livekit.yaml into a temp dir and starts the server.
 * opts: { bin (default serverBin()), key, secret, webhookUrl, logFile,
 *         port, udpPort (fixed ports, e.g. to restart a server where clients
 *         expect it; default: free ones), prometheusPort (metrics, off by default) }
 * Returns { url (ws), httpUrl, port, udpPort, key, secret, version, dir, stop() }.
 * Throws if the server does not answer within 15 s.
 */
export async function startLiveKit(opts = {}) {
  const bin = opts.bin ?? serverBin();
  if (!fs.existsSync(bin)) throw new Error(`LiveKit server binary not found: ${bin}`);
  const key = opts.key ?? 'pvtestkey';
  const secret = opts.secret ?? 'pvtestsecret-at-least-32-characters-long';
  const port = opts.port ?? (await freeTcpPort());
  const udpPort = opts.udpPort ?? (await freeUdpPort());
  const stunPort = await freeUdpPort(); // nothing listens there: see stun_servers below
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pv-livekit-'));
  const lines = [
    `port: ${port}`,
    'bind_addresses: ["127.0.0.1"]',
    'rtc:',
    // ICE/TCP would listen on every interface (v1.13.5 has no bind option): off
    '  tcp_port: 0',
    `  udp_port: ${udpPort}`,
    '  node_ip: 127.0.0.1',
    '  use_external_ip: false',
    '  enable_loopback_candidate: true',
    '  ips:',
    '    includes: ["127.0.0.1/32"]',
    // Without stun_servers (or turn_servers) LiveKit hands every client its
    // default PUBLIC STUN servers; a dead loopback one keeps all traffic local.
    '  stun_servers:',
    `    - 127.0.0.1:${stunPort}`,
    'keys:',
    `  ${key}: ${secret}`,
    'room:',
    '  empty_timeout: 2',
    '  departure_timeout: 1',
    'logging:',
    `  level: ${process.env.PV_LIVEKIT_LOG_LEVEL ?? 'info'}`, // debug: subscription and negotiation timings
  ];
  if (opts.prometheusPort) lines.push(`prometheus_port: ${opts.prometheusPort}`);
  if (opts.webhookUrl) {
    lines.push('webhook:', `  api_key: ${key}`, '  urls:', `    - ${opts.webhookUrl}`);
  }
  const cfg = path.join(dir, 'livekit.yaml');
  fs.writeFileSync(cfg, lines.join('\n') + '\n');
  const logFile = opts.logFile ?? path.join(dir, 'server.log');
  const log = fs.openSync(logFile, 'w');
  const child = spawn(bin, ['--config', cfg], { stdio: ['ignore', log, log] });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const httpUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    }
    fs.closeSync(log);
  };
  for (let i = 0; i < 150; i++) {
    if (exited) break;
    try {
      const res = await fetch(httpUrl + '/');
      if (res.ok) {
        const version = fs.readFileSync(logFile, 'utf8').match(/"version":\s*"([^"]+)"/)?.[1];
        return { url: `ws://127.0.0.1:${port}`, httpUrl, port, udpPort, key, secret, dir, logFile, version, stop, pid: child.pid };
      }
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`LiveKit server did not start; log: ${logFile}`);
}
