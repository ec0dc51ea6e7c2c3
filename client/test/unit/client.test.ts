import { DisconnectReason, RoomEvent } from 'livekit-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProximityVoiceClient, type ProximityVoiceClient } from '../../src/index';
import { FakeAudioContext, fakeAudioDeps, fakeWebSockets } from './fakes';
import { FakeMicTrack, FakeRoom } from './fake-room';

const config = (over: Record<string, unknown> = {}) => ({
  livekitUrl: 'ws://127.0.0.1:7880',
  token: 'lk-token',
  participantId: 'me',
  roomId: 'room_alpha',
  policySocketUrl: 'ws://127.0.0.1:8080/policy-socket',
  policySocketToken: 'ps-token',
  ...over,
});

function harness(opts: { failConnect?: Error; connectGate?: Promise<void> } = {}) {
  const ws = fakeWebSockets();
  const rooms: FakeRoom[] = [];
  const ctxs: FakeAudioContext[] = [];
  const audio = fakeAudioDeps();
  let mic: FakeMicTrack | null = null;
  const client = createProximityVoiceClient({
    createRoom: (o) => {
      const r = new FakeRoom(o);
      r.failConnect = rooms.length === 0 ? (opts.failConnect ?? null) : null;
      r.connectGate = opts.connectGate ?? null;
      rooms.push(r);
      return r as never;
    },
    createMicrophoneTrack: async () => (mic = new FakeMicTrack(rooms.at(-1)!.log)) as never,
    createAudioContext: () => {
      const c = new FakeAudioContext();
      ctxs.push(c);
      return c as never;
    },
    WebSocket: ws.WebSocket,
    random: () => 1,
    audio,
  });
  const events: unknown[][] = [];
  client.on('connected', () => events.push(['connected']));
  client.on('disconnected', (r) => events.push(['disconnected', r]));
  client.on('error', (e) => events.push(['error', (e as { code?: string }).code]));
  client.on('participant-speaking', (id, s) => events.push(['speaking', id, s]));
  return {
    client,
    ws,
    events,
    audio,
    room: () => rooms.at(-1)!,
    ctx: () => ctxs.at(-1)!,
    mic: () => mic!,
    sock: () => ws.last(),
  };
}

async function connected(h: ReturnType<typeof harness>, over: Record<string, unknown> = {}) {
  await h.client.connect(config(over));
  h.sock().open();
  return h;
}

const snapshot = (revision: number, canHear: string[]) => ({
  type: 'policy.snapshot',
  roomId: 'room_alpha',
  participantId: 'me',
  revision,
  canHear,
});
const delta = (revision: number, previousRevision: number, canHear: string[]) => ({
  type: 'policy.audibility.delta',
  roomId: 'room_alpha',
  revision,
  previousRevision,
  canHear,
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('client: connect', () => {
  it('joins with autoSubscribe off, empty allow-list before publishing the mic, then emits connected', async () => {
    const h = harness();
    await h.client.connect(config());
    const room = h.room();
    expect(room.options).toMatchObject({ adaptiveStream: false });
    expect(room.connectArgs).toEqual(['ws://127.0.0.1:7880', 'lk-token', { autoSubscribe: false }]);
    expect(room.log.slice(0, 4)).toEqual([
      'connect',
      'permissions:false:[]',
      'mic:mute',
      'publish:microphone',
    ]);
    expect(h.events).toEqual([['connected']]);
    expect(h.ws.sockets).toHaveLength(1);
    expect(h.client.getDiagnostics()).toMatchObject({
      roomId: 'room_alpha',
      participantId: 'me',
      connected: true,
      publishedTrack: true,
      subscribedCount: 0,
      audibleCount: 0,
      lastPolicyRevision: 0,
      policySocketConnected: false,
    });
  });

  it('rejects a bad config and a second connect', async () => {
    const h = harness();
    await expect(h.client.connect(config({ participantId: 'bad id' }))).rejects.toMatchObject({
      code: 'STATE',
    });
    await expect(h.client.connect(config({ policySocketUrl: 'http://x' }))).rejects.toMatchObject({
      code: 'STATE',
    });
    await expect(h.client.connect(config({ maxSubscribedVoices: 65 }))).rejects.toMatchObject({
      code: 'STATE',
    });
    await h.client.connect(config());
    await expect(h.client.connect(config())).rejects.toMatchObject({ code: 'STATE' });
  });

  it('a failed LiveKit join rejects, stops the policy socket and closes the owned AudioContext', async () => {
    const h = harness({ failConnect: new Error('401') });
    await expect(h.client.connect(config())).rejects.toMatchObject({ code: 'LIVEKIT' });
    expect(h.sock().closedWith).toMatchObject({ code: 1000 });
    expect(h.ctx().closed).toBe(true);
    expect(h.client.getDiagnostics().connected).toBe(false);
    // the failure is also an error event; the client can connect again
    await h.client.connect(config());
    expect(h.events).toEqual([['error', 'LIVEKIT'], ['connected']]);
  });
});

describe('client: disconnect during connect', () => {
  it('connect() rejects with STATE, nothing is published, the socket is closed', async () => {
    let open!: () => void;
    const h = harness({ connectGate: new Promise<void>((r) => (open = r)) });
    const p = h.client.connect(config());
    await Promise.resolve();
    expect(h.room().log).toEqual(['connect']); // LiveKit join in flight
    await h.client.disconnect();
    open();
    await expect(p).rejects.toMatchObject({ code: 'STATE' });
    expect(h.room().log).not.toContain('publish:microphone');
    expect(h.sock().closedWith).toMatchObject({ code: 1000 });
    expect(h.events).toEqual([['disconnected', 'client']]);
    expect(h.client.getDiagnostics().connected).toBe(false);
  });
});

describe('client: policy -> subscriptions', () => {
  it('subscribes exactly to the policy set; unsubscribes before subscribing on a delta', async () => {
    const h = await connected(harness());
    const room = h.room();
    for (const id of ['a', 'b', 'c', 'd']) room.addRemote(id);
    expect(room.subOps()).toEqual([]); // nothing before policy
    h.sock().receive(snapshot(1, ['a', 'b']));
    expect(room.subOps()).toEqual(['sub:a', 'sub:b']);
    room.log.length = 0;
    h.sock().receive(delta(2, 1, ['b', 'c', 'd']));
    expect(room.subOps()).toEqual(['unsub:a', 'sub:c', 'sub:d']);
    expect(h.client.getDiagnostics()).toMatchObject({
      lastPolicyRevision: 2,
      audibleCount: 3,
      policySocketConnected: true,
    });
  });

  it('plays only selected tracks, tears down on unsubscribe', async () => {
    const h = await connected(harness());
    const room = h.room();
    room.addRemote('a');
    room.addRemote('x');
    h.sock().receive(snapshot(1, ['a']));
    room.deliver('a');
    room.deliver('x'); // forced by someone else: must not play
    expect(h.ctx().sources).toHaveLength(1);
    expect((h.ctx().sources[0]!.stream as { tracks: unknown[] }).tracks).toEqual([{ id: 'mst_a' }]);
    expect(h.client.getDiagnostics().subscribedCount).toBe(2);
    h.sock().receive(delta(2, 1, []));
    vi.advanceTimersByTime(200);
    expect(h.ctx().sources[0]!.disconnected).toBe(true);
  });

  it('subscribes when a selected participant publishes later', async () => {
    const h = await connected(harness());
    h.sock().receive(snapshot(1, ['late']));
    expect(h.room().subOps()).toEqual([]);
    h.room().addRemote('late');
    expect(h.room().subOps()).toEqual(['sub:late']);
  });

  it('caps to maxSubscribedVoices by nearest pose, re-selecting as poses change', async () => {
    const h = await connected(harness(), { maxSubscribedVoices: 2 });
    const room = h.room();
    for (const id of ['p1', 'p2', 'p3']) room.addRemote(id);
    h.client.setListenerPose({
      position: { x: 0, y: 0, z: 0 },
      orientation: { forward: { x: 0, y: 0, z: 1 }, up: { x: 0, y: 1, z: 0 } },
    });
    h.client.upsertRemotePose({ participantId: 'p1', position: { x: 20, y: 0, z: 0 } });
    h.client.upsertRemotePose({ participantId: 'p2', position: { x: 2, y: 0, z: 0 } });
    h.client.upsertRemotePose({ participantId: 'p3', position: { x: 5, y: 0, z: 0 } });
    h.sock().receive(snapshot(1, ['p1', 'p2', 'p3']));
    expect(room.subOps()).toEqual(['sub:p2', 'sub:p3']);
    room.log.length = 0;
    h.client.upsertRemotePose({ participantId: 'p1', position: { x: 1, y: 0, z: 0 } });
    expect(room.subOps()).toEqual([]); // throttled
    vi.advanceTimersByTime(250);
    expect(room.subOps()).toEqual(['unsub:p3', 'sub:p1']);
  });

  it('removeRemoteParticipant narrows (never widens) until a new pose arrives', async () => {
    const h = await connected(harness());
    const room = h.room();
    room.addRemote('a');
    h.sock().receive(snapshot(1, ['a']));
    room.log.length = 0;
    h.client.removeRemoteParticipant('a');
    expect(room.subOps()).toEqual(['unsub:a']);
    h.client.removeRemoteParticipant('zzz'); // not in policy: nothing happens
    expect(room.subOps()).toEqual(['unsub:a']);
  });

  it('server pose batches position voices', async () => {
    const h = await connected(harness());
    h.room().addRemote('a');
    h.sock().receive(snapshot(1, ['a']));
    h.room().deliver('a');
    h.sock().receive({
      type: 'policy.pose.batch',
      roomId: 'room_alpha',
      timestampMs: 5,
      poses: [{ participantId: 'a', position: { x: 4, y: 0, z: 0 } }],
    });
    expect(h.ctx().panners[1]!.positionX.last()).toBe(-4);
  });
});

describe('client: audience enforcement', () => {
  it('applies policy.audience as the allow-list and acks the revision', async () => {
    const h = await connected(harness());
    h.sock().receive({
      type: 'policy.audience',
      roomId: 'room_alpha',
      revision: 12,
      audience: ['b', 'a'],
    });
    expect(h.room().log).toContain('permissions:false:[a,b]');
    expect(h.sock().sentJson().at(-1)).toEqual({
      type: 'policy.audience.ack',
      roomId: 'room_alpha',
      revision: 12,
    });
  });

  it('an audience received before LiveKit is joined is applied after the empty list, before publishing', async () => {
    const h = harness();
    const p = h.client.connect(config());
    h.sock().open();
    h.sock().receive({
      type: 'policy.audience',
      roomId: 'room_alpha',
      revision: 3,
      audience: ['a'],
    });
    await p;
    const log = h.room().log;
    expect(log.indexOf('permissions:false:[]')).toBeLessThan(log.indexOf('permissions:false:[a]'));
    expect(log.indexOf('permissions:false:[a]')).toBeLessThan(log.indexOf('publish:microphone'));
    expect(h.sock().sentJson().at(-1)).toEqual({
      type: 'policy.audience.ack',
      roomId: 'room_alpha',
      revision: 3,
    });
  });

  it('an audience arriving during a slow publish is applied and acked before the publish ends', async () => {
    // The control plane's ack deadline runs from track_published; found by
    // test/e2e: a client that acked only after publishTrack resolved was
    // removed from the room on a busy machine.
    const h = harness();
    let release = () => undefined as void;
    const p = h.client.connect(config());
    h.room().publishGate = new Promise<void>((r) => (release = r));
    h.sock().open();
    await vi.waitFor(() => expect(h.room().log).toContain('publish:microphone'));
    h.sock().receive({
      type: 'policy.audience',
      roomId: 'room_alpha',
      revision: 5,
      audience: ['b'],
    });
    expect(h.room().log.at(-1)).toBe('permissions:false:[b]');
    expect(h.sock().sentJson().at(-1)).toEqual({
      type: 'policy.audience.ack',
      roomId: 'room_alpha',
      revision: 5,
    });
    release();
    await p;
    expect(h.client.getDiagnostics().publishedTrack).toBe(true);
  });
});

describe('client: mic, devices, credentials, events', () => {
  it('push-to-talk mutes and unmutes the published track', async () => {
    const h = await connected(harness());
    const mic = h.mic();
    expect(mic.isMuted).toBe(true); // default: not transmitting
    await h.client.setMicState({ enabled: true, pushToTalk: true, pushToTalkActive: false });
    expect(mic.isMuted).toBe(true);
    await h.client.setMicState({ pushToTalkActive: true });
    expect(mic.isMuted).toBe(false);
    await h.client.setMicState({ pushToTalkActive: false });
    expect(mic.isMuted).toBe(true);
    await h.client.setMicState({ pushToTalk: false });
    expect(mic.isMuted).toBe(false);
    await h.client.setMicState({ enabled: false });
    expect(mic.isMuted).toBe(true);
    await expect(h.client.setMicState({ enabled: 'yes' as never })).rejects.toThrow(TypeError);
  });

  it('mic state set before connect applies at publish', async () => {
    const h = harness();
    await h.client.setMicState({ enabled: true });
    await connected(h);
    expect(h.mic().isMuted).toBe(false);
    expect(h.room().log).not.toContain('mic:mute');
  });

  it('setInputDevice switches the LiveKit audio input', async () => {
    const h = await connected(harness());
    await h.client.setInputDevice('dev-2');
    expect(h.room().log).toContain('switch:audioinput:dev-2');
  });

  it('setOutputDevice uses AudioContext.setSinkId where present, else rejects with AUDIO', async () => {
    const h = await connected(harness());
    await expect(h.client.setOutputDevice!('spk')).rejects.toMatchObject({ code: 'AUDIO' });
    const sinks: string[] = [];
    (h.ctx() as unknown as { setSinkId: (id: string) => Promise<void> }).setSinkId = async (id) =>
      void sinks.push(id);
    await h.client.setOutputDevice!('spk2');
    expect(sinks).toEqual(['spk2']);
  });

  it('close 1008 parks the policy socket until updateCredentials', async () => {
    const h = await connected(harness());
    h.sock().serverClose(1008, 'expired');
    expect(h.events.at(-1)).toEqual(['error', 'POLICY_AUTH']);
    vi.advanceTimersByTime(60_000);
    expect(h.ws.sockets).toHaveLength(1);
    h.client.updateCredentials({ policySocketToken: 'ps-2', token: 'lk-2' });
    expect(h.ws.sockets).toHaveLength(2);
    h.sock().open();
    expect(h.sock().sentJson()[0]).toEqual({ type: 'auth', token: 'ps-2' });
  });

  it('participant-speaking reports me and selected voices only', async () => {
    const h = await connected(harness());
    const room = h.room();
    room.addRemote('a');
    room.addRemote('hidden');
    h.sock().receive(snapshot(1, ['a']));
    const p = (identity: string) => ({ identity });
    room.emit(RoomEvent.ActiveSpeakersChanged, [p('a'), p('hidden'), p('me')]);
    room.emit(RoomEvent.ActiveSpeakersChanged, [p('me')]);
    h.sock().receive(delta(2, 1, []));
    expect(h.events.filter((e) => e[0] === 'speaking')).toEqual([
      ['speaking', 'a', true],
      ['speaking', 'me', true],
      ['speaking', 'a', false],
    ]);
  });

  it('a voice already speaking when it comes into range is reported as speaking', async () => {
    const h = await connected(harness());
    const room = h.room();
    room.addRemote('b');
    room.emit(RoomEvent.ActiveSpeakersChanged, [{ identity: 'b' }]);
    expect(h.events.filter((e) => e[0] === 'speaking')).toEqual([]);
    h.sock().receive(snapshot(1, ['b']));
    expect(h.events.filter((e) => e[0] === 'speaking')).toEqual([['speaking', 'b', true]]);
    room.emit(RoomEvent.ParticipantDisconnected, { identity: 'b' });
    expect(h.events.filter((e) => e[0] === 'speaking').at(-1)).toEqual(['speaking', 'b', false]);
  });

  it('getDiagnostics reports TURN from the selected candidate pair', async () => {
    const h = await connected(harness());
    expect(h.client.getDiagnostics().turnLikelyInUse).toBeNull();
    h.room().statsReport = new Map<string, unknown>([
      ['T', { id: 'T', type: 'transport', selectedCandidatePairId: 'CP' }],
      ['CP', { id: 'CP', type: 'candidate-pair', localCandidateId: 'L' }],
      ['L', { id: 'L', type: 'local-candidate', candidateType: 'relay' }],
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.client.getDiagnostics().turnLikelyInUse).toBe(true);
  });

  it('disconnect() tears down and emits disconnected; LiveKit-side disconnects emit their reason', async () => {
    const h = await connected(harness());
    await h.client.disconnect();
    expect(h.events.at(-1)).toEqual(['disconnected', 'client']);
    expect(h.room().log.at(-1)).toBe('disconnect');
    expect(h.sock().closedWith).toMatchObject({ code: 1000 });
    expect(h.client.getDiagnostics().connected).toBe(false);
    await h.client.disconnect(); // idempotent
    await connected(h);
    h.room().emit(RoomEvent.Disconnected, DisconnectReason.PARTICIPANT_REMOVED);
    expect(h.events.at(-1)).toEqual(['disconnected', 'PARTICIPANT_REMOVED']);
    expect(h.client.getDiagnostics().connected).toBe(false);
  });
});

describe('client: independence', () => {
  it('two clients on one page share no state', async () => {
    const a = await connected(harness(), { participantId: 'me' });
    const b = harness();
    await b.client.connect(config({ participantId: 'me' }));
    b.sock().open();
    a.room().addRemote('x');
    b.room().addRemote('x');
    a.sock().receive(snapshot(7, ['x']));
    expect(a.room().subOps()).toEqual(['sub:x']);
    expect(b.room().subOps()).toEqual([]);
    expect(a.client.getDiagnostics().lastPolicyRevision).toBe(7);
    expect(b.client.getDiagnostics().lastPolicyRevision).toBe(0);
    a.sock().serverClose(1008);
    expect(a.events.some((e) => e[1] === 'POLICY_AUTH')).toBe(true);
    expect(b.events.some((e) => e[0] === 'error')).toBe(false);
    await a.client.disconnect();
    expect(b.client.getDiagnostics().connected).toBe(true);
    expect(b.events.filter((e) => e[0] === 'disconnected')).toEqual([]);
    const clients: ProximityVoiceClient[] = [a.client, b.client];
    expect(clients[0]).not.toBe(clients[1]);
  });
});

describe('client: rejoin after an involuntary LiveKit end', () => {
  it('rejoins by itself after PARTICIPANT_REMOVED (jittered backoff), not after disconnect()', async () => {
    const h = await connected(harness());
    const first = h.room();
    first.endByServer('PARTICIPANT_REMOVED');
    expect(h.events).toContainEqual(['disconnected', 'PARTICIPANT_REMOVED']);
    expect(h.client.getDiagnostics().connected).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.room()).not.toBe(first); // a new LiveKit join with the same credentials
    expect(h.events.filter((e) => e[0] === 'connected').length).toBe(2);
    expect(h.client.getDiagnostics().connected).toBe(true);
    await h.client.disconnect();
    const joins = h.events.filter((e) => e[0] === 'connected').length;
    await vi.advanceTimersByTimeAsync(10000);
    expect(h.events.filter((e) => e[0] === 'connected').length).toBe(joins);
  });

  it('does not rejoin after DUPLICATE_IDENTITY (another tab took over)', async () => {
    const h = await connected(harness());
    const first = h.room();
    first.endByServer('DUPLICATE_IDENTITY');
    await vi.advanceTimersByTimeAsync(10000);
    expect(h.room()).toBe(first);
    expect(h.client.getDiagnostics().connected).toBe(false);
  });
});
