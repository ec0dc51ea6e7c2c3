// LiveKit RoomService over Twirp (HTTP + JSON), the way the C daemon calls it:
// POST /twirp/livekit.RoomService/<Method>, Authorization: Bearer <admin JWT
// for that room>. No SDK on purpose: this is the wire contract.
import { adminToken } from './token.mjs';

export class RoomService {
  /** server: { httpUrl, key, secret } as returned by startLiveKit(). */
  constructor(server) {
    this.server = server;
  }

  /**
   * Calls method with body (must contain room). Resolves to
   * { status, body (parsed JSON or text), text, startedAt, ms } where startedAt is
   * performance.now() just before the request was sent. Never throws on HTTP errors.
   */
  async call(method, body) {
    const token = adminToken(this.server, body.room);
    const startedAt = performance.now();
    const res = await fetch(`${this.server.httpUrl}/twirp/livekit.RoomService/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep the text */
    }
    return { status: res.status, body: parsed, text, startedAt, ms: performance.now() - startedAt };
  }

  updateSubscriptions(room, identity, trackSids, subscribe) {
    return this.call('UpdateSubscriptions', { room, identity, track_sids: trackSids, subscribe });
  }

  listParticipants(room) {
    return this.call('ListParticipants', { room });
  }

  removeParticipant(room, identity) {
    return this.call('RemoveParticipant', { room, identity });
  }
}
