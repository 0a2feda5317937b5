/**
 * One of the two streams of a fork (fork-set.ts, R-30): its endpoint, target, its own
 * SSRC/seq/timestamp line, the payload-type map towards the recording server, SRTP, the silence
 * frames while paused, the audio buffered before the fork started, and its counters (kept for the
 * engine's totals after the fork closed).
 */
import type { G711Codec } from '../audio/g711.js';
import type { RtpProtector } from '../processors/fork-srtp.js';
import { ForkBuffer } from '../processors/fork-buffer.js';
import type { FramePacer } from '../processors/prompt-pacer.js';
import { StreamRewriter } from '../processors/relay-rewriter.js';
import type { RtpEndpoint } from '../transport/udp-endpoint.js';
import type { ForkStreamStats, ForkTarget } from '../media-session-types.js';
import { randomU32 } from './engine-leg.js';

export class ForkStream {
  readonly endpoint: RtpEndpoint;
  rewriter: StreamRewriter;
  target: ForkTarget | undefined;
  rtcpPort = 0;
  /** Leg payload type -> recording-server payload type, -1 = not accepted. */
  readonly ptMap = new Int16Array(128).fill(-1);
  /** Recording-server payload type of each G.711 codec, -1 when not offered. */
  silencePt = -1;
  silenceCodec: G711Codec = 'PCMU';
  protector: RtpProtector | undefined;
  silencePacer: FramePacer | undefined;
  /** What the party said between prepare and start (media.forkBufferMs); undefined once started, or with 0. */
  buffer: ForkBuffer | undefined;
  stats = { sent: 0, sentBytes: 0, silenceFrames: 0, pausedDropped: 0, codecDropped: 0, bufferSent: 0, bufferOverflowed: 0, bufferDiscarded: 0 };

  /** @param bufferMs audio kept from prepare until start (0: none) */
  constructor(endpoint: RtpEndpoint, bufferMs: number) {
    this.endpoint = endpoint;
    this.rewriter = new StreamRewriter(randomU32(), randomU32() & 0xffff, randomU32());
    this.buffer = bufferMs > 0 ? new ForkBuffer(bufferMs) : undefined;
  }
}
export interface ForkCounters {
  sent: number;
  sentBytes: number;
  codecDropped: number;
  pausedDropped: number;
  sendErrors: number;
  bufferSent: number;
  bufferOverflowed: number;
  bufferDiscarded: number;
}

export function forkCounters(f: ForkStream): ForkCounters {
  const s = f.stats;
  return {
    sent: s.sent,
    sentBytes: s.sentBytes,
    codecDropped: s.codecDropped,
    pausedDropped: s.pausedDropped,
    sendErrors: f.endpoint.sendErrors,
    bufferSent: s.bufferSent,
    bufferOverflowed: s.bufferOverflowed + (f.buffer?.overflowed ?? 0),
    bufferDiscarded: s.bufferDiscarded,
  };
}

export function addForkCounters(into: ForkCounters, f: ForkStream): void {
  const c = forkCounters(f);
  into.sent += c.sent;
  into.sentBytes += c.sentBytes;
  into.codecDropped += c.codecDropped;
  into.pausedDropped += c.pausedDropped;
  into.sendErrors += c.sendErrors;
  into.bufferSent += c.bufferSent;
  into.bufferOverflowed += c.bufferOverflowed;
  into.bufferDiscarded += c.bufferDiscarded;
}

export function forkStats(f: ForkStream): ForkStreamStats {
  return {
    ssrc: f.rewriter.ssrc,
    ...f.stats,
    bufferOverflowed: f.stats.bufferOverflowed + (f.buffer?.overflowed ?? 0),
    buffered: f.buffer?.length ?? 0,
    sendErrors: f.endpoint.sendErrors,
    lastSeq: f.rewriter.lastSeq,
    lastTimestamp: f.rewriter.lastTimestamp,
  };
}
