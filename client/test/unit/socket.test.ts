import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProximityVoiceError } from '../../src/errors';
import { PolicySocket, type PolicySocketHandlers } from '../../src/policy/socket';
import { fakeWebSockets, recordingTimers } from './fakes';

const ROOM = 'room_alpha';
const ME = 'p_123';

function setup(opts: { random?: () => number } = {}) {
  const ws = fakeWebSockets();
  const timers = recordingTimers();
  const log = {
    canHear: [] as { revision: number; canHear: readonly string[] }[],
    audience: [] as { revision: number; audience: readonly string[] }[],
    poses: 0,
    status: [] as boolean[],
    errors: [] as ProximityVoiceError[],
  };
  const handlers: PolicySocketHandlers = {
    onCanHear: (revision, canHear) => log.canHear.push({ revision, canHear }),
    onAudience: (revision, audience) => log.audience.push({ revision, audience }),
    onPoses: () => log.poses++,
    onStatus: (c) => log.status.push(c),
    onError: (e) => log.errors.push(e),
  };
  const socket = new PolicySocket({
    url: 'ws://127.0.0.1:1/policy-socket',
    token: 'tok1',
    roomId: ROOM,
    participantId: ME,
    handlers,
    WebSocket: ws.WebSocket,
    timers,
    random: opts.random ?? (() => 0.5),
  });
  return { socket, ws, timers, log };
}

const snapshot = (revision: number, canHear: string[]) => ({
  type: 'policy.snapshot',
  roomId: ROOM,
  participantId: ME,
  revision,
  canHear,
});
const delta = (revision: number, previousRevision: number, canHear: string[]) => ({
  type: 'policy.audibility.delta',
  roomId: ROOM,
  revision,
  previousRevision,
  canHear,
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('policy socket: auth and revisions', () => {
  it('sends auth first on open and applies the snapshot', () => {
    const { socket, ws, log } = setup();
    socket.start();
    expect(ws.sockets).toHaveLength(1);
    expect(ws.last().url).toBe('ws://127.0.0.1:1/policy-socket');
    ws.last().open();
    expect(ws.last().sentJson()[0]).toEqual({ type: 'auth', token: 'tok1' });
    expect(socket.connected).toBe(true);
    ws.last().receive(snapshot(44, ['p_205', 'p_101']));
    expect(log.canHear).toEqual([{ revision: 44, canHear: ['p_101', 'p_205'] }]);
    expect(log.status).toEqual([true]);
  });

  it('gap: sends policy.snapshot.request and holds deltas until the snapshot', () => {
    const { socket, ws, log } = setup();
    socket.start();
    const s = ws.last();
    s.open();
    s.receive(snapshot(47, ['a']));
    s.receive(delta(50, 49, ['b']));
    s.receive(delta(51, 50, ['c']));
    expect(s.sentJson().slice(1)).toEqual([
      {
        type: 'policy.snapshot.request',
        roomId: ROOM,
        lastAppliedRevision: 47,
        reason: 'revision_gap',
      },
    ]);
    expect(log.canHear.map((c) => c.revision)).toEqual([47]);
    s.receive(snapshot(50, ['b']));
    expect(log.canHear.at(-1)).toEqual({ revision: 51, canHear: ['c'] });
    expect(socket.state.revision).toBe(51);
  });

  it('re-requests an awaited snapshot after the snapshot timeout', () => {
    const { socket, ws } = setup();
    socket.start();
    const s = ws.last();
    s.open();
    vi.advanceTimersByTime(2999);
    expect(s.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(s.sentJson()[1]).toMatchObject({ type: 'policy.snapshot.request', reason: 'reconnect' });
    s.receive(snapshot(1, []));
    vi.advanceTimersByTime(10_000);
    expect(s.sent).toHaveLength(2);
  });

  it('reports malformed frames without changing state', () => {
    const { socket, ws, log } = setup();
    socket.start();
    ws.last().open();
    ws.last().receiveRaw('{not json');
    ws.last().receive({
      type: 'policy.snapshot',
      roomId: ROOM,
      participantId: ME,
      revision: -1,
      canHear: [],
    });
    ws.last().receive({ ...snapshot(3, ['ok', 'bad id!']) });
    ws.last().receiveRaw(new ArrayBuffer(4));
    expect(log.errors.map((e) => e.code)).toEqual([
      'POLICY_PROTOCOL',
      'POLICY_PROTOCOL',
      'POLICY_PROTOCOL',
      'POLICY_PROTOCOL',
    ]);
    expect(log.canHear).toEqual([]);
    expect(socket.state.revision).toBe(0);
  });

  it('forwards pose batches and audience, and sends audience acks', () => {
    const { socket, ws, log } = setup();
    socket.start();
    ws.last().open();
    ws.last().receive({
      type: 'policy.audience',
      roomId: ROOM,
      revision: 9,
      audience: ['p_2', 'p_1'],
    });
    expect(log.audience).toEqual([{ revision: 9, audience: ['p_1', 'p_2'] }]);
    expect(socket.ackAudience(9)).toBe(true);
    expect(ws.last().sentJson().at(-1)).toEqual({
      type: 'policy.audience.ack',
      roomId: ROOM,
      revision: 9,
    });
    ws.last().receive({
      type: 'policy.pose.batch',
      roomId: ROOM,
      timestampMs: 1,
      poses: [{ participantId: 'p_2', position: { x: 1, y: 2, z: 3 } }],
    });
    expect(log.poses).toBe(1);
  });
});

describe('policy socket: errors and reconnects', () => {
  it('close 1011: reconnects with jittered exponential backoff in 250..5000 ms', () => {
    const randoms = [0, 1, 0.5, 0, 1, 0.999, 0, 0.25];
    let i = 0;
    const { socket, ws, timers } = setup({ random: () => randoms[i++ % randoms.length]! });
    socket.start();
    const retryDelays: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const s = ws.last();
      s.open();
      timers.delays.length = 0;
      s.serverClose(1011, 'transient');
      const d = timers.delays[0]!; // the retry timer is the one armed by the close
      retryDelays.push(d);
      expect(d).toBeGreaterThanOrEqual(250);
      expect(d).toBeLessThanOrEqual(5000);
      const count = ws.sockets.length;
      vi.advanceTimersByTime(d - 1);
      expect(ws.sockets.length).toBe(count); // not before the delay
      vi.advanceTimersByTime(1);
      expect(ws.sockets.length).toBe(count + 1);
    }
    // ceiling 250,500,1000,2000,4000,5000,5000,5000 ; delay = ceil/2 + r*ceil/2, >= 250
    expect(retryDelays).toEqual([250, 500, 750, 1000, 4000, 4998, 2500, 3125]);
  });

  it('network loss (1006) before open also backs off, without error spam', () => {
    const { socket, ws, log } = setup();
    socket.start();
    ws.last().serverClose(1006);
    expect(socket.status).toBe('backoff');
    expect(log.errors).toEqual([]);
    vi.advanceTimersByTime(250);
    expect(ws.sockets).toHaveLength(2);
  });

  it('backoff resets after a healthy connection (snapshot received)', () => {
    const { socket, ws, timers } = setup({ random: () => 1 });
    socket.start();
    for (let k = 0; k < 4; k++) {
      ws.last().serverClose(1006);
      vi.advanceTimersByTime(5000);
    }
    expect(socket.failedAttempts).toBe(4);
    ws.last().open();
    ws.last().receive(snapshot(1, []));
    expect(socket.failedAttempts).toBe(0);
    timers.delays.length = 0;
    ws.last().serverClose(1011);
    expect(timers.delays).toEqual([250]);
  });

  it('close 1008: parks with no retry until updateToken', () => {
    const { socket, ws, log } = setup();
    socket.start();
    ws.last().open();
    ws.last().serverClose(1008, 'token expired');
    expect(socket.status).toBe('parked');
    expect(log.errors.at(-1)).toMatchObject({ code: 'POLICY_AUTH', retryable: false });
    vi.advanceTimersByTime(60_000);
    expect(ws.sockets).toHaveLength(1);
    socket.updateToken('tok2');
    expect(ws.sockets).toHaveLength(2);
    ws.last().open();
    expect(ws.last().sentJson()[0]).toEqual({ type: 'auth', token: 'tok2' });
  });

  it('retryable policy.error (RATE_LIMITED, INTERNAL_ERROR): reported, a later close retries', () => {
    const { socket, ws, log } = setup();
    socket.start();
    ws.last().open();
    ws.last().receive({ type: 'policy.error', code: 'RATE_LIMITED', message: 'slow down' });
    ws.last().receive({ type: 'policy.error', code: 'INTERNAL_ERROR', message: 'oops' });
    expect(log.errors.map((e) => [e.code, e.serverCode, e.retryable])).toEqual([
      ['POLICY_ERROR', 'RATE_LIMITED', true],
      ['POLICY_ERROR', 'INTERNAL_ERROR', true],
    ]);
    expect(socket.connected).toBe(true); // an error frame alone does not drop the socket
    ws.last().serverClose(1011);
    expect(socket.status).toBe('backoff');
    vi.advanceTimersByTime(250);
    expect(ws.sockets).toHaveLength(2);
  });

  it('non-retryable policy.error: reported, the following close parks', () => {
    for (const code of [
      'UNAUTHORIZED',
      'FORBIDDEN',
      'ROOM_NOT_FOUND',
      'PARTICIPANT_NOT_FOUND',
      'INVALID_PAYLOAD',
      'STALE_REVISION',
    ]) {
      const { socket, ws, log } = setup();
      socket.start();
      ws.last().open();
      ws.last().receive({ type: 'policy.error', code, message: 'no' });
      expect(log.errors[0]).toMatchObject({
        code: 'POLICY_ERROR',
        serverCode: code,
        retryable: false,
      });
      ws.last().serverClose(1011);
      expect(socket.status).toBe('parked');
      vi.advanceTimersByTime(60_000);
      expect(ws.sockets).toHaveLength(1);
      socket.stop();
    }
  });

  it('drops a socket that never opens and retries', () => {
    const { socket, ws } = setup();
    socket.start();
    vi.advanceTimersByTime(10_000);
    expect(ws.sockets[0]!.closedWith).not.toBeNull();
    expect(socket.status).toBe('backoff');
    vi.advanceTimersByTime(250);
    expect(ws.sockets).toHaveLength(2);
  });

  it('stop() closes with 1000 and never reconnects; late events are ignored', () => {
    const { socket, ws, log } = setup();
    socket.start();
    const s = ws.last();
    s.open();
    socket.stop();
    expect(s.closedWith).toEqual({ code: 1000, reason: 'client stop' });
    expect(log.status).toEqual([true, false]);
    s.serverClose(1011);
    s.receive(snapshot(5, ['x']));
    vi.advanceTimersByTime(60_000);
    expect(ws.sockets).toHaveLength(1);
    expect(log.canHear).toEqual([]);
    expect(socket.ackAudience(1)).toBe(false);
  });
});
