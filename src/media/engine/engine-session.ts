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
 * A leg's state is in engine-leg.ts, the forks (several per session, one per recording) in
 * fork-set.ts and a forked stream's state in fork-stream.ts. What stays here (the packet path,
 * prompts and tones, RTCP reports, the silence watch) is one file because
 * each of them reads and writes both legs' per-packet state; splitting it further needs those
 * exchanges behind small interfaces first.
 */
import type { TimerHandle } from '../../common/clock.js';
import { AppError } from '../../common/errors.js';
import { G711_SILENCE, type G711Codec } from '../audio/g711.js';
import { cutFrames } from '../audio/prompt-library.js';
import { renderTone, type ToneSpec } from '../audio/tones.js';
import { mixIntoFrame } from '../processors/audio-mixer.js';
import { FramePacer } from '../processors/prompt-pacer.js';
import { RewriteResult } from '../processors/relay-rewriter.js';
import { LatchVerdict } from '../processors/source-latch.js';
import { SsrcVerdict } from '../processors/ssrc-lock.js';
import { ntpMiddle, parseRtcp, toNtp, writeReceiverReport, writeSdesCname, writeSenderReport, type ReportBlock } from '../rtp/rtcp.js';
import {
  looksLikeRtcp,
  rtpPayloadEnd,
  rtpPayloadOffset,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  setRtpPayloadType,
} from '../rtp/rtp-header.js';
import { addTs } from '../rtp/wrap-math.js';
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
  type PromptEndReason,
  type RemoteMedia,
  type SilenceReason,
  type ToneKind,
} from '../media-session-types.js';
import { DEFAULT_PAYLOAD_TYPES, FRAME_MS, FRAME_SAMPLES, KIND_PCMA, KIND_PCMU, KIND_TE, KIND_UNKNOWN, Leg, legStats, rtcpTarget, type EngineServices, type Playback } from './engine-leg.js';
import type { EngineEvent } from './engine-protocol.js';
import { ForkSet, forkIdOf } from './fork-set.js';

/**
 * A tone is sent on its own when nothing went to the leg for this long: longer than the longest
 * packet time we take from a leg (40 ms, sdp-media.ts PTIME_MS) plus jitter, so tone frames are never
 * slipped between the relayed packets of a 30 or 40 ms stream.
 */
const IDLE_FILL_MS = 60;

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
  #reminderTimer: TimerHandle | undefined;
  #reminderStart: TimerHandle | undefined;
  #rtcpTimer: TimerHandle | undefined;
  #silenceTimer: TimerHandle | undefined;
  #silenceMs = 0;
  readonly #toneCache = new Map<string, Int16Array>();
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
    this.#forks = new ForkSet({
      clock: ctx.clock,
      timers: ctx.timers,
      endpoints: ctx.endpoints,
      scratch: ctx.scratch,
      legs: [this.a, this.b],
      bufferMs: options.forkBufferMs ?? DEFAULT_FORK_BUFFER_MS,
      bufferEnded: (notice) => ctx.emit(id, { type: 'forkBuffer', ...notice }),
    });
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
    from.endpoint.onRtcp = (buf, address, port) => this.#onRtcp(from, buf, address, port);
  }

  // ---------------------------------------------------------------- the packet path

  #onRtp(from: Leg, to: Leg, forkIndex: 0 | 1, buf: Buffer, address: string, port: number): void {
    const len = buf.length;
    if (looksLikeRtcp(buf, len)) {
      this.#onRtcp(from, buf, address, port);
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
      if (from.latch.latched && (port !== from.latch.port || address !== from.latch.address)) this.#hijack(from, address, port);
      else from.stats.unknownPayloadTypeDropped++;
      return;
    }
    const now = this.#ctx.clock.monotonic();
    const verdict = from.latch.check(address, port, now, from.ssrcLock.locked && rtpSsrc(buf) === from.ssrcLock.ssrc);
    if (verdict !== LatchVerdict.Accept) {
      if (verdict === LatchVerdict.Hijack) {
        this.#hijack(from, address, port);
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
      this.#mixOverlay(to, kind === KIND_PCMU ? 'PCMU' : 'PCMA', buf.subarray(off, end));
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

  #mixOverlay(to: Leg, codec: G711Codec, payload: Uint8Array): void {
    const overlay = to.overlay!;
    mixIntoFrame(codec, payload, overlay, to.overlayOffset);
    to.overlayOffset += payload.length;
    if (to.overlayOffset >= overlay.length) this.#endOverlay(to);
  }

  /** A packet from a source the leg does not accept: counted, and its source kept for the silent-leg report. */
  #hijack(leg: Leg, address: string, port: number): void {
    leg.stats.hijackDropped++;
    leg.refusedAddress = address;
    leg.refusedPort = port;
  }

  #onRtcp(from: Leg, buf: Buffer, address: string, port: number): void {
    // RTCP is only read (never forwarded). It is accepted from the address RTP is latched to (or the
    // SDP address before that) on any port, and latched on its own: a NAT maps the RTCP port
    // separately, and our reports go back to where the leg's RTCP comes from.
    if (address !== from.latch.address) {
      // before RTP latched (auto: RTCP or a NAT probe from the real source may come first) it is not an attack
      if (from.latch.latched) this.#hijack(from, address, port);
      else from.stats.unlatchedDropped++;
      return;
    }
    const parsed = parseRtcp(buf, buf.length);
    if (parsed === undefined) {
      from.stats.malformed++;
      return;
    }
    from.rtcpSourceAddress = address;
    from.rtcpSourcePort = port;
    from.stats.rtcpReceived++;
    if (parsed.sender !== undefined) from.recv.onSenderReport(ntpMiddle(parsed.sender.ntpSec, parsed.sender.ntpFrac), this.#ctx.clock.monotonic());
  }

  // ---------------------------------------------------------------- RTCP generation (RFC 3550 6.4)

  #sendRtcpReports(): void {
    const nowMono = this.#ctx.clock.monotonic();
    const ntp = toNtp(this.#ctx.clock.now());
    for (const leg of [this.a, this.b]) {
      if (leg.latch.address === undefined) continue;
      const blocks: ReportBlock[] = leg.recv.started ? [leg.recv.reportBlock(nowMono)] : [];
      const out = Buffer.alloc(28 + 24 * blocks.length + 8 + 260);
      let n: number;
      if (leg.out.hasSent) {
        const rtpTs = addTs(leg.out.lastTimestamp, Math.round((nowMono - leg.out.lastSentAtMs) * 8));
        n = writeSenderReport(out, 0, leg.out.ssrc, { ntpSec: ntp.sec, ntpFrac: ntp.frac, rtpTimestamp: rtpTs, packetCount: leg.out.packetsSent, octetCount: leg.out.octetsSent }, blocks);
      } else {
        n = writeReceiverReport(out, 0, leg.out.ssrc, blocks);
      }
      n = writeSdesCname(out, n, leg.out.ssrc, this.#options.cname);
      const to = rtcpTarget(leg);
      if (leg.rtcpMux) leg.endpoint.sendRtp(out, n, to.port, to.address);
      else leg.endpoint.sendRtcp(out, n, to.port, to.address);
      leg.stats.rtcpSent++;
    }
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
    for (const leg of legs) {
      if (leg.injectCodec === undefined) throw new AppError('MEDIA_CODEC_NOT_INJECTABLE', `leg ${leg.id}`);
      if (leg.latch.address === undefined) throw new AppError('MEDIA_INVALID_ARGUMENT', `leg ${leg.id} has no remote address yet`);
    }
    const plans = legs.map((leg) => {
      const codec = leg.injectCodec!;
      const frames = 'key' in source ? this.#ctx.promptFrames(source.key, codec) : cutFrames(codec, source.pcm);
      if (frames === undefined) throw new AppError('MEDIA_INVALID_ARGUMENT', `unknown prompt ${'key' in source ? source.key : ''}`);
      return { leg, frames };
    });
    for (const { leg, frames } of plans) this.#startPlayback(leg, playbackId, frames, name, language);
    return legs.map((l) => l.id);
  }

  #startPlayback(leg: Leg, playbackId: number, frames: readonly Buffer[], name: string, language: string | undefined): void {
    if (leg.playback !== undefined) this.#endPlayback(leg, 'replaced');
    const pb: Playback = {
      id: playbackId,
      name,
      language,
      frames,
      startedAt: 0,
      ended: false,
      pacer: new FramePacer(this.#ctx.clock, this.#ctx.timers, (i) => this.#playbackFrame(leg, pb, i), FRAME_MS),
    };
    leg.playback = pb;
    pb.pacer.start();
  }

  #playbackFrame(leg: Leg, pb: Playback, index: number): void {
    if (pb.ended) return;
    if (index >= pb.frames.length) {
      // the last frame's 20 ms are over: the prompt has played out
      this.#endPlayback(leg, 'completed');
      return;
    }
    if (index === 0) {
      pb.startedAt = this.#ctx.clock.now();
      this.#ctx.emit(this.id, { type: 'promptStarted', playbackId: pb.id, leg: leg.id, name: pb.name, language: pb.language, at: pb.startedAt });
    }
    this.#sendGenerated(leg, pb.frames[index]!, index > 0);
  }

  #endPlayback(leg: Leg, reason: PromptEndReason): void {
    const pb = leg.playback;
    if (pb === undefined || pb.ended) return;
    pb.ended = true;
    pb.pacer.stop();
    leg.playback = undefined;
    const framesSent = Math.min(pb.pacer.framesSent, pb.frames.length);
    this.#ctx.emit(this.id, {
      type: 'promptEnded',
      playbackId: pb.id,
      leg: leg.id,
      name: pb.name,
      language: pb.language,
      at: this.#ctx.clock.now(),
      reason,
      framesSent,
    });
  }

  stopPrompt(target: InjectTarget): void {
    this.#assertOpen();
    for (const leg of this.#legs(target)) this.#endPlayback(leg, 'stopped');
  }

  /** Send one generated 160-sample G.711 frame to a leg (prompt frame or tone-only frame). */
  #sendGenerated(leg: Leg, payload: Uint8Array | undefined, consecutive: boolean): void {
    const codec = leg.injectCodec;
    if (codec === undefined || leg.latch.address === undefined) return;
    const len = 12 + FRAME_SAMPLES;
    const pkt = this.#ctx.scratch.take(len, leg.endpoint.rtpSendQueueCount() > 0);
    if (payload !== undefined) pkt.set(payload.subarray(0, FRAME_SAMPLES), 12);
    else pkt.fill(G711_SILENCE[codec], 12, len);
    if (payload !== undefined && payload.length < FRAME_SAMPLES) pkt.fill(G711_SILENCE[codec], 12 + payload.length, len);
    if (leg.overlay !== undefined) this.#mixOverlay(leg, codec, pkt.subarray(12, len));
    leg.out.stampGenerated(pkt, leg.injectPt, FRAME_SAMPLES, this.#ctx.clock.monotonic(), consecutive, FRAME_SAMPLES);
    leg.stats.generated++;
    leg.endpoint.sendRtp(pkt, len, leg.latch.port, leg.latch.address);
  }

  // ---------------------------------------------------------------- tones

  #renderTone(tone: ToneSpec): Int16Array {
    const key = `${tone.frequencyHz}/${tone.durationMs}/${tone.levelDbfs}/${tone.repeat ?? 1}/${tone.gapMs ?? 0}`;
    let pcm = this.#toneCache.get(key);
    if (pcm === undefined) {
      pcm = renderTone(tone);
      this.#toneCache.set(key, pcm);
    }
    return pcm;
  }

  /** Mix a tone into what the target legs hear. Legs that cannot be injected are skipped. */
  tone(target: InjectTarget, tone: ToneSpec, kind: ToneKind): LegId[] {
    this.#assertOpen();
    const pcm = this.#renderTone(tone);
    const legs = this.#legs(target).filter((l) => l.injectCodec !== undefined && l.latch.address !== undefined);
    for (const leg of legs) this.#startOverlay(leg, pcm);
    if (legs.length > 0) {
      this.#ctx.emit(this.id, { type: 'toneStarted', kind, legs: legs.map((l) => l.id), at: this.#ctx.clock.now(), durationMs: (pcm.length * 1000) / 8000 });
    }
    return legs.map((l) => l.id);
  }

  #startOverlay(leg: Leg, pcm: Int16Array): void {
    leg.overlay = pcm;
    leg.overlayOffset = 0;
    if (leg.overlayPacer === undefined) {
      const pacer = new FramePacer(this.#ctx.clock, this.#ctx.timers, () => this.#overlayTick(leg), FRAME_MS);
      leg.overlayPacer = pacer;
      pacer.start();
    }
  }

  /** While a tone is active: if nothing is flowing to the leg (silent party, no prompt), send the tone on its own. */
  #overlayTick(leg: Leg): void {
    if (leg.overlay === undefined) return;
    if (leg.playback !== undefined) return;
    const now = this.#ctx.clock.monotonic();
    // relayed speech went out lately: it carries the tone (mixed in); our own tone frames keep their 20 ms pace
    const relayedLast = leg.out.lastSentAtMs !== leg.toneAloneAtMs;
    if (leg.out.hasSent && relayedLast && now - leg.out.lastSentAtMs < IDLE_FILL_MS) return;
    const consecutive = leg.out.hasSent && now - leg.out.lastSentAtMs < IDLE_FILL_MS + FRAME_MS;
    this.#sendGenerated(leg, undefined, consecutive);
    leg.toneAloneAtMs = leg.out.lastSentAtMs;
  }

  #endOverlay(leg: Leg): void {
    leg.overlay = undefined;
    leg.overlayOffset = 0;
    const pacer = leg.overlayPacer;
    leg.overlayPacer = undefined;
    pacer?.stop();
  }

  startReminder(intervalMs: number, initialDelayMs: number, tone: ToneSpec): void {
    this.#assertOpen();
    if (!(intervalMs >= 1000) || !(initialDelayMs >= 0)) throw new AppError('MEDIA_INVALID_ARGUMENT', `reminder interval ${intervalMs} ms`);
    this.stopReminder();
    const fire = (): void => {
      if (!this.#closed) this.tone('both', tone, 'reminder');
    };
    this.#reminderStart = this.#ctx.timers.setTimeout(() => {
      this.#reminderStart = undefined;
      fire();
      this.#reminderTimer = this.#ctx.timers.setInterval(fire, intervalMs);
    }, initialDelayMs);
  }

  stopReminder(): void {
    this.#ctx.timers.clearTimeout(this.#reminderStart);
    this.#ctx.timers.clearInterval(this.#reminderTimer);
    this.#reminderStart = undefined;
    this.#reminderTimer = undefined;
  }

  // ---------------------------------------------------------------- silence watch

  /** Report (once per leg) a leg that delivers no accepted RTP for `ms` while the other does; 0 stops. */
  watchSilence(ms: number): void {
    this.#assertOpen();
    if (!(ms >= 0)) throw new AppError('MEDIA_INVALID_ARGUMENT', `silence watch ${ms} ms`);
    this.#ctx.timers.clearInterval(this.#silenceTimer);
    this.#silenceTimer = undefined;
    this.#silenceMs = ms;
    if (ms === 0) return;
    const now = this.#ctx.clock.monotonic();
    for (const leg of [this.a, this.b]) this.#watchMoved(leg, now);
    this.#silenceTimer = this.#ctx.timers.setInterval(() => this.#checkSilence(), Math.min(1000, ms));
  }

  #watchMoved(leg: Leg, now: number): void {
    const s = leg.stats;
    leg.watchSeen = s.received;
    leg.watchSince = now;
    leg.watchDrops = { hijack: s.hijackDropped, payloadType: s.unknownPayloadTypeDropped, foreignSsrc: s.foreignSsrcDropped, malformed: s.malformed, unlatched: s.unlatchedDropped };
  }

  #checkSilence(): void {
    const now = this.#ctx.clock.monotonic();
    for (const leg of [this.a, this.b]) if (leg.stats.received !== leg.watchSeen) this.#watchMoved(leg, now);
    for (const [leg, other] of [[this.a, this.b], [this.b, this.a]] as const) {
      if (leg.silentReason !== undefined || now - leg.watchSince < this.#silenceMs || now - other.watchSince >= this.#silenceMs) continue;
      const s = leg.stats;
      const w = leg.watchDrops;
      const dropped = {
        hijack: s.hijackDropped - w.hijack,
        payloadType: s.unknownPayloadTypeDropped - w.payloadType,
        foreignSsrc: s.foreignSsrcDropped - w.foreignSsrc,
        malformed: s.malformed - w.malformed,
        unlatched: s.unlatchedDropped - w.unlatched,
      };
      const reason: SilenceReason =
        dropped.hijack > 0 ? 'hijack'
        : dropped.payloadType > 0 ? 'payload-type'
        : dropped.foreignSsrc > 0 ? 'foreign-ssrc'
        : dropped.malformed > 0 ? 'malformed'
        : dropped.unlatched > 0 ? 'unlatched'
        : 'none-received';
      leg.silentReason = reason;
      const latch = leg.latch;
      this.#ctx.emit(this.id, {
        type: 'silent',
        leg: leg.id,
        reason,
        silentForMs: now - leg.watchSince,
        dropped,
        remote: latch.address !== undefined ? { address: latch.address, port: latch.port } : undefined,
        sdp: latch.sdpAddress !== undefined ? { address: latch.sdpAddress, port: latch.sdpPort } : undefined,
        refused: dropped.hijack > 0 && leg.refusedAddress !== undefined ? { address: leg.refusedAddress, port: leg.refusedPort } : undefined,
        at: this.#ctx.clock.now(),
      });
    }
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
    for (const leg of [this.a, this.b]) {
      const s = leg.stats;
      t.rtpIn += s.received;
      t.rtpInBytes += s.receivedBytes;
      t.rtpOut += leg.out.packetsSent;
      t.rtpGenerated += s.generated;
      t.dropped.malformed += s.malformed;
      t.dropped.hijack += s.hijackDropped;
      t.dropped.unlatched += s.unlatchedDropped;
      t.dropped.foreignSsrc += s.foreignSsrcDropped;
      t.dropped.unknownPayloadType += s.unknownPayloadTypeDropped;
      t.dropped.relayCodec += s.relayCodecDropped;
      t.dropped.rewrite += s.rewriteDropped;
      t.withheld.prompt += s.replacedByPrompt;
      t.rtcpIn += s.rtcpReceived;
      t.latches.sdp += s.latchedSdp;
      t.latches.learned += s.latchedLearned;
      t.latches.relatched += s.relatched;
      if (leg.silentReason !== undefined) t.silentLegs[leg.silentReason]++;
      t.rtcpOut += s.rtcpSent;
      t.sendErrors += leg.endpoint.sendErrors;
    }
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
    this.#ctx.timers.clearInterval(this.#silenceTimer);
    this.stopReminder();
    for (const leg of [this.a, this.b]) {
      this.#endPlayback(leg, 'closed');
      this.#endOverlay(leg);
      leg.endpoint.close();
    }
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
