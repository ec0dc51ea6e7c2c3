import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FADE_MS_DEFAULT, SpatialAudioGraph, TEARDOWN_MARGIN_MS } from '../../src/audio/graph';
import { ONSET_POLL_MS, ONSET_TIMEOUT_MS } from '../../src/audio/onset';
import {
  FakeAudioContext,
  fakeAudioDeps,
  type FakeGain,
  type FakePanner,
  type ParamEvent,
} from './fakes';

const track = (id: string) => ({ id, kind: 'audio' }) as unknown as MediaStreamTrack;

function setup(opts: { fade_ms?: number; legacyListener?: boolean } = {}) {
  const ctx = new FakeAudioContext({ legacyListener: opts.legacyListener });
  const audio = fakeAudioDeps();
  const graph = new SpatialAudioGraph(ctx as unknown as AudioContext, {
    ...audio,
    fade_ms: opts.fade_ms,
  });
  return { ctx, graph, audio, master: ctx.gains[0]! };
}

/** The per-chain gain node is the one created after the master. */
const chainGain = (ctx: FakeAudioContext, i: number) => ctx.gains[i + 1]!;
/** Panner 0 is the HRTF warm-up panner made by the constructor. */
const chainPanner = (ctx: FakeAudioContext, i: number) => ctx.panners[i + 1]!;
const ramps = (events: ParamEvent[]) => events.filter((e) => e.kind === 'ramp');

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('audio graph: chains', () => {
  it('wires source -> gain -> panner -> master -> destination with a muted element', () => {
    const { ctx, graph, audio, master } = setup();
    expect(master.outputs).toEqual([ctx.destination]);
    expect(graph.attach('p_1', track('t1'))).toBe(true);
    const src = ctx.sources[0]!;
    const gain = chainGain(ctx, 0);
    const panner = chainPanner(ctx, 0);
    expect(src.outputs).toEqual([gain, ctx.analysers[0]]); // + the onset analyser
    expect(gain.outputs).toEqual([panner]);
    expect(panner.outputs).toEqual([master]);
    expect(src.stream).toEqual({ tracks: [track('t1')] });
    const el = audio.elements[0]!;
    expect(el.muted).toBe(true);
    expect(el.playing).toBe(true);
    expect(el.srcObject).toBe(src.stream);
  });

  it('applies the panner defaults: inverse/1/75/1/360/360/1', () => {
    const { ctx, graph } = setup();
    graph.attach('p_1', track('t1'));
    const p = chainPanner(ctx, 0);
    expect([
      p.distanceModel,
      p.refDistance,
      p.maxDistance,
      p.rolloffFactor,
      p.coneInnerAngle,
      p.coneOuterAngle,
      p.coneOuterGain,
    ]).toEqual(['inverse', 1, 75, 1, 360, 360, 1]);
  });

  it('holds the gain at 0 until samples arrive, then fades in linearly over 40..80 ms', () => {
    const { ctx, graph } = setup();
    ctx.currentTime = 3;
    graph.attach('p_1', track('t1'));
    const ev = chainGain(ctx, 0).gain.events;
    expect(ev).toEqual([{ kind: 'set', value: 0, time: 3 }]);
    vi.advanceTimersByTime(5 * ONSET_POLL_MS); // stream not flowing yet
    expect(ramps(ev)).toEqual([]);
    ctx.currentTime = 3.2;
    ctx.analysers[0]!.level = 0.3; // first samples
    vi.advanceTimersByTime(ONSET_POLL_MS);
    expect(ev.slice(1)).toEqual([
      { kind: 'set', value: 0, time: 3.2 },
      { kind: 'ramp', value: 1, time: 3.2 + FADE_MS_DEFAULT / 1000 },
    ]);
    const fade_ms = (ramps(ev)[0]!.time - 3.2) * 1000;
    expect(fade_ms).toBeGreaterThanOrEqual(40);
    expect(fade_ms).toBeLessThanOrEqual(80);
    expect(ctx.sources[0]!.outputs).toHaveLength(1); // analyser detached after the onset
  });

  it('fades in anyway when nothing arrives within the onset timeout', () => {
    const { ctx, graph } = setup();
    graph.attach('p_1', track('t1'));
    vi.advanceTimersByTime(ONSET_TIMEOUT_MS - ONSET_POLL_MS);
    expect(ramps(chainGain(ctx, 0).gain.events)).toEqual([]);
    vi.advanceTimersByTime(ONSET_POLL_MS);
    expect(ramps(chainGain(ctx, 0).gain.events)).toHaveLength(1);
  });

  it('a voice detached before its onset never ramps up', () => {
    const { ctx, graph } = setup();
    graph.attach('p_1', track('t1'));
    graph.detach('p_1');
    ctx.analysers[0]!.level = 1;
    vi.advanceTimersByTime(ONSET_TIMEOUT_MS);
    const ev = chainGain(ctx, 0).gain.events;
    expect(ramps(ev).map((r) => r.value)).toEqual([0]);
    expect(ev.filter((e) => e.kind === 'set').map((e) => (e as { value: number }).value)).toEqual([
      0, 0,
    ]);
  });

  it('fades out over 40..80 ms from the current gain and tears down only after the ramp', () => {
    const { ctx, graph, audio, master } = setup();
    graph.attach('p_1', track('t1'));
    ctx.analysers[0]!.level = 0.5;
    vi.advanceTimersByTime(ONSET_POLL_MS); // fade-in scheduled at t=0
    ctx.currentTime = 10;
    expect(graph.detach('p_1')).toBe(true);
    const g: FakeGain = chainGain(ctx, 0);
    const out = g.gain.events.slice(3); // after the fade-in events
    expect(out[0]).toEqual({ kind: 'cancel', time: 10 });
    expect(out[1]).toEqual({ kind: 'set', value: 1, time: 10 }); // fade-in long finished
    expect(out[2]!.kind).toBe('ramp');
    expect(out[2]!).toMatchObject({ value: 0 });
    const fade_ms = ((out[2] as { time: number }).time - 10) * 1000;
    expect(fade_ms).toBeGreaterThanOrEqual(40);
    expect(fade_ms).toBeLessThanOrEqual(80);
    expect(graph.has('p_1')).toBe(false);
    expect(graph.fadingCount).toBe(1);
    // Still connected during the ramp...
    vi.advanceTimersByTime(FADE_MS_DEFAULT);
    expect(g.disconnected).toBe(false);
    expect(ctx.sources[0]!.disconnected).toBe(false);
    // ...and gone after it.
    vi.advanceTimersByTime(TEARDOWN_MARGIN_MS);
    expect(g.disconnected).toBe(true);
    expect(ctx.sources[0]!.disconnected).toBe(true);
    expect(chainPanner(ctx, 0).disconnected).toBe(true);
    expect(master.disconnected).toBe(false);
    expect(audio.elements[0]!.srcObject).toBeNull();
    expect(graph.fadingCount).toBe(0);
    expect(graph.detach('p_1')).toBe(false);
  });

  it('a detach during the fade-in starts the fade-out from the gain reached (no jump up)', () => {
    const { ctx, graph } = setup();
    graph.attach('p_1', track('t1'));
    ctx.currentTime = 1;
    ctx.analysers[0]!.level = 0.5;
    vi.advanceTimersByTime(ONSET_POLL_MS); // ramp 1.000 -> 1.060
    ctx.currentTime = 1.015; // a quarter of the way
    graph.detach('p_1');
    const ev = chainGain(ctx, 0).gain.events.slice(3);
    expect(ev[0]).toEqual({ kind: 'cancel', time: 1.015 });
    expect(ev[1]!.kind).toBe('set');
    expect((ev[1] as { value: number }).value).toBeCloseTo(0.25, 6);
    expect(ev[2]).toEqual({ kind: 'ramp', value: 0, time: 1.015 + FADE_MS_DEFAULT / 1000 });
    // never cancelAndHoldAtTime: Chromium holds a wrong value after a finished ramp
    expect(chainGain(ctx, 0).gain.events.some((e) => e.kind === 'hold')).toBe(false);
  });

  it('keeps one chain per remote; a new track replaces the old one with a fade', () => {
    const { ctx, graph } = setup();
    const t1 = track('t1');
    expect(graph.attach('p_1', t1)).toBe(true);
    expect(graph.attach('p_1', t1)).toBe(false); // same track: nothing new
    expect(ctx.sources).toHaveLength(1);
    const t2 = track('t2');
    expect(graph.attach('p_1', t2)).toBe(true);
    expect(graph.size).toBe(1);
    expect(graph.fadingCount).toBe(1);
    graph.attach('p_2', track('t3'));
    expect(graph.activeIds()).toEqual(['p_1', 'p_2']);
    vi.advanceTimersByTime(200);
    expect(graph.fadingCount).toBe(0);
    expect(ctx.sources[0]!.disconnected).toBe(true);
    expect(ctx.sources[1]!.disconnected).toBe(false);
  });

  it('clamps the fade to 40..80 ms', () => {
    for (const [asked, used] of [
      [5, 40],
      [500, 80],
      [50, 50],
    ] as const) {
      const { ctx, graph } = setup({ fade_ms: asked });
      graph.attach('p', track('t'));
      ctx.analysers[0]!.level = 1;
      vi.advanceTimersByTime(ONSET_POLL_MS);
      expect(Math.round(ramps(chainGain(ctx, 0).gain.events)[0]!.time * 1000)).toBe(used);
    }
  });

  it('dispose() disconnects everything at once', () => {
    const { ctx, graph, master } = setup();
    graph.attach('a', track('1'));
    graph.attach('b', track('2'));
    graph.detach('b');
    graph.dispose();
    expect(ctx.sources.every((s) => s.disconnected)).toBe(true);
    expect(master.disconnected).toBe(true);
    expect(graph.size + graph.fadingCount).toBe(0);
  });
});

describe('audio graph: HRTF warm-up', () => {
  it('creates one unused HRTF panner up front (Chromium loads HRTF data lazily), none for equalpower', () => {
    const { ctx } = setup();
    expect(ctx.panners.map((p) => [p.panningModel, p.outputs.length])).toEqual([['HRTF', 0]]);
    const eq = new FakeAudioContext();
    new SpatialAudioGraph(eq as unknown as AudioContext, {
      panner: { panningModel: 'equalpower' },
    });
    expect(eq.panners).toEqual([]);
  });
});

describe('audio graph: poses', () => {
  const pos = (p: FakePanner) => [p.positionX.last(), p.positionY.last(), p.positionZ.last()];

  it('positions a voice at attach, then smooths updates; X is mirrored for WebAudio', () => {
    const { ctx, graph } = setup();
    graph.attach('p_1', track('t'), { x: 3, y: 1.7, z: -2 });
    const p = chainPanner(ctx, 0);
    expect(pos(p)).toEqual([-3, 1.7, -2]);
    expect(p.positionX.events[0]!.kind).toBe('set');
    graph.setRemotePose(
      'p_1',
      { x: -1, y: 0, z: 4 },
      { forward: { x: 1, y: 0, z: 0 }, up: { x: 0, y: 1, z: 0 } },
    );
    expect(pos(p)).toEqual([1, 0, 4]);
    expect(p.positionX.events.at(-1)!.kind).toBe('target');
    expect([p.orientationX.last(), p.orientationY.last(), p.orientationZ.last()]).toEqual([
      -1, 0, 0,
    ]);
    graph.setRemotePose('nobody', { x: 1, y: 1, z: 1 }); // ignored
  });

  it('drives the AudioListener through AudioParams', () => {
    const { ctx, graph } = setup();
    graph.setListenerPose({
      position: { x: 1, y: 1.7, z: 2 },
      orientation: { forward: { x: 0, y: 0, z: 1 }, up: { x: 0, y: 1, z: 0 } },
    });
    const l = ctx.listener;
    expect([l.positionX!.last(), l.positionY!.last(), l.positionZ!.last()]).toEqual([-1, 1.7, 2]);
    expect([l.forwardX!.last(), l.forwardY!.last(), l.forwardZ!.last()]).toEqual([-0, 0, 1]);
    expect([l.upX!.last(), l.upY!.last(), l.upZ!.last()]).toEqual([-0, 1, 0]);
  });

  it('falls back to setPosition/setOrientation without listener AudioParams', () => {
    const { ctx, graph } = setup({ legacyListener: true });
    graph.setListenerPose({
      position: { x: 1, y: 2, z: 3 },
      orientation: { forward: { x: 1, y: 0, z: 0 }, up: { x: 0, y: 1, z: 0 } },
    });
    expect(ctx.listener.calls).toEqual([
      ['setPosition', -1, 2, 3],
      ['setOrientation', -1, 0, 0, -0, 1, 0],
    ]);
  });
});
