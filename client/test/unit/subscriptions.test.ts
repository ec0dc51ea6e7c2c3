import { describe, expect, it } from 'vitest';
import { diffSubscriptions, selectAudible } from '../../src/subscriptions';
import type { Vec3 } from '../../src/types';

const at = (x: number, z = 0): Vec3 => ({ x, y: 0, z });
const origin = at(0);

describe('subscription diff', () => {
  it('puts every unsubscribe before any subscribe', () => {
    const ops = diffSubscriptions(['a', 'b', 'c'], ['c', 'd', 'e', 'a0']);
    expect(ops).toEqual([
      { op: 'unsubscribe', participantId: 'a' },
      { op: 'unsubscribe', participantId: 'b' },
      { op: 'subscribe', participantId: 'a0' },
      { op: 'subscribe', participantId: 'd' },
      { op: 'subscribe', participantId: 'e' },
    ]);
    const firstSub = ops.findIndex((o) => o.op === 'subscribe');
    expect(ops.slice(firstSub).every((o) => o.op === 'subscribe')).toBe(true);
  });

  it('is empty for equal sets and handles empty sides', () => {
    expect(diffSubscriptions(['a', 'b'], ['b', 'a'])).toEqual([]);
    expect(diffSubscriptions([], ['x']).map((o) => o.op)).toEqual(['subscribe']);
    expect(diffSubscriptions(['x'], []).map((o) => o.op)).toEqual(['unsubscribe']);
  });
});

describe('audible selection and cap', () => {
  it('keeps everyone when under the cap, sorted by id, without duplicates', () => {
    expect(
      selectAudible({
        canHear: ['c', 'a', 'b', 'a'],
        positions: new Map(),
        listener: null,
        cap: 12,
      }),
    ).toEqual(['a', 'b', 'c']);
  });

  it('above the cap keeps the nearest by latest pose', () => {
    const positions = new Map([
      ['far', at(50)],
      ['near', at(1)],
      ['mid', at(10)],
      ['mid2', at(0, -11)],
    ]);
    expect(
      selectAudible({
        canHear: ['far', 'near', 'mid', 'mid2'],
        positions,
        listener: origin,
        cap: 2,
      }),
    ).toEqual(['mid', 'near']);
    // The listener moves next to "far": the choice follows.
    expect(
      selectAudible({
        canHear: ['far', 'near', 'mid', 'mid2'],
        positions,
        listener: at(49),
        cap: 2,
      }),
    ).toEqual(['far', 'mid']);
  });

  it('without pose data is stable by participant id', () => {
    const canHear = ['p_9', 'p_3', 'p_7', 'p_1', 'p_5'];
    expect(selectAudible({ canHear, positions: new Map(), listener: origin, cap: 3 })).toEqual([
      'p_1',
      'p_3',
      'p_5',
    ]);
    // Input order does not matter.
    expect(
      selectAudible({
        canHear: canHear.slice().reverse(),
        positions: new Map(),
        listener: origin,
        cap: 3,
      }),
    ).toEqual(['p_1', 'p_3', 'p_5']);
    // Unknown listener pose: poses cannot rank, ids do.
    const positions = new Map([['p_9', at(1)]]);
    expect(selectAudible({ canHear, positions, listener: null, cap: 2 })).toEqual(['p_1', 'p_3']);
  });

  it('ranks posed participants first, then the rest by id; ties by id', () => {
    const positions = new Map([
      ['z', at(5)],
      ['y', at(-5)],
    ]);
    expect(
      selectAudible({ canHear: ['a', 'b', 'y', 'z'], positions, listener: origin, cap: 3 }),
    ).toEqual(['a', 'y', 'z']);
    expect(
      selectAudible({ canHear: ['a', 'b', 'y', 'z'], positions, listener: origin, cap: 1 }),
    ).toEqual(['y']);
  });

  it('never expands beyond policy', () => {
    const positions = new Map([
      ['outsider', at(0.1)],
      ['in1', at(30)],
      ['in2', at(40)],
    ]);
    const out = selectAudible({ canHear: ['in1', 'in2'], positions, listener: origin, cap: 12 });
    expect(out).toEqual(['in1', 'in2']);
    for (let cap = 0; cap <= 3; cap++) {
      const sel = selectAudible({ canHear: ['in1', 'in2'], positions, listener: origin, cap });
      expect(sel.every((id) => ['in1', 'in2'].includes(id))).toBe(true);
      expect(sel.length).toBe(Math.min(cap, 2));
    }
  });

  it('excludes myself and host-removed participants (narrowing only)', () => {
    expect(
      selectAudible({
        canHear: ['me', 'a', 'gone'],
        positions: new Map(),
        listener: null,
        cap: 12,
        exclude: new Set(['me', 'gone']),
      }),
    ).toEqual(['a']);
  });
});
