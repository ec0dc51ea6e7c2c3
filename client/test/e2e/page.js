// Page side of the daemon e2e test (driven by run.mjs): one player of a real
// game. The host AudioContext's destination is replaced by a tap, and a
// detector measures, every 25 ms, the amplitude of each watched tone in what
// the client's voice mix outputs (Goertzel with a Blackman-Harris window over
// the last 2048 samples, max of left and right). It logs every hear/silent
// transition with its Date.now() time so the driver can compute latencies
// against the time it posted a pose. The microphone is a tone generator (see
// init.mjs); each player's tone identifies it at every listener.
import { createLocalAudioTrack } from 'livekit-client';
import { createProximityVoiceClient } from '/dist/index.js';

const WINDOW = 2048;
const ON_AMPLITUDE = 0.002; // a voice at 30 m (inverse model) is ~0.007
const OFF_AMPLITUDE = 0.0005;
// A state flips after this many consecutive detections agree; the
// transition time is the first of them. Long enough to ride over the audio
// underruns of a loaded machine, short against a 2 s budget.
const ON_COUNT = 3;
const OFF_COUNT = 8;
const DETECT_MS = 30;
// Tones are 200 Hz apart (run.mjs); +-100 Hz is outside every tone's main
// lobe (Blackman-Harris over 2048 samples: -104 dB at 100 Hz).
const PROBE_HZ = 100;
const FACING_Z = { forward: { x: 0, y: 0, z: 1 }, up: { x: 0, y: 1, z: 0 } };

/** 4-term Blackman-Harris: sidelobes below -92 dB, so neighbouring tones do not leak. */
function blackmanHarris(n) {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = (2 * Math.PI * i) / (n - 1);
    w[i] = 0.35875 - 0.48829 * Math.cos(x) + 0.14128 * Math.cos(2 * x) - 0.01168 * Math.cos(3 * x);
  }
  return w;
}
const win = blackmanHarris(WINDOW);
const winGain = win.reduce((a, b) => a + b, 0) / 2;

/** Amplitude of the sinusoid at f Hz in buf (Goertzel on the windowed samples). */
function toneAmplitude(buf, f, sampleRate) {
  const coeff = 2 * Math.cos((2 * Math.PI * f) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < buf.length; i++) {
    const s = buf[i] * win[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coeff * s1 * s2)) / winGain;
}

window.pvEvents = []; // [name, ...args, Date.now()]
window.pvTransitions = []; // {f, on, t}

function startDetector(ctx, left, right, watch) {
  const bufL = new Float32Array(WINDOW);
  const bufR = new Float32Array(WINDOW);
  const tones = watch.map((f) => ({ f, on: false, count: 0, first: 0, amp: 0 }));
  window.pvLevels = () => Object.fromEntries(tones.map((t) => [t.f, t.amp]));
  window.pvHearing = () => tones.filter((t) => t.on).map((t) => t.f);
  setInterval(() => {
    const now = Date.now();
    left.getFloatTimeDomainData(bufL);
    right.getFloatTimeDomainData(bufR);
    const level = (f) =>
      Math.max(toneAmplitude(bufL, f, ctx.sampleRate), toneAmplitude(bufR, f, ctx.sampleRate));
    for (const t of tones) {
      t.amp = level(t.f);
      // Broadband energy (an underrun's click) is not a tone: compare with
      // the spectrum halfway to the neighbouring tones (only when it matters).
      const floor = () => Math.min(level(t.f - PROBE_HZ), level(t.f + PROBE_HZ));
      const flips = t.on
        ? t.amp < OFF_AMPLITUDE || t.amp < 1.5 * floor()
        : t.amp > ON_AMPLITUDE && t.amp > 4 * floor();
      if (!flips) {
        t.count = 0;
        continue;
      }
      if (t.count++ === 0) t.first = now;
      if (t.count >= (t.on ? OFF_COUNT : ON_COUNT)) {
        t.on = !t.on;
        t.count = 0;
        window.pvTransitions.push({ f: t.f, on: t.on, t: t.first });
      }
    }
  }, DETECT_MS);
}

/** Replaces ctx.destination by a tap with analysers (and an envelope recorder). */
async function tapOutput(ctx) {
  const tap = ctx.createGain();
  const split = ctx.createChannelSplitter(2);
  const left = ctx.createAnalyser();
  const right = ctx.createAnalyser();
  left.fftSize = right.fftSize = WINDOW;
  tap.connect(split);
  split.connect(left, 0);
  split.connect(right, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  tap.connect(mute).connect(ctx.destination);
  await ctx.audioWorklet.addModule('/test/e2e/envelope-worklet.js');
  const rec = new AudioWorkletNode(ctx, 'envelope-recorder', { numberOfOutputs: 0 });
  // connected only while recording: an idle worklet still costs a JS call per quantum
  window.pvEnvStart = () => {
    tap.connect(rec);
    rec.port.postMessage('start');
  };
  window.pvEnvStop = () =>
    new Promise((resolve) => {
      rec.port.onmessage = (e) => {
        tap.disconnect(rec);
        resolve(e.data);
      };
      rec.port.postMessage('stop');
    });
  Object.defineProperty(ctx, 'destination', { value: tap });
  return { left, right };
}

/*
 * Observation only (reads the client's internal LiveKit room, changes
 * nothing): LiveKit's connection state and subscription events with their
 * times, to explain diagnostics and where a transition's latency goes.
 */
function observeLiveKit(voice, log) {
  const room = voice.session?.room;
  if (!room) return;
  room.on('connectionStateChanged', (st) => log('livekit', st));
  room.on('localTrackPublished', () => log('published'));
  room.on('trackSubscribed', (_t, _pub, p) => log('subscribed', p.identity));
  room.on('trackUnsubscribed', (_t, _pub, p) => log('unsubscribed', p.identity));
  room.on('trackSubscriptionPermissionChanged', (_pub, st, p) => log('permission', p.identity, st));
}

/** Creates the client, connects it, enables the mic; returns its diagnostics. */
window.pvStart = async (config, watch, position) => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  window.pvCtx = ctx; // init.mjs's microphone generator shares it
  await ctx.resume();
  const { left, right } = await tapOutput(ctx);
  startDetector(ctx, left, right, watch);
  // A steady test tone: WebRTC's noise suppression would fade it within seconds.
  const voice = createProximityVoiceClient({
    createMicrophoneTrack: (deviceId) =>
      createLocalAudioTrack({
        deviceId,
        echoCancellation: false,
        noiseSuppression: false,
        autoGainControl: false,
      }),
  });
  window.voice = voice;
  const log = (...a) => window.pvEvents.push([...a, Date.now()]);
  voice.on('connected', () => log('connected'));
  voice.on('disconnected', (r) => log('disconnected', r));
  voice.on('participant-speaking', (id, s) => log('speaking', id, s));
  voice.on('error', (e) => log('error', e.code ?? e.name, e.message));
  voice.setListenerPose({ position, orientation: FACING_Z });
  // PV_E2E_PANNING (run.mjs): profiling only; the client's default is HRTF
  const panner = window.pvPanning ? { panningModel: window.pvPanning } : undefined;
  const connecting = voice.connect({ ...config, audioContext: ctx, panner });
  observeLiveKit(voice, log);
  await connecting;
  await voice.setMicState({ enabled: true });
  return voice.getDiagnostics();
};

/** Moves the listener (what the game client does for its own player). */
window.pvMove = (position) => window.voice.setListenerPose({ position, orientation: FACING_Z });

window.pvReady = true;
