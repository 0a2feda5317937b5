/**
 * The tones the product plays, and a renderer for them. docs/audio.md explains the choice.
 *
 * | tone          | frequency | length                  | level (peak) | heard when                       |
 * |---------------|-----------|-------------------------|--------------|----------------------------------|
 * | REMINDER_TONE | 1400 Hz   | 200 ms, once            | -18 dBFS     | every intervalSeconds     |
 * | PAUSE_BEEP    | 530 Hz    | 2 x 120 ms, 100 ms gap  | -16 dBFS     | recording paused (R-18, 'beep')  |
 * | RESUME_BEEP   | 1850 Hz   | 250 ms, once            | -16 dBFS     | recording resumed (R-18, 'beep') |
 *
 * Why: single sinusoids cannot be taken for a DTMF digit (which needs one low-group and one
 * high-group tone at once), each is more than 3.5 % away from every DTMF frequency (the limit
 * beyond which a DTMF receiver must reject a tone, ITU-T Q.24), and none of these frequencies is a call-progress tone (350/400/425/440/
 * 450/480/620 Hz), a fax/modem tone (1100, 1300, 2100 Hz) or in-band signalling (2600 Hz). 1400 Hz is
 * the recorder-warning frequency telephone users know (FS-1037C: 0.5 s of 1400 Hz every 15 s; the
 * burst here is shorter, 200 ms); it sits in the ear's most sensitive band and
 * above the speech fundamentals, so it is audible over talk at -18 dBFS while leaving 15 dB of
 * headroom for speech peaks at -3 dBFS before the saturating mixer has to clip. Pause is two low
 * beeps (530 Hz) and resume one high beep (1850 Hz): different pitch and count, so they are told apart without knowing
 * the convention.
 *
 * Level convention: `levelDbfs` is the PEAK amplitude of the sinusoid relative to 16-bit full
 * scale (0 dBFS = 32767). A -18 dBFS tone peaks at 4125.
 */

export interface ToneSpec {
  frequencyHz: number;
  /** Length of one burst. */
  durationMs: number;
  /** Peak level relative to full scale (0 dBFS = amplitude 32767); negative. */
  levelDbfs: number;
  /** Number of bursts; default 1. */
  repeat?: number;
  /** Silence between bursts; default 0 (only meaningful with repeat > 1). */
  gapMs?: number;
}

/** Recording reminder tone: 1400 Hz, 200 ms, -18 dBFS peak. */
export const REMINDER_TONE: Readonly<ToneSpec> = Object.freeze({ frequencyHz: 1400, durationMs: 200, levelDbfs: -18 });
/** Recording paused: two 120 ms beeps at 530 Hz, 100 ms apart, -16 dBFS peak. */
export const PAUSE_BEEP: Readonly<ToneSpec> = Object.freeze({ frequencyHz: 530, durationMs: 120, levelDbfs: -16, repeat: 2, gapMs: 100 });
/** Recording resumed: one 250 ms beep at 1850 Hz, -16 dBFS peak. */
export const RESUME_BEEP: Readonly<ToneSpec> = Object.freeze({ frequencyHz: 1850, durationMs: 250, levelDbfs: -16 });

/** Raised-cosine fade in/out on each burst, so a burst starts and ends without a click. */
export const TONE_FADE_MS = 5;

/** Peak amplitude of a level in dBFS (0 dBFS = 32767). */
export function dbfsToAmplitude(levelDbfs: number): number {
  return 32767 * 10 ** (levelDbfs / 20);
}

/** Total length in ms of a tone spec, bursts and gaps included. */
export function toneLengthMs(spec: ToneSpec): number {
  const n = Math.max(1, Math.floor(spec.repeat ?? 1));
  return n * spec.durationMs + (n - 1) * Math.max(0, spec.gapMs ?? 0);
}

/**
 * Render a tone spec as 16-bit PCM (default 8,000 Hz): each burst a sinusoid starting at phase 0
 * with TONE_FADE_MS raised-cosine ramps at both ends, bursts separated by silence.
 */
export function renderTone(spec: ToneSpec, sampleRate = 8000): Int16Array {
  if (!(spec.frequencyHz > 0) || spec.frequencyHz >= sampleRate / 2) throw new RangeError(`renderTone: frequency ${spec.frequencyHz} Hz out of range`);
  if (!(spec.durationMs > 0)) throw new RangeError('renderTone: duration must be positive');
  if (spec.levelDbfs > 0) throw new RangeError('renderTone: level above full scale');
  const repeat = Math.max(1, Math.floor(spec.repeat ?? 1));
  const burst = Math.round((spec.durationMs * sampleRate) / 1000);
  const gap = Math.round((Math.max(0, spec.gapMs ?? 0) * sampleRate) / 1000);
  const out = new Int16Array(repeat * burst + (repeat - 1) * gap);
  const amp = dbfsToAmplitude(spec.levelDbfs);
  const w = (2 * Math.PI * spec.frequencyHz) / sampleRate;
  const fade = Math.min(Math.round((TONE_FADE_MS * sampleRate) / 1000), Math.floor(burst / 2));
  for (let b = 0; b < repeat; b++) {
    const base = b * (burst + gap);
    for (let i = 0; i < burst; i++) {
      let g = 1;
      if (i < fade) g = 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
      else if (i >= burst - fade) g = 0.5 - 0.5 * Math.cos((Math.PI * (burst - 1 - i)) / fade);
      out[base + i] = Math.round(amp * g * Math.sin(w * i));
    }
  }
  return out;
}
