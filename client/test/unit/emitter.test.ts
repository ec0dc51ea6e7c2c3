import { describe, expect, it, vi } from 'vitest';
import { createEmitter } from '../../src/emitter';

type Events = { ping: [n: number]; other: [] };

describe('typed emitter', () => {
  it('delivers to listeners in order; off() during emit is safe (iterates a copy)', () => {
    const e = createEmitter<Events>();
    const seen: string[] = [];
    const b = (n: number) => seen.push(`b${n}`);
    const a = (n: number) => {
      seen.push(`a${n}`);
      e.off('ping', b);
      e.on('ping', (m) => seen.push(`c${m}`));
    };
    e.on('ping', a);
    e.on('ping', b);
    expect(e.emit('ping', 1)).toBe(2);
    expect(seen).toEqual(['a1', 'b1']);
    seen.length = 0;
    e.off('ping', a);
    e.emit('ping', 2);
    expect(seen).toEqual(['c2']);
    expect(e.emit('other')).toBe(0);
  });

  it('a throwing listener does not stop the others; the error surfaces asynchronously', async () => {
    const e = createEmitter<Events>();
    const thrown: unknown[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => {
      try {
        fn();
      } catch (x) {
        thrown.push(x);
      }
    });
    const after = vi.fn();
    e.on('ping', () => {
      throw new Error('host bug');
    });
    e.on('ping', after);
    e.emit('ping', 3);
    spy.mockRestore();
    expect(after).toHaveBeenCalledWith(3);
    expect(thrown).toHaveLength(1);
  });

  it('separate emitters share nothing', () => {
    const e1 = createEmitter<Events>();
    const e2 = createEmitter<Events>();
    const f = vi.fn();
    e1.on('ping', f);
    e2.emit('ping', 1);
    expect(f).not.toHaveBeenCalled();
  });
});
