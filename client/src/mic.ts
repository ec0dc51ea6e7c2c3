/**
 * Microphone state rules, pure. The track is published once at connect and
 * then only muted/unmuted, so push-to-talk has no renegotiation delay.
 */
import type { MicState } from './types';

/** Default: nothing transmits until the host enables the microphone. */
export const DEFAULT_MIC_STATE: MicState = {
  enabled: false,
  pushToTalk: false,
  pushToTalkActive: false,
};

/** Returns true when the microphone should transmit. */
export function micTransmits(s: MicState): boolean {
  return s.enabled && (!s.pushToTalk || s.pushToTalkActive);
}

/** Returns the merged state; throws TypeError on a non-boolean field. */
export function mergeMicState(cur: MicState, next: Partial<MicState>): MicState {
  const out = { ...cur };
  for (const key of ['enabled', 'pushToTalk', 'pushToTalkActive'] as const) {
    const v = next[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new TypeError(`setMicState: ${key} must be a boolean`);
    out[key] = v;
  }
  return out;
}
