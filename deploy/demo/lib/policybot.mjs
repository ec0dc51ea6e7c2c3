// The demo's talking bots. Each is an honest player of the end-to-end suite
// (tests/e2e/lib/player.mjs, reused as is): POST /sessions through the game
// backend, LiveKit join with autoSubscribe off, EMPTY allow-list before
// publishing, policy socket auth, every policy.audience applied as the
// allow-list and acked, rejoin after a LiveKit drop, fresh session after a
// 1008 close. Only two things change for the demo, through Player's
// BotClass: what the bot says (speech or tone frames) and what it measures
// (only players' audio: bots ignore each other).
import { readFileSync } from 'node:fs';
import { Bot } from '../../../tests/bots/lib/bot.mjs';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../../tests/bots/lib/audio.mjs';
import { Player } from '../../../tests/e2e/lib/player.mjs';

// AudioFrame must come from the very rtc-node module instance bot.mjs
// loaded (tests/bots/node_modules): a second copy would start a second FFI.
const RTC_DIR = new URL('../../../tests/bots/node_modules/@livekit/rtc-node/', import.meta.url);
const rtcEntry = JSON.parse(readFileSync(new URL('package.json', RTC_DIR), 'utf8')).exports['.']
  .import.default;
const { AudioFrame } = await import(new URL(rtcEntry, RTC_DIR).href);

const PUSH_FRAMES = 4; // 40 ms per captureFrame (the AudioSource queues 100 ms)

/** Returns a Bot class whose microphone plays `frames` (a 10 ms frame generator, speech.mjs). */
export function voiceBotClass(frames) {
  return class VoiceBot extends Bot {
    // Several frames per FFI call: each call costs CPU (8 bots at 10 ms
    // frames took ~40% of a core here, mostly per-call work).
    async pumpTone() {
      const buf = new Int16Array(FRAME_SAMPLES * PUSH_FRAMES);
      while (this.running) {
        for (let k = 0; k < PUSH_FRAMES; k++) buf.set(frames.next(), k * FRAME_SAMPLES);
        try {
          await this.source.captureFrame(new AudioFrame(buf.slice(), SAMPLE_RATE, 1, buf.length));
        } catch (e) {
          if (this.running) this.note('capture_error', String(e));
          return;
        }
      }
    }

    readAudio(track, identity) {
      if (identity.startsWith('player-')) return super.readAudio(track, identity);
      return undefined;
    }
  };
}

/**
 * A demo bot. entity: { id, toneHz }; tones: Map id -> Hz of every bot;
 * frames: its frame generator; game: { roomId, session(id) -> Promise<VoiceSessionResponse> }.
 */
export function demoBot({ entity, tones, frames, game }) {
  return new Player({
    id: entity.id,
    tones,
    game,
    kind: 'honest',
    BotClass: voiceBotClass(frames),
  });
}

/** For /api/status: what a bot does and hears (players only). */
export function botStatus(p) {
  return {
    id: p.id,
    joined: p.bot !== null,
    published: Boolean(p.trackSid),
    policySocketOpen: p.ws?.readyState === 1,
    audience: p.audience ?? [],
    audienceRevision: p.audienceRev,
    acks: p.counts.acks,
    canHear: p.canHear,
    canHearRevision: p.rev,
    socketOpens: p.counts.socketOpens,
    errors: p.errors,
    heard: p.bot ? p.bot.report() : {},
  };
}
