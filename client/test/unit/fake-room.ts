/**
 * A minimal stand-in for livekit-client's Room: the calls the session makes
 * are logged in order into one shared list, so tests can assert sequencing
 * (e.g. empty allow-list before publish, unsubscribe before subscribe).
 */
import { DisconnectReason, RoomEvent } from 'livekit-client';

export class FakePublication {
  kind = 'audio';
  source = 'microphone';
  isSubscribed = false;
  track: { kind: string; mediaStreamTrack: unknown } | null = null;
  constructor(
    private readonly room: FakeRoom,
    readonly identity: string,
  ) {}
  setSubscribed(on: boolean) {
    this.room.log.push(`${on ? 'sub' : 'unsub'}:${this.identity}`);
    if (!on) this.isSubscribed = false;
  }
}

export class FakeRemoteParticipant {
  readonly audioTrackPublications = new Map<string, FakePublication>();
  constructor(
    readonly identity: string,
    readonly mic: FakePublication,
  ) {
    this.audioTrackPublications.set(`TR_${identity}`, mic);
  }
  getTrackPublication(source: string) {
    return source === 'microphone' ? this.mic : undefined;
  }
}

export class FakeMicTrack {
  isMuted = false;
  mediaStreamTrack = { id: 'local-mic' };
  constructor(private readonly log: string[]) {}
  async mute() {
    this.isMuted = true;
    this.log.push('mic:mute');
    return this;
  }
  async unmute() {
    this.isMuted = false;
    this.log.push('mic:unmute');
    return this;
  }
  async getRTCStatsReport() {
    return undefined;
  }
}

export class FakeRoom {
  readonly log: string[] = [];
  readonly handlers = new Map<string, ((...a: unknown[]) => void)[]>();
  readonly remoteParticipants = new Map<string, FakeRemoteParticipant>();
  state = 'disconnected';
  connectArgs: unknown[] = [];
  failConnect: Error | null = null;
  /** When set, connect() waits for it (to test calls made meanwhile). */
  connectGate: Promise<void> | null = null;
  /** When set, publishTrack() waits for it (a slow publish). */
  publishGate: Promise<void> | null = null;
  statsReport: Map<string, unknown> | null = null;
  readonly localParticipant = {
    setTrackSubscriptionPermissions: (
      all: boolean,
      perms: { participantIdentity: string }[] = [],
    ) => {
      this.log.push(`permissions:${all}:[${perms.map((p) => p.participantIdentity).join(',')}]`);
    },
    publishTrack: async (_t: unknown, opts: { source: string }) => {
      this.log.push(`publish:${opts.source}`);
      if (this.publishGate) await this.publishGate;
      return {};
    },
  };
  readonly engine = {
    pcManager: {
      publisher: { getStats: async () => this.statsReport ?? new Map() },
    },
  };

  constructor(readonly options: unknown) {}

  on(ev: string, fn: (...a: unknown[]) => void) {
    const list = this.handlers.get(ev) ?? [];
    list.push(fn);
    this.handlers.set(ev, list);
    return this;
  }
  emit(ev: string, ...args: unknown[]) {
    for (const fn of this.handlers.get(ev) ?? []) fn(...args);
  }
  /** LiveKit ends the connection on its own (e.g. RemoveParticipant). */
  endByServer(reason: keyof typeof DisconnectReason) {
    this.state = 'disconnected';
    this.emit(RoomEvent.Disconnected, DisconnectReason[reason]);
  }
  async connect(...args: unknown[]) {
    this.connectArgs = args;
    this.log.push('connect');
    if (this.connectGate) await this.connectGate;
    if (this.failConnect) throw this.failConnect;
    this.state = 'connected';
  }
  async disconnect() {
    this.log.push('disconnect');
    this.state = 'disconnected';
  }
  async switchActiveDevice(kind: string, id: string) {
    this.log.push(`switch:${kind}:${id}`);
    return true;
  }

  /** A remote participant joins with a published microphone. */
  addRemote(identity: string): FakeRemoteParticipant {
    const p = new FakeRemoteParticipant(identity, new FakePublication(this, identity));
    this.remoteParticipants.set(identity, p);
    this.emit(RoomEvent.TrackPublished, p.mic, p);
    return p;
  }

  /** The SFU delivers a subscribed track. */
  deliver(identity: string) {
    const p = this.remoteParticipants.get(identity)!;
    p.mic.isSubscribed = true;
    p.mic.track = { kind: 'audio', mediaStreamTrack: { id: `mst_${identity}` } };
    this.emit(RoomEvent.TrackSubscribed, p.mic.track, p.mic, p);
  }

  /** Only the subscription operations, in order. */
  subOps() {
    return this.log.filter((l) => l.startsWith('sub:') || l.startsWith('unsub:'));
  }
}
