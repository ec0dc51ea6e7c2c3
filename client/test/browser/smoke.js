// Runs inside headless Chromium against the BUILT bundle (dist/index.js) on a
// real AudioContext. A local OscillatorNode -> MediaStreamAudioDestinationNode
// stream plays the part of a remote voice's MediaStreamTrack.
// window.pvSmoke() resolves to [{ name, ok, detail }].
import { createProximityVoiceClient, SpatialAudioGraph } from '/dist/index.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FACING_Z = { forward: { x: 0, y: 0, z: 1 }, up: { x: 0, y: 1, z: 0 } };

// Captures channel 0 (left) and 1 (right) of its input, block by block. An
// input with nothing actively connected arrives with zero channels: record
// that as silence, so the timeline has no holes.
const CAPTURE_WORKLET = `
class Capture extends AudioWorkletProcessor {
  constructor() { super(); this.on = false; this.port.onmessage = (e) => { this.on = e.data; }; }
  process(inputs) {
    if (!this.on) return true;
    const input = inputs[0];
    if (input && input.length > 0) {
      this.port.postMessage([input[0].slice(0), (input[1] || input[0]).slice(0)]);
    } else {
      this.port.postMessage([new Float32Array(128), new Float32Array(128)]);
    }
    return true;
  }
}
registerProcessor('pv-capture', Capture);`;

async function setup(pannerOpts) {
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const url = URL.createObjectURL(new Blob([CAPTURE_WORKLET], { type: 'application/javascript' }));
  await ctx.audioWorklet.addModule(url);
  const osc = ctx.createOscillator();
  osc.frequency.value = 440;
  const amp = ctx.createGain();
  amp.gain.value = 0.5;
  const streamDest = ctx.createMediaStreamDestination();
  osc.connect(amp).connect(streamDest);
  osc.start();
  const track = streamDest.stream.getAudioTracks()[0];
  // The graph's output goes to a capture node (and on to the speakers muted),
  // so what we measure is exactly the mixed voice output.
  const out = ctx.createGain();
  const capture = new AudioWorkletNode(ctx, 'pv-capture', {
    numberOfInputs: 1,
    numberOfOutputs: 1,
    channelCount: 2,
    channelCountMode: 'explicit',
  });
  const mute = ctx.createGain();
  mute.gain.value = 0;
  out.connect(capture).connect(mute).connect(ctx.destination);
  const graph = new SpatialAudioGraph(ctx, { output: out, panner: pannerOpts });
  graph.setListenerPose({ position: { x: 0, y: 0, z: 0 }, orientation: FACING_Z }, true);
  const chunks = [];
  capture.port.onmessage = (e) => chunks.push(e.data);
  const record = {
    start() {
      chunks.length = 0;
      capture.port.postMessage(true);
    },
    stop() {
      capture.port.postMessage(false);
      const n = chunks.reduce((a, c) => a + c[0].length, 0);
      const L = new Float32Array(n),
        R = new Float32Array(n);
      let o = 0;
      for (const [l, r] of chunks) {
        L.set(l, o);
        R.set(r, o);
        o += l.length;
      }
      return { L, R };
    },
  };
  return { ctx, graph, track, record };
}

function rms(a, from = 0, to = a.length) {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i] * a[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/* Envelope: sliding max of |x| over one 440 Hz period (110 samples at 48 kHz). */
function envelope(a, win = 110) {
  const env = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    let m = 0;
    for (let j = Math.max(0, i - win + 1); j <= i; j++) m = Math.max(m, Math.abs(a[j]));
    env[i] = m;
  }
  return env;
}

/* Largest sample-to-sample envelope change inside [from, to). */
function maxStep(env, from = 1, to = env.length) {
  let m = 0;
  for (let i = Math.max(1, from); i < Math.min(to, env.length); i++) {
    m = Math.max(m, Math.abs(env[i] - env[i - 1]));
  }
  return m;
}

async function checkFadeInAndLevel(results) {
  const { ctx, graph, track, record } = await setup({ panningModel: 'equalpower' }); // no HRTF tail: a cut shows as a step
  record.start();
  await sleep(150);
  graph.attach('remote', track, { x: 0, y: 0, z: 2 });
  await sleep(400);
  const { L } = record.stop();
  const sr = ctx.sampleRate;
  const before = rms(L, 0, Math.floor(0.1 * sr));
  const after = rms(L, L.length - Math.floor(0.1 * sr));
  results.push({
    name: 'silent before attach',
    ok: before < 1e-4,
    detail: `rms ${before.toExponential(2)}`,
  });
  results.push({
    name: 'level rises after fade-in',
    ok: after > 0.02,
    detail: `rms ${after.toFixed(4)}`,
  });
  // Steps are judged only around the ramp: a loaded machine can drop a
  // block of the MediaStream later on, which is not the graph's doing.
  const env = envelope(L);
  const peak = Math.max(...env.slice(env.length - 4800));
  const i1 = env.findIndex((v) => v > 0.01 * peak);
  const i90 = env.findIndex((v, i) => i > i1 && v >= 0.9 * peak);
  const margin = Math.floor(0.005 * sr);
  const step = maxStep(env, i1 - margin, i90 + margin) / Math.max(peak, 1e-9);
  results.push({
    name: 'fade-in has no step',
    ok: peak > 0 && i1 >= 0 && i90 > i1 && step < 0.1,
    detail: `max envelope step ${(step * 100).toFixed(1)}% of peak`,
  });
  const rise_ms = ((i90 - i1) / sr) * 1000;
  results.push({
    name: 'fade-in lasts 30..90 ms (1% -> 90%)',
    ok: i1 >= 0 && rise_ms >= 30 && rise_ms <= 90,
    detail: `${rise_ms.toFixed(1)} ms`,
  });
  graph.dispose();
  await ctx.close();
}

async function checkPanning(results, label, pannerOpts) {
  const { graph, track, record, ctx } = await setup(pannerOpts);
  graph.attach('remote', track, { x: 0, y: 0, z: 3 });
  await sleep(150);
  const measure = async (pos) => {
    graph.setRemotePose('remote', pos);
    await sleep(250);
    record.start();
    await sleep(200);
    const { L, R } = record.stop();
    return { l: rms(L), r: rms(R) };
  };
  const right = await measure({ x: 3, y: 0, z: 0 }); // +X is the listener's right (spec convention)
  const left = await measure({ x: -3, y: 0, z: 0 });
  const far = await measure({ x: 0, y: 0, z: 30 });
  const near = await measure({ x: 0, y: 0, z: 1.5 });
  results.push({
    name: `${label}: source at +X is louder on the right`,
    ok: right.r > 1.5 * right.l,
    detail: `L ${right.l.toFixed(4)} R ${right.r.toFixed(4)}`,
  });
  results.push({
    name: `${label}: source at -X is louder on the left`,
    ok: left.l > 1.5 * left.r,
    detail: `L ${left.l.toFixed(4)} R ${left.r.toFixed(4)}`,
  });
  const nearLevel = near.l + near.r,
    farLevel = far.l + far.r;
  results.push({
    name: `${label}: distance attenuates (inverse model)`,
    ok: nearLevel > 4 * farLevel,
    detail: `1.5 m ${nearLevel.toFixed(4)} vs 30 m ${farLevel.toFixed(4)}`,
  });
  graph.dispose();
  await ctx.close();
}

async function checkFadeOut(results) {
  const { ctx, graph, track, record } = await setup({ panningModel: 'equalpower' }); // no HRTF tail: a cut shows as a step
  graph.attach('remote', track, { x: 0, y: 0, z: 1 });
  await sleep(300);
  record.start();
  await sleep(100);
  graph.detach('remote');
  await sleep(300);
  const { L } = record.stop();
  const sr = ctx.sampleRate;
  const env = envelope(L);
  const peak = Math.max(...env.slice(0, Math.floor(0.09 * sr)));
  // How long the envelope takes from 90 % to 10 % of the peak: a 60 ms linear ramp gives ~48 ms.
  const i90 = env.findIndex((v, i) => i > 0.09 * sr && v < 0.9 * peak);
  const i10 = env.findIndex((v, i) => i > i90 && v < 0.1 * peak);
  const margin = Math.floor(0.005 * sr);
  const step = maxStep(env, i90 - margin, i10 + margin) / Math.max(peak, 1e-9);
  const fall_ms = ((i10 - i90) / sr) * 1000;
  const tail = rms(L, L.length - Math.floor(0.1 * sr));
  results.push({
    name: 'fade-out has no step',
    ok: peak > 0.02 && i90 > 0 && i10 > i90 && step < 0.1,
    detail: `max envelope step ${(step * 100).toFixed(1)}% of peak ${peak.toFixed(3)}`,
  });
  results.push({
    name: 'fade-out lasts 30..90 ms (90% -> 10%)',
    ok: i90 > 0 && i10 > i90 && fall_ms >= 30 && fall_ms <= 90,
    detail: `${fall_ms.toFixed(1)} ms`,
  });
  results.push({
    name: 'silent after teardown',
    ok: tail < 1e-4 && graph.fadingCount === 0,
    detail: `rms ${tail.toExponential(2)}, fading chains ${graph.fadingCount}`,
  });
  await ctx.close();
}

async function checkBundleApi(results) {
  const a = createProximityVoiceClient();
  const b = createProximityVoiceClient();
  const d = a.getDiagnostics();
  results.push({
    name: 'bundle loads with livekit-client as peer; clients are independent',
    ok: a !== b && d.connected === false && typeof a.setOutputDevice === 'function',
    detail: JSON.stringify(d),
  });
}

/*
 * Runs a real-time audio check up to 3 times and keeps the first attempt
 * whose checks all pass (else the last). On a machine shared with other
 * jobs the audio thread can underrun and drop a block; the graph itself is
 * deterministic, so a real regression fails every attempt. The number of
 * attempts used is shown in each detail.
 */
async function attempts(results, fn, max = 3) {
  for (let n = 1; n <= max; n++) {
    const got = [];
    await fn(got);
    if (got.every((r) => r.ok) || n === max) {
      for (const r of got) {
        results.push({ ...r, detail: `${r.detail}${n > 1 ? ` (attempt ${n})` : ''}` });
      }
      return;
    }
  }
}

window.pvSmoke = async () => {
  const results = [];
  const step = async (name, fn) => {
    try {
      await fn(results);
    } catch (e) {
      results.push({ name, ok: false, detail: String((e && e.stack) || e) });
    }
  };
  await step('bundle', checkBundleApi);
  await step('fade-in', (r) => attempts(r, checkFadeInAndLevel));
  await step('panning HRTF', (r) => attempts(r, (x) => checkPanning(x, 'HRTF (default)')));
  await step('panning equalpower', (r) =>
    attempts(r, (x) => checkPanning(x, 'equalpower', { panningModel: 'equalpower' })),
  );
  await step('fade-out', (r) => attempts(r, checkFadeOut));
  return results;
};
window.pvReady = true;
