// A player of the end-to-end tests: a LiveKit bot (tests/bots/lib/bot.mjs:
// publishes its own tone, measures what it receives) driven by the daemon's
// policy socket the way the browser client is (docs/API.md section 6):
//
//   POST /sessions (via the game) -> join LiveKit with autoSubscribe off ->
//   allow-list EMPTY -> open the policy socket, auth, apply + ack the first
//   policy.audience -> publish the tone. (Why this order: a speaker that
//   publishes without acking its audience is removed after 2 s, socket or
//   not -- otherwise a client could leak by never opening the socket.)
//   policy.audience with a newer revision -> allow-list := audience, then
//   policy.audience.ack {roomId, revision}; policy.snapshot /
//   policy.audibility.delta -> canHear (a delta whose previousRevision is not
//   the last applied revision is a gap: policy.snapshot.request).
//
// Honest players never subscribe themselves: only the daemon's
// UpdateSubscriptions makes them hear anyone. Other kinds:
//   'malicious' -- a listener that ignores policy: no socket, no tone,
//                  subscribes itself to every track it sees;
//   'rogue'     -- a speaker that publishes with LiveKit's default
//                  allow-list (everyone) and never applies or acks an audience.
// Any player can also be `frozen`: from then on it ignores policy.audience
// (a client that stops complying after a while).
// A player whose LiveKit connection drops (server restart) joins again with
// a new bot; a closed policy socket is reopened (after 1008: with a fresh
// session from the game, like a browser asking its game server).
import WebSocket from 'ws';
import { Bot } from '../../bots/lib/bot.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PARTICIPANT_REMOVED = 4; // livekit.proto.DisconnectReason

export class Player {
  /** opts: { id, tones (Map id -> Hz), game, kind: 'honest' | 'malicious' | 'rogue', BotClass } */
  constructor({ id, tones, game, kind = 'honest', BotClass = Bot, hears = null }) {
    this.id = id;
    this.tones = tones;
    this.hears = hears; // null, or the ids whose tones this bot tells apart
    this.game = game;
    this.kind = kind;
    this.BotClass = BotClass;
    this.bot = null;
    this.bots = []; // every bot this player used (one per LiveKit connection)
    this.session = null;
    this.ws = null;
    this.stopped = false;
    this.canHear = [];
    this.rev = null; // last applied canHear revision
    this.audienceRev = 0;
    this.audience = null; // last applied allow-list
    this.events = []; // { t, name, detail }
    this.errors = [];
    this.removedAt = null; // LiveKit said PARTICIPANT_REMOVED
    this.socketReady = null;
    this.counts = { snapshots: 0, deltas: 0, gaps: 0, audiences: 0, acks: 0, poseBatches: 0, socketOpens: 0 };
  }

  note(name, detail) {
    this.events.push({ t: performance.now(), name, detail });
  }

  get usesSocket() {
    return this.kind !== 'malicious';
  }
  get publishes() {
    return this.kind !== 'malicious';
  }

  /** Session, LiveKit join (empty allow-list first), policy socket, tone. */
  async join() {
    this.session = await this.game.session(this.id);
    await this.connectLiveKit({ publish: false });
    if (this.usesSocket) {
      this.openSocket();
      await this.waitSnapshot(5000);
      if (this.kind === 'honest') await this.waitFor(() => this.counts.acks > 0, 5000);
    }
    if (this.publishes) await this.publish();
  }

  async publish() {
    this.publishedAt = performance.now();
    this.trackSid = await this.bot.publishTone();
    this.note('published', this.trackSid);
  }

  async waitFor(pred, timeoutMs) {
    for (const end = performance.now() + timeoutMs; !pred() && performance.now() < end; ) await sleep(10);
    return pred();
  }

  async connectLiveKit({ publish = true } = {}) {
    const tones = this.hears ? new Map([this.id, ...this.hears].map((i) => [i, this.tones.get(i)])) : this.tones;
    const bot = new this.BotClass({
      identity: this.id,
      toneHz: this.tones.get(this.id),
      tones,
      malicious: this.kind === 'malicious',
    });
    bot.room.setMaxListeners(50); // rtc-node adds a tokenRefreshed listener per track
    bot.room.on('disconnected', (reason) => this.onLiveKitGone(bot, reason));
    bot.room.on('reconnected', () => {
      this.note('lk_reconnected');
      if (this.kind === 'honest') bot.setAllowList(this.audience ?? []);
    });
    await bot.connect(this.session.livekitUrl, this.session.token);
    // before publishing, on EVERY join (LiveKit keeps allow-lists per
    // connection): empty at first, after a reconnect the latest audience the
    // socket delivered (it stays current while LiveKit is away); the daemon
    // re-sends the audience for the new connection anyway
    if (this.kind === 'honest') bot.setAllowList(this.audience ?? []);
    this.bot = bot;
    this.bots.push(bot);
    this.note('lk_joined');
    if (publish && this.publishes) await this.publish();
  }

  onLiveKitGone(bot, reason) {
    this.note('lk_disconnected', reason);
    if (bot !== this.bot) return;
    if (reason === PARTICIPANT_REMOVED) {
      this.removedAt = performance.now();
      if (this.kind === 'honest' && !this.frozen) this.errors.push('honest player removed by the server');
    }
    bot.disconnect().catch(() => {});
    this.bot = null;
    if (this.stopped || reason === PARTICIPANT_REMOVED) return;
    this.rejoin();
  }

  /** Joins LiveKit again until it works (the server may be restarting). */
  async rejoin() {
    for (let attempt = 0; !this.stopped; attempt++) {
      await sleep(Math.min(2000, 200 * 2 ** Math.min(attempt, 4)));
      try {
        await this.connectLiveKit();
        this.note('lk_rejoined', attempt);
        return;
      } catch (e) {
        this.note('lk_rejoin_failed', String(e.message ?? e));
      }
    }
  }

  // ---- policy socket ----

  openSocket() {
    const ws = new WebSocket(this.session.policySocketUrl);
    this.ws = ws;
    this.counts.socketOpens++;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: this.session.policySocketToken })));
    ws.on('message', (data) => this.onMessage(ws, data.toString('utf8')));
    ws.on('error', (e) => this.note('ws_error', String(e.message ?? e)));
    ws.on('close', (code, reason) => this.onSocketClosed(ws, code, reason.toString()));
  }

  send(ws, msg) {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  onMessage(ws, text) {
    const m = JSON.parse(text);
    const t = performance.now();
    switch (m.type) {
      case 'policy.snapshot':
        this.counts.snapshots++;
        this.applyCanHear(m, t);
        break;
      case 'policy.audibility.delta':
        this.counts.deltas++;
        if (m.previousRevision !== this.rev) {
          this.counts.gaps++;
          this.send(ws, {
            type: 'policy.snapshot.request',
            roomId: this.game.roomId,
            lastAppliedRevision: this.rev ?? 0,
            reason: 'revision_gap',
          });
          break;
        }
        this.applyCanHear(m, t);
        break;
      case 'policy.audience':
        this.counts.audiences++;
        this.onAudience(ws, m);
        break;
      case 'policy.pose.batch':
        this.counts.poseBatches++;
        break;
      case 'policy.error':
        this.note('policy_error', `${m.code} ${m.message}`);
        break;
      default:
        this.errors.push(`unknown server message ${m.type}`);
    }
  }

  applyCanHear(m, t) {
    this.rev = m.revision;
    this.canHear = m.canHear;
    this.note('can_hear', m.canHear.join(','));
    this.lastCanHearAt = t;
    if (this.snapshotWaiter) this.snapshotWaiter();
  }

  onAudience(ws, m) {
    if (this.kind === 'rogue' || this.frozen) return; // never applies, never acks
    if (m.revision <= this.audienceRev) return;
    this.audienceRev = m.revision;
    this.audience = m.audience;
    if (this.bot) this.bot.setAllowList(m.audience);
    this.note('audience', m.audience.join(','));
    this.send(ws, { type: 'policy.audience.ack', roomId: this.game.roomId, revision: m.revision });
    this.counts.acks++;
  }

  async onSocketClosed(ws, code, reason) {
    this.note('ws_closed', `${code} ${reason}`);
    if (ws !== this.ws || this.stopped) return;
    this.ws = null;
    this.rev = null;
    await sleep(code === 1008 ? 100 : 300);
    if (this.stopped) return;
    if (code === 1008) {
      try {
        this.session = { ...(await this.game.session(this.id)), livekitUrl: this.session.livekitUrl };
      } catch (e) {
        this.note('session_failed', String(e.message ?? e));
      }
    }
    if (!this.stopped) this.openSocket();
  }

  waitSnapshot(timeoutMs) {
    if (this.rev !== null) return Promise.resolve(true);
    return new Promise((resolve) => {
      const to = setTimeout(() => resolve(false), timeoutMs);
      this.snapshotWaiter = () => {
        clearTimeout(to);
        this.snapshotWaiter = null;
        resolve(true);
      };
    });
  }

  // ---- measurements ----

  /** Audible frames from speaker in [t0, t1] at this player's current bot. */
  audible(speaker, t0, t1 = Infinity) {
    if (!this.bot) return 0;
    const m = this.bot.meters.get(speaker);
    if (!m) return 0;
    return m.audibleTimes.filter((t) => t >= t0 && t <= t1).length;
  }

  /**
   * Audio RTP packets received so far, per inbound stream (ssrc), from the
   * current bot's WebRTC stats. Why not frames: after a server-side
   * unsubscribe LiveKit stops forwarding, but rtc-node keeps the
   * publication "subscribed" and its AudioStream yields silent frames.
   */
  async rtpPackets() {
    const out = new Map();
    if (!this.bot) return out;
    const st = await this.bot.room.getRtcStats();
    for (const x of [...st.publisherStats, ...st.subscriberStats])
      if (x.stats.case === 'inboundRtp' && x.stats.value.stream?.kind === 'audio')
        out.set(x.stats.value.stream.ssrc, Number(x.stats.value.received?.packetsReceived ?? 0));
    return out;
  }

  /** Frames (any level) received so far from speaker by the current bot. */
  frames(speaker) {
    return this.bot?.meters.get(speaker)?.frames ?? 0;
  }

  async leave() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
    if (this.bot) await this.bot.disconnect();
  }
}
