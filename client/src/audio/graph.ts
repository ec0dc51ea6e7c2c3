/**
 * The spatial audio graph (MVP-SPEC section 11). Per active remote voice:
 *
 *   MediaStreamAudioSourceNode -> GainNode (fades) -> PannerNode (3D)
 *     -> master GainNode (shared) -> output (ctx.destination by default)
 *
 * plus a muted media element holding the same stream: Chrome delivers no
 * samples from a remote WebRTC track to WebAudio unless the stream also
 * plays in an element. The fade-in starts when samples actually arrive (see
 * onset.ts). Exactly one chain per active remote; a chain being
 * detached fades out over fade_ms (40..80 ms, linear ramp, no pop) and is
 * torn down by a timer after the ramp. A voice re-attached while its old
 * chain fades gets a new chain; the old one finishes its fade alone.
 *
 * The graph never stops the MediaStreamTrack: LiveKit owns it.
 */
import type { ListenerPose, Orientation, PannerOptions, Vec3 } from '../types';
import { defaultTimers, type TimerHandle, type Timers } from '../timers';
import { OnsetWatch } from './onset';
import { setListenerPose, setPannerPose } from './params';

export const FADE_MS_MIN = 40;
export const FADE_MS_MAX = 80;
export const FADE_MS_DEFAULT = 60;
/** Extra wait after the ramp ends before disconnecting nodes. */
export const TEARDOWN_MARGIN_MS = 20;

/** Chains (active + fading) one graph holds at most. */
export const CHAINS_MAX = 256;

/** The part of HTMLMediaElement used to keep a remote stream flowing. */
export interface MediaElementLike {
  muted: boolean;
  autoplay: boolean;
  srcObject: MediaProvider | null;
  play(): Promise<void>;
  pause(): void;
}

export interface SpatialAudioGraphOptions {
  panner?: PannerOptions & { panningModel?: PanningModelType };
  /** Fade duration, clamped to 40..80 ms. Default 60. */
  fade_ms?: number;
  timers?: Timers;
  /** Makes the muted element for a remote stream; return null to skip. */
  createElement?: () => MediaElementLike | null;
  /** Wraps a track in a MediaStream (injected for non-browser tests). */
  createStream?: (track: MediaStreamTrack) => MediaStream;
  /** Where the master gain goes; default ctx.destination. */
  output?: AudioNode;
}

interface Chain {
  readonly participantId: string;
  readonly track: MediaStreamTrack;
  readonly source: AudioNode;
  readonly gain: GainNode;
  readonly panner: PannerNode;
  readonly element: MediaElementLike | null;
  /** Context times (s) of the fade-in ramp (Infinity until the onset). */
  fadeInStart_s: number;
  fadeInEnd_s: number;
  onset: OnsetWatch | null;
  teardown: TimerHandle | null;
}

export const PANNER_DEFAULTS: Required<PannerOptions> & { panningModel: PanningModelType } = {
  distanceModel: 'inverse',
  refDistance: 1,
  maxDistance: 75,
  rolloffFactor: 1,
  coneInnerAngle: 360,
  coneOuterAngle: 360,
  coneOuterGain: 1,
  panningModel: 'HRTF',
};

function defaultElement(): MediaElementLike | null {
  return typeof document === 'undefined' ? null : document.createElement('audio');
}

export class SpatialAudioGraph {
  readonly ctx: BaseAudioContext;
  readonly master: GainNode;
  private readonly fade_s: number;
  private readonly timers: Timers;
  private readonly opts: SpatialAudioGraphOptions;
  private readonly active = new Map<string, Chain>();
  private readonly fading = new Set<Chain>();
  private output: AudioNode;

  constructor(ctx: BaseAudioContext, opts: SpatialAudioGraphOptions = {}) {
    this.ctx = ctx;
    this.opts = opts;
    const fade_ms = Math.min(FADE_MS_MAX, Math.max(FADE_MS_MIN, opts.fade_ms ?? FADE_MS_DEFAULT));
    this.fade_s = fade_ms / 1000;
    this.timers = opts.timers ?? defaultTimers;
    this.master = ctx.createGain();
    this.output = opts.output ?? ctx.destination;
    this.master.connect(this.output);
    // Chromium loads its HRTF data asynchronously when the first HRTF panner
    // appears, and until then passes audio through unpanned (measured: the
    // first voice was centred for ~300 ms). One unused panner made now loads
    // it while LiveKit is still joining.
    if ((opts.panner?.panningModel ?? PANNER_DEFAULTS.panningModel) === 'HRTF') {
      ctx.createPanner().panningModel = 'HRTF';
    }
  }

  /** Number of active chains (fading ones not counted). */
  get size(): number {
    return this.active.size;
  }
  get fadingCount(): number {
    return this.fading.size;
  }
  has(participantId: string): boolean {
    return this.active.has(participantId);
  }
  activeIds(): string[] {
    return Array.from(this.active.keys()).sort();
  }

  /** Move the master gain to another output node (see output.ts). */
  setOutput(node: AudioNode): void {
    this.master.disconnect();
    this.master.connect(node);
    this.output = node;
  }

  /**
   * Start playing a remote voice with a fade-in. Returns false when the
   * same track is already active (nothing to do) or the chain limit is hit.
   */
  attach(
    participantId: string,
    track: MediaStreamTrack,
    position?: Vec3,
    orientation?: Orientation,
  ): boolean {
    const old = this.active.get(participantId);
    if (old && old.track === track) return false;
    if (old) this.detach(participantId);
    if (this.active.size + this.fading.size >= CHAINS_MAX) return false;
    const chain = this.build(participantId, track);
    const now = this.ctx.currentTime;
    if (position) setPannerPose(chain.panner, position, orientation, now, true);
    chain.gain.gain.setValueAtTime(0, now);
    chain.onset = new OnsetWatch(this.ctx, chain.source, this.timers, () => this.fadeIn(chain));
    this.active.set(participantId, chain);
    return true;
  }

  private fadeIn(chain: Chain): void {
    chain.onset = null;
    const now = this.ctx.currentTime;
    chain.fadeInStart_s = now;
    chain.fadeInEnd_s = now + this.fade_s;
    chain.gain.gain.setValueAtTime(0, now);
    chain.gain.gain.linearRampToValueAtTime(1, chain.fadeInEnd_s);
  }

  /* The gain the fade-in has reached at `now` (0 before the onset). */
  private fadeInGain(chain: Chain, now: number): number {
    if (now <= chain.fadeInStart_s) return 0;
    if (now >= chain.fadeInEnd_s) return 1;
    return (now - chain.fadeInStart_s) / (chain.fadeInEnd_s - chain.fadeInStart_s);
  }

  private build(participantId: string, track: MediaStreamTrack): Chain {
    const ctx = this.ctx as AudioContext;
    const stream = (this.opts.createStream ?? ((t) => new MediaStream([t])))(track);
    const element = (this.opts.createElement ?? defaultElement)();
    if (element) {
      element.muted = true;
      element.autoplay = true;
      element.srcObject = stream;
      element.play().catch(() => undefined); // muted autoplay; a refusal only matters in Chrome
    }
    const source = ctx.createMediaStreamSource(stream);
    const gain = ctx.createGain();
    const panner = ctx.createPanner();
    const p = { ...PANNER_DEFAULTS, ...this.opts.panner };
    panner.panningModel = p.panningModel;
    panner.distanceModel = p.distanceModel;
    panner.refDistance = p.refDistance;
    panner.maxDistance = p.maxDistance;
    panner.rolloffFactor = p.rolloffFactor;
    panner.coneInnerAngle = p.coneInnerAngle;
    panner.coneOuterAngle = p.coneOuterAngle;
    panner.coneOuterGain = p.coneOuterGain;
    source.connect(gain);
    gain.connect(panner);
    panner.connect(this.master);
    const fadeInStart_s = Infinity;
    const fadeInEnd_s = Infinity;
    return {
      participantId,
      track,
      source,
      gain,
      panner,
      element,
      fadeInStart_s,
      fadeInEnd_s,
      onset: null,
      teardown: null,
    };
  }

  /** Fade a voice out and tear it down after the ramp. Returns false if not active. */
  detach(participantId: string): boolean {
    const chain = this.active.get(participantId);
    if (!chain) return false;
    this.active.delete(participantId);
    this.fading.add(chain);
    const g = chain.gain.gain;
    const now = this.ctx.currentTime;
    // Start the ramp from the gain the fade-in has reached now, computed from
    // our own schedule. Not cancelAndHoldAtTime: Chromium holds a wrong value
    // after a finished linear ramp (measured: a step from 1 to ~0.36).
    chain.onset?.cancel();
    chain.onset = null;
    const v = this.fadeInGain(chain, now);
    g.cancelScheduledValues(now);
    g.setValueAtTime(v, now);
    g.linearRampToValueAtTime(0, now + this.fade_s);
    chain.teardown = this.timers.setTimeout(
      () => this.destroy(chain),
      Math.round(this.fade_s * 1000) + TEARDOWN_MARGIN_MS,
    );
    return true;
  }

  private destroy(chain: Chain): void {
    if (chain.teardown !== null) this.timers.clearTimeout(chain.teardown);
    chain.teardown = null;
    chain.onset?.cancel();
    chain.onset = null;
    this.fading.delete(chain);
    chain.source.disconnect();
    chain.gain.disconnect();
    chain.panner.disconnect();
    if (chain.element) {
      chain.element.pause();
      chain.element.srcObject = null;
    }
  }

  /** Update a remote voice's position; ignored if it has no active chain. */
  setRemotePose(participantId: string, position: Vec3, orientation?: Orientation): void {
    const chain = this.active.get(participantId);
    if (chain) setPannerPose(chain.panner, position, orientation, this.ctx.currentTime, false);
  }

  setListenerPose(pose: ListenerPose, immediate = false): void {
    setListenerPose(
      this.ctx.listener,
      pose.position,
      pose.orientation,
      this.ctx.currentTime,
      immediate,
    );
  }

  /** Master voice volume (linear), ramped over the fade time. */
  setMasterVolume(volume: number): void {
    const g = this.master.gain;
    const now = this.ctx.currentTime;
    g.cancelScheduledValues(now);
    g.setValueAtTime(g.value, now);
    g.linearRampToValueAtTime(Math.max(0, volume), now + this.fade_s);
  }

  /** Tear everything down at once (no fades): the graph is unusable after. */
  dispose(): void {
    for (const chain of Array.from(this.active.values())) this.destroy(chain);
    this.active.clear();
    for (const chain of Array.from(this.fading)) this.destroy(chain);
    this.master.disconnect();
  }
}
