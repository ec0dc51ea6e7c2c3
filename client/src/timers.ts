/**
 * Injectable timers, so the socket and audio graph can be driven by fake time
 * in tests. The default forwards to the global timer functions.
 */
export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, delay_ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const defaultTimers: Timers = {
  setTimeout: (fn, delay_ms) => globalThis.setTimeout(fn, delay_ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};
