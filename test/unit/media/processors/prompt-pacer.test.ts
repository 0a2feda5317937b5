import { describe, expect, it } from 'vitest';
import type { TimerHandle, Timers } from '../../../../src/common/clock.js';
import { isAppError } from '../../../../src/common/errors.js';
import { cutFrames, type Prompt } from '../../../../src/media/audio/prompt-library.js';
import { FramePacer, PromptPlayer } from '../../../../src/media/processors/prompt-pacer.js';
import { FakeClock } from '../../../fakes/fake-clock.js';
import { sine } from '../../../support/tone-source.js';

/** Timers that fire late by a pseudo-random 0..maxLateMs (seeded), on top of a FakeClock. */
function jitteryTimers(clock: FakeClock, maxLateMs: number, seed = 42): Timers {
  let s = seed;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  return {
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms + rnd() * maxLateMs),
    clearTimeout: (h: TimerHandle | undefined) => clock.clearTimeout(h),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    clearInterval: (h) => clock.clearInterval(h),
  };
}

function fakePrompt(ms: number): Prompt {
  const pcm = sine(440, ms, -10);
  const frames = { PCMU: cutFrames('PCMU', pcm), PCMA: cutFrames('PCMA', pcm) };
  return { name: 'compliance', language: 'en', pcm, durationMs: ms, frames: (c) => frames[c] };
}

describe('FramePacer: drift-free 20 ms pacing', () => {
  it('MUST send frame k no earlier than start + 20k ms and with zero accumulated drift over 60 s (3,000 frames) of jittery timers', () => {
    const clock = new FakeClock();
    clock.advance(12_345.5); // arbitrary origin
    const times: number[] = [];
    const pacer = new FramePacer(clock, jitteryTimers(clock, 15), () => times.push(clock.monotonic()));
    const start = clock.monotonic();
    pacer.start();
    // run one minute, in uneven steps
    for (let t = 0; t < 60_000; t += 7) clock.advance(7);
    clock.advance(start + 60_015 - clock.monotonic());
    // frames 0..3000: frame 3000 is due exactly at start + 60 s (sent by +15 ms jitter at worst),
    // frame 3001 not before start + 60.02 s
    expect(pacer.framesSent).toBe(3001);
    let maxLate = 0;
    times.forEach((t, k) => {
      const due = start + 20 * k;
      if (t < due) expect.fail(`frame ${k} early at ${t - start}`);
      maxLate = Math.max(maxLate, t - due);
    });
    // lateness is bounded by one timer's jitter (plus the 7 ms test step), never accumulated
    expect(maxLate).toBeLessThanOrEqual(15 + 7);
    // the last frames are as punctual as the first ones
    const late = (k: number): number => times[k]! - (start + 20 * k);
    const lastAvg = [2990, 2995, 3000].reduce((a, k) => a + late(k), 0) / 3;
    expect(lastAvg).toBeLessThan(22);
    pacer.stop();
  });

  it('a timer that fires 200 ms late MUST be followed by catch-up frames, none skipped', () => {
    const clock = new FakeClock();
    let stall = 0;
    const timers: Timers = { ...clock, setTimeout: (fn, ms) => clock.setTimeout(fn, ms + stall), clearTimeout: (h) => clock.clearTimeout(h), setInterval: (f, m) => clock.setInterval(f, m), clearInterval: (h) => clock.clearInterval(h) };
    const got: Array<[number, number]> = [];
    const pacer = new FramePacer(clock, timers, (k) => got.push([k, clock.monotonic()]));
    pacer.start();
    clock.advance(100); // frames 0..5
    expect(pacer.framesSent).toBe(6);
    stall = 200;
    clock.advance(20); // frame 6 on time; the timer it arms for frame 7 (due 140) fires at 340
    stall = 0;
    clock.advance(200);
    expect(pacer.framesSent).toBe(7);
    clock.advance(20);
    expect(got.map(([k]) => k)).toEqual([...Array(18).keys()]); // 0..17 at t=340: nothing skipped
    expect(got.filter(([, t]) => t === 340).map(([k]) => k)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    clock.advance(20);
    expect(got.at(-1)).toEqual([18, 360]); // and back on the 20 ms grid
  });

  it('stop() MUST prevent any further frame, also from inside onFrame, and be idempotent', () => {
    const clock = new FakeClock();
    let pacer: FramePacer | undefined;
    const seen: number[] = [];
    pacer = new FramePacer(clock, clock, (k) => {
      seen.push(k);
      if (k === 4) pacer?.stop();
    });
    pacer.start();
    clock.advance(1000);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(clock.pending).toBe(0);
    pacer.stop();
    pacer = new FramePacer(clock, clock, (k) => seen.push(k + 100));
    pacer.start();
    clock.advance(40);
    pacer.stop();
    clock.advance(1000);
    expect(seen.slice(5)).toEqual([100, 101, 102]);
    expect(pacer.state).toBe('stopped');
  });

  it('MUST reject start() twice or after stop (ILLEGAL_STATE_TRANSITION)', () => {
    const clock = new FakeClock();
    const pacer = new FramePacer(clock, clock, () => {});
    pacer.start();
    expect(() => pacer.start()).toThrow();
    pacer.stop();
    try {
      pacer.start();
      expect.fail('start after stop');
    } catch (err) {
      expect(isAppError(err, 'ILLEGAL_STATE_TRANSITION')).toBe(true);
    }
  });

  it('a throwing onFrame MUST NOT stop pacing (counted)', () => {
    const clock = new FakeClock();
    const pacer = new FramePacer(clock, clock, (k) => {
      if (k % 2 === 0) throw new Error('sink failed');
    });
    pacer.start();
    clock.advance(100);
    expect(pacer.framesSent).toBe(6);
    expect(pacer.callbackErrors).toBe(3);
    pacer.stop();
  });

  it('MUST honour another frame interval (30 ms)', () => {
    const clock = new FakeClock();
    const times: number[] = [];
    const pacer = new FramePacer(clock, clock, () => times.push(clock.monotonic()), 30);
    pacer.start();
    clock.advance(90);
    expect(times).toEqual([0, 30, 60, 90]);
    pacer.stop();
  });
});

describe('PromptPlayer: prompt start and end events (R-11, R-12)', () => {
  it('MUST emit started, send every frame in order at 20 ms, then emit ended(completed) once', () => {
    const clock = new FakeClock();
    const prompt = fakePrompt(1010); // 50.5 frames -> 51, the last padded
    const sent: Array<[number, number, Buffer]> = [];
    const log: string[] = [];
    const player = new PromptPlayer(prompt, 'PCMA', (f, i) => sent.push([i, clock.monotonic(), f]), clock, clock);
    player.on('started', (p) => log.push(`started ${p.name} @${clock.monotonic()}`));
    player.on('ended', (_p, reason, n) => log.push(`ended ${reason} ${n} @${clock.monotonic()}`));
    player.start();
    expect(player.playing).toBe(true);
    clock.advance(5000);
    expect(sent.length).toBe(51);
    sent.forEach(([i, t, f], k) => {
      expect(i).toBe(k);
      expect(t).toBe(20 * k);
      expect(f).toBe(prompt.frames('PCMA')[k]);
    });
    expect(log).toEqual(['started compliance @0', 'ended completed 51 @1000']);
    expect(player.playing).toBe(false);
    expect(clock.pending).toBe(0);
    player.stop();
    expect(log.length).toBe(2);
  });

  it('stop() mid-prompt MUST emit ended(stopped) once and send no more frames', () => {
    const clock = new FakeClock();
    let frames = 0;
    const ended: string[] = [];
    const player = new PromptPlayer(fakePrompt(1000), 'PCMU', () => frames++, clock, clock);
    player.on('ended', (_p, reason, n) => ended.push(`${reason}:${n}`));
    player.start();
    clock.advance(200);
    player.stop();
    player.close();
    clock.advance(2000);
    expect(frames).toBe(11);
    expect(ended).toEqual(['stopped:11']);
  });
});
