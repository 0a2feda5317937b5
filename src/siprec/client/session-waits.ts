import type { TimerHandle, Timers } from '../../common/clock.js';

/**
 * The recording session's waits: glare back-offs and bounded waits on the recording server's
 * answers. Each is settled early (its fallback) when the session ends, so nothing the session
 * started keeps a timer or a caller waiting past close. No I/O: timers come from the session.
 */
export class SessionWaits {
  readonly #timers: Timers;
  readonly #pending = new Set<{ timer: TimerHandle; settle: () => void }>();

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  /** Resolves after `ms`, or at once on settleAll(). */
  wait(ms: number): Promise<void> {
    return this.bounded(new Promise<void>(() => undefined), ms, undefined);
  }

  /** `p`, or `fallback` after `ms` (also when `p` rejects, or on settleAll()). */
  bounded<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
    return new Promise((resolve) => {
      const entry = {
        timer: this.#timers.setTimeout(() => {
          this.#pending.delete(entry);
          resolve(fallback);
        }, ms),
        settle: () => resolve(fallback),
      };
      this.#pending.add(entry);
      const done = (v: T): void => {
        this.#timers.clearTimeout(entry.timer);
        this.#pending.delete(entry);
        resolve(v);
      };
      p.then(done, () => done(fallback));
    });
  }

  /** Settles every pending wait with its fallback and stops its timer (the session's final state). */
  settleAll(): void {
    for (const w of [...this.#pending]) {
      this.#timers.clearTimeout(w.timer);
      w.settle();
    }
    this.#pending.clear();
  }
}
