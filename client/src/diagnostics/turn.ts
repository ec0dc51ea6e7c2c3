/**
 * "Is TURN in use?" from a WebRTC stats report: find the selected candidate
 * pair and look at its local candidate's type ('relay' = through TURN).
 *
 * The selected pair is named by the transport's selectedCandidatePairId
 * (Chrome, Safari); Firefox marks the pair itself with selected: true; as a
 * last resort a nominated, succeeded pair is taken.
 */

type Stat = Record<string, unknown> & { id: string; type: string };
/** The part of RTCStatsReport used here (a Map-like of stats by id). */
export interface StatsLike {
  forEach(cb: (value: unknown, key: string) => void): void;
  get(id: string): unknown;
}

function selectedPair(report: StatsLike): Stat | null {
  let byTransport: Stat | null = null;
  let flagged: Stat | null = null;
  let nominated: Stat | null = null;
  report.forEach((v) => {
    const s = v as Stat;
    if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string' && !byTransport) {
      byTransport = (report.get(s.selectedCandidatePairId) as Stat | undefined) ?? null;
    } else if (s.type === 'candidate-pair') {
      if (s.selected === true) flagged = s;
      else if (s.nominated === true && s.state === 'succeeded' && !nominated) nominated = s;
    }
  });
  return byTransport ?? flagged ?? nominated;
}

/** Returns true (relay), false (direct), or null (no selected pair yet). */
export function relayInUse(report: StatsLike): boolean | null {
  const pair = selectedPair(report);
  if (!pair || typeof pair.localCandidateId !== 'string') return null;
  const local = report.get(pair.localCandidateId) as Stat | undefined;
  if (!local || typeof local.candidateType !== 'string') return null;
  return local.candidateType === 'relay';
}

/** Combines several transports: true if any relays, null if none is known. */
export function anyRelay(results: readonly (boolean | null)[]): boolean | null {
  if (results.some((r) => r === true)) return true;
  return results.some((r) => r === false) ? false : null;
}
