/**
 * Time behind narrow interfaces so that pure logic and state machines can be driven by a fake
 * clock in tests (test/fakes/fake-clock.ts). Nothing outside this file reads Date.now() or
 * performance.now() directly in code that a test needs to control.
 */
export interface Clock {
  /** Wall-clock time in ms since the epoch (for timestamps that leave the process). */
  now(): number;
  /** Monotonic time in ms (for intervals and pacing); arbitrary origin. */
  monotonic(): number;
}

export type TimerHandle = { readonly __timer: unique symbol } | NodeJS.Timeout;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => {
    if (h !== undefined) clearTimeout(h as NodeJS.Timeout);
  },
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => {
    if (h !== undefined) clearInterval(h as NodeJS.Timeout);
  },
};
