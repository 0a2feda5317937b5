import type { Clock } from '../../common/clock.js';

export interface LoginThrottleOptions {
  /** Wrong tokens per source address within `windowMs` before logins from it are refused; default 5. */
  readonly maxFailures?: number;
  /** Default 60 000 ms: the window, and how long a source stays refused after its last failure. */
  readonly windowMs?: number;
  /** Most source addresses tracked; the oldest is forgotten beyond it; default 10 000. */
  readonly maxSources?: number;
}

export const LOGIN_THROTTLE_DEFAULTS = Object.freeze({ maxFailures: 5, windowMs: 60_000, maxSources: 10_000 });

/** Slows token guessing at the console's login: a source address with too many wrong tokens is refused for a while. */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();
  readonly #clock: Clock;
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxSources: number;

  constructor(clock: Clock, opts: LoginThrottleOptions = {}) {
    this.#clock = clock;
    this.#max = opts.maxFailures ?? LOGIN_THROTTLE_DEFAULTS.maxFailures;
    this.#windowMs = opts.windowMs ?? LOGIN_THROTTLE_DEFAULTS.windowMs;
    this.#maxSources = opts.maxSources ?? LOGIN_THROTTLE_DEFAULTS.maxSources;
  }

  #recent(source: string): number[] {
    const since = this.#clock.now() - this.#windowMs;
    const list = (this.#failures.get(source) ?? []).filter((t) => t > since);
    if (list.length === 0) this.#failures.delete(source);
    else this.#failures.set(source, list);
    return list;
  }

  /** Seconds until `source` may try again; 0 = now. */
  retryAfterSec(source: string): number {
    const list = this.#recent(source);
    if (list.length < this.#max) return 0;
    return Math.max(1, Math.ceil((list.at(-1)! + this.#windowMs - this.#clock.now()) / 1000));
  }

  failed(source: string): void {
    const list = this.#recent(source);
    list.push(this.#clock.now());
    this.#failures.delete(source);
    this.#failures.set(source, list.slice(-this.#max));
    while (this.#failures.size > this.#maxSources) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  succeeded(source: string): void {
    this.#failures.delete(source);
  }
}
