/**
 * The speaker side of enforcement: the control plane tells each speaker who
 * may subscribe to its microphone (policy.audience); the speaker applies it as
 * its LiveKit track subscription allow-list and acknowledges the revision.
 * LiveKit enforces the allow-list server-side and revokes subscriptions at
 * once when it shrinks; a speaker that never acks is removed by the control
 * plane (see LIVEKIT-FACTS.md, "the enforcement question").
 *
 * MUST: the empty allow-list is set BEFORE the microphone is published
 * (client.ts does that), because until a speaker sends any permission
 * LiveKit lets everyone subscribe.
 */

export interface ParticipantPermission {
  participantIdentity: string;
  allowAll: boolean;
}

/** The part of livekit-client's LocalParticipant used here. */
export interface PermissionTarget {
  setTrackSubscriptionPermissions(
    allParticipantsAllowed: boolean,
    participantTrackPermissions?: ParticipantPermission[],
  ): void;
}

/** Returns the allow-list for an audience (self removed, order kept). */
export function audiencePermissions(
  audience: readonly string[],
  selfId: string,
): ParticipantPermission[] {
  return audience
    .filter((id) => id !== selfId)
    .map((id) => ({ participantIdentity: id, allowAll: true }));
}

/**
 * Applies the audience as the allow-list, then acks the revision. If LiveKit
 * throws, nothing is acked and the exception propagates to the caller.
 */
export function applyAudience(
  target: PermissionTarget,
  audience: readonly string[],
  revision: number,
  selfId: string,
  ack: (revision: number) => void,
): void {
  target.setTrackSubscriptionPermissions(false, audiencePermissions(audience, selfId));
  ack(revision);
}

/**
 * Holds the latest audience until a LiveKit local participant exists, then
 * applies it. One instance per client.
 */
export class AudienceApplier {
  private target: PermissionTarget | null = null;
  private pending: { revision: number; audience: readonly string[] } | null = null;
  private applied = -1;

  constructor(
    private readonly selfId: string,
    private readonly ack: (revision: number) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Last applied (and acked) audience revision, -1 if none. */
  get appliedRevision(): number {
    return this.applied;
  }

  /** Attach (or detach with null) the LiveKit local participant. */
  setTarget(target: PermissionTarget | null): void {
    this.target = target;
    if (target && this.pending) this.flush();
  }

  /** A new audience from the policy socket. */
  update(revision: number, audience: readonly string[]): void {
    this.pending = { revision, audience };
    if (this.target) this.flush();
  }

  private flush(): void {
    const p = this.pending;
    const target = this.target;
    if (!p || !target) return;
    this.pending = null;
    try {
      applyAudience(target, p.audience, p.revision, this.selfId, this.ack);
      this.applied = p.revision;
    } catch (e) {
      this.onError(e);
    }
  }
}
