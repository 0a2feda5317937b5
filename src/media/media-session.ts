import { AppError } from '../common/errors.js';
import { StateMachine } from '../common/state-machine.js';
import { TypedEmitter } from '../common/typed-emitter.js';
import type { Prompt } from './audio/prompt-library.js';
import { REMINDER_TONE, type ToneSpec } from './audio/tones.js';
import type { EngineCommand, EngineEvent, PlayPromptReply, PrepareForkReply } from './engine/engine-protocol.js';
import { MEDIA_SESSION_TRANSITIONS, type MediaSessionState } from './media-session-state.js';
import {
  DEFAULT_FORK_ID,
  type ForkOptions,
  type InjectTarget,
  type LegId,
  type LocalRtpAddress,
  type MediaSessionEvents,
  type MediaSessionStats,
  type PromptResult,
  type RemoteMedia,
  type ToneKind,
} from './media-session-types.js';

/** What a session needs from its plane (narrow, so the session stays testable). */
export interface SessionHost {
  /** Send a command to the session's engine; resolves with the reply value. */
  request<T>(cmd: EngineCommand): Promise<T>;
  /** The registered key of a library prompt, if the plane registered it. */
  promptKey(prompt: Prompt): string | undefined;
  /** Allocate and bind two fork port pairs of fork `forkId` in the engine. */
  prepareFork(session: MediaSession, forkId: string): Promise<PrepareForkReply>;
  /** The session closed: release its ports. */
  released(session: MediaSession): void;
}

/** A prompt to play: one from the PromptLibrary, or raw 8 kHz 16-bit PCM with a label. */
export type PromptInput = Prompt | { pcm: Int16Array; name?: string; language?: string };

interface PendingPlayback {
  legs: LegId[] | undefined;
  results: PromptResult['legs'];
  started: Map<LegId, number>;
  resolve: (r: PromptResult) => void;
  reject: (e: unknown) => void;
}

/**
 * One call's media as the call layer sees it. Created by MediaPlane.createSession; the sockets live
 * in a media worker and every method is a message to it.
 *
 * Policy while a prompt plays to a leg: that leg hears only the prompt (the other party's speech
 * towards it is replaced, not mixed); its own speech still reaches the other party and the
 * recording. Tones are mixed (never replace speech). Neither ever reaches the recording.
 */
export class MediaSession extends TypedEmitter<MediaSessionEvents> {
  readonly id: string;
  /** Local RTP addresses to put in the SDP sent to each leg (allocated before the remote SDP is known). */
  readonly local: { readonly a: LocalRtpAddress; readonly b: LocalRtpAddress };
  /** Fork RTP ports allocated by prepareFork, by fork id (what each SIPREC offer advertises); kept until close. */
  readonly forkPorts = new Map<string, [number, number]>();
  readonly #host: SessionHost;
  readonly #sm = new StateMachine<MediaSessionState>({ name: 'media session', initial: 'open', table: MEDIA_SESSION_TRANSITIONS });
  #nextPlayback = 1;
  readonly #pending = new Map<number, PendingPlayback>();
  #injectable: Record<LegId, boolean> = { a: true, b: true };
  #closePromise: Promise<void> | undefined;

  /** MediaSessionOptions.label (the SIP Call-ID), for logs; default the id. */
  readonly label: string;

  constructor(id: string, local: { a: LocalRtpAddress; b: LocalRtpAddress }, host: SessionHost, label: string = id) {
    super();
    this.id = id;
    this.label = label;
    this.local = local;
    this.#host = host;
  }

  get state(): MediaSessionState {
    return this.#sm.state;
  }

  #assertOpen(): void {
    if (!this.#sm.is('open')) throw new AppError('CLOSED', `media session ${this.id}`);
  }

  async #request<T>(cmd: EngineCommand): Promise<T> {
    this.#assertOpen();
    return this.#host.request<T>(cmd);
  }

  /**
   * Where a leg's media goes and which payload types it negotiated (from its SDP). Call again on
   * re-INVITE. After this, `canInject(leg)` says whether prompts and tones can be played to it.
   */
  async setRemote(leg: LegId, remote: RemoteMedia): Promise<void> {
    await this.#request({ op: 'setRemote', id: this.id, leg, remote });
    const list = remote.payloadTypes;
    this.#injectable[leg] = list === undefined || list.some((p) => /^(PCMU|PCMA)$/i.test(p.name));
  }

  /** False when the leg negotiated no PCMU/PCMA: its media is relayed untouched and nothing can be injected. */
  canInject(leg: LegId): boolean {
    return this.#injectable[leg];
  }

  /**
   * Play a prompt to one leg or both, paced at 20 ms. Resolves when it has played out (or was
   * stopped/replaced) on every target leg, with exact start/end times; `promptStarted` and
   * `promptEnded` events report the same per leg. Rejects with MEDIA_CODEC_NOT_INJECTABLE when a
   * target leg has no G.711 codec. A new prompt to a leg replaces the one playing there.
   */
  async playPrompt(target: InjectTarget, prompt: PromptInput): Promise<PromptResult> {
    this.#assertOpen();
    const playbackId = this.#nextPlayback++;
    const isLibrary = 'frames' in prompt;
    const key = isLibrary ? this.#host.promptKey(prompt) : undefined;
    const name = prompt.name ?? 'pcm';
    const language = prompt.language;
    const done = new Promise<PromptResult>((resolve, reject) => {
      this.#pending.set(playbackId, { legs: undefined, results: [], started: new Map(), resolve, reject });
    });
    try {
      const reply = await this.#request<PlayPromptReply>({
        op: 'playPrompt',
        id: this.id,
        playbackId,
        target,
        source: key !== undefined ? { key } : { pcm: prompt.pcm },
        name,
        language,
      });
      const p = this.#pending.get(playbackId);
      if (p !== undefined) {
        p.legs = reply.legs;
        this.#settlePlayback(playbackId);
      }
    } catch (err) {
      this.#pending.delete(playbackId);
      throw err;
    }
    return done;
  }

  /** Stop prompts playing to the target legs (their promptEnded says 'stopped'). */
  async stopPrompt(target: InjectTarget = 'both'): Promise<void> {
    await this.#request({ op: 'stopPrompt', id: this.id, target });
  }

  /**
   * Mix the reminder tone into both directions every `intervalMs`, first after
   * `initialDelayMs` (default: one interval). Replaces a running reminder. Default tone REMINDER_TONE.
   */
  async startReminderTone(intervalMs: number, options: { initialDelayMs?: number; tone?: ToneSpec } = {}): Promise<void> {
    await this.#request({
      op: 'startReminder',
      id: this.id,
      intervalMs,
      initialDelayMs: options.initialDelayMs ?? intervalMs,
      tone: { ...(options.tone ?? REMINDER_TONE) },
    });
  }

  async stopReminderTone(): Promise<void> {
    await this.#request({ op: 'stopReminder', id: this.id });
  }

  /**
   * Watch both legs for silence: a leg that delivers no accepted RTP for `ms` while the other leg does
   * is reported once by a `silent` event, with the reason from its drop counters. 0 stops watching
   * (hold). Re-arming restarts the period.
   */
  async watchSilence(ms: number): Promise<void> {
    await this.#request({ op: 'watchSilence', id: this.id, ms });
  }

  /** Mix one tone (e.g. PAUSE_BEEP/RESUME_BEEP, R-18) into what the target legs hear; resolves with the legs it went to. */
  async beep(tone: ToneSpec, target: InjectTarget = 'both', kind: ToneKind = 'beep'): Promise<LegId[]> {
    const r = await this.#request<{ legs: LegId[] }>({ op: 'tone', id: this.id, target, tone: { ...tone }, kind });
    return r.legs;
  }

  /**
   * Allocate the two local RTP addresses of one fork's recording streams (for its SIPREC offer)
   * before the recording server's answer is known. Idempotent per fork. A session has as many forks
   * as it has recordings (e.g. one per recorded user); `forkId` defaults to DEFAULT_FORK_ID ('main').
   */
  async prepareFork(forkId: string = DEFAULT_FORK_ID): Promise<[LocalRtpAddress, LocalRtpAddress]> {
    this.#assertOpen();
    return this.#host.prepareFork(this, forkId);
  }

  /**
   * Start fork `options.forkId` (default 'main'): what leg A says goes to targets[0] and what leg B
   * says to targets[1], each stream with its own SSRC and continuous seq/timestamps. Prepares
   * the fork first when needed. Other forks are not affected.
   */
  async startFork(options: ForkOptions): Promise<void> {
    await this.prepareFork(options.forkId ?? DEFAULT_FORK_ID);
    await this.#request({ op: 'startFork', id: this.id, fork: options });
  }

  /**
   * Pause one fork: nothing of the conversation is sent to its recording server, or silence
   * frames with `silence` (default: the fork's option). Other forks keep recording.
   */
  async pauseFork(options: { silence?: boolean; forkId?: string } = {}): Promise<void> {
    await this.#request({ op: 'pauseFork', id: this.id, forkId: options.forkId, silence: options.silence });
  }

  async resumeFork(forkId?: string): Promise<void> {
    await this.#request({ op: 'resumeFork', id: this.id, forkId });
  }

  /** Stop one fork and close its sockets (its ports stay reserved until the session closes); the others go on. */
  async stopFork(forkId?: string): Promise<void> {
    await this.#request({ op: 'stopFork', id: this.id, forkId });
  }

  async getStats(): Promise<MediaSessionStats> {
    return this.#request<MediaSessionStats>({ op: 'stats', id: this.id });
  }

  /** Close the session and its sockets (idempotent); pending prompt promises resolve with reason 'closed'. */
  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    if (this.#sm.is('closed')) return (this.#closePromise = Promise.resolve()); // the plane closed it first (worker gone)
    this.#sm.transition('closing');
    this.#closePromise = this.#host
      .request({ op: 'closeSession', id: this.id })
      .catch(() => undefined)
      .then(() => this.markClosed('closed'));
    return this.#closePromise;
  }

  /** Called by the plane: the engine is gone or the session closed. */
  markClosed(reason: string): void {
    if (this.#sm.is('closed')) return;
    this.#sm.transition('closed', reason);
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.resolve({ playbackId: id, legs: p.results });
    }
    this.#host.released(this);
    this.emit('closed', reason);
  }

  /** Engine events for this session, routed by the plane. */
  handleEngineEvent(e: EngineEvent): void {
    switch (e.type) {
      case 'latched':
        this.emit('latched', { leg: e.leg, address: e.address, port: e.port, how: e.how, sdpAddress: e.sdpAddress, sdpPort: e.sdpPort });
        return;
      case 'silent':
        this.emit('silent', { leg: e.leg, reason: e.reason, silentForMs: e.silentForMs, dropped: e.dropped, remote: e.remote, sdp: e.sdp, refused: e.refused, at: e.at });
        return;
      case 'dtmf':
        this.emit('dtmf', { leg: e.leg, digit: e.digit, end: e.end, durationMs: e.durationMs, rtpTimestamp: e.rtpTimestamp, at: e.at });
        return;
      case 'promptStarted': {
        this.#pending.get(e.playbackId)?.started.set(e.leg, e.at);
        this.emit('promptStarted', { playbackId: e.playbackId, leg: e.leg, name: e.name, language: e.language, at: e.at });
        return;
      }
      case 'promptEnded': {
        const p = this.#pending.get(e.playbackId);
        if (p !== undefined) {
          p.results.push({ leg: e.leg, startedAt: p.started.get(e.leg) ?? e.at, endedAt: e.at, reason: e.reason, framesSent: e.framesSent });
          this.#settlePlayback(e.playbackId);
        }
        this.emit('promptEnded', {
          playbackId: e.playbackId,
          leg: e.leg,
          name: e.name,
          language: e.language,
          at: e.at,
          reason: e.reason,
          framesSent: e.framesSent,
        });
        return;
      }
      case 'toneStarted':
        this.emit('toneStarted', { kind: e.kind, legs: e.legs, at: e.at, durationMs: e.durationMs });
        return;
      case 'forkBuffer':
        this.emit('forkBuffer', { forkId: e.forkId, outcome: e.outcome, waitedMs: e.waitedMs, bufferMs: e.bufferMs, sent: e.sent, overflowed: e.overflowed, discarded: e.discarded });
        return;
    }
  }

  #settlePlayback(playbackId: number): void {
    const p = this.#pending.get(playbackId);
    if (p === undefined || p.legs === undefined) return;
    if (p.legs.every((leg) => p.results.some((r) => r.leg === leg))) {
      this.#pending.delete(playbackId);
      p.resolve({ playbackId, legs: p.results });
    }
  }
}
