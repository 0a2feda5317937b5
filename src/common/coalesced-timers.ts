/**
 * Timers that share one underlying timer: every callback due within the same `granularityMs` slot
 * runs from a single wake-up. A media worker paces every prompt, tone and paused-fork silence frame
 * (20 ms each, at arbitrary phases) through one of these, so N playing sessions cost about
 * 1000 / granularityMs wake-ups a second instead of N x 50 (docs/media.md "Shape").
 *
 * A callback runs at the end of its slot: at most `granularityMs` after it was due, never before.
 * Callers that pace from a start time (prompt-pacer.ts FramePacer) keep no drift: the lateness is
 * bounded and does not add up. Pending callbacks live in a binary min-heap ordered by slot, then by
 * the order they were set, so callbacks of one slot run in the order they were scheduled. The
 * underlying timer is armed only while something is pending: an idle worker does not wake.
 * Pure (no I/O): built on an injected Clock and Timers, so tests drive it with a fake clock.
 */
import type { Clock, TimerHandle, Timers } from './clock.js';

interface Entry {
  slot: number;
  seq: number;
  fn: () => void;
  /** For setInterval: the period; 0 for a one-shot. */
  every: number;
  cancelled: boolean;
}

/** Default slot width: 5 ms of lateness at most, 200 wake-ups a second at most. */
export const DEFAULT_GRANULARITY_MS = 5;

export class CoalescedTimers implements Timers {
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #granularity: number;
  readonly #heap: Entry[] = [];
  #seq = 0;
  /** The slot the underlying timer is armed for, if armed. */
  #armedSlot: number | undefined;
  #armed: TimerHandle | undefined;
  /** Inside #fire: the timer is armed once, at its end. */
  #firing = false;
  /** Entries set and neither run (one-shots) nor cleared. */
  #live = 0;
  /** Callbacks that threw (each is counted, the others still run). */
  callbackErrors = 0;

  constructor(clock: Clock, timers: Timers, granularityMs = DEFAULT_GRANULARITY_MS) {
    if (!(granularityMs > 0)) throw new RangeError('CoalescedTimers: granularityMs must be positive');
    this.#clock = clock;
    this.#timers = timers;
    this.#granularity = granularityMs;
  }

  /** Callbacks waiting (cleared ones are not counted). */
  get pending(): number {
    return this.#live;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, 0) as unknown as TimerHandle;
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(ms, this.#granularity)) as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    const e = handle as unknown as Entry | undefined;
    if (e === undefined || e.cancelled) return;
    e.cancelled = true;
    // nothing left: drop the underlying timer at once (an idle worker does not wake)
    if (--this.#live === 0) {
      this.#heap.length = 0;
      this.#arm();
    }
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  #slotAt(ms: number): number {
    return Math.ceil(ms / this.#granularity);
  }

  #add(fn: () => void, ms: number, every: number): Entry {
    const e: Entry = { slot: this.#slotAt(this.#clock.monotonic() + Math.max(0, ms)), seq: this.#seq++, fn, every, cancelled: false };
    this.#live++;
    this.#push(e);
    this.#arm();
    return e;
  }

  /** Arms the underlying timer for the earliest pending slot (re-arms when an earlier one came). */
  #arm(): void {
    if (this.#firing) return;
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    const first = this.#heap[0];
    if (first === undefined) {
      this.#timers.clearTimeout(this.#armed);
      this.#armed = undefined;
      this.#armedSlot = undefined;
      return;
    }
    if (this.#armedSlot !== undefined && this.#armedSlot <= first.slot) return;
    this.#timers.clearTimeout(this.#armed);
    this.#armedSlot = first.slot;
    this.#armed = this.#timers.setTimeout(this.#fire, Math.max(0, first.slot * this.#granularity - this.#clock.monotonic()));
  }

  #fire = (): void => {
    this.#armed = undefined;
    this.#armedSlot = undefined;
    const now = this.#slotAt(this.#clock.monotonic());
    // callbacks set while running go to a later slot at the earliest when they ask for a delay,
    // or to this one for 0 ms: bounded by what was due when the wake-up started
    const limit = this.#seq;
    this.#firing = true;
    while (this.#heap.length > 0 && this.#heap[0]!.slot <= now && this.#heap[0]!.seq < limit) {
      const e = this.#pop();
      if (e.cancelled) continue;
      if (e.every > 0) {
        e.slot = this.#slotAt(e.slot * this.#granularity + e.every);
        e.seq = this.#seq++;
        this.#push(e);
      } else {
        e.cancelled = true; // ran: a later clearTimeout of it is a no-op
        this.#live--;
      }
      try {
        e.fn();
      } catch {
        this.callbackErrors++;
      }
    }
    this.#firing = false;
    this.#arm();
  };

  #before(a: Entry, b: Entry): boolean {
    return a.slot < b.slot || (a.slot === b.slot && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.#before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
