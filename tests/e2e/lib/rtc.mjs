// The rtc-node module instance the bots use (tests/bots/node_modules): the
// same file URL as bot.mjs resolves, so one FFI instance serves both.
export { dispose } from '../../bots/node_modules/@livekit/rtc-node/dist/index.js';
