/**
 * A tiny typed event emitter (the mitt shape): one instance per client, no
 * globals. emit() iterates a copy of the listener list, so a listener may call
 * on()/off() while the event is being delivered. A throwing listener does not
 * stop the others and does not unwind into the client's own state machine:
 * its exception is rethrown from a microtask, where the host sees it.
 */

type ArgMap<M> = { [K in keyof M]: unknown[] };
type AnyListener = (...args: unknown[]) => void;

export interface Emitter<M extends ArgMap<M>> {
  on<E extends keyof M>(event: E, cb: (...args: M[E]) => void): void;
  off<E extends keyof M>(event: E, cb: (...args: M[E]) => void): void;
  /** Returns the number of listeners called. */
  emit<E extends keyof M>(event: E, ...args: M[E]): number;
}

export function createEmitter<M extends ArgMap<M>>(): Emitter<M> {
  const all = new Map<keyof M, AnyListener[]>();
  return {
    on(event, cb) {
      const list = all.get(event);
      if (list) list.push(cb as AnyListener);
      else all.set(event, [cb as AnyListener]);
    },
    off(event, cb) {
      const list = all.get(event);
      if (!list) return;
      const i = list.indexOf(cb as AnyListener);
      if (i >= 0) list.splice(i, 1);
    },
    emit(event, ...args) {
      const list = all.get(event);
      if (!list) return 0;
      const copy = list.slice();
      for (const cb of copy) {
        try {
          cb(...args);
        } catch (e) {
          queueMicrotask(() => {
            throw e;
          });
        }
      }
      return copy.length;
    },
  };
}
