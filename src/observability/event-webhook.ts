/**
 * Delivers recording events to a webhook: a bounded in-memory queue drained by one POST at a time
 * (a batch of up to batchSize events), retried with exponential back-off. It never blocks the
 * caller: push() is O(1) amortised, and when the queue is full the oldest event is dropped and
 * counted. Body: `{"events":[RecordingEventRecord, ...]}` (docs/observability.md).
 *
 *   push ─▶ [queue ≤ queueSize, drop oldest] ─▶ POST batch ─▶ 2xx: delivered
 *                                                  ├─ network error, timeout, 408, 429, 5xx: back to the
 *                                                  │    queue head, retry after backoffMs·2^(n-1) (≤ maxBackoffMs);
 *                                                  │    after maxAttempts tries: failed
 *                                                  └─ other 4xx: failed (not retried)
 */
import { systemClock, systemTimers, type Clock, type Timers } from '../common/clock.js';
import { StateMachine, type TransitionTable } from '../common/state-machine.js';
import type { Logger } from './logger.js';
import type { RecordingEventRecord } from './recording-event-types.js';

/** One POST: resolves the HTTP status, rejects on a network error or after timeoutMs. */
export type WebhookPoster = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<number>;

/** The default poster: fetch (undici), the response body read and discarded. */
export const fetchPoster: WebhookPoster = async (url, body, headers, timeoutMs) => {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
};

export interface EventWebhookOptions {
  /** http(s) URL to POST to. Required. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; default none. Never logged. */
  token?: string;
  /** Events held at most; beyond it the oldest is dropped. Default 1000. */
  queueSize?: number;
  /** Events per POST. Default 50. */
  batchSize?: number;
  /** Tries per batch. Default 5. */
  maxAttempts?: number;
  /** First retry delay, doubling per try. Default 500 ms, at most maxBackoffMs (default 30 000 ms). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per-POST timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** How long close() keeps delivering what is queued (one try per batch). Default 2000 ms. */
  closeTimeoutMs?: number;
  poster?: WebhookPoster;
  clock?: Clock;
  timers?: Timers;
  logger?: Logger;
}

export const EVENT_WEBHOOK_DEFAULTS = Object.freeze({
  queueSize: 1000,
  batchSize: 50,
  maxAttempts: 5,
  backoffMs: 500,
  maxBackoffMs: 30_000,
  timeoutMs: 5000,
  closeTimeoutMs: 2000,
});

export interface EventWebhookStats {
  delivered: number;
  dropped: number;
  failed: number;
  retries: number;
  queued: number;
}

export type QueueState = 'idle' | 'sending' | 'backing-off' | 'closing' | 'closed';

/**
 * The legal moves of the delivery queue (common/state-machine.ts; drawn in docs/state-machines.md).
 * sending -> sending: the next batch after a delivered or given-up one. The retry timer is a timer
 * of `backing-off`: close() (-> closing) stops it.
 */
export const WEBHOOK_QUEUE_TRANSITIONS: TransitionTable<QueueState> = {
  idle: ['sending', 'closing'],
  sending: ['sending', 'idle', 'backing-off', 'closing'],
  'backing-off': ['sending', 'closing'],
  closing: ['closed'],
  closed: [],
};

export class EventWebhook {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #o: Required<Pick<EventWebhookOptions, keyof typeof EVENT_WEBHOOK_DEFAULTS>>;
  readonly #post: WebhookPoster;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #logger: Logger | undefined;
  #queue: RecordingEventRecord[] = [];
  readonly #sm: StateMachine<QueueState>;
  /** Consecutive failed tries of the batch at the queue head. */
  #attempt = 0;
  #sending: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  readonly #stats = { delivered: 0, dropped: 0, failed: 0, retries: 0 };

  constructor(options: EventWebhookOptions) {
    this.#url = options.url;
    this.#headers = { 'content-type': 'application/json', 'user-agent': 'siprec-recording-b2bua event-log' };
    if (options.token) this.#headers.authorization = `Bearer ${options.token}`;
    const d = EVENT_WEBHOOK_DEFAULTS;
    this.#o = {
      queueSize: Math.max(1, options.queueSize ?? d.queueSize),
      batchSize: Math.max(1, options.batchSize ?? d.batchSize),
      maxAttempts: Math.max(1, options.maxAttempts ?? d.maxAttempts),
      backoffMs: options.backoffMs ?? d.backoffMs,
      maxBackoffMs: options.maxBackoffMs ?? d.maxBackoffMs,
      timeoutMs: options.timeoutMs ?? d.timeoutMs,
      closeTimeoutMs: options.closeTimeoutMs ?? d.closeTimeoutMs,
    };
    this.#post = options.poster ?? fetchPoster;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    this.#logger = options.logger;
    this.#sm = new StateMachine({ name: 'event webhook', initial: 'idle', table: WEBHOOK_QUEUE_TRANSITIONS, timers: this.#timers, ...(options.logger ? { log: options.logger } : {}) });
  }

  stats(): EventWebhookStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /** Queue one event (after close() it is counted as dropped). */
  push(record: RecordingEventRecord): void {
    if (this.#sm.is('closing', 'closed')) {
      this.#stats.dropped++;
      return;
    }
    this.#queue.push(record);
    this.#trim();
    if (this.#sm.is('idle')) this.#sendNext();
  }

  #trim(): void {
    const over = this.#queue.length - this.#o.queueSize;
    if (over <= 0) return;
    this.#queue.splice(0, over);
    this.#stats.dropped += over;
    if (this.#stats.dropped === over || this.#stats.dropped % 1000 < over) {
      this.#logger?.warn({ dropped: this.#stats.dropped, queueSize: this.#o.queueSize }, 'recording event webhook queue full: dropping the oldest events');
    }
  }

  #sendNext(): void {
    if (this.#queue.length === 0) {
      this.#sm.transition('idle');
      return;
    }
    this.#sm.transition('sending');
    const batch = this.#queue.splice(0, this.#o.batchSize);
    this.#sending = this.#try(batch).then((ok) => this.#after(batch, ok));
  }

  /** One POST; true on 2xx, false when it may be retried, 'rejected' when it must not be. */
  async #try(batch: RecordingEventRecord[]): Promise<boolean | 'rejected'> {
    try {
      const status = await this.#post(this.#url, JSON.stringify({ events: batch }), this.#headers, this.#o.timeoutMs);
      if (status >= 200 && status < 300) return true;
      const retryable = status >= 500 || status === 408 || status === 429;
      this.#logger?.warn({ status, events: batch.length, attempt: this.#attempt + 1 }, 'recording event webhook answered an error');
      return retryable ? false : 'rejected';
    } catch (err) {
      this.#logger?.warn({ err: { message: (err as Error).message }, events: batch.length, attempt: this.#attempt + 1 }, 'recording event webhook unreachable');
      return false;
    }
  }

  #after(batch: RecordingEventRecord[], ok: boolean | 'rejected'): void {
    this.#sending = undefined;
    if (ok === true) {
      this.#stats.delivered += batch.length;
      this.#attempt = 0;
    } else if (ok === 'rejected' || this.#attempt + 1 >= this.#o.maxAttempts) {
      this.#stats.failed += batch.length;
      this.#attempt = 0;
      this.#logger?.error({ events: batch.length, firstSeq: batch[0]?.seq }, 'recording event webhook: giving up on a batch');
    } else if (this.#sm.is('sending')) {
      this.#attempt++;
      this.#stats.retries++;
      this.#queue.unshift(...batch);
      this.#trim();
      const delay = Math.min(this.#o.maxBackoffMs, this.#o.backoffMs * 2 ** (this.#attempt - 1));
      this.#sm.transition('backing-off');
      this.#sm.after(delay, () => this.#sendNext());
      return;
    } else {
      this.#queue.unshift(...batch); // closing: close() decides what happens to it
      return;
    }
    if (this.#sm.is('sending')) this.#sendNext();
  }

  /**
   * Idempotent. Stops retrying, then keeps delivering what is queued (one try per batch) until the
   * queue is empty, a try fails, or closeTimeoutMs has passed; what is left is counted as dropped.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#sm.transition('closing'); // stops the retry timer
      const deadline = this.#clock.monotonic() + this.#o.closeTimeoutMs;
      if (this.#sending) await this.#sending;
      while (this.#queue.length > 0 && this.#clock.monotonic() < deadline) {
        const batch = this.#queue.splice(0, this.#o.batchSize);
        const ok = await this.#try(batch);
        if (ok === true) {
          this.#stats.delivered += batch.length;
          continue;
        }
        if (ok === 'rejected') {
          this.#stats.failed += batch.length;
          continue;
        }
        this.#queue.unshift(...batch);
        break;
      }
      this.#stats.dropped += this.#queue.length;
      this.#queue = [];
      this.#sm.transition('closed');
    })();
    return this.#closing;
  }
}
