/**
 * The revision rules of the policy socket as a pure reducer:
 * policyReduce(state, input) -> { state, effects }. No IO, no clock, no
 * randomness; the socket layer (socket.ts) feeds it and carries out effects.
 *
 * Rules (MVP-SPEC section 9, with previousRevision from the server):
 *  - The first snapshot after each (re)auth is always applied, whatever its
 *    revision: the server may have restarted and reset its counters.
 *  - Later snapshots apply when revision >= local (equal is a harmless no-op
 *    that also answers our own request); older ones are stale.
 *  - A delta with revision <= local is stale and ignored.
 *  - A delta with previousRevision == local applies (the chain is intact).
 *  - Otherwise there is a gap: request a snapshot and hold deltas (bounded)
 *    until it arrives; then replay the held deltas that chain onto it.
 *  - Until the first snapshot after auth, every delta is held.
 *  - Audience: applied when revision >= the last audience revision. Equal is
 *    re-applied on purpose: a repeat means the server did not see our ack,
 *    and a speaker that never acks gets removed from the room.
 */
import type { AudienceMessage, DeltaMessage, SnapshotMessage, SnapshotReason } from './messages';

/** Deltas held while waiting for a snapshot; older ones are dropped (the snapshot covers them). */
export const HELD_DELTAS_MAX = 64;

export interface PolicyState {
  readonly roomId: string;
  readonly participantId: string;
  /** Last applied audibility revision (0 before the first snapshot). */
  readonly revision: number;
  readonly canHear: readonly string[];
  /** Why a snapshot is awaited: after auth, after a gap, or not at all. */
  readonly awaiting: 'auth' | 'gap' | null;
  readonly held: readonly DeltaMessage[];
  /** Last applied audience revision, -1 before the first audience. */
  readonly audienceRevision: number;
  /** The next audience is applied whatever its revision (first after auth). */
  readonly audienceAfterAuth: boolean;
  readonly audience: readonly string[] | null;
}

export type PolicyInput =
  | { kind: 'authenticated' }
  | { kind: 'message'; msg: SnapshotMessage | DeltaMessage | AudienceMessage }
  | { kind: 'snapshot-timeout' };

export type PolicyEffect =
  | { kind: 'can-hear'; revision: number; canHear: readonly string[] }
  | { kind: 'audience'; revision: number; audience: readonly string[] }
  | { kind: 'request-snapshot'; lastAppliedRevision: number; reason: SnapshotReason }
  | { kind: 'ignored'; why: string }
  | { kind: 'mismatch'; why: string };

export interface PolicyStep {
  state: PolicyState;
  effects: PolicyEffect[];
}

export function initialPolicyState(roomId: string, participantId: string): PolicyState {
  return {
    roomId,
    participantId,
    revision: 0,
    canHear: [],
    awaiting: 'auth',
    held: [],
    audienceRevision: -1,
    audienceAfterAuth: true,
    audience: null,
  };
}

/** Returns the next state and the effects to carry out, in order. */
export function policyReduce(state: PolicyState, input: PolicyInput): PolicyStep {
  switch (input.kind) {
    case 'authenticated':
      return {
        state: { ...state, awaiting: 'auth', held: [], audienceAfterAuth: true },
        effects: [],
      };
    case 'snapshot-timeout':
      if (state.awaiting === null) return { state, effects: [] };
      return {
        state,
        effects: [
          {
            kind: 'request-snapshot',
            lastAppliedRevision: state.revision,
            reason: state.awaiting === 'auth' ? 'reconnect' : 'stale',
          },
        ],
      };
    case 'message':
      if (input.msg.roomId !== state.roomId) {
        return { state, effects: [{ kind: 'mismatch', why: `${input.msg.type}: roomId` }] };
      }
      if (input.msg.type === 'policy.snapshot') return onSnapshot(state, input.msg);
      if (input.msg.type === 'policy.audibility.delta') return onDelta(state, input.msg);
      return onAudience(state, input.msg);
  }
}

function onSnapshot(state: PolicyState, msg: SnapshotMessage): PolicyStep {
  if (msg.participantId !== state.participantId) {
    return { state, effects: [{ kind: 'mismatch', why: 'policy.snapshot: participantId' }] };
  }
  if (state.awaiting !== 'auth' && msg.revision < state.revision) {
    return { state, effects: [{ kind: 'ignored', why: `stale snapshot ${msg.revision}` }] };
  }
  const applied: PolicyState = {
    ...state,
    revision: msg.revision,
    canHear: msg.canHear,
    awaiting: null,
    held: [],
  };
  return replayHeld(applied, state.held);
}

/*
 * Apply held deltas in revision order onto a fresh snapshot. Deltas at or
 * below the snapshot are stale; the first one that does not chain means a new
 * gap: keep the rest held and ask again.
 */
function replayHeld(state: PolicyState, held: readonly DeltaMessage[]): PolicyStep {
  let s = state;
  const sorted = held.slice().sort((a, b) => a.revision - b.revision);
  for (let i = 0; i < sorted.length; i++) {
    const d = sorted[i]!;
    if (d.revision <= s.revision) continue;
    if (d.previousRevision !== s.revision) {
      const rest = sorted.slice(i);
      const gap: PolicyState = { ...s, awaiting: 'gap', held: rest };
      return {
        state: gap,
        effects: [canHearEffect(gap), requestSnapshot(gap, 'revision_gap')],
      };
    }
    s = { ...s, revision: d.revision, canHear: d.canHear };
  }
  return { state: s, effects: [canHearEffect(s)] };
}

function onDelta(state: PolicyState, msg: DeltaMessage): PolicyStep {
  if (msg.revision <= state.revision && state.awaiting !== 'auth') {
    return { state, effects: [{ kind: 'ignored', why: `stale delta ${msg.revision}` }] };
  }
  if (state.awaiting !== null) {
    return { state: { ...state, held: hold(state.held, msg) }, effects: [] };
  }
  if (msg.previousRevision === state.revision) {
    const next: PolicyState = { ...state, revision: msg.revision, canHear: msg.canHear };
    return { state: next, effects: [canHearEffect(next)] };
  }
  const gap: PolicyState = { ...state, awaiting: 'gap', held: [msg] };
  return { state: gap, effects: [requestSnapshot(gap, 'revision_gap')] };
}

function hold(held: readonly DeltaMessage[], msg: DeltaMessage): DeltaMessage[] {
  const next = held.concat(msg);
  return next.length > HELD_DELTAS_MAX ? next.slice(next.length - HELD_DELTAS_MAX) : next;
}

function onAudience(state: PolicyState, msg: AudienceMessage): PolicyStep {
  if (!state.audienceAfterAuth && msg.revision < state.audienceRevision) {
    return { state, effects: [{ kind: 'ignored', why: `stale audience ${msg.revision}` }] };
  }
  const next: PolicyState = {
    ...state,
    audienceRevision: msg.revision,
    audienceAfterAuth: false,
    audience: msg.audience,
  };
  return {
    state: next,
    effects: [{ kind: 'audience', revision: msg.revision, audience: msg.audience }],
  };
}

function canHearEffect(s: PolicyState): PolicyEffect {
  return { kind: 'can-hear', revision: s.revision, canHear: s.canHear };
}

function requestSnapshot(s: PolicyState, reason: SnapshotReason): PolicyEffect {
  return { kind: 'request-snapshot', lastAppliedRevision: s.revision, reason };
}
