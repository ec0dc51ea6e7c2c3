/**
 * Which remote microphones to subscribe to (MVP-SPEC section 12), as pure
 * functions.
 *
 *  - The policy set (canHear) is authoritative: the selection is always a
 *    subset of it. Host poses and exclusions can only narrow it.
 *  - Above the cap, keep the nearest by the latest known pose; participants
 *    without a pose (or all of them when the listener pose is unknown) follow,
 *    sorted by participant ID so the choice is deterministic.
 *  - Diff: unsubscribe first, then subscribe, so the number of live
 *    subscriptions never exceeds the cap during a change.
 */
import type { Vec3 } from './types';

export const DEFAULT_MAX_SUBSCRIBED_VOICES = 12;
/** Upper bound for maxSubscribedVoices (the server's PV_CAP_MAX). */
export const MAX_SUBSCRIBED_VOICES_LIMIT = 64;

export interface SelectInput {
  /** The policy set: who I may hear. */
  canHear: readonly string[];
  /** Latest known positions by participant ID. */
  positions: ReadonlyMap<string, Vec3>;
  /** The listener position, or null when unknown. */
  listener: Vec3 | null;
  cap: number;
  /** Never selected (myself, and participants the host removed). */
  exclude?: ReadonlySet<string>;
}

function distanceSquared(a: Vec3, b: Vec3): number {
  const dx = a.x - b.x;
  const dy = a.y - b.y;
  const dz = a.z - b.z;
  return dx * dx + dy * dy + dz * dz;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Returns the selected participant IDs, sorted by ID (a subset of canHear). */
export function selectAudible(input: SelectInput): string[] {
  const cap = Math.max(0, Math.min(Math.floor(input.cap), MAX_SUBSCRIBED_VOICES_LIMIT));
  const candidates = Array.from(new Set(input.canHear))
    .filter((id) => !input.exclude?.has(id))
    .sort(byId);
  if (candidates.length <= cap) return candidates;
  const listener = input.listener;
  const ranked = candidates.map((id) => {
    const p = listener ? input.positions.get(id) : undefined;
    return { id, d2: p && listener ? distanceSquared(p, listener) : Infinity };
  });
  // Array.prototype.sort is stable, and candidates are already in ID order,
  // so equal distances (and the Infinity of "no pose") stay sorted by ID.
  ranked.sort((a, b) => (a.d2 === b.d2 ? 0 : a.d2 < b.d2 ? -1 : 1));
  return ranked
    .slice(0, cap)
    .map((r) => r.id)
    .sort(byId);
}

export type SubscriptionOp = { op: 'unsubscribe' | 'subscribe'; participantId: string };

/** Returns the ops that turn `current` into `next`: every unsubscribe first. */
export function diffSubscriptions(
  current: Iterable<string>,
  next: Iterable<string>,
): SubscriptionOp[] {
  const cur = new Set(current);
  const nxt = new Set(next);
  const ops: SubscriptionOp[] = [];
  for (const id of Array.from(cur).sort(byId)) {
    if (!nxt.has(id)) ops.push({ op: 'unsubscribe', participantId: id });
  }
  for (const id of Array.from(nxt).sort(byId)) {
    if (!cur.has(id)) ops.push({ op: 'subscribe', participantId: id });
  }
  return ops;
}
