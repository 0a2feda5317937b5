/**
 * The media engine: owns the sessions, sockets and timers of one thread (a worker, or the main
 * thread with `workers: 0`). It is driven only by EngineCommand messages and answers with
 * EngineMessage replies/events through the `post` function it is given, so the same code runs in
 * either place. Prompts are registered once per engine (PCM); their G.711 frames are cut once per
 * codec on first use and shared by every session.
 */
import { getHeapStatistics } from 'node:v8';
import { systemClock, systemTimers, type Clock, type Timers } from '../../common/clock.js';
import { AppError, isAppError } from '../../common/errors.js';
import type { G711Codec } from '../audio/g711.js';
import type { MediaTotals } from '../media-session-types.js';
import { addMediaTotals, emptyMediaTotals } from '../media-totals.js';
import { cutFrames } from '../audio/prompt-library.js';
import { CoalescedTimers } from '../../common/coalesced-timers.js';
import { ScratchRing } from '../processors/scratch-ring.js';
import { udpEndpointFactory, type RtpEndpointFactory } from '../transport/udp-endpoint.js';
import type { EngineErrorData, EngineEvent, EngineMessage, EngineRequest } from './engine-protocol.js';
import { EngineSession, type EngineContext } from './engine-session.js';

export interface MediaEngineOptions {
  clock?: Clock;
  timers?: Timers;
  endpoints?: RtpEndpointFactory;
}

interface RegisteredPrompt {
  pcm: Int16Array;
  frames: Partial<Record<G711Codec, readonly Buffer[]>>;
}

export class MediaEngine {
  readonly #post: (msg: EngineMessage) => void;
  readonly #sessions = new Map<string, EngineSession>();
  readonly #prompts = new Map<string, RegisteredPrompt>();
  readonly #ctx: EngineContext;
  /** Counters of sessions already closed (totals()). */
  readonly #retired: MediaTotals = emptyMediaTotals();
  #opened = 0;
  #closed = false;

  constructor(post: (msg: EngineMessage) => void, options: MediaEngineOptions = {}) {
    this.#post = post;
    const clock = options.clock ?? systemClock;
    const timers = options.timers ?? systemTimers;
    this.#ctx = {
      clock,
      timers,
      frameTimers: new CoalescedTimers(clock, timers),
      endpoints: options.endpoints ?? udpEndpointFactory,
      scratch: new ScratchRing(),
      emit: (id: string, event: EngineEvent) => this.#post({ kind: 'event', id, event }),
      promptFrames: (key, codec) => this.#promptFrames(key, codec),
    };
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Aggregate counters of this engine (MediaTotals): closed sessions' counters plus every open
   * session's. One pass over the open sessions; nothing on the packet path.
   */
  totals(): MediaTotals {
    const t = addMediaTotals(emptyMediaTotals(), this.#retired);
    for (const s of this.#sessions.values()) s.addTotals(t);
    t.sessions = this.#sessions.size;
    t.sessionsOpened = this.#opened;
    return t;
  }

  #retire(s: EngineSession): void {
    s.close();
    s.addTotals(this.#retired);
  }

  #promptFrames(key: string, codec: G711Codec): readonly Buffer[] | undefined {
    const p = this.#prompts.get(key);
    if (p === undefined) return undefined;
    let frames = p.frames[codec];
    if (frames === undefined) {
      frames = cutFrames(codec, p.pcm);
      p.frames[codec] = frames;
    }
    return frames;
  }

  /** Handle one command; always posts exactly one reply. */
  handle(msg: EngineRequest): void {
    void this.#dispatch(msg).then(
      (value) => this.#post({ kind: 'reply', req: msg.req, ok: true, value }),
      (err: unknown) => this.#post({ kind: 'reply', req: msg.req, ok: false, error: toErrorData(err) }),
    );
  }

  #session(id: string): EngineSession {
    const s = this.#sessions.get(id);
    if (s === undefined) throw new AppError('MEDIA_SESSION_UNKNOWN', id);
    return s;
  }

  async #dispatch(msg: EngineRequest): Promise<unknown> {
    switch (msg.op) {
      case 'registerPrompt':
        this.#prompts.set(msg.key, { pcm: msg.pcm, frames: {} });
        return undefined;
      case 'createSession': {
        if (this.#closed) throw new AppError('CLOSED', 'media engine');
        if (this.#sessions.has(msg.id)) throw new AppError('MEDIA_INVALID_ARGUMENT', `duplicate session ${msg.id}`);
        const s = await EngineSession.open(msg.id, this.#ctx, msg.address, msg.ports, msg.options);
        if (this.#closed) {
          s.close();
          throw new AppError('CLOSED', 'media engine');
        }
        this.#sessions.set(msg.id, s);
        this.#opened++;
        return s.local;
      }
      case 'setRemote':
        this.#session(msg.id).setRemote(msg.leg, msg.remote);
        return undefined;
      case 'playPrompt':
        return { legs: this.#session(msg.id).playPrompt(msg.playbackId, msg.target, msg.source, msg.name, msg.language) };
      case 'stopPrompt':
        this.#session(msg.id).stopPrompt(msg.target);
        return undefined;
      case 'startReminder':
        this.#session(msg.id).startReminder(msg.intervalMs, msg.initialDelayMs, msg.tone);
        return undefined;
      case 'stopReminder':
        this.#session(msg.id).stopReminder();
        return undefined;
      case 'watchSilence':
        this.#session(msg.id).watchSilence(msg.ms);
        return undefined;
      case 'tone':
        return { legs: this.#session(msg.id).tone(msg.target, msg.tone, msg.kind) };
      case 'prepareFork': {
        const s = this.#session(msg.id);
        return s.prepareFork(msg.forkId, s.local.a.address, msg.ports);
      }
      case 'startFork':
        this.#session(msg.id).startFork(msg.fork);
        return undefined;
      case 'pauseFork':
        this.#session(msg.id).pauseFork(msg.forkId, msg.silence);
        return undefined;
      case 'resumeFork':
        this.#session(msg.id).resumeFork(msg.forkId);
        return undefined;
      case 'stopFork':
        this.#session(msg.id).stopFork(msg.forkId);
        return undefined;
      case 'stats':
        return this.#session(msg.id).stats();
      case 'totals':
        return this.totals();
      case 'heap':
        return getHeapStatistics().total_heap_size;
      case 'closeSession': {
        const s = this.#sessions.get(msg.id);
        this.#sessions.delete(msg.id);
        if (s !== undefined) this.#retire(s);
        return undefined;
      }
      case 'shutdown':
        this.close();
        return undefined;
    }
  }

  /** Close every session (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sessions.values()) this.#retire(s);
    this.#sessions.clear();
  }
}

function toErrorData(err: unknown): EngineErrorData {
  if (isAppError(err)) {
    const ports = (err as { ports?: number[] }).ports;
    return ports ? { code: err.code, message: err.message, ports } : { code: err.code, message: err.message };
  }
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e.code === 'string' ? e.code : 'MEDIA_WORKER_FAILED', message: typeof e.message === 'string' ? e.message : String(err) };
}
