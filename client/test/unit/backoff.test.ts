import { describe, expect, it } from 'vitest';
import { createBackoff } from '../../src/backoff';

describe('backoff', () => {
  it('grows exponentially from 250 ms and caps at 5000 ms (no jitter at r=1)', () => {
    const b = createBackoff({ random: () => 1 });
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000, 5000,
    ]);
  });

  it('jitters the upper half of each ceiling and never leaves 250..5000', () => {
    const b0 = createBackoff({ random: () => 0 });
    expect(Array.from({ length: 7 }, () => b0.next())).toEqual([
      250, 250, 500, 1000, 2000, 2500, 2500,
    ]);
    let seed = 12345;
    const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const b = createBackoff({ random: lcg });
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(250);
      expect(d).toBeLessThanOrEqual(5000);
      seen.add(d);
    }
    expect(seen.size).toBeGreaterThan(100); // really jittered
  });

  it('reset() starts over; attempts are counted', () => {
    const b = createBackoff({ random: () => 1 });
    b.next();
    b.next();
    expect(b.attempts).toBe(2);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(250);
  });

  it('clamps a misbehaving random source and rejects bad bounds', () => {
    const b = createBackoff({ random: () => 7 });
    expect(b.next()).toBe(250);
    expect(() => createBackoff({ min_ms: 0 })).toThrow(RangeError);
    expect(() => createBackoff({ min_ms: 10, max_ms: 5 })).toThrow(RangeError);
  });
});
