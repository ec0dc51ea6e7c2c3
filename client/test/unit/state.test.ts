import { describe, expect, it } from 'vitest';
import type { AudienceMessage, DeltaMessage, SnapshotMessage } from '../../src/policy/messages';
import {
  HELD_DELTAS_MAX,
  initialPolicyState,
  policyReduce,
  type PolicyEffect,
  type PolicyState,
} from '../../src/policy/state';

const ROOM = 'room_alpha';
const ME = 'p_123';

const snap = (revision: number, canHear: string[]): SnapshotMessage => ({
  type: 'policy.snapshot',
  roomId: ROOM,
  participantId: ME,
  revision,
  canHear,
});
const delta = (revision: number, previousRevision: number, canHear: string[]): DeltaMessage => ({
  type: 'policy.audibility.delta',
  roomId: ROOM,
  revision,
  previousRevision,
  canHear,
});
const aud = (revision: number, audience: string[]): AudienceMessage => ({
  type: 'policy.audience',
  roomId: ROOM,
  revision,
  audience,
});

/** Runs messages through the reducer, collecting every effect. */
function run(
  state: PolicyState,
  ...msgs: (SnapshotMessage | DeltaMessage | AudienceMessage | 'auth' | 'timeout')[]
) {
  const effects: PolicyEffect[] = [];
  for (const m of msgs) {
    const input =
      m === 'auth'
        ? { kind: 'authenticated' as const }
        : m === 'timeout'
          ? { kind: 'snapshot-timeout' as const }
          : { kind: 'message' as const, msg: m };
    const out = policyReduce(state, input);
    state = out.state;
    effects.push(...out.effects);
  }
  return { state, effects };
}

const fresh = () => run(initialPolicyState(ROOM, ME), 'auth').state;
const canHearOf = (effects: PolicyEffect[]) =>
  effects
    .filter((e) => e.kind === 'can-hear')
    .map((e) => e as { revision: number; canHear: readonly string[] });
const requests = (effects: PolicyEffect[]) => effects.filter((e) => e.kind === 'request-snapshot');

describe('policy revision rules', () => {
  it('applies the first snapshot after auth and chained deltas in order', () => {
    const { state, effects } = run(
      fresh(),
      snap(44, ['p_101', 'p_205']),
      delta(45, 44, ['p_205', 'p_333']),
    );
    expect(state.revision).toBe(45);
    expect(state.canHear).toEqual(['p_205', 'p_333']);
    expect(state.awaiting).toBeNull();
    expect(canHearOf(effects).map((e) => e.revision)).toEqual([44, 45]);
    expect(requests(effects)).toEqual([]);
  });

  it('ignores stale deltas (revision <= local) and never goes backwards', () => {
    const { state, effects } = run(
      fresh(),
      snap(10, ['a']),
      delta(11, 10, ['b']),
      delta(11, 10, ['x']), // duplicate
      delta(9, 8, ['y']), // older
      delta(12, 11, ['c']),
    );
    expect(state.revision).toBe(12);
    expect(state.canHear).toEqual(['c']);
    expect(canHearOf(effects).map((e) => e.revision)).toEqual([10, 11, 12]);
    expect(effects.filter((e) => e.kind === 'ignored')).toHaveLength(2);
  });

  it('on a gap requests a snapshot and holds deltas until it arrives', () => {
    let { state, effects } = run(fresh(), snap(47, ['a']), delta(50, 49, ['b']));
    expect(requests(effects)).toEqual([
      { kind: 'request-snapshot', lastAppliedRevision: 47, reason: 'revision_gap' },
    ]);
    expect(state.awaiting).toBe('gap');
    expect(state.canHear).toEqual(['a']); // nothing newer applied yet
    // A delta that would chain onto 50 is held too: nothing is applied before the snapshot.
    ({ state, effects } = run(state, delta(51, 50, ['c'])));
    expect(effects).toEqual([]);
    expect(state.revision).toBe(47);
    expect(state.held.map((d) => d.revision)).toEqual([50, 51]);
    // Snapshot at 50: held 50 is stale, 51 chains and is replayed.
    ({ state, effects } = run(state, snap(50, ['b'])));
    expect(state.revision).toBe(51);
    expect(state.canHear).toEqual(['c']);
    expect(state.awaiting).toBeNull();
    expect(state.held).toEqual([]);
    expect(canHearOf(effects)).toEqual([{ kind: 'can-hear', revision: 51, canHear: ['c'] }]);
  });

  it('asks again when held deltas still do not chain onto the snapshot', () => {
    let { state } = run(fresh(), snap(1, []), delta(5, 4, ['x']), delta(9, 8, ['y']));
    const out = run(state, snap(5, ['x']));
    state = out.state;
    expect(state.revision).toBe(5);
    expect(state.awaiting).toBe('gap');
    expect(state.held.map((d) => d.revision)).toEqual([9]);
    expect(requests(out.effects)).toEqual([
      { kind: 'request-snapshot', lastAppliedRevision: 5, reason: 'revision_gap' },
    ]);
    expect(canHearOf(out.effects).at(-1)?.canHear).toEqual(['x']);
  });

  it('holds deltas that arrive before the first snapshot after auth', () => {
    const { state, effects } = run(fresh(), delta(8, 7, ['q']), snap(7, ['p']));
    expect(state.revision).toBe(8);
    expect(state.canHear).toEqual(['q']);
    expect(canHearOf(effects)).toHaveLength(1);
  });

  it('applies the first snapshot after a re-auth even at a lower revision (server restart)', () => {
    let { state } = run(fresh(), snap(100, ['a']));
    ({ state } = run(state, 'auth', snap(3, ['z'])));
    expect(state.revision).toBe(3);
    expect(state.canHear).toEqual(['z']);
  });

  it('ignores a stale snapshot while waiting, and a later snapshot below local', () => {
    let { state, effects } = run(fresh(), snap(20, ['a']), delta(25, 24, ['b']), snap(19, ['old']));
    expect(state.revision).toBe(20);
    expect(state.awaiting).toBe('gap');
    expect(effects.some((e) => e.kind === 'ignored')).toBe(true);
    ({ state, effects } = run(state, snap(24, ['b0'])));
    expect(state.revision).toBe(25);
    ({ state, effects } = run(state, snap(21, ['old'])));
    expect(state.revision).toBe(25);
    expect(canHearOf(effects)).toEqual([]);
  });

  it('snapshot timeout re-requests: reason reconnect after auth, stale after a gap', () => {
    let { effects } = run(fresh(), 'timeout');
    expect(requests(effects)).toEqual([
      { kind: 'request-snapshot', lastAppliedRevision: 0, reason: 'reconnect' },
    ]);
    const gap = run(fresh(), snap(3, []), delta(6, 5, []));
    ({ effects } = run(gap.state, 'timeout'));
    expect(requests(effects)).toEqual([
      { kind: 'request-snapshot', lastAppliedRevision: 3, reason: 'stale' },
    ]);
    const synced = run(fresh(), snap(3, []));
    ({ effects } = run(synced.state, 'timeout'));
    expect(effects).toEqual([]);
  });

  it('bounds the held deltas', () => {
    let { state } = run(fresh());
    for (let r = 1; r <= HELD_DELTAS_MAX + 10; r++) state = run(state, delta(r, r - 1, [])).state;
    expect(state.held).toHaveLength(HELD_DELTAS_MAX);
    expect(state.held[0]!.revision).toBe(11);
  });

  it('rejects messages for another room or participant', () => {
    const { state, effects } = run(
      fresh(),
      { ...snap(5, ['a']), participantId: 'someone_else' },
      { ...snap(5, ['a']), roomId: 'other_room' },
    );
    expect(state.revision).toBe(0);
    expect(effects.map((e) => e.kind)).toEqual(['mismatch', 'mismatch']);
  });
});

describe('audience revisions', () => {
  it('applies newer, re-applies equal (lost ack), ignores older', () => {
    const { state, effects } = run(
      fresh(),
      aud(5, ['a']),
      aud(5, ['a']),
      aud(4, ['old']),
      aud(6, ['b']),
    );
    expect(
      effects.filter((e) => e.kind === 'audience').map((e) => (e as { revision: number }).revision),
    ).toEqual([5, 5, 6]);
    expect(state.audience).toEqual(['b']);
  });

  it('accepts any revision as the first audience after re-auth', () => {
    let { state } = run(fresh(), aud(50, ['a']));
    const out = run(state, 'auth', aud(2, ['z']));
    state = out.state;
    expect(state.audienceRevision).toBe(2);
    expect(out.effects).toEqual([{ kind: 'audience', revision: 2, audience: ['z'] }]);
  });
});
