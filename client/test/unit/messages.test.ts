import { describe, expect, it } from 'vitest';
import { FRAME_BYTES_MAX, ID_LIST_MAX, parseServerMessage } from '../../src/policy/messages';

const ok = (o: unknown) => {
  const r = parseServerMessage(JSON.stringify(o));
  if (!r.ok) throw new Error(r.why);
  return r.msg;
};
const bad = (o: unknown) => parseServerMessage(typeof o === 'string' ? o : JSON.stringify(o)).ok;

describe('server message parser', () => {
  it('parses the spec examples', () => {
    expect(
      ok({
        type: 'policy.snapshot',
        roomId: 'room_alpha',
        participantId: 'p_123',
        revision: 44,
        canHear: ['p_205', 'p_101'],
      }),
    ).toEqual({
      type: 'policy.snapshot',
      roomId: 'room_alpha',
      participantId: 'p_123',
      revision: 44,
      canHear: ['p_101', 'p_205'],
    });
    expect(
      ok({
        type: 'policy.audibility.delta',
        roomId: 'r',
        revision: 45,
        previousRevision: 44,
        canHear: ['b', 'a', 'b'],
      }),
    ).toMatchObject({ revision: 45, previousRevision: 44, canHear: ['a', 'b'] });
    expect(ok({ type: 'policy.audience', roomId: 'r', revision: 3, audience: [] })).toMatchObject({
      audience: [],
    });
    expect(
      ok({
        type: 'policy.pose.batch',
        roomId: 'room_alpha',
        timestampMs: 1760000002000,
        poses: [
          {
            participantId: 'p_205',
            position: { x: 5, y: 2, z: 3 },
            orientation: { forward: { x: 1, y: 0, z: 0 }, up: { x: 0, y: 1, z: 0 } },
          },
        ],
      }),
    ).toMatchObject({ poses: [{ participantId: 'p_205', position: { x: 5, y: 2, z: 3 } }] });
    expect(ok({ type: 'policy.error', code: 'UNAUTHORIZED', message: 'x' })).toEqual({
      type: 'policy.error',
      code: 'UNAUTHORIZED',
      message: 'x',
    });
  });

  it('rejects wrong shapes, bad ids, unsafe revisions and oversize input', () => {
    expect(bad('nope')).toBe(false);
    expect(bad([1])).toBe(false);
    expect(bad({ type: 'policy.unknown', roomId: 'r' })).toBe(false);
    expect(
      bad({ type: 'policy.snapshot', roomId: 'r', participantId: 'p', revision: 1.5, canHear: [] }),
    ).toBe(false);
    expect(
      bad({
        type: 'policy.snapshot',
        roomId: 'r',
        participantId: 'p',
        revision: 2 ** 60,
        canHear: [],
      }),
    ).toBe(false);
    expect(
      bad({ type: 'policy.snapshot', roomId: 'r', participantId: 'p', revision: 1, canHear: [''] }),
    ).toBe(false);
    expect(
      bad({
        type: 'policy.snapshot',
        roomId: 'r',
        participantId: 'p',
        revision: 1,
        canHear: ['x'.repeat(65)],
      }),
    ).toBe(false);
    expect(
      bad({ type: 'policy.snapshot', roomId: 'r', participantId: 'p', revision: 1, canHear: [7] }),
    ).toBe(false);
    expect(bad({ type: 'policy.audibility.delta', roomId: 'r', revision: 2, canHear: [] })).toBe(
      false,
    ); // no previousRevision
    expect(bad({ type: 'policy.audience', roomId: 'r s', revision: 2, audience: [] })).toBe(false);
    expect(
      bad({
        type: 'policy.pose.batch',
        roomId: 'r',
        timestampMs: 1,
        poses: [{ participantId: 'a', position: { x: 1, y: 2 } }],
      }),
    ).toBe(false);
    expect(
      bad({
        type: 'policy.audience',
        roomId: 'r',
        revision: 2,
        audience: Array.from({ length: ID_LIST_MAX + 1 }, (_, i) => `p${i}`),
      }),
    ).toBe(false);
    expect(parseServerMessage(' '.repeat(FRAME_BYTES_MAX + 1)).ok).toBe(false);
  });
});
