/**
 * Places the packets of one recorded stream on the recording's timeline (sample positions at
 * 8 kHz since the recording start), so that both WAV channels stay aligned and pauses or gaps
 * become silence.
 *
 * The first packet of an SSRC is anchored at its arrival time; later packets are placed by their
 * RTP timestamp distance from the anchor (jitter-free). When the RTP-based position strays from
 * the arrival-based one by more than `reanchorMs` (a new SSRC, a timestamp jump, an SRC that froze
 * its timestamps while paused), the stream is re-anchored on arrival; reset() forces that for the
 * next packet (resume after a pause). Pure: arrival times in.
 */
export interface StreamTimelineOptions {
  /** Default 8000 Hz. */
  sampleRate?: number;
  /** Default 1000 ms. */
  reanchorMs?: number;
}

export class StreamTimeline {
  readonly #rate: number;
  readonly #reanchorSamples: number;
  #ssrc: number | undefined;
  #anchorTs = 0;
  #anchorPos = 0;
  /** How many times the stream was re-anchored (new SSRC or timestamp jump). */
  reanchors = 0;

  constructor(options: StreamTimelineOptions = {}) {
    this.#rate = options.sampleRate ?? 8000;
    this.#reanchorSamples = ((options.reanchorMs ?? 1000) * this.#rate) / 1000;
  }

  /**
   * Sample position of a packet's first sample.
   * @param arrivalMs arrival time in ms since the recording start (monotonic clock)
   */
  position(ssrc: number, rtpTimestamp: number, arrivalMs: number): number {
    const arrivalPos = Math.round((arrivalMs * this.#rate) / 1000);
    if (this.#ssrc !== ssrc) {
      if (this.#ssrc !== undefined) this.reanchors++;
      this.#anchor(ssrc, rtpTimestamp, arrivalPos);
      return arrivalPos;
    }
    const delta = (rtpTimestamp - this.#anchorTs) | 0; // signed 32-bit distance, wrap-safe
    const pos = this.#anchorPos + delta;
    if (Math.abs(pos - arrivalPos) > this.#reanchorSamples) {
      this.reanchors++;
      this.#anchor(ssrc, rtpTimestamp, arrivalPos);
      return arrivalPos;
    }
    return pos;
  }

  /** Forgets the anchor: the next packet is placed by its arrival (used on resume after a pause). */
  reset(): void {
    this.#ssrc = undefined;
  }

  #anchor(ssrc: number, ts: number, pos: number): void {
    this.#ssrc = ssrc;
    this.#anchorTs = ts;
    this.#anchorPos = pos;
  }
}
