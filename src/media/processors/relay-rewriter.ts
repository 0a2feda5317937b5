import {
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  setRtpMarker,
  setRtpSeq,
  setRtpSsrc,
  setRtpTimestamp,
  writeRtpHeader,
} from '../rtp/rtp-header.js';
import { addSeq, addTs, seqDelta } from '../rtp/wrap-math.js';

/** RFC 3550 A.1 thresholds: forward jumps above this, or backward beyond MAX_MISORDER, start a new epoch. */
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

/** What `rewriteRelayed` decided for a packet. */
export const RewriteResult = {
  /** Rewritten in place; send it. */
  Forward: 0,
  /** Exact duplicate of the newest packet: drop. */
  Duplicate: 1,
  /** Older than the current epoch's first packet (its number would collide with earlier output): drop. */
  TooLate: 2,
} as const;
export type RewriteResult = (typeof RewriteResult)[keyof typeof RewriteResult];

/**
 * Keeps one outgoing RTP stream continuous (RFC 3550 section 5.1, 8.2 "SSRC of a translator's
 * output"): one SSRC of our own, sequence numbers without gaps or duplicates that we introduce,
 * timestamps that follow the media clock, whichever source feeds it: the other leg's relayed packets
 * (several SSRCs over a call's life, e.g. after a transfer) or frames we generate (prompts, silence).
 *
 * Each run of packets from one source is an *epoch*: on entry we map the source's seq/timestamp onto
 * ours with fixed offsets (`out = in + offset`), so within an epoch gaps from real loss and reordering
 * are preserved as the sender produced them. A new epoch starts on a new source SSRC, after generated
 * frames, or on a jump beyond RFC 3550's MAX_DROPOUT/MAX_MISORDER. At an epoch start:
 *   - seq   = last sent seq + 1 (never a gap, never a duplicate);
 *   - ts    = last sent ts + max(one frame, elapsed wall time in samples), so the receiver's
 *             playout keeps real time and never sees a timestamp going backwards;
 *   - the marker bit is set (RFC 3551 section 4.1: start of a talkspurt) so jitter buffers resync.
 *
 * Per packet it reads and writes 10 header octets in place; it never allocates.
 */
export class StreamRewriter {
  /** Our SSRC on this stream. */
  readonly ssrc: number;
  readonly clockRate: number;
  /** Samples in one frame at `clockRate` (20 ms), the minimum timestamp step at an epoch start. */
  readonly frameSamples: number;

  packetsSent = 0;
  octetsSent = 0;
  duplicatesDropped = 0;
  lateDropped = 0;
  epochs = 0;

  #sent = false;
  #lastSeq: number;
  #lastTs: number;
  #lastTimeMs = 0;
  #inEpoch = false;
  #srcSsrc = 0;
  #seqOffset = 0;
  #tsOffset = 0;
  #highestIn = 0;
  #epochFirstIn = 0;

  /**
   * @param ssrc our SSRC for this stream
   * @param initialSeq first sequence number (random per RFC 3550 5.1)
   * @param initialTs first timestamp (random per RFC 3550 5.1)
   * @param clockRate RTP clock rate, default 8000 (G.711)
   */
  constructor(ssrc: number, initialSeq: number, initialTs: number, clockRate = 8000) {
    this.ssrc = ssrc >>> 0;
    this.#lastSeq = addSeq(initialSeq, -1);
    this.#lastTs = initialTs >>> 0;
    this.clockRate = clockRate;
    this.frameSamples = Math.round(clockRate / 50);
  }

  /** Sequence number of the last packet sent. */
  get lastSeq(): number {
    return this.#lastSeq;
  }
  /** Timestamp of the last packet sent. */
  get lastTimestamp(): number {
    return this.#lastTs;
  }
  /** Monotonic ms when the last packet was sent (0 before the first). */
  get lastSentAtMs(): number {
    return this.#lastTimeMs;
  }
  get hasSent(): boolean {
    return this.#sent;
  }

  /** The next relayed packet starts a new epoch (call after a pause in the source or a switch). */
  breakEpoch(): void {
    this.#inEpoch = false;
  }

  /** Timestamp for something starting now, continuing the stream (see class comment). */
  #nextEpochTs(nowMs: number): number {
    if (!this.#sent) return this.#lastTs;
    const elapsed = Math.round(((nowMs - this.#lastTimeMs) * this.clockRate) / 1000);
    return addTs(this.#lastTs, elapsed > this.frameSamples ? elapsed : this.frameSamples);
  }

  /**
   * Rewrite SSRC, seq and timestamp of the relayed RTP packet in `buf` (already validated) in place.
   * `nowMs` is monotonic time. Returns whether to send it.
   */
  rewriteRelayed(buf: Uint8Array, nowMs: number, length: number): RewriteResult {
    const inSsrc = rtpSsrc(buf);
    const inSeq = rtpSeq(buf);
    const inTs = rtpTimestamp(buf);
    let newest = true;
    let startEpoch = !this.#inEpoch || inSsrc !== this.#srcSsrc;
    if (!startEpoch) {
      const d = seqDelta(inSeq, this.#highestIn);
      if (d > 0 && d <= MAX_DROPOUT) {
        this.#highestIn = inSeq;
      } else if (d === 0) {
        this.duplicatesDropped++;
        return RewriteResult.Duplicate;
      } else if (d < 0 && d >= -MAX_MISORDER) {
        if (seqDelta(inSeq, this.#epochFirstIn) < 0) {
          this.lateDropped++;
          return RewriteResult.TooLate;
        }
        newest = false;
      } else {
        startEpoch = true;
      }
    }
    if (startEpoch) {
      const outSeq = addSeq(this.#lastSeq, 1);
      const outTs = this.#nextEpochTs(nowMs);
      this.#seqOffset = (outSeq - inSeq) & 0xffff;
      this.#tsOffset = (outTs - inTs) >>> 0;
      this.#srcSsrc = inSsrc;
      this.#highestIn = inSeq;
      this.#epochFirstIn = inSeq;
      this.#inEpoch = true;
      this.epochs++;
      setRtpMarker(buf, true);
    }
    const outSeq = (inSeq + this.#seqOffset) & 0xffff;
    const outTs = (inTs + this.#tsOffset) >>> 0;
    setRtpSeq(buf, outSeq);
    setRtpTimestamp(buf, outTs);
    setRtpSsrc(buf, this.ssrc);
    if (newest) {
      this.#lastSeq = outSeq;
      this.#lastTs = outTs;
      this.#lastTimeMs = nowMs;
      this.#sent = true;
    }
    this.packetsSent++;
    this.octetsSent += length - 12;
    return RewriteResult.Forward;
  }

  /**
   * Stamp a generated frame (prompt, silence, tone): writes a 12-byte header into `out`.
   * `consecutive` says the previous packet on this stream was the previous frame of the same
   * generated run (then ts advances by exactly `samples`, keeping the pacer's drift-free spacing).
   */
  stampGenerated(out: Uint8Array, payloadType: number, samples: number, nowMs: number, consecutive: boolean, payloadBytes: number): void {
    const seq = addSeq(this.#lastSeq, 1);
    const ts = consecutive && this.#sent ? addTs(this.#lastTs, samples) : this.#nextEpochTs(nowMs);
    writeRtpHeader(out, { payloadType, seq, timestamp: ts, ssrc: this.ssrc, marker: !consecutive });
    this.#inEpoch = false;
    this.#lastSeq = seq;
    this.#lastTs = ts;
    this.#lastTimeMs = nowMs;
    this.#sent = true;
    this.packetsSent++;
    this.octetsSent += payloadBytes;
  }
}
