import { describe, expect, it } from 'vitest';
import { StartAligner, StreamTimeline } from '../../../src/srs/stream-timeline.js';

describe('StreamTimeline', () => {
  it('anchors the first packet on arrival and places later ones by RTP timestamp (jitter-free)', () => {
    const t = new StreamTimeline();
    expect(t.position(1, 1000, 100)).toBe(800);
    expect(t.position(1, 1160, 135)).toBe(960); // arrived 15 ms late: still right after the first
    expect(t.position(1, 1320, 140)).toBe(1120);
  });

  it('handles 32-bit timestamp wrap', () => {
    const t = new StreamTimeline();
    expect(t.position(7, 0xffffff60, 0)).toBe(0);
    expect(t.position(7, 0x00000000, 20)).toBe(160);
  });

  it('re-anchors on arrival after a timestamp jump or a new SSRC, so a pause becomes silence', () => {
    const t = new StreamTimeline({ reanchorMs: 1000 });
    t.position(1, 5000, 0);
    // SRC froze its timestamps during a 10 s pause: RTP says +160 samples, arrival says +10 s.
    expect(t.position(1, 5160, 10_000)).toBe(80_000);
    expect(t.position(2, 99, 10_020)).toBe(80_160);
    expect(t.reanchors).toBe(2);
  });

  it('reset() places the next packet by arrival even when its timestamp is close (resume after a short pause)', () => {
    const t = new StreamTimeline({ reanchorMs: 1000 });
    t.position(1, 0, 0);
    t.reset();
    expect(t.position(1, 160, 500)).toBe(4000); // RTP alone would say 160
  });
});

describe('StartAligner', () => {
  /** Offers packets (ts, arrival ms) until the aligner stops accepting; returns where each held one is placed. */
  function align(a: StartAligner<number>, packets: ReadonlyArray<[number, number]>): { placed: Array<[number, number]>; rest: number } {
    let i = 0;
    for (; i < packets.length; i++) {
      const [ts, at] = packets[i]!;
      if (a.expired(at) || !a.accepts(1, at)) break;
      a.hold(1, ts, at, i);
    }
    const placed: Array<[number, number]> = [];
    a.release((_ssrc, ts, arrivalMs) => placed.push([ts, arrivalMs]));
    return { placed, rest: packets.length - i };
  }

  it('places a start buffer sent in one burst where it was said, not at the burst\'s arrival', () => {
    // 1 s kept by the SRC (50 packets) arrives at once at 1000 ms, then the live packets every 20 ms
    const burst = Array.from({ length: 50 }, (_, k): [number, number] => [k * 160, 1000 + k * 0.01]);
    const live: Array<[number, number]> = [
      [8000, 1000.6],
      [8160, 1020.4],
      [8320, 1040.2],
      [8480, 1060.3],
    ];
    const a = new StartAligner<number>({ windowMs: 60 });
    const { placed, rest } = align(a, [...burst, ...live]);
    expect(rest).toBe(1); // the 60 ms window closed before the last one
    expect(placed).toHaveLength(53);
    // the least-delayed packet (the live one at 1040.2, 1040 ms of timestamps after the first) sets the start
    expect(placed[0]![1]).toBeCloseTo(0.2, 5);
    for (const [ts, at] of placed) expect(at).toBeCloseTo(0.2 + ts / 8, 5);
    expect(a.holding).toBe(false);
  });

  it('gives a live start the time of its least-delayed packet', () => {
    const a = new StartAligner<number>({ windowMs: 60 });
    const { placed } = align(a, [
      [0, 115], // 15 ms of network delay on the first packet
      [160, 120],
      [320, 140],
      [480, 200],
    ]);
    expect(placed.map(([, at]) => at)).toEqual([100, 120, 140]);
  });

  it('starts at the earliest timestamp of a reordered start', () => {
    const a = new StartAligner<number>({ windowMs: 60 });
    const { placed } = align(a, [
      [160, 120],
      [0, 121],
      [320, 140],
      [480, 200],
    ]);
    expect(placed).toEqual([
      [160, 120],
      [0, 100],
      [320, 140],
    ]);
  });

  it('reports a start before the recording\'s (negative) and moves with the WAV\'s start', () => {
    const a = new StartAligner<number>({ windowMs: 60 });
    a.hold(1, 0, 5, 0);
    a.hold(1, 4000, 6, 1); // 500 ms of audio in a burst 6 ms into the recording
    expect(a.startMs()).toBeCloseTo(-494, 5);
    a.shift(494);
    expect(a.startMs()).toBeCloseTo(0, 5);
    expect(a.expired(60)).toBe(false);
    expect(a.expired(560)).toBe(true);
  });

  it('holds only what it was armed for: a new SSRC ends the window, the next window needs arm()', () => {
    const a = new StartAligner<number>({ windowMs: 60 });
    expect(a.accepts(1, 0)).toBe(true);
    a.hold(1, 0, 0, 0);
    expect(a.accepts(2, 10)).toBe(false);
    expect(a.accepts(1, 10)).toBe(true);
    a.release(() => {});
    expect(a.accepts(1, 20)).toBe(false);
    a.arm();
    expect(a.accepts(1, 5000)).toBe(true);
  });
});
