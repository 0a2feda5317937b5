import { describe, expect, it } from 'vitest';
import { decodeG711, encodeG711 } from '../../../../src/media/audio/g711.js';
import { dominantTones, goertzelPower, meanSquare, powerDb } from '../../../support/goertzel.js';
import { concat, noise, silence, sine, sines } from '../../../support/tone-source.js';

describe('test instruments: tone-source and goertzel', () => {
  it('sine() MUST produce the requested length and peak level', () => {
    const s = sine(1000, 100, -6);
    expect(s.length).toBe(800);
    const peak = s.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(16300);
    expect(peak).toBeLessThanOrEqual(16423);
    expect(meanSquare(s)).toBeCloseTo(0.5 * 10 ** (-6 / 10), 2);
  });

  it('goertzelPower MUST read the level of a sinusoid in dBFS (peak)', () => {
    expect(powerDb(goertzelPower(sine(1400, 200, -18), 1400))).toBeCloseTo(-18, 0);
    expect(powerDb(goertzelPower(sine(440, 200, -6), 440))).toBeCloseTo(-6, 0);
    expect(goertzelPower(silence(100), 1000)).toBe(0);
  });

  it.each([
    [440, [1400, 1000]],
    [1400, [440, 1000]],
    [1000, [440, 1400]],
  ])('MUST discriminate %d Hz from %j after a G.711 round trip (both laws)', (hz, others) => {
    for (const codec of ['PCMU', 'PCMA'] as const) {
      const pcm = decodeG711(codec, encodeG711(codec, sine(hz, 100, -12)));
      const ranked = dominantTones(pcm, [hz, ...others]);
      expect(ranked[0]!.hz).toBe(hz);
      for (const r of ranked.slice(1)) expect(powerDb(ranked[0]!.power) - powerDb(r.power)).toBeGreaterThan(30);
    }
  });

  it('MUST find both tones of a mixture and not invent absent ones', () => {
    const mix = sines([{ hz: 440, levelDbfs: -10 }, { hz: 1400, levelDbfs: -18 }], 200);
    expect(powerDb(goertzelPower(mix, 440))).toBeCloseTo(-10, 0);
    expect(powerDb(goertzelPower(mix, 1400))).toBeCloseTo(-18, 0);
    expect(powerDb(goertzelPower(mix, 1000))).toBeLessThan(-60);
  });

  it('white noise MUST NOT look like a tone', () => {
    const n = noise(200, -10, 7);
    expect(powerDb(goertzelPower(n, 1400))).toBeLessThan(-30);
    expect(noise(10, -10, 7)).toEqual(noise(10, -10, 7));
    expect(concat(sine(1000, 10), silence(10)).length).toBe(160);
  });
});
