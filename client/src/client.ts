/**
 * The public client object (MVP-SPEC sections 10 and 26). It owns what
 * outlives one connection (listeners, mic state, chosen devices, world
 * poses) and delegates everything else to a VoiceSession per connect().
 * All state lives in the instance: two clients on one page are independent.
 */
import { createBackoff, type Backoff } from './backoff';
import { createEmitter } from './emitter';
import { ProximityVoiceError } from './errors';
import { checkConfig } from './config';
import { DEFAULT_MIC_STATE, mergeMicState } from './mic';
import { isValidId } from './policy/messages';
import { VoiceSession, type ClientDependencies, type SessionHost } from './session';
import type {
  CredentialsUpdate,
  ListenerPose,
  MicState,
  ProximityVoiceClient,
  ProximityVoiceClientConfig,
  ProximityVoiceEventName,
  ProximityVoiceEvents,
  ProximityVoiceListener,
  RemotePose,
  VoiceDiagnostics,
} from './types';
import { isValidPose, World } from './world';
import { defaultTimers, type TimerHandle } from './timers';

/** Reason given to 'disconnected' when the host called disconnect(). */
export const CLIENT_DISCONNECT_REASON = 'client';

/**
 * LiveKit end reasons after which rejoining cannot help or would fight
 * another connection; any other involuntary end (the daemon removed a
 * speaker whose audience acknowledgement did not arrive while its network
 * was down, a lost signal connection, ...) is followed by an automatic
 * rejoin with the same credentials (MVP-SPEC 22.6: reconnect restores the
 * session). A speaker that really ignores its audience is removed again by
 * the daemon after each rejoin.
 */
const FINAL_END_REASONS: ReadonlySet<string> = new Set([
  'CLIENT_INITIATED',
  'DUPLICATE_IDENTITY',
  'ROOM_DELETED',
  'USER_REJECTED',
]);
/** Rejoin attempts after one involuntary end before giving up (a limit on everything). */
const REJOIN_ATTEMPTS_MAX = 8;

class Client implements ProximityVoiceClient {
  private readonly deps: ClientDependencies;
  private readonly events = createEmitter<ProximityVoiceEvents>();
  private readonly world = new World();
  private micState: MicState = DEFAULT_MIC_STATE;
  private inputDevice: string | undefined;
  private outputDevice: string | undefined;
  private session: VoiceSession | null = null;
  private ids = { roomId: '', participantId: '' };
  private readonly host: SessionHost;
  private lastConfig: ProximityVoiceClientConfig | null = null;
  private rejoinTimer: TimerHandle | null = null;
  private readonly rejoinBackoff: Backoff;

  constructor(deps: ClientDependencies) {
    this.deps = deps;
    this.host = {
      events: this.events,
      world: this.world,
      mic: () => this.micState,
      inputDeviceId: () => this.inputDevice,
      ended: (s, reason) => this.ended(s, reason),
    };
    this.rejoinBackoff = createBackoff({ random: deps.random });
  }

  async connect(config: ProximityVoiceClientConfig): Promise<void> {
    if (this.session)
      throw new ProximityVoiceError('STATE', 'already connected; call disconnect() first', false);
    const cap = checkConfig(config);
    const session = new VoiceSession({ ...config }, cap, this.deps, this.host);
    this.session = session;
    this.lastConfig = session.config;
    this.ids = { roomId: config.roomId, participantId: config.participantId };
    try {
      await session.start();
    } catch (e) {
      if (this.session === session) this.session = null;
      await session.stop();
      // A failed join is also an `error` event (hosts that only listen to
      // events learn of it); a disconnect() during connect() is not a failure.
      if (!(e instanceof ProximityVoiceError && e.code === 'STATE'))
        this.events.emit('error', e as Error);
      throw e;
    }
    if (this.outputDevice !== undefined) {
      await session.output.setDevice(this.outputDevice).catch((e) => this.events.emit('error', e));
    }
    this.events.emit('connected');
  }

  async disconnect(): Promise<void> {
    this.cancelRejoin();
    this.lastConfig = null;
    const s = this.session;
    if (!s) return;
    this.session = null;
    await s.stop();
    this.events.emit('disconnected', CLIENT_DISCONNECT_REASON);
  }

  private ended(s: VoiceSession, reason: string): void {
    if (this.session !== s) return;
    this.session = null;
    void s.stop();
    this.events.emit('disconnected', reason);
    if (!FINAL_END_REASONS.has(reason)) this.scheduleRejoin();
  }

  /** Rejoins with the last credentials after a jittered 250 ms-5 s backoff. */
  private scheduleRejoin(): void {
    const config = this.lastConfig;
    if (!config || this.rejoinTimer) return;
    if (this.rejoinBackoff.attempts >= REJOIN_ATTEMPTS_MAX) {
      this.rejoinBackoff.reset();
      return;
    }
    const timers = this.deps.timers ?? defaultTimers;
    this.rejoinTimer = timers.setTimeout(() => {
      this.rejoinTimer = null;
      if (this.session || this.lastConfig !== config) return;
      this.connect(config).then(
        () => this.rejoinBackoff.reset(),
        () => this.scheduleRejoin(), // connect() already emitted the error
      );
    }, this.rejoinBackoff.next());
  }

  private cancelRejoin(): void {
    if (!this.rejoinTimer) return;
    (this.deps.timers ?? defaultTimers).clearTimeout(this.rejoinTimer);
    this.rejoinTimer = null;
  }

  setListenerPose(pose: ListenerPose): void {
    if (!pose || !pose.orientation || !isValidPose(pose))
      throw new TypeError('setListenerPose: invalid pose');
    const { position, orientation } = pose;
    this.world.listener = {
      position: { ...position },
      orientation: { forward: { ...orientation.forward }, up: { ...orientation.up } },
    };
    this.session?.graph.setListenerPose(this.world.listener);
    this.session?.reselectSoon();
  }

  upsertRemotePose(pose: RemotePose): void {
    if (!pose || !isValidId(pose.participantId) || !isValidPose(pose)) {
      throw new TypeError('upsertRemotePose: invalid pose');
    }
    if (this.session) this.session.poseChanged(pose);
    else this.world.upsert(pose);
  }

  removeRemoteParticipant(participantId: string): void {
    this.world.remove(participantId);
    this.session?.reconcile();
  }

  async setMicState(next: Partial<MicState>): Promise<void> {
    this.micState = mergeMicState(this.micState, next);
    const s = this.session;
    if (!s) return;
    s.ctx.resume().catch(() => undefined); // often called from a user gesture
    await s.applyMic(this.micState);
  }

  async setInputDevice(deviceId: string): Promise<void> {
    this.inputDevice = deviceId;
    await this.session?.switchInput(deviceId);
  }

  async setOutputDevice(deviceId: string): Promise<void> {
    this.outputDevice = deviceId;
    await this.session?.output.setDevice(deviceId);
  }

  updateCredentials(next: CredentialsUpdate): void {
    if (!next || typeof next.policySocketToken !== 'string' || next.policySocketToken === '') {
      throw new TypeError('updateCredentials: policySocketToken required');
    }
    const config = this.session?.config ?? this.lastConfig; // also between rejoin attempts
    if (!config) return;
    if (typeof next.token === 'string' && next.token !== '') config.token = next.token;
    config.policySocketToken = next.policySocketToken;
    this.session?.socket.updateToken(next.policySocketToken);
  }

  getDiagnostics(): VoiceDiagnostics {
    if (this.session) return this.session.diagnostics();
    return {
      ...this.ids,
      connected: false,
      publishedTrack: false,
      subscribedCount: 0,
      audibleCount: 0,
      turnLikelyInUse: null,
      lastPolicyRevision: 0,
      policySocketConnected: false,
    };
  }

  on<E extends ProximityVoiceEventName>(event: E, cb: ProximityVoiceListener<E>): void {
    this.events.on(event, cb);
  }

  off<E extends ProximityVoiceEventName>(event: E, cb: ProximityVoiceListener<E>): void {
    this.events.off(event, cb);
  }
}

/**
 * Returns a new, independent client. `deps` is for tests and unusual hosts
 * (injected WebSocket, timers, LiveKit room factory); omit it normally.
 */
export function createProximityVoiceClient(deps: ClientDependencies = {}): ProximityVoiceClient {
  return new Client(deps);
}
