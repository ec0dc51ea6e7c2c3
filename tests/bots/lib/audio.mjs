// Tone generation and the two measurements a bot makes on received audio:
// RMS level and which known tone dominates (Goertzel). "A hears B" is then
// proven by B's own frequency arriving, not by a subscription flag.

export const SAMPLE_RATE = 48000;
export const FRAME_MS = 10;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
export const TONE_AMPLITUDE = 0.3 * 32767;
/** A frame counts as audible when its RMS (int16 scale) exceeds this. The
 * published tone's RMS is TONE_AMPLITUDE/sqrt(2) ~ 6950; Opus/NetEq comfort
 * noise and fade-out stay far below 300. */
export const AUDIBLE_RMS = 300;

/** Tone frequency of bot number i (distinct per bot; never harmonics of one another below 1 kHz). */
export function toneHz(i) {
  return 300 + 40 * i;
}

/** Returns a generator object: next() -> Int16Array of FRAME_SAMPLES mono samples of a continuous sine. */
export function sineGenerator(hz) {
  let phase = 0;
  const step = (2 * Math.PI * hz) / SAMPLE_RATE;
  return {
    next() {
      const out = new Int16Array(FRAME_SAMPLES);
      for (let n = 0; n < FRAME_SAMPLES; n++) {
        out[n] = Math.round(TONE_AMPLITUDE * Math.sin(phase));
        phase += step;
        if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
      }
      return out;
    },
  };
}

/** Root mean square of int16 samples (int16 scale). */
export function rms(samples) {
  let acc = 0;
  for (let n = 0; n < samples.length; n++) acc += samples[n] * samples[n];
  return samples.length ? Math.sqrt(acc / samples.length) : 0;
}

/** Goertzel power of samples at hz (sampleRate in Hz). */
export function goertzel(samples, hz, sampleRate = SAMPLE_RATE) {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let n = 0; n < samples.length; n++) {
    const s0 = samples[n] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** The frequency among candidatesHz with the most Goertzel power, or null if none. */
export function dominantTone(samples, candidatesHz, sampleRate = SAMPLE_RATE) {
  let best = null;
  let bestPower = -1;
  for (const hz of candidatesHz) {
    const p = goertzel(samples, hz, sampleRate);
    if (p > bestPower) {
      bestPower = p;
      best = hz;
    }
  }
  return best;
}
