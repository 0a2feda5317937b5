/**
 * CoalescedTimers (src/common/coalesced-timers.ts): the media worker's one shared frame timer.
 */
import { describe, expect, it } from 'vitest';
import { CoalescedTimers } from '../../../src/common/coalesced-timers.js';
import { FramePacer } from '../../../src/media/processors/prompt-pacer.js';
import { FakeClock } from '../../fakes/fake-clock.js';

describe('CoalescedTimers', () => {
  it('MUST run callbacks due in the same slot from one underlying wake-up, never early and at most one slot late', () => {
    const clock = new FakeClock();
    const wakeups: number[] = [];
    const counting = {
      setTimeout: (fn: () => void, ms: number) => clock.setTimeout(() => (wakeups.push(clock.monotonic()), fn()), ms),
      clearTimeout: (h: Parameters<FakeClock['clearTimeout']>[0]) => clock.clearTimeout(h),
      setInterval: (fn: () => void, ms: number) => clock.setInterval(fn, ms),
      clearInterval: (h: Parameters<FakeClock['clearInterval']>[0]) => clock.clearInterval(h),
    };
    const t = new CoalescedTimers(clock, counting, 5);
    const ran: Array<[string, number]> = [];
    const start = clock.monotonic();
    for (const [name, ms] of [['a', 1], ['b', 3], ['c', 5], ['d', 6], ['e', 12]] as const) t.setTimeout(() => ran.push([name, clock.monotonic() - start]), ms);
    expect(t.pending).toBe(5);
    clock.advance(20);
    expect(ran).toEqual([['a', 5], ['b', 5], ['c', 5], ['d', 10], ['e', 15]]);
    expect(wakeups.map((w) => w - start)).toEqual([5, 10, 15]);
    expect(t.pending).toBe(0);
  });

  it('MUST drop the underlying timer once every callback is cleared (an idle worker does not wake), and keep the order of one slot', () => {
    const clock = new FakeClock();
    const t = new CoalescedTimers(clock, clock, 5);
    const h1 = t.setTimeout(() => {}, 10);
    const h2 = t.setTimeout(() => {}, 30);
    expect(clock.pending).toBe(1);
    t.clearTimeout(h1);
    t.clearTimeout(h1);
    expect(t.pending).toBe(1);
    t.clearTimeout(h2);
    expect(t.pending).toBe(0);
    expect(clock.pending, 'no underlying timer left').toBe(0);

    const order: number[] = [];
    for (let i = 0; i < 6; i++) t.setTimeout(() => order.push(i), 4);
    clock.advance(5);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('MUST run intervals until cleared, count a throwing callback and still run the others', () => {
    const clock = new FakeClock();
    const t = new CoalescedTimers(clock, clock, 5);
    let ticks = 0;
    const h = t.setInterval(() => ticks++, 20);
    t.setTimeout(() => {
      throw new Error('boom');
    }, 5);
    let after = false;
    t.setTimeout(() => (after = true), 5);
    clock.advance(100);
    expect(ticks).toBe(5);
    expect(t.callbackErrors).toBe(1);
    expect(after).toBe(true);
    t.clearInterval(h);
    clock.advance(100);
    expect(ticks).toBe(5);
    expect(clock.pending).toBe(0);
  });

  it('MUST let 100 frame pacers at different phases share one wake-up per slot, each sending its frames without drift', () => {
    const clock = new FakeClock();
    let wakeups = 0;
    const counting = {
      setTimeout: (fn: () => void, ms: number) => clock.setTimeout(() => (wakeups++, fn()), ms),
      clearTimeout: (h: Parameters<FakeClock['clearTimeout']>[0]) => clock.clearTimeout(h),
      setInterval: (fn: () => void, ms: number) => clock.setInterval(fn, ms),
      clearInterval: (h: Parameters<FakeClock['clearInterval']>[0]) => clock.clearInterval(h),
    };
    const t = new CoalescedTimers(clock, counting, 5);
    const sent: number[][] = [];
    const pacers: FramePacer[] = [];
    for (let p = 0; p < 100; p++) {
      clock.advance(0.2); // every pacer starts at its own phase
      const times: number[] = [];
      sent.push(times);
      const pacer = new FramePacer(clock, t, () => times.push(clock.monotonic()));
      pacer.start();
      pacers.push(pacer);
    }
    const origin = clock.monotonic();
    clock.advance(1000);
    for (const p of pacers) p.stop();
    // 1 s of 20 ms frames each: 50 more frames after the ones sent at start, none lost
    for (const times of sent) expect(times.length).toBeGreaterThanOrEqual(50);
    // one underlying wake-up per 5 ms slot at most, instead of 100 x 50
    expect(wakeups).toBeLessThanOrEqual(1000 / 5 + 1);
    // no drift: the last frame of each pacer is late by less than one slot
    sent.forEach((times, p) => {
      const startedAt = pacers[p]!.startedAt;
      const last = times.length - 1;
      expect(times[last]! - (startedAt + last * 20)).toBeLessThan(5 + 1e-9);
      expect(times[last]! - (startedAt + last * 20)).toBeGreaterThanOrEqual(0);
    });
    expect(clock.monotonic() - origin).toBe(1000);
    expect(clock.pending).toBe(0);
  });
});
