/**
 * Onset gate for the fade-in. A new MediaStreamAudioSourceNode delivers its
 * first samples an unpredictable time after it is created (measured in
 * Chromium: 30 ms to over 100 ms for a local stream; a remote WebRTC track
 * also waits for packets and the media element). A fade-in scheduled at
 * attach time is then often over before any sound arrives, and a voice that
 * comes into range mid-word starts with a click. So the chain's gain stays at
 * 0 until an AnalyserNode on the source sees samples, and the ramp starts
 * then. If nothing arrives within ONSET_TIMEOUT_MS (the speaker is silent),
 * the ramp runs anyway: a later onset from silence does not click.
 */
import type { TimerHandle, Timers } from '../timers';

export const ONSET_POLL_MS = 10;
export const ONSET_TIMEOUT_MS = 1000;
/** About -80 dBFS: above the digital silence of a not-yet-flowing stream. */
export const ONSET_LEVEL_MIN = 1e-4;

export class OnsetWatch {
  private readonly analyser: AnalyserNode;
  private readonly buf: Float32Array<ArrayBuffer>;
  private timer: TimerHandle | null = null;
  private waited_ms = 0;

  constructor(
    ctx: BaseAudioContext,
    private readonly source: AudioNode,
    private readonly timers: Timers,
    private readonly onOnset: () => void,
  ) {
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 256;
    this.buf = new Float32Array(this.analyser.fftSize);
    source.connect(this.analyser);
    this.arm();
  }

  private arm(): void {
    this.timer = this.timers.setTimeout(() => this.poll(), ONSET_POLL_MS);
  }

  private poll(): void {
    this.timer = null;
    this.waited_ms += ONSET_POLL_MS;
    this.analyser.getFloatTimeDomainData(this.buf);
    let peak = 0;
    for (let i = 0; i < this.buf.length; i++) peak = Math.max(peak, Math.abs(this.buf[i]!));
    if (peak >= ONSET_LEVEL_MIN || this.waited_ms >= ONSET_TIMEOUT_MS) {
      this.cancel();
      this.onOnset();
    } else {
      this.arm();
    }
  }

  /** Stop watching (idempotent); the callback will not run. */
  cancel(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    try {
      this.source.disconnect(this.analyser);
    } catch {
      // already disconnected (the chain was torn down)
    }
  }
}
