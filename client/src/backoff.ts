/**
 * Reconnect backoff: exponential from min_ms to max_ms with "equal jitter".
 * Attempt n (from 0) waits a uniformly random time in
 * [ceiling_n / 2, ceiling_n] with ceiling_n = min(max_ms, min_ms * 2^n),
 * clamped to at least min_ms. Half the ceiling stays deterministic so the
 * delay still grows, the other half spreads clients apart after a server
 * restart (no thundering herd).
 */

export interface BackoffOptions {
  min_ms?: number; // default 250
  max_ms?: number; // default 5000
  /** Uniform in [0, 1). Injected for deterministic tests. */
  random?: () => number;
}

export interface Backoff {
  /** Returns the delay in ms before the next attempt and counts the attempt. */
  next(): number;
  /** Forget past failures (call after a connection proved healthy). */
  reset(): void;
  /** Attempts counted since the last reset. */
  readonly attempts: number;
}

/** Attempts beyond this do not grow the ceiling any more (limit on everything). */
const ATTEMPT_SHIFT_MAX = 30;

export function createBackoff(opts: BackoffOptions = {}): Backoff {
  const min_ms = opts.min_ms ?? 250;
  const max_ms = opts.max_ms ?? 5000;
  const random = opts.random ?? Math.random;
  if (!(min_ms > 0 && max_ms >= min_ms)) throw new RangeError('backoff: need 0 < min_ms <= max_ms');
  let attempts = 0;
  return {
    next() {
      const shift = Math.min(attempts, ATTEMPT_SHIFT_MAX);
      const ceiling_ms = Math.min(max_ms, min_ms * 2 ** shift);
      const r = Math.min(Math.max(random(), 0), 1);
      const delay_ms = ceiling_ms / 2 + (r * ceiling_ms) / 2;
      attempts++;
      return Math.round(Math.min(max_ms, Math.max(min_ms, delay_ms)));
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}
