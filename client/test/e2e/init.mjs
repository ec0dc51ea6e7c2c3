// Init script injected into every player's browser context (before any page
// script) by run.mjs. Serialised with Function.prototype.toString: it must be
// self-contained.
//
// 1. The microphone. One Chromium serves every player, and
//    --use-file-for-fake-audio-capture gives all of them the same WAV, so a
//    listener could not tell the voices apart. getUserMedia still opens the
//    REAL fake device (permission, deviceId constraints, labels as Chromium
//    has them) and then hands out a tone generator's track instead, at the
//    frequency the driver assigned to (this player, that device label), with
//    the real device's settings (deviceId, groupId) so livekit-client's
//    device switching sees the device it asked for.
// 2. A passive tap on the policy socket: every frame the daemon sends is
//    logged with its arrival time (nothing is changed), so the driver can
//    compare the client's diagnostics with what the daemon said.
export function playerInit({ tones }) {
  const md = navigator.mediaDevices;
  const getUserMedia = md.getUserMedia.bind(md);
  let micCtx = null;
  md.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.audio || constraints.video) return getUserMedia(constraints);
    const real = await getUserMedia({ audio: constraints.audio });
    const device = real.getAudioTracks()[0];
    const settings = device.getSettings();
    const label = device.label;
    real.getTracks().forEach((t) => t.stop());
    const f = tones[label] ?? tones.default;
    // the page's own context when it has one (one audio thread less per player)
    micCtx ??= window.pvCtx ?? new AudioContext({ sampleRate: 48000 });
    await micCtx.resume();
    const osc = new OscillatorNode(micCtx, { frequency: f });
    const gain = new GainNode(micCtx, { gain: 0.3 });
    const dest = micCtx.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    osc.start();
    const track = dest.stream.getAudioTracks()[0];
    const stop = track.stop.bind(track);
    track.stop = () => {
      osc.stop();
      osc.disconnect();
      stop();
    };
    track.getSettings = () => ({ ...settings });
    Object.defineProperty(track, 'label', { value: label });
    window.pvMic = { label, f, deviceId: settings.deviceId };
    return dest.stream;
  };

  window.pvFrames = [];
  window.pvSent = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      if (String(url).endsWith('/policy-socket')) {
        window.pvPolicySocket = this;
        const send = this.send.bind(this);
        this.send = (data) => {
          window.pvSent.push({ t: Date.now(), data: String(data).slice(0, 200) });
          send(data);
        };
        this.addEventListener('message', (e) => {
          try {
            const m = JSON.parse(e.data);
            if (m.type === 'policy.pose.batch') m.poses = m.poses.length; // keep the log small
            window.pvFrames.push({ t: Date.now(), ...m });
          } catch {
            window.pvFrames.push({ t: Date.now(), unparsed: String(e.data) });
          }
        });
      }
    }
  };
}
