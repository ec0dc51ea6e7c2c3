/**
 * What the client knows about the game world: the listener pose and the
 * latest pose of each remote participant, from the host (upsertRemotePose)
 * and from the server (policy.pose.batch). Owned by one client; survives
 * reconnects so poses given before connect() are not lost.
 */
import type { ListenerPose, Orientation, RemotePose, Vec3 } from './types';

/** Remote poses kept at most (the oldest-updated is evicted beyond it). */
export const POSES_MAX = 4096;

export interface StoredPose {
  position: Vec3;
  orientation?: Orientation;
  timestampMs?: number;
}

function finiteVec(v: Vec3 | undefined): boolean {
  return !!v && Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z);
}

export function isValidPose(p: { position: Vec3; orientation?: Orientation }): boolean {
  if (!finiteVec(p.position)) return false;
  return !p.orientation || (finiteVec(p.orientation.forward) && finiteVec(p.orientation.up));
}

export class World {
  listener: ListenerPose | null = null;
  readonly poses = new Map<string, StoredPose>();
  /** Participants the host removed: never selected until a new pose arrives. */
  readonly excluded = new Set<string>();

  /**
   * Store a remote pose. Returns false when it is older than the stored one
   * (both timestamped): host and server updates may interleave.
   */
  upsert(p: RemotePose): boolean {
    const cur = this.poses.get(p.participantId);
    if (
      cur?.timestampMs !== undefined &&
      p.timestampMs !== undefined &&
      p.timestampMs < cur.timestampMs
    ) {
      return false;
    }
    const { x, y, z } = p.position;
    const stored: StoredPose = { position: { x, y, z } };
    if (p.orientation) stored.orientation = p.orientation;
    if (p.timestampMs !== undefined) stored.timestampMs = p.timestampMs;
    this.poses.delete(p.participantId); // re-insert: Map order = update order
    this.poses.set(p.participantId, stored);
    this.excluded.delete(p.participantId);
    if (this.poses.size > POSES_MAX) this.poses.delete(this.poses.keys().next().value as string);
    return true;
  }

  remove(participantId: string): void {
    this.poses.delete(participantId);
    this.excluded.add(participantId);
    if (this.excluded.size > POSES_MAX)
      this.excluded.delete(this.excluded.values().next().value as string);
  }

  positions(): Map<string, Vec3> {
    const out = new Map<string, Vec3>();
    for (const [id, p] of this.poses) out.set(id, p.position);
    return out;
  }
}
