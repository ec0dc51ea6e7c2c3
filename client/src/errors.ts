/**
 * Errors the client reports through the 'error' event and rejected promises.
 * `code` says where it came from; `retryable` says whether the client will
 * recover on its own (true) or needs the host (false: e.g. new credentials).
 */

/** Server error codes of MVP-SPEC section 18, as sent in policy.error. */
export type PolicyErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INVALID_PAYLOAD'
  | 'ROOM_NOT_FOUND'
  | 'PARTICIPANT_NOT_FOUND'
  | 'STALE_REVISION'
  | 'RATE_LIMITED'
  | 'INTERNAL_ERROR';

export type ClientErrorCode =
  /** policy.error from the server; serverCode holds the spec code. */
  | 'POLICY_ERROR'
  /** Policy socket closed 1008: parked until updateCredentials(). */
  | 'POLICY_AUTH'
  /** Policy socket dropped; reconnecting with backoff. */
  | 'POLICY_SOCKET_LOST'
  /** A server message that does not parse or does not match this session. */
  | 'POLICY_PROTOCOL'
  /** LiveKit connect / publish / subscribe failure. */
  | 'LIVEKIT'
  /** Microphone could not be opened or published. */
  | 'MICROPHONE'
  /** Audio output / WebAudio problem. */
  | 'AUDIO'
  /** The call is not valid in the current state (e.g. connect twice). */
  | 'STATE';

const RETRYABLE_SERVER_CODES: ReadonlySet<string> = new Set(['RATE_LIMITED', 'INTERNAL_ERROR']);

/** True for the policy.error codes after which reconnecting may help. */
export function isRetryablePolicyError(code: string): boolean {
  return RETRYABLE_SERVER_CODES.has(code);
}

export class ProximityVoiceError extends Error {
  readonly code: ClientErrorCode;
  readonly retryable: boolean;
  readonly serverCode: string | undefined;

  constructor(code: ClientErrorCode, message: string, retryable: boolean, serverCode?: string) {
    super(message);
    this.name = 'ProximityVoiceError';
    this.code = code;
    this.retryable = retryable;
    this.serverCode = serverCode;
  }
}
