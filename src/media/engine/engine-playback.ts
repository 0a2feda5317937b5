/**
 * Prompts and tones of one engine session (engine-session.ts): prompt playback to a leg, tone
 * overlay, and the recording reminder.
 *
 * - A prompt's frames go to the leg every 20 ms (processors/prompt-pacer.ts); while it plays, the
 *   session's packet path drops the other party's speech towards that leg (it reads `leg.playback`).
 *   Events: `promptStarted` when the first frame leaves, `promptEnded` with the reason
 *   (`completed`, `stopped`, `replaced`, `closed`).
 * - A tone is mixed into whatever the leg hears: the packet path calls `mix()` for each relayed
 *   G.711 packet while `leg.overlay` is set, prompt frames are mixed here. When nothing went to the
 *   leg for IDLE_FILL_MS (silent party, no prompt) the tone is sent on its own, 20 ms a frame.
 * - The reminder plays a tone to both legs after `initialDelayMs`, then every `intervalMs`.
 *
 * Prompts and tones never reach the forked streams: the fork copies each packet before
 * `mix()`. Per leg the state lives on the leg (engine-leg.ts: playback, overlay, overlayOffset,
 * overlayPacer, toneAloneAtMs) because the packet path reads it; only this module writes it.
 */
import type { Clock, TimerHandle, Timers } from '../../common/clock.js';
import { AppError } from '../../common/errors.js';
import { G711_SILENCE, type G711Codec } from '../audio/g711.js';
import { cutFrames } from '../audio/prompt-library.js';
import { renderTone, type ToneSpec } from '../audio/tones.js';
import { mixIntoFrame } from '../processors/audio-mixer.js';
import { FramePacer } from '../processors/prompt-pacer.js';
import type { ScratchRing } from '../processors/scratch-ring.js';
import type { LegId, PromptEndReason, ToneKind } from '../media-session-types.js';
import { FRAME_MS, FRAME_SAMPLES, type Leg, type Playback } from './engine-leg.js';
import type { EngineEvent } from './engine-protocol.js';

/**
 * A tone is sent on its own when nothing went to the leg for this long: longer than the longest
 * packet time we take from a leg (40 ms, sdp-media.ts PTIME_MS) plus jitter, so tone frames are never
 * slipped between the relayed packets of a 30 or 40 ms stream.
 */
export const IDLE_FILL_MS = 60;

/** What playback reads and writes of a leg. */
export type PlaybackLeg = Pick<
  Leg,
  'id' | 'endpoint' | 'latch' | 'out' | 'stats' | 'injectCodec' | 'injectPt' | 'playback' | 'overlay' | 'overlayOffset' | 'overlayPacer' | 'toneAloneAtMs'
>;

/** What playback needs from its session. */
export interface PlaybackContext {
  clock: Clock;
  timers: Timers;
  /** The worker's shared frame timer, for the 20 ms pacers of prompts and tones. */
  frameTimers: Timers;
  scratch: ScratchRing;
  /** Both legs of the session (the reminder plays to both). */
  legs: readonly [PlaybackLeg, PlaybackLeg];
  /** An event of this session (the engine posts it to the plane). */
  emit(event: EngineEvent): void;
  /** A library prompt's frames in `codec`; undefined for an unknown key. */
  promptFrames(key: string, codec: G711Codec): readonly Buffer[] | undefined;
}

export class EnginePlayback {
  readonly #ctx: PlaybackContext;
  readonly #toneCache = new Map<string, Int16Array>();
  #reminderTimer: TimerHandle | undefined;
  #reminderStart: TimerHandle | undefined;
  #closed = false;

  constructor(ctx: PlaybackContext) {
    this.#ctx = ctx;
  }

  // ---------------------------------------------------------------- the packet path

  /** Mix the leg's tone into one G.711 payload that goes to it (only while `leg.overlay` is set). */
  mix(leg: PlaybackLeg, codec: G711Codec, payload: Uint8Array): void {
    const overlay = leg.overlay!;
    mixIntoFrame(codec, payload, overlay, leg.overlayOffset);
    leg.overlayOffset += payload.length;
    if (leg.overlayOffset >= overlay.length) this.#endOverlay(leg);
  }

  // ---------------------------------------------------------------- prompts

  /**
   * Start a prompt to each of `legs` (a prompt already playing to one of them ends 'replaced').
   * Throws MEDIA_CODEC_NOT_INJECTABLE / MEDIA_INVALID_ARGUMENT before any leg starts.
   */
  play(playbackId: number, legs: readonly PlaybackLeg[], source: { key: string } | { pcm: Int16Array }, name: string, language: string | undefined): void {
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
  }

  /** End the prompt playing to each of `legs` (reason 'stopped'); a leg without one is left alone. */
  stop(legs: readonly PlaybackLeg[]): void {
    for (const leg of legs) this.#endPlayback(leg, 'stopped');
  }

  #startPlayback(leg: PlaybackLeg, playbackId: number, frames: readonly Buffer[], name: string, language: string | undefined): void {
    if (leg.playback !== undefined) this.#endPlayback(leg, 'replaced');
    const pb: Playback = {
      id: playbackId,
      name,
      language,
      frames,
      startedAt: 0,
      ended: false,
      pacer: new FramePacer(this.#ctx.clock, this.#ctx.frameTimers, (i) => this.#playbackFrame(leg, pb, i), FRAME_MS),
    };
    leg.playback = pb;
    pb.pacer.start();
  }

  #playbackFrame(leg: PlaybackLeg, pb: Playback, index: number): void {
    if (pb.ended) return;
    if (index >= pb.frames.length) {
      // the last frame's 20 ms are over: the prompt has played out
      this.#endPlayback(leg, 'completed');
      return;
    }
    if (index === 0) {
      pb.startedAt = this.#ctx.clock.now();
      this.#ctx.emit({ type: 'promptStarted', playbackId: pb.id, leg: leg.id, name: pb.name, language: pb.language, at: pb.startedAt });
    }
    this.#sendGenerated(leg, pb.frames[index]!, index > 0);
  }

  #endPlayback(leg: PlaybackLeg, reason: PromptEndReason): void {
    const pb = leg.playback;
    if (pb === undefined || pb.ended) return;
    pb.ended = true;
    pb.pacer.stop();
    leg.playback = undefined;
    const framesSent = Math.min(pb.pacer.framesSent, pb.frames.length);
    this.#ctx.emit({
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

  /** Send one generated 160-sample G.711 frame to a leg (prompt frame or tone-only frame). */
  #sendGenerated(leg: PlaybackLeg, payload: Uint8Array | undefined, consecutive: boolean): void {
    const codec = leg.injectCodec;
    if (codec === undefined || leg.latch.address === undefined) return;
    const len = 12 + FRAME_SAMPLES;
    const pkt = this.#ctx.scratch.take(len, leg.endpoint.rtpSendQueueCount() > 0);
    if (payload !== undefined) pkt.set(payload.subarray(0, FRAME_SAMPLES), 12);
    else pkt.fill(G711_SILENCE[codec], 12, len);
    if (payload !== undefined && payload.length < FRAME_SAMPLES) pkt.fill(G711_SILENCE[codec], 12 + payload.length, len);
    if (leg.overlay !== undefined) this.mix(leg, codec, pkt.subarray(12, len));
    leg.out.stampGenerated(pkt, leg.injectPt, FRAME_SAMPLES, this.#ctx.clock.monotonic(), consecutive, FRAME_SAMPLES);
    leg.stats.generated++;
    leg.endpoint.sendRtp(pkt, len, leg.latch.port, leg.latch.address);
  }

  // ---------------------------------------------------------------- tones

  /** Mix a tone (`renderTone`) into what each of `legs` hears; legs that cannot be injected are skipped. Returns the legs it plays to. */
  tone(legs: readonly PlaybackLeg[], pcm: Int16Array, kind: ToneKind): LegId[] {
    const playing = legs.filter((l) => l.injectCodec !== undefined && l.latch.address !== undefined);
    for (const leg of playing) this.#startOverlay(leg, pcm);
    if (playing.length > 0) {
      this.#ctx.emit({ type: 'toneStarted', kind, legs: playing.map((l) => l.id), at: this.#ctx.clock.now(), durationMs: (pcm.length * 1000) / 8000 });
    }
    return playing.map((l) => l.id);
  }

  /** The tone's samples (8 kHz), rendered once per session and spec; throws RangeError for a bad spec. */
  renderTone(tone: ToneSpec): Int16Array {
    const key = `${tone.frequencyHz}/${tone.durationMs}/${tone.levelDbfs}/${tone.repeat ?? 1}/${tone.gapMs ?? 0}`;
    let pcm = this.#toneCache.get(key);
    if (pcm === undefined) {
      pcm = renderTone(tone);
      this.#toneCache.set(key, pcm);
    }
    return pcm;
  }

  #startOverlay(leg: PlaybackLeg, pcm: Int16Array): void {
    leg.overlay = pcm;
    leg.overlayOffset = 0;
    if (leg.overlayPacer === undefined) {
      const pacer = new FramePacer(this.#ctx.clock, this.#ctx.frameTimers, () => this.#overlayTick(leg), FRAME_MS);
      leg.overlayPacer = pacer;
      pacer.start();
    }
  }

  /** While a tone is active: if nothing is flowing to the leg (silent party, no prompt), send the tone on its own. */
  #overlayTick(leg: PlaybackLeg): void {
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

  #endOverlay(leg: PlaybackLeg): void {
    leg.overlay = undefined;
    leg.overlayOffset = 0;
    const pacer = leg.overlayPacer;
    leg.overlayPacer = undefined;
    pacer?.stop();
  }

  // ---------------------------------------------------------------- the reminder

  /** The reminder tone to both legs after `initialDelayMs`, then every `intervalMs` (>= 1000); replaces a running one. */
  startReminder(intervalMs: number, initialDelayMs: number, tone: ToneSpec): void {
    if (!(intervalMs >= 1000) || !(initialDelayMs >= 0)) throw new AppError('MEDIA_INVALID_ARGUMENT', `reminder interval ${intervalMs} ms`);
    this.stopReminder();
    const fire = (): void => {
      if (!this.#closed) this.tone(this.#ctx.legs, this.renderTone(tone), 'reminder');
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

  /** Idempotent: stops the reminder, ends each leg's prompt (reason 'closed') and tone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopReminder();
    for (const leg of this.#ctx.legs) {
      this.#endPlayback(leg, 'closed');
      this.#endOverlay(leg);
    }
  }
}
