/**
 * Drift-free frame pacing for prompts and the prompt playout built on it.
 *
 * Frame k is due at start + k * frameMs on the injected monotonic Clock. Each timer callback sends
 * every frame whose due time has passed, then arms a one-shot timer for the next due time computed
 * from `start` (never from "now + frameMs"), so timer lateness never accumulates: over a 60-s prompt
 * frame 3,000 is due exactly 60,000 ms after frame 0. A late timer (event-loop stall) is followed by
 * catch-up frames in the same callback; no frame is skipped. Frame 0 is sent synchronously by start().
 *
 * State machine (FramePacer):
 *
 *     idle --start()--> running --stop()--> stopped
 *       \______________stop()_______________/^
 *
 * stop() is idempotent; start() is accepted only from idle.
 */
import type { Clock, Timers } from '../../common/clock.js';
import { AppError } from '../../common/errors.js';
import { StateMachine, type TransitionTable } from '../../common/state-machine.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import type { G711Codec } from '../audio/g711.js';
import type { Prompt } from '../audio/prompt-library.js';

/** RTP packetisation interval for G.711 (RFC 3551 section 4.5.14 default ptime 20 ms). */
export const DEFAULT_FRAME_MS = 20;

export type PacerState = 'idle' | 'running' | 'stopped';

/** The legal moves of a pacer (common/state-machine.ts; drawn in docs/state-machines.md). */
export const PACER_TRANSITIONS: TransitionTable<PacerState> = {
  idle: ['running', 'stopped'],
  running: ['stopped'],
  stopped: [],
};

export class FramePacer {
  readonly #clock: Clock;
  readonly #onFrame: (index: number) => void;
  readonly #frameMs: number;
  /** The frame timer is a timer of `running`: stop() (-> stopped) stops it. */
  readonly #sm: StateMachine<PacerState>;
  #startAt = 0;
  #sent = 0;
  #errors = 0;

  /**
   * @param onFrame called with the frame index 0, 1, 2, ...; a throwing callback is counted
   *   (`callbackErrors`) and pacing goes on.
   * @param frameMs frame interval, default 20 ms.
   */
  constructor(clock: Clock, timers: Timers, onFrame: (index: number) => void, frameMs = DEFAULT_FRAME_MS) {
    if (!(frameMs > 0)) throw new RangeError('FramePacer: frameMs must be positive');
    this.#clock = clock;
    this.#onFrame = onFrame;
    this.#frameMs = frameMs;
    this.#sm = new StateMachine({ name: 'frame pacer', initial: 'idle', table: PACER_TRANSITIONS, timers });
  }

  get state(): PacerState {
    return this.#sm.state;
  }

  /** Frames handed to onFrame so far. */
  get framesSent(): number {
    return this.#sent;
  }

  /** onFrame calls that threw. */
  get callbackErrors(): number {
    return this.#errors;
  }

  /** Monotonic time frame 0 was due (valid once started). */
  get startedAt(): number {
    return this.#startAt;
  }

  start(): void {
    this.#sm.transition('running'); // twice, or after stop: ILLEGAL_STATE_TRANSITION
    this.#startAt = this.#clock.monotonic();
    this.#tick();
  }

  stop(): void {
    if (!this.#sm.is('stopped')) this.#sm.transition('stopped');
  }

  #tick = (): void => {
    if (!this.#sm.is('running')) return;
    const now = this.#clock.monotonic();
    // every frame whose due time has come, in order (catch-up after a late timer)
    while (this.#sm.is('running') && this.#startAt + this.#sent * this.#frameMs <= now) {
      const index = this.#sent++;
      try {
        this.#onFrame(index);
      } catch {
        this.#errors++;
      }
    }
    if (!this.#sm.is('running')) return;
    const nextDue = this.#startAt + this.#sent * this.#frameMs;
    this.#sm.after(Math.max(0, nextDue - this.#clock.monotonic()), this.#tick);
  };
}

export type PromptEndReason = 'completed' | 'stopped';

export interface PromptPlayerEvents extends Record<string, unknown[]> {
  /** The first frame is about to be sent. */
  started: [prompt: Prompt];
  /** No more frames will be sent: the last frame went out ('completed') or stop() was called. */
  ended: [prompt: Prompt, reason: PromptEndReason, framesSent: number];
}

/**
 * Plays one prompt as paced 20 ms G.711 frames into a sink (one leg, or a sink that writes both).
 * Emits `started` before the first frame and `ended` exactly once. The frames are the prompt's
 * precomputed buffers: the sink must copy them if it modifies or keeps them (e.g. writes an RTP
 * header in front).
 */
export class PromptPlayer extends TypedEmitter<PromptPlayerEvents> {
  readonly #prompt: Prompt;
  readonly #frames: readonly Buffer[];
  readonly #pacer: FramePacer;
  readonly #sink: (frame: Buffer, index: number) => void;
  #ended = false;

  constructor(prompt: Prompt, codec: G711Codec, sink: (frame: Buffer, index: number) => void, clock: Clock, timers: Timers) {
    super();
    this.#prompt = prompt;
    this.#frames = prompt.frames(codec);
    this.#sink = sink;
    this.#pacer = new FramePacer(clock, timers, (i) => this.#frame(i));
  }

  get prompt(): Prompt {
    return this.#prompt;
  }

  get framesSent(): number {
    return this.#pacer.framesSent;
  }

  get playing(): boolean {
    return this.#pacer.state === 'running';
  }

  start(): void {
    if (this.#pacer.state !== 'idle') throw new AppError('ILLEGAL_STATE_TRANSITION', `PromptPlayer ${this.#pacer.state} -> running`);
    this.emit('started', this.#prompt);
    if (this.#frames.length === 0) {
      this.#pacer.stop();
      this.#end('completed');
      return;
    }
    this.#pacer.start();
  }

  /**
   * Stop early (idempotent); emits `ended` with reason 'stopped' unless it already ended or never
   * started (a player stopped before start() stays silent and cannot be started).
   */
  stop(): void {
    const wasIdle = this.#pacer.state === 'idle';
    this.#pacer.stop();
    if (wasIdle) this.#ended = true;
    else this.#end('stopped');
  }

  /** Same as stop(); for lifecycle symmetry. */
  close(): void {
    this.stop();
  }

  #frame(i: number): void {
    try {
      const frame = this.#frames[i];
      if (frame !== undefined) this.#sink(frame, i);
    } finally {
      if (i + 1 >= this.#frames.length) {
        this.#pacer.stop();
        this.#end('completed');
      }
    }
  }

  #end(reason: PromptEndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.emit('ended', this.#prompt, reason, this.#pacer.framesSent);
  }
}
