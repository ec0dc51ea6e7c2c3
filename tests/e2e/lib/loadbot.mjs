// The Go loadbot (tests/loadbot/main.go) as bots for the bitrate benchmark:
// one process hosts every talker; each talker publishes real Opus packets
// (a tone encoded once by opusenc) and counts the RTP bytes it receives
// without decoding them. LoadBots.botClass() returns a class with the part
// of Bot's interface (tests/bots/lib/bot.mjs) that Player uses, so talkers
// still follow the daemon's policy socket (allow-list + ack) like every
// other player.
import { execFileSync, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { SAMPLE_RATE, sineGenerator } from '../../bots/lib/audio.mjs';

const PARTICIPANT_REMOVED = 4; // livekit.proto.DisconnectReason, as rtc-node reports it
const REQUEST_TIMEOUT_MS = 20000;

/** Writes a mono 16-bit WAV of `seconds` of the tone and encodes it to Ogg Opus. */
export function toneOgg(dir, hz = 440, seconds = 2, kbps = 32) {
  const gen = sineGenerator(hz);
  const frames = [];
  for (let i = 0; i < seconds * 100; i++) frames.push(gen.next());
  const pcm = Buffer.concat(frames.map((f) => Buffer.from(f.buffer)));
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + pcm.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(SAMPLE_RATE, 24);
  h.writeUInt32LE(SAMPLE_RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(pcm.length, 40);
  const wav = path.join(dir, 'tone.wav');
  const ogg = path.join(dir, 'tone.ogg');
  fs.writeFileSync(wav, Buffer.concat([h, pcm]));
  execFileSync('opusenc', ['--quiet', '--bitrate', String(kbps), '--framesize', '20', wav, ogg]);
  return ogg;
}

export class LoadBots {
  /** bin: the built loadbot; ogg: the Ogg Opus file every talker publishes; log: its stderr (pion's log). */
  constructor({ bin, ogg, log }) {
    this.log = fs.openSync(log, 'w');
    this.child = spawn(bin, ['-ogg', ogg], { stdio: ['pipe', 'pipe', this.log] });
    this.status = {}; // id -> { subs, rxBytes, rxPackets, from: {speaker: packets} }, every second
    this.rooms = new Map(); // id -> EventEmitter of the current GoBot
    this.pending = new Map(); // id -> { want, resolve, reject }
    this.errors = [];
    this.exited = new Promise((r) => this.child.on('exit', r));
    let buf = '';
    this.child.stdout.on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\n')) >= 0; ) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.trim()) this.onEvent(JSON.parse(line));
      }
    });
  }

  onEvent(e) {
    if (e.ev === 'status') {
      this.status = e.bots;
      this.statusAt = performance.now();
      this.statusSeq = (this.statusSeq ?? 0) + 1;
      return;
    }
    if (e.ev === 'disconnected') {
      const reason = e.reason === 'removed by server' ? PARTICIPANT_REMOVED : e.reason;
      this.rooms.get(e.id)?.emit('disconnected', reason);
      return;
    }
    const p = this.pending.get(e.id);
    if (e.ev === 'error') {
      this.errors.push(`${e.id} ${e.op}: ${e.error}`);
      if (p) {
        this.pending.delete(e.id);
        p.reject(new Error(`loadbot ${e.op}: ${e.error}`));
      }
    } else if (p && p.want === e.ev) {
      this.pending.delete(e.id);
      p.resolve(e);
    }
  }

  send(cmd) {
    this.child.stdin.write(JSON.stringify(cmd) + '\n');
  }

  /** Sends cmd and resolves with the event `want` for cmd.id (one request per id at a time). */
  request(cmd, want) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cmd.id);
        reject(new Error(`loadbot ${cmd.op} ${cmd.id}: no ${want} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(cmd.id, {
        want,
        resolve: (e) => (clearTimeout(timer), resolve(e)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      this.send(cmd);
    });
  }

  /** Sum of RTP bytes received so far by the given ids. */
  rxBytes(ids) {
    return ids.reduce((n, id) => n + (this.status[id]?.rxBytes ?? 0), 0);
  }

  subscribed(ids) {
    return ids.map((id) => this.status[id]?.subs ?? 0);
  }

  async stop() {
    this.child.stdin.end(); // the loadbot exits when stdin closes
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    fs.closeSync(this.log);
  }

  /** A Bot-like class whose instances live in this process. */
  botClass() {
    const lb = this;
    return class GoBot {
      constructor({ identity }) {
        this.identity = identity;
        this.room = new EventEmitter();
        this.meters = new Map(); // no decoding: nothing is metered
        this.events = [];
      }
      async connect(url, token) {
        lb.rooms.set(this.identity, this.room);
        await lb.request({ op: 'join', id: this.identity, url, token }, 'joined');
      }
      setAllowList(allowed) {
        lb.send({ op: 'allow', id: this.identity, list: allowed });
        return performance.now();
      }
      async publishTone() {
        return (await lb.request({ op: 'publish', id: this.identity }, 'published')).sid;
      }
      async disconnect() {
        if (lb.rooms.get(this.identity) === this.room) lb.rooms.delete(this.identity);
        await lb.request({ op: 'leave', id: this.identity }, 'left').catch(() => {});
      }
    };
  }
}
