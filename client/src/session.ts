/**
 * One connection's lifetime: LiveKit room + policy socket + audio graph.
 * Created by connect(), ended by disconnect() or by LiveKit; never reused.
 *
 * Order at start (why it matters):
 *  1. the policy socket starts at once, so the first snapshot races the
 *     LiveKit join instead of following it;
 *  2. room.connect with autoSubscribe:false: we subscribe only by policy;
 *  3. empty subscription allow-list BEFORE publishing the microphone: until a
 *     speaker sends any permission, LiveKit lets everyone subscribe;
 *  4. hand the local participant to the audience applier (policy allow-list
 *     from now on, each revision acknowledged), still before publishing: the
 *     control plane's ack deadline for a publishing speaker runs from its
 *     track_published, and publishing can take seconds on a busy machine
 *     (measured: an honest client acking only after publishTrack resolved
 *     was removed from the room);
 *  5. publish the microphone (muted unless the mic state says transmit) and
 *     reconcile subscriptions.
 */
import {
  createLocalAudioTrack,
  DisconnectReason,
  Room,
  RoomEvent,
  Track,
  type LocalAudioTrack,
  type Participant,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  type RoomOptions,
} from 'livekit-client';
import { AudienceApplier } from './audience';
import { SpatialAudioGraph, type SpatialAudioGraphOptions } from './audio/graph';
import { OutputRouter } from './audio/output';
import { anyRelay, relayInUse, type StatsLike } from './diagnostics/turn';
import type { Emitter } from './emitter';
import { ProximityVoiceError, type ClientErrorCode } from './errors';
import { micTransmits } from './mic';
import type { PoseBatchMessage } from './policy/messages';
import { PolicySocket, type WebSocketConstructor } from './policy/socket';
import { diffSubscriptions, selectAudible } from './subscriptions';
import { defaultTimers, type TimerHandle, type Timers } from './timers';
import type {
  MicState,
  ProximityVoiceClientConfig,
  ProximityVoiceEvents,
  RemotePose,
  VoiceDiagnostics,
} from './types';
import type { World } from './world';

/** Everything a session needs from outside; tests replace parts of it. */
export interface ClientDependencies {
  createRoom?: (options: Partial<RoomOptions>) => Room;
  createMicrophoneTrack?: (deviceId: string | undefined) => Promise<LocalAudioTrack>;
  createAudioContext?: () => AudioContext;
  WebSocket?: WebSocketConstructor;
  timers?: Timers;
  random?: () => number;
  audio?: Pick<SpatialAudioGraphOptions, 'createElement' | 'createStream' | 'fade_ms'>;
  /** How often to refresh turnLikelyInUse. Default 5000. */
  stats_interval_ms?: number;
  /** Minimum spacing of cap re-selection after pose changes. Default 250. */
  reselect_interval_ms?: number;
}

export interface SessionHost {
  readonly events: Emitter<ProximityVoiceEvents>;
  readonly world: World;
  mic(): MicState;
  inputDeviceId(): string | undefined;
  /** LiveKit ended the session on its own. */
  ended(session: VoiceSession, reason: string): void;
}

type Publication = RemoteTrackPublication;
type EngineAccess = {
  engine?: { pcManager?: { publisher?: StatsSource; subscriber?: StatsSource } };
};
type StatsSource = { getStats(): Promise<RTCStatsReport> | undefined };

export class VoiceSession {
  readonly config: ProximityVoiceClientConfig;
  private readonly cap: number;
  private readonly deps: ClientDependencies;
  private readonly host: SessionHost;
  private readonly timers: Timers;
  readonly ctx: AudioContext;
  private readonly ownsCtx: boolean;
  readonly graph: SpatialAudioGraph;
  readonly output: OutputRouter;
  readonly socket: PolicySocket;
  private readonly audience: AudienceApplier;
  private room: Room | null = null;
  private micTrack: LocalAudioTrack | null = null;
  private published = false;
  private connected = false;
  private closed = false;
  private canHear: readonly string[] = [];
  private revision = 0;
  private readonly selected = new Set<string>();
  /** Who LiveKit last said is speaking (anyone), and what we reported. */
  private activeSpeakers = new Set<string>();
  private readonly speaking = new Set<string>();
  private turn: boolean | null = null;
  private statsTimer: TimerHandle | null = null;
  private reselectTimer: TimerHandle | null = null;

  constructor(
    config: ProximityVoiceClientConfig,
    cap: number,
    deps: ClientDependencies,
    host: SessionHost,
  ) {
    this.config = config;
    this.cap = cap;
    this.deps = deps;
    this.host = host;
    this.timers = deps.timers ?? defaultTimers;
    this.ownsCtx = !config.audioContext;
    this.ctx =
      config.audioContext ??
      (deps.createAudioContext ?? (() => new AudioContext({ latencyHint: 'interactive' })))();
    this.graph = new SpatialAudioGraph(this.ctx, {
      ...deps.audio,
      panner: config.panner,
      timers: this.timers,
    });
    this.output = new OutputRouter(this.graph);
    if (host.world.listener) this.graph.setListenerPose(host.world.listener, true);
    this.socket = new PolicySocket({
      url: config.policySocketUrl,
      token: config.policySocketToken,
      roomId: config.roomId,
      participantId: config.participantId,
      WebSocket: deps.WebSocket,
      timers: this.timers,
      random: deps.random,
      handlers: {
        onCanHear: (rev, ids) => this.onCanHear(rev, ids),
        onAudience: (rev, ids) => this.audience.update(rev, ids),
        onPoses: (batch) => this.onPoses(batch),
        onStatus: () => undefined,
        onError: (e) => this.error(e),
      },
    });
    this.audience = new AudienceApplier(
      config.participantId,
      (rev) => void this.socket.ackAudience(rev),
      (e) => this.error(wrap('LIVEKIT', e)),
    );
  }

  /** Resolves when LiveKit is joined; rejects (and cleans up) if the join fails. */
  async start(): Promise<void> {
    this.socket.start();
    const create = this.deps.createRoom ?? ((o) => new Room(o));
    const room = create({ adaptiveStream: false, dynacast: false, webAudioMix: false });
    this.room = room;
    this.listen(room);
    try {
      await room.connect(this.config.livekitUrl, this.config.token, { autoSubscribe: false });
    } catch (e) {
      await this.stop();
      throw wrap('LIVEKIT', e);
    }
    if (this.closed) throw new ProximityVoiceError('STATE', 'disconnected during connect', false);
    room.localParticipant.setTrackSubscriptionPermissions(false, []);
    this.audience.setTarget(room.localParticipant);
    await this.publishMicrophone(room);
    if (this.closed) throw new ProximityVoiceError('STATE', 'disconnected during connect', false);
    this.connected = true;
    this.reconcile();
    this.ctx.resume().catch(() => undefined);
    this.scheduleStats(0);
  }

  private async publishMicrophone(room: Room): Promise<void> {
    try {
      const create =
        this.deps.createMicrophoneTrack ??
        ((id) => createLocalAudioTrack(id ? { deviceId: id } : {}));
      const track = await create(this.host.inputDeviceId());
      if (!micTransmits(this.host.mic())) await track.mute();
      this.micTrack = track;
      await room.localParticipant.publishTrack(track, { source: Track.Source.Microphone });
      this.published = true;
    } catch (e) {
      this.error(wrap('MICROPHONE', e));
    }
  }

  /** Tear everything down. Idempotent; never throws. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.socket.stop();
    this.audience.setTarget(null);
    if (this.statsTimer !== null) this.timers.clearTimeout(this.statsTimer);
    if (this.reselectTimer !== null) this.timers.clearTimeout(this.reselectTimer);
    for (const id of Array.from(this.speaking)) this.setSpeaking(id, false);
    this.graph.dispose();
    this.output.dispose();
    const room = this.room;
    this.room = null;
    if (room) await room.disconnect(true).catch(() => undefined);
    this.micTrack = null;
    if (this.ownsCtx) await this.ctx.close().catch(() => undefined);
  }

  private listen(room: Room): void {
    const on = <A extends unknown[]>(ev: RoomEvent, fn: (...args: A) => void) =>
      room.on(ev as never, ((...args: A) => !this.closed && fn(...args)) as never);
    on(RoomEvent.TrackPublished, (pub: Publication, p: RemoteParticipant) =>
      this.onPublished(pub, p),
    );
    on(RoomEvent.TrackSubscribed, (t: RemoteTrack, pub: Publication, p: RemoteParticipant) =>
      this.onSubscribed(t, pub, p),
    );
    on(RoomEvent.TrackUnsubscribed, (t: RemoteTrack, _pub: Publication, p: RemoteParticipant) =>
      this.onUnsubscribed(t, p),
    );
    on(RoomEvent.ParticipantDisconnected, (p: RemoteParticipant) =>
      this.onParticipantGone(p.identity),
    );
    on(RoomEvent.ActiveSpeakersChanged, (speakers: Participant[]) => this.onSpeakers(speakers));
    on(RoomEvent.Reconnected, () => this.reconcile());
    on(RoomEvent.MediaDevicesError, (e: Error) => this.error(wrap('MICROPHONE', e)));
    on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
      const name = reason === undefined ? 'unknown' : (DisconnectReason[reason] ?? String(reason));
      this.host.ended(this, name);
    });
  }

  /* ---- subscriptions ---- */

  private onCanHear(revision: number, canHear: readonly string[]): void {
    this.revision = revision;
    this.canHear = canHear;
    this.reconcile();
  }

  /**
   * Bring LiveKit subscriptions in line with the selection: unsubscribe
   * first, then subscribe. Only ever subscribes inside the policy set.
   */
  reconcile(): void {
    const room = this.room;
    if (!room || !this.connected) return;
    const w = this.host.world;
    const exclude = new Set(w.excluded).add(this.config.participantId);
    const next = selectAudible({
      canHear: this.canHear,
      positions: w.positions(),
      listener: w.listener?.position ?? null,
      cap: this.cap,
      exclude,
    });
    for (const op of diffSubscriptions(this.selected, next)) {
      const id = op.participantId;
      const pub = micPublication(room, id);
      if (op.op === 'unsubscribe') {
        this.selected.delete(id);
        pub?.setSubscribed(false);
        this.graph.detach(id);
      } else {
        this.selected.add(id);
        if (pub) this.subscribe(pub, id);
      }
    }
    this.refreshSpeaking();
  }

  private subscribe(pub: Publication, id: string): void {
    pub.setSubscribed(true);
    // Already subscribed (e.g. forced by the control plane): no event follows.
    if (pub.track) this.play(id, pub.track);
  }

  private play(id: string, track: RemoteTrack): void {
    const pose = this.host.world.poses.get(id);
    this.graph.attach(id, track.mediaStreamTrack, pose?.position, pose?.orientation);
  }

  private onPublished(pub: Publication, p: RemoteParticipant): void {
    if (pub.kind === Track.Kind.Audio && this.selected.has(p.identity))
      this.subscribe(pub, p.identity);
  }

  private onSubscribed(track: RemoteTrack, pub: Publication, p: RemoteParticipant): void {
    // Never play outside the selection (a track may arrive just after we
    // dropped it, or be forced by the server ahead of our policy update).
    if (pub.kind === Track.Kind.Audio && this.selected.has(p.identity))
      this.play(p.identity, track);
  }

  private onUnsubscribed(track: RemoteTrack, p: RemoteParticipant): void {
    if (track.kind === Track.Kind.Audio) this.graph.detach(p.identity);
  }

  private onParticipantGone(id: string): void {
    this.graph.detach(id);
    this.activeSpeakers.delete(id);
    this.refreshSpeaking();
  }

  /* ---- poses ---- */

  private onPoses(batch: PoseBatchMessage): void {
    for (const p of batch.poses) {
      if (p.participantId === this.config.participantId) continue;
      this.poseChanged({ ...p, timestampMs: batch.timestampMs });
    }
  }

  /** A remote pose changed in the world (host or server). */
  poseChanged(p: RemotePose): void {
    if (!this.host.world.upsert(p)) return;
    this.graph.setRemotePose(p.participantId, p.position, p.orientation);
    this.reselectSoon();
  }

  /* When the policy set exceeds the cap, poses decide who is selected:
   * re-select, but at most every reselect_interval_ms. */
  reselectSoon(): void {
    if (this.canHear.length <= this.cap || this.reselectTimer !== null || !this.connected) return;
    this.reselectTimer = this.timers.setTimeout(() => {
      this.reselectTimer = null;
      if (!this.closed) this.reconcile();
    }, this.deps.reselect_interval_ms ?? 250);
  }

  /* ---- speaking, mic, devices, diagnostics ---- */

  private onSpeakers(speakers: Participant[]): void {
    this.activeSpeakers = new Set(speakers.map((p) => p.identity));
    this.refreshSpeaking();
  }

  /* Report speaking for myself and the voices I hear. Re-run when the
   * selection changes too: LiveKit only reports changes, so a voice that
   * comes into range mid-sentence would otherwise never show as speaking. */
  private refreshSpeaking(): void {
    const self = this.config.participantId;
    const now = new Set(
      Array.from(this.activeSpeakers).filter((id) => id === self || this.selected.has(id)),
    );
    for (const id of Array.from(this.speaking)) if (!now.has(id)) this.setSpeaking(id, false);
    for (const id of now) this.setSpeaking(id, true);
  }

  private setSpeaking(id: string, speaking: boolean): void {
    if (this.speaking.has(id) === speaking) return;
    if (speaking) this.speaking.add(id);
    else this.speaking.delete(id);
    this.host.events.emit('participant-speaking', id, speaking);
  }

  /** Apply the host's mic state to the published track. */
  async applyMic(state: MicState): Promise<void> {
    const t = this.micTrack;
    if (!t) return;
    const on = micTransmits(state);
    if (on && t.isMuted) await t.unmute();
    else if (!on && !t.isMuted) await t.mute();
  }

  /** Returns false when there is no room to switch on yet. */
  async switchInput(deviceId: string): Promise<boolean> {
    const room = this.room;
    if (!room || !this.connected) return false;
    const ok = await room.switchActiveDevice('audioinput', deviceId);
    if (!ok)
      throw new ProximityVoiceError('MICROPHONE', `could not switch input to ${deviceId}`, false);
    return true;
  }

  private scheduleStats(delay_ms: number): void {
    this.statsTimer = this.timers.setTimeout(() => {
      this.statsTimer = null;
      if (this.closed) return;
      void this.refreshTurn().finally(
        () => !this.closed && this.scheduleStats(this.deps.stats_interval_ms ?? 5000),
      );
    }, delay_ms);
  }

  /** Reads the selected ICE pair of LiveKit's publisher/subscriber PeerConnections. */
  async refreshTurn(): Promise<boolean | null> {
    const pcm = (this.room as unknown as EngineAccess | null)?.engine?.pcManager;
    const sources: (() => Promise<StatsLike | undefined> | undefined)[] = [];
    if (pcm?.publisher) sources.push(() => pcm.publisher!.getStats());
    if (pcm?.subscriber) sources.push(() => pcm.subscriber!.getStats());
    if (sources.length === 0 && this.micTrack)
      sources.push(() => this.micTrack!.getRTCStatsReport());
    const results = await Promise.all(
      sources.map(async (get) => {
        try {
          const r = await get();
          return r ? relayInUse(r) : null;
        } catch {
          return null;
        }
      }),
    );
    this.turn = anyRelay(results);
    return this.turn;
  }

  diagnostics(): VoiceDiagnostics {
    let subscribed = 0;
    for (const p of this.room?.remoteParticipants.values() ?? []) {
      for (const pub of p.audioTrackPublications.values()) if (pub.isSubscribed) subscribed++;
    }
    return {
      roomId: this.config.roomId,
      participantId: this.config.participantId,
      connected: this.connected && this.room?.state === 'connected',
      publishedTrack: this.published,
      subscribedCount: subscribed,
      audibleCount: this.canHear.filter((id) => id !== this.config.participantId).length,
      turnLikelyInUse: this.turn,
      lastPolicyRevision: this.revision,
      policySocketConnected: this.socket.connected,
    };
  }

  private error(e: Error): void {
    this.host.events.emit('error', e);
  }
}

function micPublication(room: Room, identity: string): Publication | undefined {
  const p = room.remoteParticipants.get(identity);
  if (!p) return undefined;
  const mic = p.getTrackPublication(Track.Source.Microphone);
  if (mic) return mic;
  for (const pub of p.audioTrackPublications.values()) return pub;
  return undefined;
}

function wrap(code: ClientErrorCode, e: unknown): ProximityVoiceError {
  if (e instanceof ProximityVoiceError) return e;
  const text = e instanceof Error ? e.message : String(e);
  return new ProximityVoiceError(code, text, false);
}
