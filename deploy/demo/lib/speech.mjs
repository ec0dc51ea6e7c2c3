// Bot voices: speech synthesised once at start with espeak-ng (Debian package
// espeak-ng, installed by deploy/install-deps.sh), resampled to the bots'
// 48 kHz and looped with pauses; or a plain sine when speech is off or
// espeak-ng is missing. Both are generators of 10 ms Int16 frames, the unit
// tests/bots/lib/bot.mjs pushes into LiveKit.
import { execFile } from 'node:child_process';
import { FRAME_SAMPLES, SAMPLE_RATE, sineGenerator } from '../../../tests/bots/lib/audio.mjs';

const MAX_WAV_BYTES = 8 * 1024 * 1024;
const PAUSE_MS = 1800;
const PEAK = 0.45 * 32767;

const PHRASES = [
  'Hello! Can you hear me? Walk a little closer.',
  'I am wandering around the plaza. Nice weather for a game.',
  'If you walk away more than twenty six metres, I disappear.',
  'This voice comes from a bot on the LiveKit server.',
];
const VARIANTS = ['m3', 'f2', 'm1', 'f4', 'm7', 'f1', 'm5', 'f3'];

/** Parses a 16-bit PCM mono WAV (espeak-ng --stdout declares a huge data size). Returns { rate, samples }. */
export function parseWav(buf) {
  if (
    buf.length < 12 ||
    buf.toString('latin1', 0, 4) !== 'RIFF' ||
    buf.toString('latin1', 8, 12) !== 'WAVE'
  )
    throw new Error('not a WAV file');
  let off = 12;
  let rate = 0;
  let channels = 0;
  let bits = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (channels !== 1 || bits !== 16)
        throw new Error(`WAV must be 16-bit mono (got ${channels} ch, ${bits} bit)`);
      const end = Math.min(buf.length, body + size) & ~1;
      const samples = new Int16Array((end - body) / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return { rate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV without data chunk');
}

/** Linear-interpolation resampling to SAMPLE_RATE, normalised to PEAK. */
export function resample(samples, rate) {
  const n = Math.floor((samples.length * SAMPLE_RATE) / rate);
  const out = new Int16Array(n);
  let peak = 1;
  for (const s of samples) peak = Math.max(peak, Math.abs(s));
  const gain = PEAK / peak;
  for (let i = 0; i < n; i++) {
    const pos = (i * rate) / SAMPLE_RATE;
    const k = Math.floor(pos);
    const a = samples[k] ?? 0;
    const b = samples[k + 1] ?? a;
    out[i] = Math.round((a + (b - a) * (pos - k)) * gain);
  }
  return out;
}

function espeak(text, variant, pitch) {
  return new Promise((resolve, reject) => {
    execFile(
      'espeak-ng',
      ['--stdout', '-v', `en-us+${variant}`, '-s', '150', '-p', String(pitch), text],
      { encoding: 'buffer', maxBuffer: MAX_WAV_BYTES, timeout: 10000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
  });
}

/** Synthesises bot i's lines. Resolves to an array of Int16Array clips at SAMPLE_RATE. */
export async function synthesize(i, name) {
  const clips = [];
  for (let k = 0; k < PHRASES.length; k++) {
    const text = k === 0 ? `Hi, I am ${name}. ${PHRASES[0]}` : PHRASES[(k + i) % PHRASES.length];
    const { rate, samples } = parseWav(
      await espeak(text, VARIANTS[i % VARIANTS.length], 35 + ((i * 9) % 40)),
    );
    clips.push(resample(samples, rate));
  }
  return clips;
}

/** A frame generator that plays clips in turn with PAUSE_MS of silence between them. */
export function clipGenerator(clips, startOffsetMs = 0) {
  const pause = Math.round((PAUSE_MS * SAMPLE_RATE) / 1000);
  let clip = 0;
  let pos = -Math.round((startOffsetMs * SAMPLE_RATE) / 1000); // negative: still pausing
  return {
    next() {
      const out = new Int16Array(FRAME_SAMPLES);
      for (let n = 0; n < FRAME_SAMPLES; n++) {
        const c = clips[clip];
        if (pos >= 0 && pos < c.length) out[n] = c[pos];
        pos++;
        if (pos >= c.length) {
          clip = (clip + 1) % clips.length;
          pos = -pause;
        }
      }
      return out;
    },
  };
}

/** True if espeak-ng runs here. */
export function haveEspeak() {
  return new Promise((resolve) =>
    execFile('espeak-ng', ['--version'], { timeout: 5000 }, (err) => resolve(!err)),
  );
}

/** The frame generator of bot i: speech when asked and possible (else, logged, its sine). */
export async function voiceGenerator(mode, i, name, toneHz, log = () => {}) {
  if (mode === 'speech') {
    try {
      return clipGenerator(await synthesize(i, name), i * 900);
    } catch (e) {
      log('speech synthesis failed, using a tone', { bot: name, error: String(e.message ?? e) });
    }
  }
  return sineGenerator(toneHz);
}
