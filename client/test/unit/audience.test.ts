import { describe, expect, it } from 'vitest';
import { applyAudience, AudienceApplier, type ParticipantPermission } from '../../src/audience';

function target() {
  const calls: { all: boolean; perms: ParticipantPermission[] | undefined }[] = [];
  const log: string[] = [];
  return {
    calls,
    log,
    setTrackSubscriptionPermissions(all: boolean, perms?: ParticipantPermission[]) {
      calls.push({ all, perms });
      log.push('permissions');
    },
  };
}

describe('audience -> LiveKit allow-list', () => {
  it('sets allParticipantsAllowed=false with one allowAll entry per id, then acks', () => {
    const t = target();
    applyAudience(t, ['p_1', 'p_2', 'me'], 7, 'me', (rev) => t.log.push(`ack ${rev}`));
    expect(t.calls).toEqual([
      {
        all: false,
        perms: [
          { participantIdentity: 'p_1', allowAll: true },
          { participantIdentity: 'p_2', allowAll: true },
        ],
      },
    ]);
    expect(t.log).toEqual(['permissions', 'ack 7']);
  });

  it('an empty audience is an empty allow-list (nobody may subscribe)', () => {
    const t = target();
    applyAudience(t, [], 1, 'me', () => undefined);
    expect(t.calls).toEqual([{ all: false, perms: [] }]);
  });

  it('holds the latest audience until the participant exists, then applies and acks once', () => {
    const acks: number[] = [];
    const errors: unknown[] = [];
    const a = new AudienceApplier(
      'me',
      (r) => acks.push(r),
      (e) => errors.push(e),
    );
    a.update(1, ['x']);
    a.update(2, ['y']);
    expect(acks).toEqual([]);
    const t = target();
    a.setTarget(t);
    expect(t.calls).toEqual([
      { all: false, perms: [{ participantIdentity: 'y', allowAll: true }] },
    ]);
    expect(acks).toEqual([2]);
    expect(a.appliedRevision).toBe(2);
    a.update(3, []);
    expect(acks).toEqual([2, 3]);
    a.setTarget(null);
    a.update(4, ['z']);
    expect(acks).toEqual([2, 3]);
    expect(errors).toEqual([]);
  });

  it('does not ack when LiveKit throws', () => {
    const acks: number[] = [];
    const errors: unknown[] = [];
    const a = new AudienceApplier(
      'me',
      (r) => acks.push(r),
      (e) => errors.push(e),
    );
    a.setTarget({
      setTrackSubscriptionPermissions: () => {
        throw new Error('engine closed');
      },
    });
    a.update(5, ['x']);
    expect(acks).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(a.appliedRevision).toBe(-1);
  });
});
