import { describe, expect, it } from 'vitest';
import { G711_SILENCE, decodeG711, encodeG711, type G711Codec } from '../../../../src/media/audio/g711.js';
import { REMINDER_TONE, renderTone } from '../../../../src/media/audio/tones.js';
import { OverlayCursor, mixIntoFrame, mixLinear, saturatingAdd } from '../../../../src/media/processors/audio-mixer.js';
import { dominantTones, goertzelPower, powerDb } from '../../../support/goertzel.js';
import { sine } from '../../../support/tone-source.js';

const CODECS: G711Codec[] = ['PCMU', 'PCMA'];

describe('audio mixer (R-18, R-19): saturating add in the linear domain', () => {
  it('saturatingAdd MUST clip at the 16-bit limits', () => {
    expect(saturatingAdd(32000, 32000)).toBe(32767);
    expect(saturatingAdd(-32000, -32000)).toBe(-32768);
    expect(saturatingAdd(100, -50)).toBe(50);
  });

  it.each(CODECS)('%s: full-scale input plus a full-scale overlay MUST saturate, never wrap to the opposite sign', (codec) => {
    // positive and negative full scale in alternating halves
    const speech = new Int16Array(160).map((_, i) => (i < 80 ? 32767 : -32768));
    const frame = encodeG711(codec, speech);
    const overlay = new Int16Array(160).map((_, i) => (i < 80 ? 32767 : -32768));
    mixIntoFrame(codec, frame, overlay, 0);
    const out = decodeG711(codec, frame);
    for (let i = 0; i < 80; i++) expect(out[i]!).toBeGreaterThan(30000);
    for (let i = 80; i < 160; i++) expect(out[i]!).toBeLessThan(-30000);
  });

  it.each(CODECS)('%s: a loud sine plus the reminder tone MUST keep every sample on the sign of the sum', (codec) => {
    const loud = sine(300, 200, -0.5);
    const tone = renderTone({ ...REMINDER_TONE, levelDbfs: -1 });
    const frames: Buffer[] = [];
    for (let f = 0; f < 10; f++) frames.push(encodeG711(codec, loud.subarray(f * 160, f * 160 + 160)));
    const before = frames.map((fr) => decodeG711(codec, fr));
    frames.forEach((fr, f) => mixIntoFrame(codec, fr, tone, f * 160));
    frames.forEach((fr, f) => {
      const out = decodeG711(codec, fr);
      for (let i = 0; i < 160; i++) {
        const ideal = before[f]![i]! + tone[f * 160 + i]!;
        if (ideal > 20000) expect(out[i]!).toBeGreaterThan(15000);
        if (ideal < -20000) expect(out[i]!).toBeLessThan(-15000);
      }
    });
  });

  it.each(CODECS)('%s: the mixed frame MUST carry both the speech tone and the reminder tone', (codec) => {
    const speech = sine(440, 200, -10);
    const tone = renderTone(REMINDER_TONE);
    const cursor = new OverlayCursor(tone);
    const out = new Int16Array(1600);
    for (let f = 0; f < 10; f++) {
      const frame = encodeG711(codec, speech.subarray(f * 160, f * 160 + 160));
      cursor.mixNext(codec, frame);
      decodeG711(codec, frame, out.subarray(f * 160, f * 160 + 160));
    }
    expect(cursor.done).toBe(true);
    expect(powerDb(goertzelPower(out, 440))).toBeCloseTo(-10, 0);
    expect(powerDb(goertzelPower(out, 1400))).toBeGreaterThan(-20);
    expect(dominantTones(out, [440, 1400, 1000])[2]!.hz).toBe(1000);
  });

  it.each(CODECS)('%s: MUST leave samples outside the overlay untouched byte for byte', (codec) => {
    const frame = encodeG711(codec, sine(700, 20, -20));
    const copy = Buffer.from(frame);
    const overlay = new Int16Array(50).fill(1000);
    expect(mixIntoFrame(codec, frame, overlay, 0)).toBe(50);
    expect([...frame.subarray(50)]).toEqual([...copy.subarray(50)]);
    expect(mixIntoFrame(codec, frame, overlay, 50)).toBe(0);
    expect(mixIntoFrame(codec, frame, overlay, 1000)).toBe(0);
  });

  it.each(CODECS)('%s: mixing into silence MUST reproduce the tone (plus the idle code value: 0 mu-law, +8 A-law)', (codec) => {
    const frame = Buffer.alloc(160, G711_SILENCE[codec]);
    const idle = decodeG711(codec, frame.subarray(0, 1))[0]!;
    const tone = renderTone(REMINDER_TONE);
    mixIntoFrame(codec, frame, tone, 400);
    expect([...frame]).toEqual([...encodeG711(codec, tone.subarray(400, 560).map((v) => v + idle))]);
  });

  it('mixLinear MUST saturate and treat a shorter overlay as silence', () => {
    const out = mixLinear(Int16Array.of(30000, -30000, 5), Int16Array.of(10000, -10000));
    expect([...out]).toEqual([32767, -32768, 5]);
  });
});
