/**
 * proximity-voice-client: the one public entry point.
 */
export { createProximityVoiceClient, CLIENT_DISCONNECT_REASON } from './client';
export type { ClientDependencies } from './session';
export { ProximityVoiceError, isRetryablePolicyError } from './errors';
export type { ClientErrorCode, PolicyErrorCode } from './errors';
export type {
  CredentialsUpdate,
  ListenerPose,
  MicState,
  Orientation,
  PannerOptions,
  ProximityVoiceClient,
  ProximityVoiceClientConfig,
  ProximityVoiceEventName,
  ProximityVoiceEvents,
  ProximityVoiceListener,
  RemotePose,
  Vec3,
  VoiceDiagnostics,
  VoiceParticipantId,
  VoiceRoomId,
  VoiceSessionResponseLike,
} from './types';
export type { WebSocketConstructor, WebSocketLike } from './policy/socket';
export type { Timers } from './timers';
// Building blocks, exported for hosts that drive their own transport and for
// the browser test harness.
export { SpatialAudioGraph, PANNER_DEFAULTS } from './audio/graph';
export type { SpatialAudioGraphOptions, MediaElementLike } from './audio/graph';
export { selectAudible, diffSubscriptions, DEFAULT_MAX_SUBSCRIBED_VOICES } from './subscriptions';
