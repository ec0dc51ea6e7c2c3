// What the player actually hears, measured: the client's whole voice mix
// goes through a tap in front of the speakers; an AnalyserNode reads it and
// a Goertzel filter per bot tone tells which bots are audible (each tone bot
// has its own frequency). Used for the level bars and by the browser tests.

const FFT_SIZE = 8192; // 170 ms at 48 kHz: 5.9 Hz bins; bot tones are 110 Hz apart
// A real tone stands out from the spectrum 35 Hz beside it (6 bins: the Hann
// window's own leakage is < -60 dB there); a click or dropout raises both.
const SIDE_HZ = 35;

/**
 * Creates an AudioContext whose `destination` is a tap that still plays to
 * the real speakers. Returns { ctx, measure(tonesHz) }.
 */
export function createTappedContext() {
  const ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
  const tap = ctx.createGain();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = FFT_SIZE;
  analyser.smoothingTimeConstant = 0;
  tap.connect(ctx.destination);
  tap.connect(analyser);
  // The client connects its master gain to ctx.destination: hand it the tap.
  Object.defineProperty(ctx, 'destination', { value: tap });
  const buf = new Float32Array(FFT_SIZE);
  const hann = new Float32Array(FFT_SIZE);
  for (let n = 0; n < FFT_SIZE; n++)
    hann[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (FFT_SIZE - 1));
  /**
   * tonesHz: Map id -> Hz. Returns { rms, tones: { id: amplitude }, tonality: { id: ratio } }:
   * amplitudes in full scale (0..1); tonality = amplitude / the mean amplitude
   * SIDE_HZ below and above (a steady tone: >> 1; broadband noise: ~1).
   */
  function measure(tonesHz) {
    analyser.getFloatTimeDomainData(buf);
    let sq = 0;
    for (let n = 0; n < FFT_SIZE; n++) {
      sq += buf[n] * buf[n];
      buf[n] *= hann[n];
    }
    const tones = {};
    const tonality = {};
    for (const [id, hz] of tonesHz) {
      const a = goertzelAmplitude(buf, hz, ctx.sampleRate);
      const side =
        (goertzelAmplitude(buf, hz - SIDE_HZ, ctx.sampleRate) +
          goertzelAmplitude(buf, hz + SIDE_HZ, ctx.sampleRate)) /
        2;
      tones[id] = a;
      tonality[id] = a / Math.max(1e-9, side);
    }
    return { rms: Math.sqrt(sq / FFT_SIZE), tones, tonality };
  }
  return { ctx, measure };
}

/** Amplitude of a sine at hz in Hann-windowed samples (the window's coherent gain is 0.5). */
export function goertzelAmplitude(samples, hz, sampleRate) {
  const w = (2 * Math.PI * hz) / sampleRate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let n = 0; n < samples.length; n++) {
    const s0 = samples[n] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / (samples.length * 0.5);
}
