/**
 * Validation of ProximityVoiceClientConfig. Bad input is rejected up front
 * (connect() rejects) instead of failing later inside LiveKit or the socket.
 */
import { ProximityVoiceError } from './errors';
import { isValidId } from './policy/messages';
import { DEFAULT_MAX_SUBSCRIBED_VOICES, MAX_SUBSCRIBED_VOICES_LIMIT } from './subscriptions';
import type { ProximityVoiceClientConfig } from './types';

function fail(why: string): never {
  throw new ProximityVoiceError('STATE', `invalid config: ${why}`, false);
}

function isUrl(v: unknown, schemes: readonly string[]): boolean {
  if (typeof v !== 'string') return false;
  try {
    return schemes.includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

/** Returns the effective cap; throws ProximityVoiceError('STATE') on bad config. */
export function checkConfig(c: ProximityVoiceClientConfig): number {
  if (!c || typeof c !== 'object') fail('config must be an object');
  if (!isUrl(c.livekitUrl, ['ws:', 'wss:', 'http:', 'https:'])) fail('livekitUrl');
  if (!isUrl(c.policySocketUrl, ['ws:', 'wss:'])) fail('policySocketUrl');
  if (typeof c.token !== 'string' || c.token === '') fail('token');
  if (typeof c.policySocketToken !== 'string' || c.policySocketToken === '')
    fail('policySocketToken');
  if (!isValidId(c.participantId)) fail('participantId');
  if (!isValidId(c.roomId)) fail('roomId');
  const cap = c.maxSubscribedVoices ?? DEFAULT_MAX_SUBSCRIBED_VOICES;
  if (!Number.isInteger(cap) || cap < 0 || cap > MAX_SUBSCRIBED_VOICES_LIMIT) {
    fail(`maxSubscribedVoices must be an integer in 0..${MAX_SUBSCRIBED_VOICES_LIMIT}`);
  }
  return cap;
}
