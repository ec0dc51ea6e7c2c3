// AudioWorklet for the fade check: records the peak of |left|, |right| of
// every render quantum (128 frames) while armed, and posts the list back
// with the context time of the first quantum when asked.
class EnvelopeRecorder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.armed = false;
    this.peaks = [];
    this.t0 = 0;
    this.port.onmessage = (e) => {
      if (e.data === 'start') {
        this.armed = true;
        this.peaks = [];
        this.t0 = currentTime;
      } else if (e.data === 'stop') {
        this.armed = false;
        this.port.postMessage({ t0: this.t0, peaks: this.peaks });
        this.peaks = [];
      }
    };
  }

  process(inputs) {
    if (!this.armed) return true;
    let peak = 0;
    for (const ch of inputs[0] ?? []) for (const v of ch) peak = Math.max(peak, Math.abs(v));
    if (this.peaks.length < 48000) this.peaks.push(peak);
    return true;
  }
}
registerProcessor('envelope-recorder', EnvelopeRecorder);
