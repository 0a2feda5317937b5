import { describe, expect, it } from 'vitest';
import { StereoTimelineBuffer } from '../../../src/srs/stereo-timeline-buffer.js';

function collect(options = {}) {
  const chunks: Buffer[] = [];
  const buf = new StereoTimelineBuffer((c) => chunks.push(c), options);
  const frames = (): Array<[number, number]> => {
    const all = Buffer.concat(chunks);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < all.length; i += 4) out.push([all.readInt16LE(i), all.readInt16LE(i + 2)]);
    return out;
  };
  return { buf, frames };
}

describe('StereoTimelineBuffer', () => {
  it('interleaves channel 0 (label 1) left and channel 1 (label 2) right, aligned by position', () => {
    const { buf, frames } = collect({ capacity: 16, windowSamples: 4 });
    buf.put(0, 0, Int16Array.from([1, 2, 3]));
    buf.put(1, 1, Int16Array.from([-1, -2]));
    buf.finish();
    expect(frames()).toEqual([
      [1, 0],
      [2, -1],
      [3, -2],
    ]);
  });

  it('turns gaps into silence and pads to the requested length', () => {
    const { buf, frames } = collect({ capacity: 8, windowSamples: 2 });
    buf.put(0, 0, Int16Array.from([5]));
    buf.put(0, 20, Int16Array.from([6])); // beyond capacity: older frames flushed
    buf.finish(24);
    const f = frames();
    expect(f).toHaveLength(24);
    expect(f[0]).toEqual([5, 0]);
    expect(f[20]).toEqual([6, 0]);
    expect(f.filter(([l, r]) => l !== 0 || r !== 0)).toHaveLength(2);
  });

  it('keeps late packets inside the window and counts those behind it', () => {
    const { buf, frames } = collect({ capacity: 8, windowSamples: 4 });
    buf.put(0, 10, Int16Array.from([1, 1]));
    buf.put(1, 9, Int16Array.from([7])); // late but inside the window
    buf.put(1, 0, Int16Array.from([9, 9])); // long flushed
    buf.finish();
    expect(frames()[9]).toEqual([0, 7]);
    expect(buf.stats.lateSamples).toBe(2);
  });

  it('refuses absurd writes without throwing', () => {
    const { buf } = collect({ capacity: 8 });
    buf.put(0, 0, new Int16Array(100));
    buf.put(0, 1.5, new Int16Array(1));
    expect(buf.stats.refusedWrites).toBe(2);
  });

  it('never throws and keeps every in-window sample for random packet orders (seeded)', () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const { buf, frames } = collect({ capacity: 64, windowSamples: 16 });
    let maxEnd = 0;
    for (let i = 0; i < 500; i++) {
      const pos = i * 4 + rnd(20) - 10;
      const len = 1 + rnd(30);
      expect(() => buf.put((i % 2) as 0 | 1, pos, new Int16Array(len).fill(1))).not.toThrow();
      if (pos >= 0) maxEnd = Math.max(maxEnd, pos + len);
    }
    buf.finish();
    expect(frames()).toHaveLength(maxEnd);
  });

  it('keeps every sample in place across the ring boundary: writes that wrap, gaps reused as silence', () => {
    // capacity 8 and 3-sample writes: every few writes straddle the end of the ring
    const { buf, frames } = collect({ capacity: 8, windowSamples: 2, flushSamples: 3 });
    const expected: Array<[number, number]> = [];
    for (let p = 0; p < 60; p += 3) {
      const left = Int16Array.from([p, p + 1, p + 2]);
      buf.put(0, p, left);
      // the right channel skips every fourth write: silence there, even where the slot held audio before
      if (p % 12 !== 9) buf.put(1, p, left.map((v) => -v));
      for (let i = 0; i < 3; i++) expected.push([p + i, p % 12 === 9 || p + i === 0 ? 0 : -(p + i)]);
    }
    buf.finish();
    expect(frames()).toEqual(expected);
  });

  it('refuses a write longer than half the capacity (default capacity: window + flush, 1 s at 8 kHz)', () => {
    const { buf, frames } = collect();
    buf.put(0, 0, new Int16Array(4001).fill(1));
    buf.put(0, 0, new Int16Array(4000).fill(2));
    expect(buf.stats.refusedWrites).toBe(1);
    // a flush usually hands out what gathers beyond the 500 ms window: 500 ms
    expect(buf.flushFrames).toBe(4000);
    buf.finish();
    expect(frames()).toHaveLength(4000);
    expect(frames()[3999]).toEqual([2, 0]);
  });

  it('hands the rings of a finished buffer to the next one silent, and refuses writes after its finish', () => {
    // capacity 16: a finished buffer's rings go to the next buffer of the same capacity
    const first = collect({ capacity: 16, windowSamples: 4, flushSamples: 4 });
    for (let p = 0; p < 40; p += 4) {
      first.buf.put(0, p, new Int16Array(4).fill(7));
      first.buf.put(1, p, new Int16Array(4).fill(-7));
    }
    first.buf.finish();
    first.buf.put(0, 40, new Int16Array(4).fill(9));
    expect(first.buf.stats.refusedWrites).toBe(1);
    const second = collect({ capacity: 16, windowSamples: 4, flushSamples: 4 });
    second.buf.put(0, 5, Int16Array.from([1, 2]));
    second.buf.finish(40);
    const expected: Array<[number, number]> = Array.from({ length: 40 }, (_, i): [number, number] => [i === 5 ? 1 : i === 6 ? 2 : 0, 0]);
    expect(second.frames()).toEqual(expected);
    // the first buffer's later write did not reach the rings the second one took
    first.buf.finish();
    expect(first.frames()).toHaveLength(40);
  });
});
