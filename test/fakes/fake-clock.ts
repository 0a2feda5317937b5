import type { Clock, TimerHandle, Timers } from '../../src/common/clock.js';

interface Scheduled {
  id: number;
  at: number;
  every: number | undefined;
  fn: () => void;
}

/** A deterministic Clock + Timers: time moves only when a test calls advance(). */
export class FakeClock implements Clock, Timers {
  #mono = 0;
  #wallOrigin: number;
  #nextId = 1;
  #queue: Scheduled[] = [];

  constructor(wallOrigin = Date.UTC(2025, 2, 4, 10, 15, 0)) {
    this.#wallOrigin = wallOrigin;
  }

  now(): number {
    return this.#wallOrigin + this.#mono;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.#queue = this.#queue.filter((s) => s.id !== (handle as unknown as number));
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Move time forward by ms, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      this.#queue.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.#queue[0];
      if (!next || next.at > target) break;
      this.#mono = next.at;
      if (next.every !== undefined) next.at += next.every;
      else this.#queue.shift();
      next.fn();
    }
    this.#mono = target;
  }

  #add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const id = this.#nextId++;
    this.#queue.push({ id, at: this.#mono + Math.max(0, ms), every, fn });
    return id as unknown as TimerHandle;
  }
}
