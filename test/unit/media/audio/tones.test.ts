import { describe, expect, it } from 'vitest';
import { decodeG711, encodeG711 } from '../../../../src/media/audio/g711.js';
import { PAUSE_BEEP, REMINDER_TONE, RESUME_BEEP, TONE_FADE_MS, dbfsToAmplitude, renderTone, toneLengthMs } from '../../../../src/media/audio/tones.js';
import { dominantTones, goertzelPower, powerDb } from '../../../support/goertzel.js';

const DTMF = [697, 770, 852, 941, 1209, 1336, 1477, 1633];
const PROGRESS = [350, 400, 425, 440, 450, 480, 620];
const FAX_MODEM = [1100, 1300, 2100, 2600];

function peak(pcm: Int16Array): number {
  return pcm.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

describe('tones (R-18, R-19)', () => {
  it('the reminder tone MUST be 1400 Hz, 200 ms, -18 dBFS peak', () => {
    const pcm = renderTone(REMINDER_TONE);
    expect(pcm.length).toBe(1600);
    expect(peak(pcm)).toBeGreaterThan(dbfsToAmplitude(-18) - 2);
    expect(peak(pcm)).toBeLessThanOrEqual(Math.ceil(dbfsToAmplitude(-18)));
    const [top] = dominantTones(pcm, [1400, 1000, 440, 530, 1850, ...DTMF]);
    expect(top!.hz).toBe(1400);
  });

  it('the tones MUST avoid DTMF, call-progress and fax/modem frequencies', () => {
    for (const t of [REMINDER_TONE, PAUSE_BEEP, RESUME_BEEP]) {
      // a DTMF receiver must reject tones more than 3.5 % off nominal (ITU-T Q.24)
      for (const f of DTMF) expect(Math.abs(t.frequencyHz - f) / f, `${t.frequencyHz} vs ${f}`).toBeGreaterThan(0.035);
      for (const f of [...PROGRESS, ...FAX_MODEM]) expect(Math.abs(t.frequencyHz - f), `${t.frequencyHz} vs ${f}`).toBeGreaterThan(40);
    }
  });

  it('pause and resume beeps MUST be distinguishable by pitch and by count of bursts', () => {
    const pause = renderTone(PAUSE_BEEP);
    const resume = renderTone(RESUME_BEEP);
    expect(dominantTones(pause, [530, 1850, 1400])[0]!.hz).toBe(530);
    expect(dominantTones(resume, [530, 1850, 1400])[0]!.hz).toBe(1850);
    const bursts = (pcm: Int16Array): number => {
      let n = 0;
      let on = false;
      for (let i = 0; i + 80 <= pcm.length; i += 80) {
        const e = powerDb(goertzelPower(pcm.subarray(i, i + 80), 530) + goertzelPower(pcm.subarray(i, i + 80), 1850));
        if (!on && e > -40) n++;
        on = e > -40;
      }
      return n;
    };
    expect(bursts(pause)).toBe(2);
    expect(bursts(resume)).toBe(1);
    expect(pause.length).toBe((toneLengthMs(PAUSE_BEEP) * 8000) / 1000);
  });

  it('MUST fade in and out (no click): first and last samples near zero, envelope rising over the fade', () => {
    const pcm = renderTone(REMINDER_TONE);
    const fade = (TONE_FADE_MS * 8000) / 1000;
    expect(Math.abs(pcm[0]!)).toBe(0);
    expect(Math.abs(pcm[pcm.length - 1]!)).toBeLessThan(50);
    // the first fade window carries clearly less energy than a steady window of the same length
    const e = (a: Int16Array): number => a.reduce((s, v) => s + v * v, 0);
    expect(e(pcm.subarray(0, fade))).toBeLessThan(0.6 * e(pcm.subarray(800, 800 + fade)));
  });

  it('MUST survive G.711 round trip with its frequency intact in both laws', () => {
    for (const codec of ['PCMU', 'PCMA'] as const) {
      const back = decodeG711(codec, encodeG711(codec, renderTone(REMINDER_TONE)));
      const [top, second] = dominantTones(back, [1400, 1000, 440]);
      expect(top!.hz).toBe(1400);
      expect(powerDb(top!.power) - powerDb(second!.power)).toBeGreaterThan(30);
    }
  });

  it('MUST reject nonsensical specs (programmer error)', () => {
    expect(() => renderTone({ frequencyHz: 5000, durationMs: 100, levelDbfs: -10 })).toThrow(RangeError);
    expect(() => renderTone({ frequencyHz: 1000, durationMs: 0, levelDbfs: -10 })).toThrow(RangeError);
    expect(() => renderTone({ frequencyHz: 1000, durationMs: 10, levelDbfs: 3 })).toThrow(RangeError);
  });
});
