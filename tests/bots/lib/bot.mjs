// A bot: one LiveKit participant (via @livekit/rtc-node) that publishes its own
// sine tone as a microphone track, sets its track subscription permissions
// (the speaker allow-list), and measures every remote audio track it receives.
//
// Honest bots connect with autoSubscribe off and never subscribe themselves:
// only the server (RoomService.UpdateSubscriptions) makes them subscribe.
// A `malicious` bot subscribes itself to every track it sees (the signal
// UpdateSubscription a modified client can always send).
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import {
  FfiRequest,
  FfiResponse,
  ParticipantTrackPermission,
  SetTrackSubscriptionPermissionsRequest,
  livekitFfiRequest,
} from '@livekit/rtc-ffi-bindings';
import { AUDIBLE_RMS, FRAME_SAMPLES, SAMPLE_RATE, dominantTone, rms, sineGenerator } from './audio.mjs';

const WINDOW_FRAMES = 4; // 40 ms window for the dominant-tone decision (25 Hz bins)

/** Per remote identity: what arrived. Times are performance.now() ms. */
class Meter {
  constructor(expectedHz) {
    this.expectedHz = expectedHz; // the remote's tone, or null if unknown
    this.frames = 0; // all frames delivered by AudioStream
    this.audibleFrames = 0; // RMS > AUDIBLE_RMS and the expected tone dominates
    this.sumSq = 0;
    this.samples = 0;
    this.firstAudibleAt = null;
    this.lastAudibleAt = null;
    this.audibleTimes = []; // bounded: last 2000 audible frame times
    this.toneVotes = new Map(); // dominant Hz of loud frames -> count
    this.window = [];
  }

  add(data, candidatesHz, t) {
    this.frames++;
    const level = rms(data);
    this.sumSq += level * level * data.length;
    this.samples += data.length;
    this.window.push(data);
    if (this.window.length > WINDOW_FRAMES) this.window.shift();
    if (level <= AUDIBLE_RMS) return;
    const joined = new Int16Array(this.window.reduce((n, w) => n + w.length, 0));
    let off = 0;
    for (const w of this.window) {
      joined.set(w, off);
      off += w.length;
    }
    const hz = dominantTone(joined, candidatesHz);
    this.toneVotes.set(hz, (this.toneVotes.get(hz) ?? 0) + 1);
    if (this.expectedHz !== null && hz !== this.expectedHz) return;
    this.audibleFrames++;
    if (this.firstAudibleAt === null) this.firstAudibleAt = t;
    this.lastAudibleAt = t;
    this.audibleTimes.push(t);
    if (this.audibleTimes.length > 2000) this.audibleTimes.shift();
  }

  /** Overall RMS of all received samples (int16 scale). */
  get rms() {
    return this.samples ? Math.sqrt(this.sumSq / this.samples) : 0;
  }

  /** The tone that dominated most loud frames, or null. */
  get dominantHz() {
    let best = null;
    let n = 0;
    for (const [hz, c] of this.toneVotes) if (c > n) [best, n] = [hz, c];
    return best;
  }

  firstAudibleAfter(t0) {
    return this.audibleTimes.find((t) => t >= t0) ?? null;
  }

  audibleCountAfter(t0) {
    let n = 0;
    for (let i = this.audibleTimes.length - 1; i >= 0 && this.audibleTimes[i] >= t0; i--) n++;
    return n;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Bot {
  /**
   * opts: { identity, toneHz, tones: Map identity -> Hz of every bot (to name
   * what is heard), malicious: subscribe to every track seen }
   */
  constructor({ identity, toneHz, tones, malicious = false }) {
    this.identity = identity;
    this.toneHz = toneHz;
    this.tones = tones;
    this.candidatesHz = [...new Set(tones.values())];
    this.malicious = malicious;
    this.room = new Room();
    this.meters = new Map();
    this.events = []; // { t, name, detail }
    this.running = true;
    this.publication = null;
    this.streams = new Set();
  }

  meter(identity) {
    if (!this.meters.has(identity)) this.meters.set(identity, new Meter(this.tones.get(identity) ?? null));
    return this.meters.get(identity);
  }

  note(name, detail) {
    this.events.push({ t: performance.now(), name, detail });
  }

  /** Joins the room. Honest and malicious bots both use autoSubscribe: false. */
  async connect(url, token) {
    const r = this.room;
    r.on(RoomEvent.TrackSubscribed, (track, pub, p) => {
      this.note('subscribed', p.identity);
      if (track.kind === TrackKind.KIND_AUDIO) this.readAudio(track, p.identity);
    });
    r.on(RoomEvent.TrackUnsubscribed, (_t, _pub, p) => this.note('unsubscribed', p.identity));
    r.on(RoomEvent.TrackSubscriptionFailed, (p, sid, err) => this.note('subscription_failed', `${p.identity} ${err}`));
    r.on(RoomEvent.TrackPublished, (pub, p) => {
      this.note('track_published', p.identity);
      if (this.malicious) pub.setSubscribed(true);
    });
    const opts = { autoSubscribe: false, dynacast: false };
    // rtc-node's FFI RoomOptions.single_peer_connection (not in its JS
    // typings): unset = the SDK's default (one peer connection)
    if (process.env.BOT_SINGLE_PC) opts.singlePeerConnection = process.env.BOT_SINGLE_PC === '1';
    await r.connect(url, token, opts);
    if (this.malicious) {
      for (const p of r.remoteParticipants.values())
        for (const pub of p.trackPublications.values()) pub.setSubscribed(true);
    }
  }

  async readAudio(track, identity) {
    const stream = new AudioStream(track, { sampleRate: SAMPLE_RATE, numChannels: 1 });
    this.streams.add(stream);
    const m = this.meter(identity);
    try {
      for await (const frame of stream) {
        m.add(frame.data, this.candidatesHz, performance.now());
        if (!this.running) break;
      }
    } catch (e) {
      this.note('stream_error', String(e));
    }
    this.streams.delete(stream);
  }

  /**
   * Sets this participant's track subscription permissions.
   * allowed: null = everyone may subscribe (LiveKit's default); an array of
   * identities = only those (an empty array = nobody).
   * rtc-node 1.1.0 has no public wrapper for this, but its FFI does
   * (SetTrackSubscriptionPermissionsRequest, answered synchronously), so we
   * send that request directly with the local participant's handle.
   */
  setAllowList(allowed) {
    const req = new SetTrackSubscriptionPermissionsRequest({
      localParticipantHandle: this.room.localParticipant.ffi_handle.handle,
      allParticipantsAllowed: allowed === null,
      permissions: (allowed ?? []).map(
        (identity) => new ParticipantTrackPermission({ participantIdentity: identity, allowAll: true }),
      ),
    });
    const res = FfiResponse.fromBinary(
      livekitFfiRequest(new FfiRequest({ message: { case: 'setTrackSubscriptionPermissions', value: req } }).toBinary()),
    );
    if (res.message.case !== 'setTrackSubscriptionPermissions') throw new Error(`unexpected FFI reply ${res.message.case}`);
    this.note('allow_list', allowed === null ? '*' : allowed.join(','));
    return performance.now();
  }

  /** Publishes the tone as a microphone track; resolves to the track SID. */
  async publishTone() {
    this.source = new AudioSource(SAMPLE_RATE, 1, 100);
    const track = LocalAudioTrack.createAudioTrack('tone', this.source);
    const opts = new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE, dtx: false, red: false });
    this.publication = await this.room.localParticipant.publishTrack(track, opts);
    this.pumpTone();
    return this.publication.sid;
  }

  async pumpTone() {
    const gen = sineGenerator(this.toneHz);
    while (this.running) {
      try {
        await this.source.captureFrame(new AudioFrame(gen.next(), SAMPLE_RATE, 1, FRAME_SAMPLES));
      } catch (e) {
        if (this.running) this.note('capture_error', String(e));
        return;
      }
    }
  }

  /** Per remote identity: { frames, audibleFrames, rms, dominantHz, expectedHz }. */
  report() {
    const out = {};
    for (const [id, m] of this.meters)
      out[id] = { frames: m.frames, audibleFrames: m.audibleFrames, rms: Math.round(m.rms), dominantHz: m.dominantHz, expectedHz: m.expectedHz };
    return out;
  }

  /** Leaves the room and stops every stream and the tone. */
  async disconnect() {
    this.running = false;
    try {
      await this.room.disconnect();
    } catch {
      /* already gone */
    }
    await sleep(20);
    if (this.source) await this.source.close().catch(() => {});
  }
}
