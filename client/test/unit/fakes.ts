/**
 * Test doubles for the browser things that cannot run under Node: a scripted
 * WebSocket, a recording AudioContext, and a minimal LiveKit Room. Each
 * factory returns fresh state (no module globals), like the client itself.
 */
import type { WebSocketLike } from '../../src/policy/socket';
import type { Timers } from '../../src/timers';

/* ---------------- WebSocket ---------------- */

export interface FakeSocket extends WebSocketLike {
  url: string;
  sent: string[];
  closedWith: { code?: number; reason?: string } | null;
  open(): void;
  receive(msg: unknown): void;
  receiveRaw(data: unknown): void;
  serverClose(code: number, reason?: string): void;
  sentJson(): Record<string, unknown>[];
}

export function fakeWebSockets() {
  const sockets: FakeSocket[] = [];
  class FakeWebSocket implements FakeSocket {
    url: string;
    sent: string[] = [];
    closedWith: { code?: number; reason?: string } | null = null;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    constructor(url: string) {
      this.url = url;
      sockets.push(this);
    }
    send(data: string) {
      this.sent.push(data);
    }
    close(code?: number, reason?: string) {
      this.closedWith = { code, reason };
    }
    open() {
      this.onopen?.({});
    }
    receive(msg: unknown) {
      this.onmessage?.({ data: JSON.stringify(msg) });
    }
    receiveRaw(data: unknown) {
      this.onmessage?.({ data });
    }
    serverClose(code: number, reason = '') {
      this.onclose?.({ code, reason });
    }
    sentJson() {
      return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
    }
  }
  return { WebSocket: FakeWebSocket, sockets, last: () => sockets[sockets.length - 1]! };
}

/* ---------------- Timers that record requested delays ---------------- */

export function recordingTimers(): Timers & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      return globalThis.setTimeout(fn, ms);
    },
    clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

/* ---------------- AudioContext ---------------- */

export type ParamEvent =
  | { kind: 'set'; value: number; time: number }
  | { kind: 'ramp'; value: number; time: number }
  | { kind: 'target'; value: number; time: number; tc: number }
  | { kind: 'cancel'; time: number }
  | { kind: 'hold'; time: number };

export class FakeParam {
  events: ParamEvent[] = [];
  constructor(public value = 0) {}
  setValueAtTime(value: number, time: number) {
    this.events.push({ kind: 'set', value, time });
    this.value = value;
    return this;
  }
  linearRampToValueAtTime(value: number, time: number) {
    this.events.push({ kind: 'ramp', value, time });
    return this;
  }
  setTargetAtTime(value: number, time: number, tc: number) {
    this.events.push({ kind: 'target', value, time, tc });
    return this;
  }
  cancelScheduledValues(time: number) {
    this.events.push({ kind: 'cancel', time });
    return this;
  }
  cancelAndHoldAtTime(time: number) {
    this.events.push({ kind: 'hold', time });
    return this;
  }
  /** The value the last event sets or ramps to. */
  last(): number | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if ('value' in e) return e.value;
    }
    return undefined;
  }
}

export class FakeNode {
  outputs: FakeNode[] = [];
  disconnected = false;
  constructor(public kind: string) {}
  connect(n: FakeNode) {
    this.outputs.push(n);
    return n;
  }
  disconnect(target?: FakeNode) {
    if (target) {
      this.outputs = this.outputs.filter((n) => n !== target);
      return;
    }
    this.outputs = [];
    this.disconnected = true;
  }
}

export class FakeGain extends FakeNode {
  gain = new FakeParam(1);
  constructor() {
    super('gain');
  }
}

export class FakePanner extends FakeNode {
  panningModel = 'equalpower';
  distanceModel = 'linear';
  refDistance = 0;
  maxDistance = 0;
  rolloffFactor = 0;
  coneInnerAngle = 0;
  coneOuterAngle = 0;
  coneOuterGain = 0;
  positionX = new FakeParam();
  positionY = new FakeParam();
  positionZ = new FakeParam();
  orientationX = new FakeParam();
  orientationY = new FakeParam();
  orientationZ = new FakeParam();
  constructor() {
    super('panner');
  }
}

export class FakeAnalyser extends FakeNode {
  fftSize = 2048;
  /** What the "audio" currently looks like to getFloatTimeDomainData. */
  level = 0;
  constructor() {
    super('analyser');
  }
  getFloatTimeDomainData(buf: Float32Array) {
    buf.fill(this.level);
  }
}

export class FakeSource extends FakeNode {
  constructor(public stream: unknown) {
    super('source');
  }
}

export interface FakeListener {
  positionX?: FakeParam;
  positionY?: FakeParam;
  positionZ?: FakeParam;
  forwardX?: FakeParam;
  forwardY?: FakeParam;
  forwardZ?: FakeParam;
  upX?: FakeParam;
  upY?: FakeParam;
  upZ?: FakeParam;
  setPosition?: (x: number, y: number, z: number) => void;
  setOrientation?: (...v: number[]) => void;
  calls?: unknown[][];
}

export class FakeAudioContext {
  currentTime = 0;
  state = 'running';
  destination = new FakeNode('destination');
  listener: FakeListener;
  gains: FakeGain[] = [];
  panners: FakePanner[] = [];
  sources: FakeSource[] = [];
  analysers: FakeAnalyser[] = [];
  closed = false;
  constructor(opts: { legacyListener?: boolean } = {}) {
    if (opts.legacyListener) {
      const calls: unknown[][] = [];
      this.listener = {
        calls,
        setPosition: (...v) => calls.push(['setPosition', ...v]),
        setOrientation: (...v) => calls.push(['setOrientation', ...v]),
      };
    } else {
      const p = () => new FakeParam();
      this.listener = {
        positionX: p(),
        positionY: p(),
        positionZ: p(),
        forwardX: p(),
        forwardY: p(),
        forwardZ: p(),
        upX: p(),
        upY: p(),
        upZ: p(),
      };
    }
  }
  createGain() {
    const g = new FakeGain();
    this.gains.push(g);
    return g;
  }
  createPanner() {
    const p = new FakePanner();
    this.panners.push(p);
    return p;
  }
  createAnalyser() {
    const a = new FakeAnalyser();
    this.analysers.push(a);
    return a;
  }
  createMediaStreamSource(stream: unknown) {
    const s = new FakeSource(stream);
    this.sources.push(s);
    return s;
  }
  createMediaStreamDestination() {
    const n = new FakeNode('stream-destination') as FakeNode & { stream: unknown };
    n.stream = { fake: 'stream' };
    return n;
  }
  resume() {
    return Promise.resolve();
  }
  close() {
    this.closed = true;
    return Promise.resolve();
  }
}

export class FakeElement {
  muted = false;
  autoplay = false;
  srcObject: unknown = null;
  playing = false;
  play() {
    this.playing = true;
    return Promise.resolve();
  }
  pause() {
    this.playing = false;
  }
}

/** Graph options that keep everything in Node. */
export function fakeAudioDeps() {
  const elements: FakeElement[] = [];
  return {
    elements,
    createElement: () => {
      const e = new FakeElement();
      elements.push(e);
      return e as never;
    },
    createStream: (track: unknown) => ({ tracks: [track] }) as never,
  };
}
