/**
 * Public types of proximity-voice-client (MVP-SPEC sections 7 and 10).
 *
 * Coordinates follow the spec: metres, +X right, +Y up, +Z forward. That axis
 * triple is left-handed; WebAudio is right-handed, so the audio graph mirrors
 * X on the way in (see audio/coords.ts). Hosts never see WebAudio coordinates.
 */

export type VoiceRoomId = string;
export type VoiceParticipantId = string;

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

export interface Orientation {
  forward: Vec3;
  up: Vec3;
}

export interface ListenerPose {
  position: Vec3;
  orientation: Orientation;
}

export interface RemotePose {
  participantId: string;
  position: Vec3;
  orientation?: Orientation;
  timestampMs?: number;
}

export interface MicState {
  /** The microphone may transmit at all. */
  enabled: boolean;
  /** Transmit only while pushToTalkActive is true. */
  pushToTalk: boolean;
  /** The push-to-talk key is held. Ignored unless pushToTalk. */
  pushToTalkActive: boolean;
}

export interface PannerOptions {
  distanceModel?: 'inverse' | 'linear' | 'exponential';
  refDistance?: number; // default 1
  maxDistance?: number; // default 75
  rolloffFactor?: number; // default 1
  coneInnerAngle?: number; // default 360
  coneOuterAngle?: number; // default 360
  coneOuterGain?: number; // default 1
}

export interface ProximityVoiceClientConfig {
  livekitUrl: string;
  token: string;
  participantId: string;
  roomId: string;
  policySocketUrl: string;
  policySocketToken: string;
  audioContext?: AudioContext;
  maxSubscribedVoices?: number; // default 12
  panner?: PannerOptions;
}

/** The fields of the control plane's POST /sessions answer (spec section 7) the client uses. */
export interface VoiceSessionResponseLike {
  roomId: VoiceRoomId;
  participantId: VoiceParticipantId;
  livekitUrl: string;
  token: string;
  policySocketUrl: string;
  policySocketToken: string;
}

/** Credentials a host refreshes (e.g. after a policy socket close 1008). */
export interface CredentialsUpdate {
  policySocketToken: string;
  /** A fresh LiveKit token; used for the next LiveKit (re)connect. */
  token?: string;
}

export interface VoiceDiagnostics {
  roomId: string;
  participantId: string;
  connected: boolean;
  publishedTrack: boolean;
  subscribedCount: number;
  audibleCount: number;
  turnLikelyInUse: boolean | null;
  lastPolicyRevision: number;
  policySocketConnected: boolean;
}

/** Event name -> listener arguments. */
export interface ProximityVoiceEvents {
  connected: [];
  disconnected: [reason?: string];
  'participant-speaking': [participantId: string, speaking: boolean];
  error: [error: Error];
}

export type ProximityVoiceEventName = keyof ProximityVoiceEvents;
export type ProximityVoiceListener<E extends ProximityVoiceEventName> = (
  ...args: ProximityVoiceEvents[E]
) => void;

export interface ProximityVoiceClient {
  connect(config: ProximityVoiceClientConfig): Promise<void>;
  disconnect(): Promise<void>;

  setListenerPose(pose: ListenerPose): void;
  upsertRemotePose(pose: RemotePose): void;
  removeRemoteParticipant(participantId: string): void;

  setMicState(next: Partial<MicState>): Promise<void>;
  setInputDevice(deviceId: string): Promise<void>;
  setOutputDevice?(deviceId: string): Promise<void>;

  /** Replace the policy socket token (and optionally the LiveKit token); a
   * socket parked after close 1008 reconnects at once. */
  updateCredentials(next: CredentialsUpdate): void;

  getDiagnostics(): VoiceDiagnostics;

  on(event: 'connected', cb: () => void): void;
  on(event: 'disconnected', cb: (reason?: string) => void): void;
  on(event: 'participant-speaking', cb: (participantId: string, speaking: boolean) => void): void;
  on(event: 'error', cb: (error: Error) => void): void;

  off(event: 'connected', cb: () => void): void;
  off(event: 'disconnected', cb: (reason?: string) => void): void;
  off(event: 'participant-speaking', cb: (participantId: string, speaking: boolean) => void): void;
  off(event: 'error', cb: (error: Error) => void): void;
}
