import { describe, expect, it } from 'vitest';
import { anyRelay, relayInUse } from '../../src/diagnostics/turn';

const report = (stats: Record<string, unknown>[]) => new Map(stats.map((s) => [s.id as string, s]));

describe('TURN detection from stats', () => {
  const candidates = [
    { id: 'L1', type: 'local-candidate', candidateType: 'relay' },
    { id: 'L2', type: 'local-candidate', candidateType: 'host' },
    {
      id: 'CP1',
      type: 'candidate-pair',
      localCandidateId: 'L1',
      state: 'succeeded',
      nominated: true,
    },
    {
      id: 'CP2',
      type: 'candidate-pair',
      localCandidateId: 'L2',
      state: 'succeeded',
      nominated: true,
    },
  ];

  it('follows transport.selectedCandidatePairId (Chrome)', () => {
    expect(
      relayInUse(
        report([...candidates, { id: 'T', type: 'transport', selectedCandidatePairId: 'CP1' }]),
      ),
    ).toBe(true);
    expect(
      relayInUse(
        report([...candidates, { id: 'T', type: 'transport', selectedCandidatePairId: 'CP2' }]),
      ),
    ).toBe(false);
  });

  it('uses the selected flag (Firefox), then a nominated succeeded pair', () => {
    expect(
      relayInUse(report([candidates[0]!, candidates[1]!, { ...candidates[3]!, selected: true }])),
    ).toBe(false);
    expect(relayInUse(report([candidates[0]!, candidates[2]!]))).toBe(true);
  });

  it('is null while nothing is selected', () => {
    expect(relayInUse(report(candidates.slice(0, 2)))).toBeNull();
    expect(
      relayInUse(report([{ id: 'T', type: 'transport', selectedCandidatePairId: 'missing' }])),
    ).toBeNull();
  });

  it('combines transports', () => {
    expect(anyRelay([false, true])).toBe(true);
    expect(anyRelay([null, false])).toBe(false);
    expect(anyRelay([null, null])).toBeNull();
    expect(anyRelay([])).toBeNull();
  });
});
