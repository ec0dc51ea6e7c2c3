// Page side of the real-LiveKit test (driven by livekit-e2e.mjs): one player.
// The host AudioContext's destination is replaced by a tap so the test can
// measure exactly what the client's voice mix outputs (left and right).
import { createLocalAudioTrack } from 'livekit-client';
import { createProximityVoiceClient } from '/dist/index.js';

const FACING_Z = { forward: { x: 0, y: 0, z: 1 }, up: { x: 0, y: 1, z: 0 } };

window.pvStart = async (config) => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const tap = ctx.createGain();
  const split = ctx.createChannelSplitter(2);
  const left = ctx.createAnalyser();
  const right = ctx.createAnalyser();
  left.fftSize = right.fftSize = 4096;
  tap.connect(split);
  split.connect(left, 0);
  split.connect(right, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  tap.connect(mute).connect(ctx.destination);
  Object.defineProperty(ctx, 'destination', { value: tap });
  const buf = new Float32Array(4096);
  const rms = (a) => {
    a.getFloatTimeDomainData(buf);
    let s = 0;
    for (const v of buf) s += v * v;
    return Math.sqrt(s / buf.length);
  };
  window.pvLevel = () => ({ l: rms(left), r: rms(right) });
  // The test microphone is a steady tone: WebRTC noise suppression would fade
  // it out within seconds, so this player opens it without voice processing.
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
  window.pvEvents = [];
  voice.on('connected', () => pvEvents.push(['connected']));
  voice.on('disconnected', (r) => pvEvents.push(['disconnected', r]));
  voice.on('participant-speaking', (id, s) => pvEvents.push(['speaking', id, s]));
  voice.on('error', (e) => pvEvents.push(['error', e.code ?? e.name, e.message]));
  voice.setListenerPose({ position: { x: 0, y: 0, z: 0 }, orientation: FACING_Z });
  await voice.connect({ ...config, audioContext: ctx });
  await voice.setMicState({ enabled: true });
  return voice.getDiagnostics();
};
window.pvReady = true;
