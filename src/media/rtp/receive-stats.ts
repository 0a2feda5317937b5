import { seqDelta } from './wrap-math.js';
import type { ReportBlock } from './rtcp.js';

const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

/**
 * Receiver statistics for one incoming stream (RFC 3550 appendix A.1 sequence tracking, A.3 loss,
 * A.8 interarrival jitter), enough to build a report block. Allocation-free per packet.
 */
export class ReceiveStats {
  ssrc = 0;
  packets = 0;
  octets = 0;
  duplicatesOrLate = 0;
  #started = false;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit = 0;
  /** Jitter estimate in timestamp units, scaled by 16 (A.8). */
  #jitter16 = 0;
  #lastSrMiddle = 0;
  #lastSrArrivalMs = 0;

  constructor(readonly clockRate = 8000) {}

  /** Record one packet. `arrivalMs` is monotonic time. */
  update(ssrc: number, seq: number, timestamp: number, payloadBytes: number, arrivalMs: number): void {
    if (!this.#started || ssrc !== this.ssrc) {
      this.#started = true;
      this.ssrc = ssrc;
      this.#baseSeq = seq;
      this.#maxSeq = seq;
      this.#cycles = 0;
      this.#expectedPrior = 0;
      this.#receivedPrior = 0;
      this.packets = 0;
      this.#jitter16 = 0;
      this.#transit = 0;
    } else {
      const d = seqDelta(seq, this.#maxSeq);
      if (d > 0 && d < MAX_DROPOUT) {
        if (seq < this.#maxSeq) this.#cycles += 0x10000;
        this.#maxSeq = seq;
      } else if (d <= 0 && d >= -MAX_MISORDER) {
        this.duplicatesOrLate++;
      } else {
        // A big jump: restart the sequence bookkeeping (A.1 "probation" simplified).
        this.#baseSeq = seq;
        this.#maxSeq = seq;
        this.#cycles = 0;
        this.#expectedPrior = 0;
        this.#receivedPrior = 0;
        this.packets = 0;
      }
    }
    this.packets++;
    this.octets += payloadBytes;
    const arrival = Math.round((arrivalMs * this.clockRate) / 1000);
    const transit = (arrival - timestamp) | 0;
    if (this.packets > 1) {
      let d = (transit - this.#transit) | 0;
      if (d < 0) d = -d;
      this.#jitter16 += d - ((this.#jitter16 + 8) >> 4);
    }
    this.#transit = transit;
  }

  get extendedHighestSeq(): number {
    return (this.#cycles + this.#maxSeq) >>> 0;
  }
  get expected(): number {
    return this.#started ? this.#cycles + this.#maxSeq - this.#baseSeq + 1 : 0;
  }
  get lost(): number {
    return this.expected - this.packets;
  }
  /** Interarrival jitter in timestamp units. */
  get jitter(): number {
    return this.#jitter16 >> 4;
  }
  get started(): boolean {
    return this.#started;
  }

  /** Remember an SR from this source (for LSR/DLSR in our next report). */
  onSenderReport(ntpMiddle: number, arrivalMs: number): void {
    this.#lastSrMiddle = ntpMiddle;
    this.#lastSrArrivalMs = arrivalMs;
  }

  /** Build a report block and advance the "prior" counters (A.3). */
  reportBlock(nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.packets - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.packets;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    const dlsr = this.#lastSrArrivalMs === 0 && this.#lastSrMiddle === 0 ? 0 : Math.round(((nowMs - this.#lastSrArrivalMs) / 1000) * 65536);
    return {
      ssrc: this.ssrc,
      fractionLost: fraction,
      cumulativeLost: this.lost,
      extendedHighestSeq: this.extendedHighestSeq,
      jitter: this.jitter,
      lastSr: this.#lastSrMiddle,
      delaySinceLastSr: this.#lastSrMiddle === 0 ? 0 : dlsr >>> 0,
    };
  }
}
