// A bot that plays by the policy-socket rules, like an honest browser client:
// it joins LiveKit with its /sessions credentials (autoSubscribe off: the
// control plane subscribes it), sets an EMPTY allow-list before publishing,
// then applies every policy.audience as its allow-list and acks it. If it
// did not, the daemon would remove it from LiveKit (docs/API.md section 6).
//
// The LiveKit side is tests/bots/lib/bot.mjs (rtc-node), reused as is; this
// file only adds the policy socket, speech frames and a player-only meter.
import { readFileSync } from 'node:fs';
import { Bot } from '../../../tests/bots/lib/bot.mjs';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../../tests/bots/lib/audio.mjs';
import WebSocket from 'ws';

// AudioFrame must come from the very rtc-node module instance bot.mjs
// loaded (tests/bots/node_modules): a second copy would start a second FFI.
const RTC_DIR = new URL('../../../tests/bots/node_modules/@livekit/rtc-node/', import.meta.url);
const rtcEntry = JSON.parse(readFileSync(new URL('package.json', RTC_DIR), 'utf8')).exports['.']
  .import.default;
const { AudioFrame } = await import(new URL(rtcEntry, RTC_DIR).href);

const PUSH_FRAMES = 4; // 40 ms per captureFrame (the AudioSource queues 100 ms)
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 5000;
const TOKEN_REFRESH_MS = 120000; // ask /sessions again before the policy socket token (300 s) expires

/** Bot with a pluggable frame generator; meters only players (bots ignore each other's audio). */
class VoiceBot extends Bot {
  constructor(opts, frames) {
    super(opts);
    this.frames = frames;
  }

  // Pushes PUSH_FRAMES generator frames per FFI call: each call costs CPU
  // (8 bots at 10 ms frames took ~40% of a core here, mostly per-call work).
  async pumpTone() {
    const buf = new Int16Array(FRAME_SAMPLES * PUSH_FRAMES);
    while (this.running) {
      for (let k = 0; k < PUSH_FRAMES; k++) buf.set(this.frames.next(), k * FRAME_SAMPLES);
      try {
        await this.source.captureFrame(new AudioFrame(buf.slice(), SAMPLE_RATE, 1, buf.length));
      } catch (e) {
        if (this.running) this.note('capture_error', String(e));
        return;
      }
    }
  }

  readAudio(track, identity) {
    if (identity.startsWith('player-')) return super.readAudio(track, identity);
    return undefined;
  }
}

export class PolicyBot {
  /**
   * entity: { id, name, toneHz }; tones: Map id -> Hz of all bots;
   * frames: a frame generator (speech.mjs); getSession: () => Promise<VoiceSessionResponse>;
   * log: (msg, fields) => void.
   */
  constructor({ entity, tones, frames, getSession, log }) {
    this.id = entity.id;
    this.bot = new VoiceBot({ identity: entity.id, toneHz: entity.toneHz, tones }, frames);
    this.getSession = getSession;
    this.log = log;
    this.session = null;
    this.sessionAtMs = 0;
    this.ws = null;
    this.socketOpen = false;
    this.joined = false;
    this.published = false;
    this.stopped = false;
    this.backoffMs = BACKOFF_MIN_MS;
    this.pending = null; // { revision, audience } not yet applied
    this.audienceRevision = -1; // last applied and acked
    this.audience = [];
    this.canHear = [];
    this.canHearRevision = -1;
    this.acks = 0;
    this.reconnects = 0;
  }

  /** Opens the policy socket, joins LiveKit, sets the empty allow-list, publishes. */
  async start() {
    await this.refreshSession();
    this.openSocket();
    await this.bot.connect(this.session.livekitUrl, this.session.token);
    this.bot.setAllowList([]); // MUST precede publishing: LiveKit's default is "everyone"
    this.joined = true;
    this.flushAudience();
    await this.bot.publishTone();
    this.published = true;
  }

  async refreshSession() {
    this.session = await this.getSession();
    this.sessionAtMs = Date.now();
  }

  openSocket() {
    if (this.stopped) return;
    const ws = new WebSocket(this.session.policySocketUrl);
    this.ws = ws;
    ws.on('open', () => {
      this.socketOpen = true;
      this.backoffMs = BACKOFF_MIN_MS;
      ws.send(JSON.stringify({ type: 'auth', token: this.session.policySocketToken }));
    });
    ws.on('message', (data) => this.onMessage(String(data)));
    ws.on('error', () => {}); // 'close' follows
    ws.on('close', (code) => {
      this.socketOpen = false;
      if (this.stopped || this.ws !== ws) return;
      this.reconnects++;
      const delay = this.backoffMs / 2 + (Math.random() * this.backoffMs) / 2;
      this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
      this.log('bot policy socket closed', {
        participantId: this.id,
        code,
        retryInMs: Math.round(delay),
      });
      setTimeout(() => this.reopen(code), delay);
    });
  }

  async reopen(code) {
    if (this.stopped) return;
    try {
      if (code === 1008 || Date.now() - this.sessionAtMs > TOKEN_REFRESH_MS)
        await this.refreshSession();
    } catch (e) {
      this.log('bot session refresh failed', {
        participantId: this.id,
        error: String(e.message ?? e),
      });
    }
    this.openSocket();
  }

  onMessage(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.type === 'policy.audience' && Array.isArray(m.audience) && Number.isInteger(m.revision)) {
      if (m.revision < this.audienceRevision) return; // stale
      this.pending = { revision: m.revision, audience: m.audience };
      this.flushAudience();
    } else if (
      (m.type === 'policy.snapshot' || m.type === 'policy.audibility.delta') &&
      Array.isArray(m.canHear)
    ) {
      this.canHear = m.canHear;
      this.canHearRevision = m.revision;
    } else if (m.type === 'policy.error') {
      this.log('bot policy error', { participantId: this.id, code: m.code });
    }
  }

  /** Applies the pending audience as the allow-list and acks it (once joined). */
  flushAudience() {
    const p = this.pending;
    if (!p || !this.joined) return;
    this.pending = null;
    this.bot.setAllowList(p.audience.filter((id) => id !== this.id));
    this.audience = p.audience;
    this.audienceRevision = p.revision;
    if (this.ws && this.socketOpen) {
      this.ws.send(
        JSON.stringify({
          type: 'policy.audience.ack',
          roomId: this.session.roomId,
          revision: p.revision,
        }),
      );
      this.acks++;
    }
  }

  /** For /api/status: what this bot does and hears (players only). */
  status() {
    return {
      id: this.id,
      joined: this.joined,
      published: this.published,
      policySocketOpen: this.socketOpen,
      audience: this.audience,
      audienceRevision: this.audienceRevision,
      acks: this.acks,
      canHear: this.canHear,
      canHearRevision: this.canHearRevision,
      reconnects: this.reconnects,
      heard: this.bot.report(),
    };
  }

  async stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
    await this.bot.disconnect();
  }
}
