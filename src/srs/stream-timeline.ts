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

/**
 * Where a stream's first packets go. An SRC that kept what was said before the recording server
 * answered (a start buffer, as this product's forks keep from the answer) sends it in one burst when
 * its fork starts: anchored on the burst's arrival, the whole stream would sit late on the timeline
 * by the buffer's length. So the packets of a stream's first `windowMs` (from its first packet) are
 * held, then placed from the earliest start their RTP timestamps allow: the smallest arrival minus
 * timestamp distance from the first packet among them (startMs). A stream that starts live gets the
 * time of its least-delayed packet. Pure: arrival times in.
 */
export class StartAligner<T> {
  readonly #windowMs: number;
  readonly #maxPackets: number;
  readonly #msPerTick: number;
  #armed = true;
  #ssrc = 0;
  #fromMs = 0;
  #firstTs = 0;
  readonly #held: Array<{ ts: number; arrivalMs: number; item: T }> = [];

  constructor(options: { windowMs?: number; maxPackets?: number; sampleRate?: number } = {}) {
    this.#windowMs = options.windowMs ?? 60;
    this.#maxPackets = options.maxPackets ?? 3000;
    this.#msPerTick = 1000 / (options.sampleRate ?? 8000);
  }

  /** The next packet starts a new window (the stream's start, or a resume after a pause). */
  arm(): void {
    this.#armed = true;
  }

  /** Packets are held (release them when the window is over). */
  get holding(): boolean {
    return this.#held.length > 0;
  }

  /** Whether a packet goes into the window (then `hold` it); false: release, then place it as usual. */
  accepts(ssrc: number, arrivalMs: number): boolean {
    if (this.#held.length === 0) return this.#armed;
    return ssrc === this.#ssrc && arrivalMs < this.#fromMs + this.#windowMs && this.#held.length < this.#maxPackets;
  }

  hold(ssrc: number, ts: number, arrivalMs: number, item: T): void {
    if (this.#held.length === 0) {
      this.#armed = false;
      this.#ssrc = ssrc;
      this.#fromMs = arrivalMs;
      this.#firstTs = ts;
    }
    this.#held.push({ ts, arrivalMs, item });
  }

  /** The recording's origin moved `ms` earlier: every held arrival is `ms` later on it. */
  shift(ms: number): void {
    this.#fromMs += ms;
    for (const p of this.#held) p.arrivalMs += ms;
  }

  /** Where the held packets start: the earliest time their arrivals and RTP timestamps allow (may be < 0). */
  startMs(): number {
    const { firstMs, earliestOffsetMs } = this.#bounds();
    // a reordered start: the earliest timestamp, not the first packet's, is the stream's first sample
    return firstMs + earliestOffsetMs;
  }

  /**
   * firstMs: where the first held packet goes (the smallest arrival minus its timestamp distance
   * from that packet); earliestOffsetMs: how far before it the earliest timestamp lies (<= 0).
   */
  #bounds(): { firstMs: number; earliestOffsetMs: number } {
    let firstMs = Number.POSITIVE_INFINITY;
    let earliestOffsetMs = 0;
    for (const p of this.#held) {
      const offsetMs = this.#offsetMs(p.ts);
      firstMs = Math.min(firstMs, p.arrivalMs - offsetMs);
      earliestOffsetMs = Math.min(earliestOffsetMs, offsetMs);
    }
    return { firstMs, earliestOffsetMs };
  }

  /** A timestamp's distance from the first held packet's, ms (wrapping). */
  #offsetMs(ts: number): number {
    return ((ts - this.#firstTs) | 0) * this.#msPerTick;
  }

  /** The window ends at `nowMs` (a packet of any stream arrived then). */
  expired(nowMs: number): boolean {
    return this.#held.length > 0 && nowMs >= this.#fromMs + this.#windowMs;
  }

  /** Hands out the held packets in arrival order, each with the arrival time it is placed by (from startMs()). */
  release(place: (ssrc: number, ts: number, arrivalMs: number, item: T) => void): void {
    const { firstMs } = this.#bounds();
    for (const p of this.#held) place(this.#ssrc, p.ts, firstMs + this.#offsetMs(p.ts), p.item);
    this.#held.length = 0;
  }
}
