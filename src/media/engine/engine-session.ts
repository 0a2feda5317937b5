/**
 * One call's media inside a media engine (worker side): two legs, the relay between them, the two
 * forked recording streams, prompts and tones. The per-packet path lives here.
 *
 * ```
 *            leg A endpoint                               leg B endpoint
 *  A ──RTP──▶ [latch A]──┬─ each fork's stream 1 (copy, own SSRC) ──▶ its recording server (what A says)
 *                        └─ relay: rewrite to-B stream ─▶ B   (dropped while a prompt plays to B;
 *                                                              tones mixed into it)
 *  A ◀─────── rewrite to-A stream ◀─┬─[latch B]◀──RTP── B
 *             (prompt frames        └─ each fork's stream 2 ──▶ its recording server (what B says)
 *              replace it)
 * ```
 *
 * Prompt-versus-speech policy (documented in docs/media.md): while a prompt plays to a leg, that leg
 * hears only the prompt: the other party's speech towards it is replaced (dropped), not mixed. The
 * leg's own speech still goes to the other party and to the recording. Tones (reminder, beeps) are
 * mixed into whatever the leg hears (relayed speech or prompt); when nothing is flowing towards the
 * leg the tone is sent on its own. Prompts and tones never reach the forked streams (R-15): the fork
 * copies the packet before any mixing.
 *
 * What lives where:
 * - here: the per-packet path (accept, fork, relay), latching and DTMF events, the commands (each
 *   checks the session is open and resolves its target legs), stats and close;
 * - engine-leg.ts: a leg's state (plain fields the packet path reads and writes) and its counters;
 * - engine-playback.ts: prompt playback, tone overlay (`mix()` is called per relayed G.711 packet
 *   while a tone is active), the reminder timer;
 * - engine-rtcp.ts: RTCP received from a leg and the reports we send it;
 * - silence-watch.ts: the one-way-call watch (reads the legs' counters on a timer);
 * - fork-set.ts / fork-stream.ts: the forks (several per session, one per recording).
 * Each of them names the part of a leg it uses (a `Pick<Leg, ...>`), so the packet path keeps
 * plain field reads and no per-packet allocation or lookup.
 */
import type { TimerHandle } from '../../common/clock.js';
import { AppError } from '../../common/errors.js';
import type { G711Codec } from '../audio/g711.js';
import type { ToneSpec } from '../audio/tones.js';
import { RewriteResult } from '../processors/relay-rewriter.js';
import { LatchVerdict } from '../processors/source-latch.js';
import { SsrcVerdict } from '../processors/ssrc-lock.js';
import { toNtp } from '../rtp/rtcp.js';
import { looksLikeRtcp, rtpPayloadEnd, rtpPayloadOffset, rtpPayloadType, rtpSeq, rtpSsrc, rtpTimestamp, setRtpPayloadType } from '../rtp/rtp-header.js';
import type { RtpEndpoint } from '../transport/udp-endpoint.js';
import {
  DEFAULT_FORK_BUFFER_MS,
  DEFAULT_FORK_ID,
  MAX_FORK_BUFFER_MS,
  type ForkOptions,
  type InjectTarget,
  type LegId,
  type LocalRtpAddress,
  type MediaSessionOptions,
  type MediaSessionStats,
  type MediaTotals,
  type RemoteMedia,
  type ToneKind,
} from '../media-session-types.js';
import { addLegTotals, DEFAULT_PAYLOAD_TYPES, KIND_PCMA, KIND_PCMU, KIND_TE, KIND_UNKNOWN, Leg, legStats, refuseSource, type EngineServices } from './engine-leg.js';
import { EnginePlayback } from './engine-playback.js';
import { receiveRtcp, sendLegReport } from './engine-rtcp.js';
import type { EngineEvent } from './engine-protocol.js';
import { ForkSet, forkIdOf } from './fork-set.js';
import { SilenceWatch } from './silence-watch.js';

/** Services a session needs from its engine. */
export interface EngineContext extends EngineServices {
  emit(id: string, event: EngineEvent): void;
  promptFrames(key: string, codec: G711Codec): readonly Buffer[] | undefined;
}

export class EngineSession {
  readonly id: string;
  readonly label: string;
  readonly a: Leg;
  readonly b: Leg;
  readonly #ctx: EngineContext;
  readonly #options: Required<Pick<MediaSessionOptions, 'relayTelephoneEvents' | 'rtcpIntervalMs' | 'cname'>>;
  /** The session's forks (one per recording); the packet path calls `forward` once per packet. */
  readonly #forks: ForkSet;
  /** Prompts, tones and the reminder. */
  readonly #playback: EnginePlayback;
  readonly #silence: SilenceWatch;
  #rtcpTimer: TimerHandle | undefined;
  #closed = false;

  private constructor(id: string, ctx: EngineContext, a: RtpEndpoint, b: RtpEndpoint, options: MediaSessionOptions) {
    this.id = id;
    this.label = options.label ?? id;
    this.#ctx = ctx;
    this.#options = {
      relayTelephoneEvents: options.relayTelephoneEvents ?? true,
      rtcpIntervalMs: options.rtcpIntervalMs ?? 5000,
      cname: options.cname ?? 'recording-b2bua',
    };
    this.a = new Leg('a', a, options.latching?.a ?? 'auto', options.latchOptions, options.ssrcLock);
    this.b = new Leg('b', b, options.latching?.b ?? 'auto', options.latchOptions, options.ssrcLock);
    const legs = [this.a, this.b] as const;
    const emit = (event: EngineEvent): void => ctx.emit(id, event);
    this.#forks = new ForkSet({
      clock: ctx.clock,
      timers: ctx.timers,
      frameTimers: ctx.frameTimers,
      endpoints: ctx.endpoints,
      scratch: ctx.scratch,
      legs,
      bufferMs: options.forkBufferMs ?? DEFAULT_FORK_BUFFER_MS,
      bufferEnded: (notice) => emit({ type: 'forkBuffer', ...notice }),
    });
    this.#playback = new EnginePlayback({ clock: ctx.clock, timers: ctx.timers, frameTimers: ctx.frameTimers, scratch: ctx.scratch, legs, emit, promptFrames: (key, codec) => ctx.promptFrames(key, codec) });
    this.#silence = new SilenceWatch({ clock: ctx.clock, timers: ctx.timers, legs, emit });
    this.#wire(this.a, this.b);
    this.#wire(this.b, this.a);
    this.#mapRelayPayloadTypes();
    if (this.#options.rtcpIntervalMs > 0) {
      this.#rtcpTimer = ctx.timers.setInterval(() => this.#sendRtcpReports(), this.#options.rtcpIntervalMs);
    }
  }

  /** Bind both legs' endpoints; on failure closes what it opened and rejects with the failing ports. */
  static async open(id: string, ctx: EngineContext, address: string, ports: { a: number; b: number }, options: MediaSessionOptions): Promise<EngineSession> {
    const bufferMs = options.forkBufferMs ?? DEFAULT_FORK_BUFFER_MS;
    if (!(bufferMs >= 0 && bufferMs <= MAX_FORK_BUFFER_MS)) throw new AppError('MEDIA_INVALID_ARGUMENT', `forkBufferMs ${bufferMs}`);
    const [ra, rb] = await Promise.allSettled([ctx.endpoints.open(address, ports.a), ctx.endpoints.open(address, ports.b)]);
    if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return new EngineSession(id, ctx, ra.value, rb.value, options);
    if (ra.status === 'fulfilled') ra.value.close();
    if (rb.status === 'fulfilled') rb.value.close();
    // only a port another process holds is reported (the plane skips it from then on); running out of
    // file descriptors (EMFILE/ENFILE) is no fault of the port
    const held = (r: PromiseSettledResult<unknown>): boolean => r.status === 'rejected' && portHeld(r.reason);
    const failed = [held(ra) ? ports.a : undefined, held(rb) ? ports.b : undefined].filter((p): p is number => p !== undefined);
    const codes = [ra, rb].flatMap((r) => (r.status === 'rejected' ? [String((r.reason as { code?: unknown }).code ?? 'error')] : []));
    throw Object.assign(new AppError('MEDIA_BIND_FAILED', `ports ${ports.a}, ${ports.b}: ${codes.join(', ')}`), { ports: failed });
  }

  get local(): { a: LocalRtpAddress; b: LocalRtpAddress } {
    return { a: localOf(this.a.endpoint), b: localOf(this.b.endpoint) };
  }

  #leg(id: LegId): Leg {
    return id === 'a' ? this.a : this.b;
  }

  #legs(target: InjectTarget): Leg[] {
    if (target === 'both') return [this.a, this.b];
    if (target === 'a' || target === 'b') return [this.#leg(target)];
    throw new AppError('MEDIA_INVALID_ARGUMENT', `target ${String(target)}`);
  }

  #wire(from: Leg, to: Leg): void {
    const forkIndex: 0 | 1 = from.id === 'a' ? 0 : 1;
    from.endpoint.onRtp = (buf, address, port) => this.#onRtp(from, to, forkIndex, buf, address, port);
    from.endpoint.onRtcp = (buf, address, port) => receiveRtcp(from, buf, address, port, this.#ctx.clock);
  }

  // ---------------------------------------------------------------- the packet path

  #onRtp(from: Leg, to: Leg, forkIndex: 0 | 1, buf: Buffer, address: string, port: number): void {
    const len = buf.length;
    if (looksLikeRtcp(buf, len)) {
      receiveRtcp(from, buf, address, port, this.#ctx.clock);
      return;
    }
    const off = rtpPayloadOffset(buf, len);
    if (off < 0) {
      from.stats.malformed++;
      return;
    }
    // only payload types the leg negotiated (checked before latching: garbage never latches a source)
    const pt = rtpPayloadType(buf);
    const kind = from.ptKind[pt]!;
    if (kind === KIND_UNKNOWN) {
      // from a source other than the latched one it is a hijack attempt, else a payload-type fault
      if (from.latch.latched && (port !== from.latch.port || address !== from.latch.address)) refuseSource(from, address, port);
      else from.stats.unknownPayloadTypeDropped++;
      return;
    }
    const now = this.#ctx.clock.monotonic();
    const verdict = from.latch.check(address, port, now, from.ssrcLock.locked && rtpSsrc(buf) === from.ssrcLock.ssrc);
    if (verdict !== LatchVerdict.Accept) {
      if (verdict === LatchVerdict.Hijack) {
        refuseSource(from, address, port);
        return;
      }
      if (verdict === LatchVerdict.NotReady) {
        from.stats.unlatchedDropped++;
        return;
      }
      this.#onLatched(from);
    }
    // only the leg's locked SSRC (RFC 3550 A.1)
    if (from.ssrcLock.check(rtpSsrc(buf), rtpSeq(buf), now) === SsrcVerdict.Foreign) {
      from.stats.foreignSsrcDropped++;
      return;
    }
    const end = rtpPayloadEnd(buf, len);
    from.stats.received++;
    from.stats.receivedBytes += len;
    if (kind !== KIND_TE) from.recv.update(rtpSsrc(buf), rtpSeq(buf), rtpTimestamp(buf), end - off, now);
    else this.#onTelephoneEvent(from, buf, off, end, pt);

    // 1. every fork gets the packet as the party sent it (before any mixing)
    this.#forks.forward(forkIndex, buf, len, pt, kind === KIND_TE, now);

    // 2. relay to the other leg, unless a prompt replaces it
    if (to.latch.address === undefined) return;
    if (to.playback !== undefined) {
      to.stats.replacedByPrompt++;
      return;
    }
    if (kind === KIND_TE && !this.#options.relayTelephoneEvents) return;
    // the receiving leg's number for this codec; a codec it did not negotiate is not relayed
    const outPt = from.relayPt.map(pt);
    if (outPt < 0) {
      to.stats.relayCodecDropped++;
      return;
    }
    if (to.out.rewriteRelayed(buf, now, len) !== RewriteResult.Forward) {
      to.stats.rewriteDropped++;
      return;
    }
    if (to.overlay !== undefined && (kind === KIND_PCMU || kind === KIND_PCMA)) {
      this.#playback.mix(to, kind === KIND_PCMU ? 'PCMU' : 'PCMA', buf.subarray(off, end));
    }
    if (outPt !== pt) setRtpPayloadType(buf, outPt);
    to.endpoint.sendRtp(buf, len, to.latch.port, to.latch.address!);
  }

  /** Both directions' payload-type renumbering (after either leg's payload types changed). */
  #mapRelayPayloadTypes(): void {
    this.a.relayPt.set(this.a.payloadTypes, this.b.payloadTypes);
    this.b.relayPt.set(this.b.payloadTypes, this.a.payloadTypes);
  }

  /** A leg latched (or moved) its source: count it, tell the call layer once, re-learn the stream if it is a new one. */
  #onLatched(leg: Leg): void {
    const latch = leg.latch;
    if (latch.how === 'relatched') leg.stats.relatched++;
    else {
      // a new source sends a new stream: forget the SSRC lock (it locks at once, tentatively)
      leg.ssrcLock.reset();
      if (latch.how === 'sdp') leg.stats.latchedSdp++;
      else leg.stats.latchedLearned++;
    }
    this.#ctx.emit(this.id, {
      type: 'latched',
      leg: leg.id,
      address: latch.address!,
      port: latch.port,
      how: latch.how,
      sdpAddress: latch.sdpAddress,
      sdpPort: latch.sdpPort,
    });
  }

  #onTelephoneEvent(from: Leg, buf: Buffer, off: number, end: number, pt: number): void {
    const events = from.dtmf.pushAll(buf.subarray(off, end), rtpTimestamp(buf));
    if (events.length === 0) return;
    const rate = from.ptClockRate[pt]! / 1000;
    const at = this.#ctx.clock.now();
    for (const e of events) {
      from.stats.dtmfEvents++;
      this.#ctx.emit(this.id, {
        type: 'dtmf',
        leg: from.id,
        digit: e.digit,
        end: e.end,
        durationMs: Math.round(e.durationSamples / rate),
        rtpTimestamp: e.startTimestamp,
        at,
      });
    }
  }

  // ---------------------------------------------------------------- RTCP reports (engine-rtcp.ts)

  #sendRtcpReports(): void {
    const nowMono = this.#ctx.clock.monotonic();
    const ntp = toNtp(this.#ctx.clock.now());
    sendLegReport(this.a, nowMono, ntp, this.#options.cname);
    sendLegReport(this.b, nowMono, ntp, this.#options.cname);
    this.#forks.sendReports(nowMono, ntp, this.#options.cname);
  }

  // ---------------------------------------------------------------- commands

  setRemote(legId: LegId, remote: RemoteMedia): void {
    this.#assertOpen();
    if (typeof remote.address !== 'string' || remote.address.length === 0 || !validPort(remote.port)) {
      throw new AppError('MEDIA_INVALID_ARGUMENT', `remote ${remote.address}:${remote.port}`);
    }
    const leg = this.#leg(legId);
    // a new remote address (re-INVITE to another endpoint, transfer) sends a new stream: it needs
    // only probation, not the old stream's silence; the same address keeps the lock
    if (remote.address !== leg.latch.sdpAddress || remote.port !== leg.latch.sdpPort) {
      leg.ssrcLock.reset();
      leg.rtcpSourceAddress = undefined;
    }
    leg.latch.setExpected(remote.address, remote.port);
    leg.rtcpMux = remote.rtcpMux ?? false;
    leg.rtcpPort = remote.rtcpPort ?? remote.port + 1;
    leg.setPayloadTypes(remote.payloadTypes ?? DEFAULT_PAYLOAD_TYPES);
    this.#mapRelayPayloadTypes();
    this.#forks.remapPayloadTypes();
  }

  // ---------------------------------------------------------------- prompts, tones (engine-playback.ts), silence watch

  /** Start a prompt to one leg or both; returns the legs it plays to. */
  playPrompt(
    playbackId: number,
    target: InjectTarget,
    source: { key: string } | { pcm: Int16Array },
    name: string,
    language: string | undefined,
  ): LegId[] {
    this.#assertOpen();
    const legs = this.#legs(target);
    this.#playback.play(playbackId, legs, source, name, language);
    return legs.map((l) => l.id);
  }

  stopPrompt(target: InjectTarget): void {
    this.#assertOpen();
    this.#playback.stop(this.#legs(target));
  }

  /** Mix a tone into what the target legs hear. Legs that cannot be injected are skipped. */
  tone(target: InjectTarget, tone: ToneSpec, kind: ToneKind): LegId[] {
    this.#assertOpen();
    const pcm = this.#playback.renderTone(tone);
    return this.#playback.tone(this.#legs(target), pcm, kind);
  }

  startReminder(intervalMs: number, initialDelayMs: number, tone: ToneSpec): void {
    this.#assertOpen();
    this.#playback.startReminder(intervalMs, initialDelayMs, tone);
  }

  stopReminder(): void {
    this.#playback.stopReminder();
  }

  /** Report (once per leg) a leg that delivers no accepted RTP for `ms` while the other does; 0 stops. */
  watchSilence(ms: number): void {
    this.#assertOpen();
    this.#silence.watch(ms);
  }

  // ---------------------------------------------------------------- fork

  /** Bind fork `forkId`'s two stream endpoints (idempotent while the fork is not stopped). */
  prepareFork(forkId: string | undefined, address: string, ports: [number, number]): Promise<[LocalRtpAddress, LocalRtpAddress]> {
    this.#assertOpen();
    return this.#forks.prepare(forkIdOf(forkId), address, ports);
  }

  /** Start fork `options.forkId` (default 'main') towards its two targets. */
  startFork(options: ForkOptions): void {
    this.#assertOpen();
    this.#forks.start(options);
  }

  /** Nothing of the conversation reaches that fork's recording server until resume; optionally silence frames. */
  pauseFork(forkId: string | undefined, silence: boolean | undefined): void {
    this.#assertOpen();
    this.#forks.pause(forkIdOf(forkId), silence);
  }

  resumeFork(forkId: string | undefined): void {
    this.#assertOpen();
    this.#forks.resume(forkIdOf(forkId));
  }

  /** Stop one fork and close its sockets; the session's other forks go on. */
  stopFork(forkId: string | undefined): void {
    this.#assertOpen();
    this.#forks.stop(forkIdOf(forkId));
  }

  // ---------------------------------------------------------------- stats, close

  stats(): MediaSessionStats {
    const forks = this.#forks.stats();
    const fork = forks.find((f) => f.id === DEFAULT_FORK_ID) ?? forks[0] ?? { id: DEFAULT_FORK_ID, state: 'idle', streams: [] };
    return { id: this.id, label: this.label, a: legStats(this.a), b: legStats(this.b), fork, forks };
  }

  /**
   * Adds this session's counters to `t` (MediaEngine.totals()): both legs, the live forks and forks
   * already stopped. Current values (forksActive/forksPaused, per fork) only while the session is open.
   * Reads counters only; O(1), off the packet path.
   */
  addTotals(t: MediaTotals): void {
    addLegTotals(t, this.a);
    addLegTotals(t, this.b);
    this.#forks.addTotals(t, !this.#closed);
  }

  #assertOpen(): void {
    if (this.#closed) throw new AppError('CLOSED', `media session ${this.id}`);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Idempotent: stops prompts (reason 'closed'), tones, timers, forks; closes every socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctx.timers.clearInterval(this.#rtcpTimer);
    this.#silence.close();
    this.#playback.close();
    this.a.endpoint.close();
    this.b.endpoint.close();
    this.#forks.close();
  }
}


/** A bind error that says the port itself is taken or forbidden (not a shortage of sockets). */
function portHeld(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL';
}

function validPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536;
}

function localOf(ep: RtpEndpoint): LocalRtpAddress {
  return { address: ep.address, rtpPort: ep.rtpPort, rtcpPort: ep.rtcpPort };
}
