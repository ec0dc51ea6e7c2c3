/**
 * Policy socket transport: one WebSocket to the control plane, with auth,
 * reconnect and the revision reducer (state.ts) wired in.
 *
 * Close codes (MVP-SPEC section 9):
 *  - 1008: auth/policy violation. Parked: no retry until updateToken().
 *  - anything else (1011, 1006 network loss, 1000/1001 server shutdown):
 *    reconnect after a jittered exponential backoff, 250 ms .. 5 s.
 * policy.error: reported; after a non-retryable code (anything but
 * RATE_LIMITED / INTERNAL_ERROR) the next close parks instead of retrying,
 * because reconnecting with the same credentials cannot help.
 *
 * The WebSocket constructor, timers and randomness are injected, so tests
 * drive it with a fake socket and fake time. One instance per client: no
 * module-level state.
 */
import { createBackoff, type Backoff } from '../backoff';
import { isRetryablePolicyError, ProximityVoiceError } from '../errors';
import { defaultTimers, type TimerHandle, type Timers } from '../timers';
import {
  parseServerMessage,
  type ClientMessage,
  type PoseBatchMessage,
  type ServerMessage,
} from './messages';
import {
  initialPolicyState,
  policyReduce,
  type PolicyEffect,
  type PolicyInput,
  type PolicyState,
} from './state';

/** The part of the WebSocket API this module uses. */
export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface PolicySocketHandlers {
  /** A new audibility set was applied (full set, sorted). */
  onCanHear(revision: number, canHear: readonly string[]): void;
  /** A new audience for my microphone; call ackAudience(revision) once applied. */
  onAudience(revision: number, audience: readonly string[]): void;
  onPoses(batch: PoseBatchMessage): void;
  /** Socket open and auth sent (true), or lost (false). */
  onStatus(connected: boolean): void;
  onError(error: ProximityVoiceError): void;
}

export interface PolicySocketOptions {
  url: string;
  token: string;
  roomId: string;
  participantId: string;
  handlers: PolicySocketHandlers;
  WebSocket?: WebSocketConstructor;
  timers?: Timers;
  /** Uniform in [0, 1), for the backoff jitter. */
  random?: () => number;
  /** A socket that has not opened by then is dropped and retried. Default 10000. */
  open_timeout_ms?: number;
  /** Re-request an awaited snapshot after this long. Default 3000. */
  snapshot_timeout_ms?: number;
}

export type PolicySocketStatus = 'idle' | 'connecting' | 'open' | 'backoff' | 'parked' | 'stopped';

export class PolicySocket {
  private readonly opts: PolicySocketOptions;
  private readonly timers: Timers;
  private readonly backoff: Backoff;
  private readonly WS: WebSocketConstructor;
  private token: string;
  private ws: WebSocketLike | null = null;
  private statusValue: PolicySocketStatus = 'idle';
  private policy: PolicyState;
  private retryTimer: TimerHandle | null = null;
  private openTimer: TimerHandle | null = null;
  private snapshotTimer: TimerHandle | null = null;
  /** Set by a non-retryable policy.error: the next close parks. */
  private parkOnClose = false;

  constructor(opts: PolicySocketOptions) {
    this.opts = opts;
    this.token = opts.token;
    this.timers = opts.timers ?? defaultTimers;
    this.backoff = createBackoff({ random: opts.random });
    const WS = opts.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor);
    if (!WS) throw new ProximityVoiceError('STATE', 'no WebSocket implementation', false);
    this.WS = WS;
    this.policy = initialPolicyState(opts.roomId, opts.participantId);
  }

  get status(): PolicySocketStatus {
    return this.statusValue;
  }
  /** True while the socket is open and authenticated as far as we know. */
  get connected(): boolean {
    return this.statusValue === 'open';
  }
  get state(): PolicyState {
    return this.policy;
  }
  /** Attempts since the last healthy connection (for tests/diagnostics). */
  get failedAttempts(): number {
    return this.backoff.attempts;
  }

  start(): void {
    if (this.statusValue !== 'idle') return;
    this.open();
  }

  /** Close for good. Idempotent. */
  stop(): void {
    if (this.statusValue === 'stopped') return;
    const wasOpen = this.statusValue === 'open';
    this.statusValue = 'stopped';
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) this.detach(ws).close(1000, 'client stop');
    if (wasOpen) this.opts.handlers.onStatus(false);
  }

  /** New credentials: a parked or waiting socket reconnects at once. */
  updateToken(token: string): void {
    this.token = token;
    this.parkOnClose = false;
    if (this.statusValue === 'parked' || this.statusValue === 'backoff') {
      this.backoff.reset();
      this.clearTimer('retryTimer');
      this.open();
    }
  }

  /** Returns true if the ack was handed to an open socket. */
  ackAudience(revision: number): boolean {
    return this.send({ type: 'policy.audience.ack', roomId: this.opts.roomId, revision });
  }

  private open(): void {
    this.statusValue = 'connecting';
    this.parkOnClose = false;
    let ws: WebSocketLike;
    try {
      ws = new this.WS(this.opts.url);
    } catch (e) {
      this.opts.handlers.onError(wrap('POLICY_SOCKET_LOST', e));
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.ws === ws && this.onOpen();
    ws.onmessage = (ev) => this.ws === ws && this.onFrame(ev.data);
    ws.onclose = (ev) => this.ws === ws && this.onClose(ev.code, ev.reason);
    ws.onerror = () => undefined; // a close event always follows
    this.openTimer = this.timers.setTimeout(() => {
      this.openTimer = null;
      if (this.ws === ws && this.statusValue === 'connecting') this.dropAndRetry(ws);
    }, this.opts.open_timeout_ms ?? 10000);
  }

  private onOpen(): void {
    this.clearTimer('openTimer');
    this.statusValue = 'open';
    this.send({ type: 'auth', token: this.token });
    this.step({ kind: 'authenticated' });
    this.opts.handlers.onStatus(true);
  }

  private onClose(code: number, reason: string): void {
    const wasOpen = this.statusValue === 'open';
    this.ws = null;
    this.clearTimers();
    if (wasOpen) this.opts.handlers.onStatus(false);
    if (code === 1008 || this.parkOnClose) {
      this.statusValue = 'parked';
      const why =
        code === 1008
          ? `policy socket closed 1008: ${reason}`
          : 'policy socket closed after a non-retryable error';
      this.opts.handlers.onError(new ProximityVoiceError('POLICY_AUTH', why, false));
      return;
    }
    if (wasOpen) {
      const err = new ProximityVoiceError(
        'POLICY_SOCKET_LOST',
        `policy socket closed ${code}`,
        true,
      );
      this.opts.handlers.onError(err);
    }
    this.scheduleRetry();
  }

  private dropAndRetry(ws: WebSocketLike): void {
    this.ws = null;
    this.detach(ws).close(1000, 'open timeout');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.statusValue = 'backoff';
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      if (this.statusValue === 'backoff') this.open();
    }, this.backoff.next());
  }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') {
      this.protocolError('binary frame');
      return;
    }
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.protocolError(parsed.why);
      return;
    }
    this.dispatch(parsed.msg);
  }

  private dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case 'policy.error': {
        const retryable = isRetryablePolicyError(msg.code);
        if (!retryable) this.parkOnClose = true;
        const text = `policy.error ${msg.code}: ${msg.message}`;
        this.opts.handlers.onError(
          new ProximityVoiceError('POLICY_ERROR', text, retryable, msg.code),
        );
        return;
      }
      case 'policy.pose.batch':
        if (msg.roomId === this.opts.roomId) this.opts.handlers.onPoses(msg);
        else this.protocolError('policy.pose.batch: roomId');
        return;
      case 'policy.snapshot':
        // A snapshot proves the auth worked: the connection is healthy.
        this.backoff.reset();
        this.step({ kind: 'message', msg });
        return;
      default:
        this.step({ kind: 'message', msg });
    }
  }

  private step(input: PolicyInput): void {
    const out = policyReduce(this.policy, input);
    this.policy = out.state;
    this.armSnapshotTimer();
    for (const fx of out.effects) this.effect(fx);
  }

  private effect(fx: PolicyEffect): void {
    const h = this.opts.handlers;
    switch (fx.kind) {
      case 'can-hear':
        return h.onCanHear(fx.revision, fx.canHear);
      case 'audience':
        return h.onAudience(fx.revision, fx.audience);
      case 'request-snapshot':
        this.send({
          type: 'policy.snapshot.request',
          roomId: this.opts.roomId,
          lastAppliedRevision: fx.lastAppliedRevision,
          reason: fx.reason,
        });
        return;
      case 'mismatch':
        return this.protocolError(fx.why);
      case 'ignored':
        return;
    }
  }

  /* While a snapshot is awaited on an open socket, keep one timer that
   * re-requests it; otherwise no timer. */
  private armSnapshotTimer(): void {
    const want = this.policy.awaiting !== null && this.statusValue === 'open';
    if (!want) return this.clearTimer('snapshotTimer');
    if (this.snapshotTimer !== null) return;
    this.snapshotTimer = this.timers.setTimeout(() => {
      this.snapshotTimer = null;
      if (this.statusValue === 'open') this.step({ kind: 'snapshot-timeout' });
    }, this.opts.snapshot_timeout_ms ?? 3000);
  }

  private send(msg: ClientMessage): boolean {
    if (!this.ws || this.statusValue !== 'open') return false;
    try {
      this.ws.send(JSON.stringify(msg));
      return true;
    } catch (e) {
      this.opts.handlers.onError(wrap('POLICY_SOCKET_LOST', e));
      return false;
    }
  }

  private protocolError(why: string): void {
    this.opts.handlers.onError(
      new ProximityVoiceError('POLICY_PROTOCOL', `policy socket: ${why}`, true),
    );
  }

  private detach(ws: WebSocketLike): WebSocketLike {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    return ws;
  }

  private clearTimer(name: 'retryTimer' | 'openTimer' | 'snapshotTimer'): void {
    const t = this[name];
    if (t !== null) this.timers.clearTimeout(t);
    this[name] = null;
  }

  private clearTimers(): void {
    this.clearTimer('retryTimer');
    this.clearTimer('openTimer');
    this.clearTimer('snapshotTimer');
  }
}

function wrap(code: 'POLICY_SOCKET_LOST', e: unknown): ProximityVoiceError {
  const text = e instanceof Error ? e.message : String(e);
  return new ProximityVoiceError(code, text, true);
}
