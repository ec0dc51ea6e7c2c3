/**
 * Audio output device selection. Where AudioContext.setSinkId exists
 * (Chrome 110+), the context itself is moved. Elsewhere the master gain is
 * re-routed once through a MediaStreamAudioDestinationNode into an unmuted
 * media element whose setSinkId picks the device (Firefox, Safari).
 */
import { ProximityVoiceError } from '../errors';
import type { MediaElementLike, SpatialAudioGraph } from './graph';

type SinkElement = MediaElementLike & { setSinkId?: (id: string) => Promise<void> };
type SinkContext = { setSinkId?: (id: string) => Promise<void> };

export class OutputRouter {
  private element: SinkElement | null = null;

  constructor(
    private readonly graph: SpatialAudioGraph,
    private readonly createElement: () => SinkElement | null = () =>
      typeof document === 'undefined' ? null : document.createElement('audio'),
  ) {}

  /** Resolves once the device is in use; rejects with code AUDIO if unsupported. */
  async setDevice(deviceId: string): Promise<void> {
    const ctx = this.graph.ctx as unknown as SinkContext;
    if (typeof ctx.setSinkId === 'function') {
      await ctx.setSinkId(deviceId);
      return;
    }
    if (this.element) {
      await this.element.setSinkId!(deviceId);
      return;
    }
    const el = this.createElement();
    if (!el || typeof el.setSinkId !== 'function') {
      throw new ProximityVoiceError('AUDIO', 'audio output selection is not supported here', false);
    }
    // Pick the device first: if that fails, the routing stays as it was.
    await el.setSinkId(deviceId);
    const dest = (this.graph.ctx as AudioContext).createMediaStreamDestination();
    this.graph.setOutput(dest);
    el.srcObject = dest.stream;
    el.play().catch(() => undefined);
    this.element = el;
  }

  dispose(): void {
    if (!this.element) return;
    this.element.pause();
    this.element.srcObject = null;
    this.element = null;
  }
}
