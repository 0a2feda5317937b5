/**
 * The forks of one engine session: each fork is one recording (one SIPREC session) with its
 * own two streams (what leg A says, what leg B says), targets, payload types, SRTP, pause state and
 * counters. A call with two recorded users has two forks ('main' and another id), each sending the
 * whole conversation to its own recording server.
 *
 * Per packet the session calls `forward()` once: one loop over the array of live forks, a copy per
 * active fork from the scratch ring; nothing is allocated per packet.
 *
 * Lifecycle of a fork:
 *
 *     prepared ──start──▶ active ◀──resume/start── paused
 *        │                  │ └──────pause──────────▲  │
 *        └──────────────────┴──────── stop ──────────▶ stopped (sockets closed, counters retired)
 *
 * From prepare (the call's answer) until its first start (the recording server's 200 OK) a fork
 * keeps what each party says in a bounded buffer per stream (processors/fork-buffer.ts,
 * `bufferMs`, config media.forkBufferMs) and sends it, oldest first and at once, when it starts: the
 * recording begins at the answer. A pause before the first start stops the buffering (what was
 * said after the pause is never sent, R-18) and the fork starts paused. Prompts and tones never
 * enter the buffer: it is fed from the same point as the fork, before any mixing.
 */
import { AppError } from '../../common/errors.js';
import { StateMachine, type TransitionTable } from '../../common/state-machine.js';
import { G711_SILENCE, type G711Codec } from '../audio/g711.js';
import { SrtpProtector } from '../processors/fork-srtp.js';
import { FramePacer } from '../processors/prompt-pacer.js';
import { RewriteResult, StreamRewriter } from '../processors/relay-rewriter.js';
import { writeSdesCname, writeSenderReport } from '../rtp/rtcp.js';
import { RTP_HEADER_SIZE, setRtpPayloadType } from '../rtp/rtp-header.js';
import { addTs } from '../rtp/wrap-math.js';
import type { RtpEndpoint } from '../transport/udp-endpoint.js';
import {
  DEFAULT_FORK_ID,
  type ForkBufferNotice,
  type ForkOptions,
  type ForkState,
  type ForkStats,
  type LocalRtpAddress,
  type MediaTotals,
} from '../media-session-types.js';
import { DEFAULT_PAYLOAD_TYPES, FRAME_MS, FRAME_SAMPLES, randomU32, type EngineServices, type Leg } from './engine-leg.js';
import { addForkCounters, ForkStream, forkStats, type ForkCounters } from './fork-stream.js';

/** Longest fork id accepted (it appears in logs and stats). */
const MAX_FORK_ID_LENGTH = 64;

/** What the forks need from their session. */
export interface ForkContext extends EngineServices {
  /** The session's legs: streams[0] carries what legs[0] (A) says, streams[1] what legs[1] (B) says. */
  legs: readonly [Leg, Leg];
  /** Audio each stream keeps from prepare until the first start, ms (0: none). */
  bufferMs: number;
  /** Reports how a fork's start buffer ended (the engine posts it to the plane, which logs it). */
  bufferEnded(notice: ForkBufferNotice): void;
}

/** A live or stopped fork's state (`idle` is only what stats say when no fork was prepared). */
export type ForkLifecycleState = Exclude<ForkState, 'idle'>;

/** The legal moves of a fork (common/state-machine.ts; drawn above and in docs/state-machines.md). */
export const FORK_TRANSITIONS: TransitionTable<ForkLifecycleState> = {
  prepared: ['active', 'paused', 'stopped'],
  active: ['paused', 'stopped'],
  paused: ['active', 'prepared', 'stopped'],
  stopped: [],
};

/** One recording: its two streams and its state. */
class Fork {
  readonly id: string;
  readonly #sm = new StateMachine<ForkLifecycleState>({ name: 'fork', initial: 'prepared', table: FORK_TRANSITIONS });
  readonly streams: readonly [ForkStream, ForkStream];
  /** Forward telephone-events too (ForkOptions.forkTelephoneEvents, default false). */
  telephoneEvents = false;
  /** Silence frames while paused unless pause says otherwise (ForkOptions.silenceWhilePaused, default false). */
  silenceWhilePaused = false;
  /** Started at least once (a target is known); before that the streams buffer. */
  started = false;
  /** Paused before the first start: its `silence` argument, applied when the fork starts. */
  pausedSilence: boolean | undefined;
  /** Monotonic ms of prepare. */
  readonly preparedAt: number;

  constructor(id: string, streams: [ForkStream, ForkStream], preparedAt: number) {
    this.id = id;
    this.streams = streams;
    this.preparedAt = preparedAt;
  }

  get state(): ForkLifecycleState {
    return this.#sm.state;
  }

  /** Moves the fork; an illegal move throws ILLEGAL_STATE_TRANSITION. */
  transition(next: ForkLifecycleState, reason?: string): void {
    this.#sm.transition(next, reason);
  }
}

/** The fork id of a command: DEFAULT_FORK_ID ('main') when absent; a short printable token otherwise. */
export function forkIdOf(forkId: unknown): string {
  if (forkId === undefined) return DEFAULT_FORK_ID;
  if (typeof forkId !== 'string' || forkId.length === 0 || forkId.length > MAX_FORK_ID_LENGTH || !/^[\w.:@-]+$/.test(forkId)) {
    throw new AppError('MEDIA_INVALID_ARGUMENT', `fork id ${String(forkId).slice(0, MAX_FORK_ID_LENGTH)}`);
  }
  return forkId;
}

export class ForkSet {
  readonly #ctx: ForkContext;
  /** The party's RTP header while a fork's header is written over a received packet (#forkPacket). */
  readonly #savedHeader = new Uint8Array(RTP_HEADER_SIZE);
  /** Every fork by id, stopped ones included (their state stays readable in stats). */
  readonly #forks = new Map<string, Fork>();
  /** Forks that are not stopped, in creation order: the only thing the packet path walks. */
  #live: Fork[] = [];
  /** Counters of streams already closed (stop, close), kept for addTotals. */
  readonly #retired: ForkCounters = { sent: 0, sentBytes: 0, codecDropped: 0, pausedDropped: 0, sendErrors: 0, bufferSent: 0, bufferOverflowed: 0, bufferDiscarded: 0 };
  #closed = false;

  constructor(ctx: ForkContext) {
    this.#ctx = ctx;
  }

  // ---------------------------------------------------------------- the packet path

  /**
   * A packet accepted from leg `legIndex` (0 = A, 1 = B), as the party sent it (before any mixing,
   * each active fork sends its own rewritten copy; a paused fork counts it; a fork not yet
   * started keeps a copy in its buffer (telephone-events too: whether they are forked is known at start).
   */
  forward(legIndex: 0 | 1, buf: Buffer, len: number, pt: number, telephoneEvent: boolean, now: number): void {
    const live = this.#live;
    for (let i = 0; i < live.length; i++) {
      const fork = live[i]!;
      const state = fork.state;
      if (state === 'prepared') {
        fork.streams[legIndex].buffer?.push(buf, len, pt, telephoneEvent, now);
        continue;
      }
      if (telephoneEvent && !fork.telephoneEvents) continue;
      if (state === 'active') this.#forkPacket(fork.streams[legIndex], buf, len, pt, now);
      else if (state === 'paused') fork.streams[legIndex].stats.pausedDropped++;
    }
  }

  #forkPacket(stream: ForkStream, buf: Buffer, len: number, pt: number, now: number): void {
    if (stream.ptMap[pt]! < 0) {
      stream.stats.codecDropped++;
      return;
    }
    if (stream.endpoint.copiesOnSend && stream.protector === undefined && len >= RTP_HEADER_SIZE) {
      // the endpoint copies as it sends: the fork's header is written over the received packet,
      // sent, and the party's header put back for the next fork and the relay (no payload copy)
      const saved = this.#savedHeader;
      for (let i = 0; i < RTP_HEADER_SIZE; i++) saved[i] = buf[i]!;
      this.#rewriteAndSend(stream, buf, len, pt, now);
      for (let i = 0; i < RTP_HEADER_SIZE; i++) buf[i] = saved[i]!;
      return;
    }
    const copy = this.#ctx.scratch.take(len, stream.endpoint.rtpSendQueueCount() > 0);
    buf.copy(copy, 0, 0, len);
    this.#rewriteAndSend(stream, copy, len, pt, now);
  }

  /** Rewrite `packet` (ours to change) onto the stream's line and send it; false when the rewriter dropped it. */
  #rewriteAndSend(stream: ForkStream, packet: Buffer, len: number, pt: number, now: number): boolean {
    const outPt = stream.ptMap[pt]!;
    if (stream.rewriter.rewriteRelayed(packet, now, len) !== RewriteResult.Forward) return false;
    if (outPt !== pt) setRtpPayloadType(packet, outPt);
    sendFork(stream, packet, len);
    return true;
  }

  /**
   * The fork's first start: send each stream's buffer, oldest first, in one burst, through the
   * rewriter with the packets' arrival times (the stream is then exactly what a fork started at
   * prepare would have sent: the recording server places it by timestamp). Or drop it
   * (`send` false). Reports the outcome once.
   */
  #endBuffers(fork: Fork, send: boolean): void {
    if (fork.streams[0].buffer === undefined) return;
    const notice: ForkBufferNotice = {
      forkId: fork.id,
      outcome: send ? 'sent' : 'discarded',
      waitedMs: Math.round(this.#ctx.clock.monotonic() - fork.preparedAt),
      bufferMs: this.#ctx.bufferMs,
      sent: 0,
      overflowed: 0,
      discarded: 0,
    };
    for (const s of fork.streams) {
      const buffer = s.buffer!;
      s.buffer = undefined;
      s.stats.bufferOverflowed += buffer.overflowed;
      notice.overflowed += buffer.overflowed;
      if (!send) {
        const n = buffer.discard();
        s.stats.bufferDiscarded += n;
        notice.discarded += n;
        continue;
      }
      buffer.drain((p) => {
        if (p.telephoneEvent && !fork.telephoneEvents) return;
        if (s.ptMap[p.payloadType]! < 0) {
          s.stats.codecDropped++;
          return;
        }
        if (p.epochBreak) s.rewriter.breakEpoch();
        if (this.#rewriteAndSend(s, p.data, p.length, p.payloadType, p.atMs)) {
          s.stats.bufferSent++;
          notice.sent++;
        }
      });
    }
    this.#ctx.bufferEnded(notice);
  }

  // ---------------------------------------------------------------- commands

  /** Bind the two streams' endpoints of fork `id` (idempotent while the fork is not stopped). */
  async prepare(id: string, address: string, ports: [number, number]): Promise<[LocalRtpAddress, LocalRtpAddress]> {
    this.#assertOpen();
    const existing = this.#liveFork(id);
    if (existing !== undefined) return addressesOf(existing);
    const [r0, r1] = await Promise.allSettled([this.#ctx.endpoints.open(address, ports[0]), this.#ctx.endpoints.open(address, ports[1])]);
    // a concurrent prepare of the same id may have won while we were binding
    const raced = this.#liveFork(id);
    if (r0.status === 'fulfilled' && r1.status === 'fulfilled' && !this.#closed && raced === undefined) {
      const bufferMs = this.#ctx.bufferMs;
      const fork = new Fork(id, [new ForkStream(r0.value, bufferMs), new ForkStream(r1.value, bufferMs)], this.#ctx.clock.monotonic());
      for (const s of fork.streams) s.endpoint.onRtcp = () => {};
      this.#forks.set(id, fork);
      this.#live = [...this.#live, fork];
      this.#mapPayloadTypes(fork);
      return addressesOf(fork);
    }
    if (r0.status === 'fulfilled') r0.value.close();
    if (r1.status === 'fulfilled') r1.value.close();
    this.#assertOpen();
    if (raced !== undefined) return addressesOf(raced);
    const failed = [r0.status === 'rejected' ? ports[0] : undefined, r1.status === 'rejected' ? ports[1] : undefined].filter((p): p is number => p !== undefined);
    throw Object.assign(new AppError('MEDIA_BIND_FAILED', `fork ${id} ports ${failed.join(', ')}`), { ports: failed });
  }

  /** Start (or retarget) fork `options.forkId`: targets[0] gets what A says, targets[1] what B says. */
  start(options: ForkOptions): void {
    this.#assertOpen();
    const id = forkIdOf(options.forkId);
    const fork = this.#liveFork(id);
    if (fork === undefined) throw new AppError('MEDIA_INVALID_ARGUMENT', `fork ${id} not prepared`);
    if (!Array.isArray(options.targets) || options.targets.length !== 2) throw new AppError('MEDIA_INVALID_ARGUMENT', 'fork needs two targets');
    for (const t of options.targets) {
      if (typeof t.address !== 'string' || !validPort(t.port)) throw new AppError('MEDIA_INVALID_ARGUMENT', `fork target ${t.address}:${t.port}`);
    }
    for (let i = 0; i < 2; i++) {
      const t = options.targets[i]!;
      const s = fork.streams[i]!;
      s.target = t;
      s.rtcpPort = t.rtcpPort ?? t.port + 1;
      if (t.ssrc !== undefined && t.ssrc >>> 0 !== s.rewriter.ssrc) {
        s.rewriter = new StreamRewriter(t.ssrc, randomU32() & 0xffff, randomU32());
      }
      s.protector = t.srtp !== undefined ? new SrtpProtector(t.srtp) : undefined;
    }
    fork.telephoneEvents = options.forkTelephoneEvents ?? false;
    fork.silenceWhilePaused = options.silenceWhilePaused ?? false;
    this.#mapPayloadTypes(fork);
    if (!fork.started) {
      fork.started = true;
      this.#endBuffers(fork, options.sendBuffered ?? true);
      if (fork.state === 'paused') {
        // paused before the recording server answered: it starts paused (nothing more is sent, R-18)
        fork.transition('active');
        this.pause(id, fork.pausedSilence);
        return;
      }
    } else if (fork.state === 'paused') this.resume(id);
    // already active: a start with new targets only retargets the streams
    if (fork.state !== 'active') fork.transition('active');
  }

  /** Nothing of the conversation reaches this fork's recording server until resume; optionally silence frames. */
  pause(id: string, silence: boolean | undefined): void {
    this.#assertOpen();
    const fork = this.#liveFork(id);
    if (fork === undefined) return;
    if (fork.state === 'prepared') {
      // before the first start: the buffer keeps what was said until now, nothing after
      fork.transition('paused');
      fork.pausedSilence = silence;
      return;
    }
    if (fork.state !== 'active') return;
    fork.transition('paused');
    const withSilence = silence ?? fork.silenceWhilePaused;
    for (const s of fork.streams) {
      s.rewriter.breakEpoch();
      if (withSilence && s.silencePt >= 0) {
        const pacer = new FramePacer(this.#ctx.clock, this.#ctx.frameTimers, (i) => this.#silenceFrame(s, i), FRAME_MS);
        s.silencePacer = pacer;
        pacer.start();
      }
    }
  }

  #silenceFrame(s: ForkStream, index: number): void {
    const len = 12 + FRAME_SAMPLES;
    const pkt = this.#ctx.scratch.take(len, s.endpoint.rtpSendQueueCount() > 0);
    pkt.fill(G711_SILENCE[s.silenceCodec], 12, len);
    s.rewriter.stampGenerated(pkt, s.silencePt, FRAME_SAMPLES, this.#ctx.clock.monotonic(), index > 0, FRAME_SAMPLES);
    s.stats.silenceFrames++;
    sendFork(s, pkt, len);
  }

  resume(id: string): void {
    this.#assertOpen();
    const fork = this.#liveFork(id);
    if (fork === undefined || fork.state !== 'paused') return;
    if (!fork.started) {
      fork.transition('prepared');
      for (const s of fork.streams) s.buffer?.breakEpoch();
      return;
    }
    for (const s of fork.streams) {
      s.silencePacer?.stop();
      s.silencePacer = undefined;
      s.rewriter.breakEpoch();
    }
    fork.transition('active');
  }

  /** Stop fork `id` and close its sockets; the other forks go on. A fork never prepared is ignored. */
  stop(id: string): void {
    this.#assertOpen();
    const fork = this.#liveFork(id);
    if (fork === undefined) return;
    this.#retire(fork);
    this.#live = this.#live.filter((f) => f !== fork);
  }

  #retire(fork: Fork): void {
    this.#endBuffers(fork, false);
    fork.transition('stopped');
    for (const s of fork.streams) {
      s.silencePacer?.stop();
      s.silencePacer = undefined;
      s.endpoint.close();
      addForkCounters(this.#retired, s);
    }
  }

  #liveFork(id: string): Fork | undefined {
    const fork = this.#forks.get(id);
    return fork !== undefined && fork.state !== 'stopped' ? fork : undefined;
  }

  /** After a leg's payload types changed (setRemote). */
  remapPayloadTypes(): void {
    for (const fork of this.#live) this.#mapPayloadTypes(fork);
  }

  /** Leg payload type -> the recording server's number for the same codec (-1: not offered). */
  #mapPayloadTypes(fork: Fork): void {
    for (let i = 0; i < 2; i++) {
      const s = fork.streams[i]!;
      const leg = this.#ctx.legs[i]!;
      const srs = s.target?.payloadTypes ?? DEFAULT_PAYLOAD_TYPES;
      const byName = new Map<string, number>();
      for (const p of srs) if (!byName.has(p.name.toUpperCase())) byName.set(p.name.toUpperCase(), p.pt);
      s.ptMap.fill(-1);
      for (let pt = 0; pt < 128; pt++) {
        const name = leg.ptNames[pt];
        if (name !== undefined) s.ptMap[pt] = byName.get(name) ?? -1;
      }
      const codec: G711Codec = leg.injectCodec ?? 'PCMU';
      s.silenceCodec = byName.has(codec) ? codec : byName.has('PCMU') ? 'PCMU' : 'PCMA';
      s.silencePt = byName.get(s.silenceCodec) ?? -1;
    }
  }

  // ---------------------------------------------------------------- RTCP, stats, close

  /** An SR + SDES per stream of every active or paused fork that has sent (RFC 3550 6.4.1); not on SRTP forks. */
  sendReports(nowMono: number, ntp: { sec: number; frac: number }, cname: string): void {
    for (const fork of this.#live) {
      if (fork.state !== 'active' && fork.state !== 'paused') continue;
      for (const s of fork.streams) {
        if (s.target === undefined || !s.rewriter.hasSent || s.protector !== undefined) continue;
        const out = Buffer.alloc(28 + 8 + 260);
        const rtpTs = addTs(s.rewriter.lastTimestamp, Math.round((nowMono - s.rewriter.lastSentAtMs) * 8));
        let n = writeSenderReport(out, 0, s.rewriter.ssrc, { ntpSec: ntp.sec, ntpFrac: ntp.frac, rtpTimestamp: rtpTs, packetCount: s.rewriter.packetsSent, octetCount: s.rewriter.octetsSent }, []);
        n = writeSdesCname(out, n, s.rewriter.ssrc, cname);
        s.endpoint.sendRtcp(out, n, s.rtcpPort, s.target.address);
      }
    }
  }

  /** Every fork's state and streams, in creation order (stopped ones with no streams). */
  stats(): ForkStats[] {
    return [...this.#forks.values()].map((f) => ({ id: f.id, state: f.state, streams: f.state === 'stopped' ? [] : f.streams.map(forkStats) }));
  }

  /** Adds the forks' counters to `t`; forksActive/forksPaused only while `open`. */
  addTotals(t: MediaTotals, open: boolean): void {
    const counters: ForkCounters = { ...this.#retired };
    for (const fork of this.#live) for (const s of fork.streams) addForkCounters(counters, s);
    t.rtpForked += counters.sent;
    t.rtpForkedBytes += counters.sentBytes;
    t.dropped.forkCodec += counters.codecDropped;
    t.withheld.forkPaused += counters.pausedDropped;
    t.sendErrors += counters.sendErrors;
    t.forkBuffer.sent += counters.bufferSent;
    t.forkBuffer.overflowed += counters.bufferOverflowed;
    t.forkBuffer.discarded += counters.bufferDiscarded;
    if (!open) return;
    for (const fork of this.#live) {
      if (fork.state === 'active') t.forksActive++;
      else if (fork.state === 'paused') t.forksPaused++;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError('CLOSED', 'media session forks');
  }

  /** Idempotent: stops every fork and closes its sockets. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fork of this.#live) this.#retire(fork);
    this.#live = [];
  }
}

function sendFork(s: ForkStream, packet: Buffer, len: number): void {
  const target = s.target!;
  s.stats.sent++;
  s.stats.sentBytes += len;
  if (s.protector !== undefined) {
    const protectedPacket = s.protector.protect(packet, len);
    if (protectedPacket !== undefined) s.endpoint.sendRtp(protectedPacket, protectedPacket.length, target.port, target.address);
    return;
  }
  s.endpoint.sendRtp(packet, len, target.port, target.address);
}

function addressesOf(fork: Fork): [LocalRtpAddress, LocalRtpAddress] {
  return [localOf(fork.streams[0].endpoint), localOf(fork.streams[1].endpoint)];
}

function localOf(ep: RtpEndpoint): LocalRtpAddress {
  return { address: ep.address, rtpPort: ep.rtpPort, rtcpPort: ep.rtcpPort };
}

function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536;
}
