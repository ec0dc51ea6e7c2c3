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

export const DEFAULT_SERVER_BIN = '/opt/livekit/bin/server';

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
 * opts: { bin, key, secret, webhookUrl, logFile }
 * Returns { url (ws), httpUrl, key, secret, version, dir, stop() }.
 * Throws if the server does not answer within 15 s.
 */
export async function startLiveKit(opts = {}) {
  const bin = opts.bin ?? process.env.LIVEKIT_SERVER_BIN ?? DEFAULT_SERVER_BIN;
  if (!fs.existsSync(bin)) throw new Error(`LiveKit server binary not found: ${bin}`);
  const key = opts.key ?? 'pvtestkey';
  const secret = opts.secret ?? 'pvtestsecret-at-least-32-characters-long';
  const port = await freeTcpPort();
  const tcpPort = await freeTcpPort();
  const udpPort = await freeUdpPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pv-livekit-'));
  const lines = [
    `port: ${port}`,
    'bind_addresses: ["127.0.0.1"]',
    'rtc:',
    `  tcp_port: ${tcpPort}`,
    `  udp_port: ${udpPort}`,
    '  node_ip: 127.0.0.1',
    '  use_external_ip: false',
    '  enable_loopback_candidate: true',
    'keys:',
    `  ${key}: ${secret}`,
    'room:',
    '  empty_timeout: 2',
    '  departure_timeout: 1',
    'logging:',
    '  level: info',
  ];
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
        return { url: `ws://127.0.0.1:${port}`, httpUrl, key, secret, dir, logFile, version, stop };
      }
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`LiveKit server did not start; log: ${logFile}`);
}
