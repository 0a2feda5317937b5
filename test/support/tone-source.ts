/**
 * Test signal sources (8 kHz, 16-bit): the stimulus side of the spectral tests. Pure functions,
 * deterministic (the noise source takes a seed).
 */

const RATE = 8000;

/** A pure sinusoid, phase 0, no fades. levelDbfs is the peak level (0 dBFS = 32767); default -6. */
export function sine(frequencyHz: number, durationMs: number, levelDbfs = -6, sampleRate = RATE): Int16Array {
  const n = Math.round((durationMs * sampleRate) / 1000);
  const out = new Int16Array(n);
  const amp = 32767 * 10 ** (levelDbfs / 20);
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin(w * i));
  return out;
}

/** Sum of sinusoids (each at its own peak level), saturated to 16 bits. */
export function sines(parts: Array<{ hz: number; levelDbfs: number }>, durationMs: number, sampleRate = RATE): Int16Array {
  const n = Math.round((durationMs * sampleRate) / 1000);
  const acc = new Float64Array(n);
  for (const p of parts) {
    const amp = 32767 * 10 ** (p.levelDbfs / 20);
    const w = (2 * Math.PI * p.hz) / sampleRate;
    for (let i = 0; i < n; i++) acc[i]! += amp * Math.sin(w * i);
  }
  return Int16Array.from(acc, (v) => Math.max(-32768, Math.min(32767, Math.round(v))));
}

/** Silence of the given length. */
export function silence(durationMs: number, sampleRate = RATE): Int16Array {
  return new Int16Array(Math.round((durationMs * sampleRate) / 1000));
}

/** Uniform white noise, peak level levelDbfs, reproducible from the seed (mulberry32). */
export function noise(durationMs: number, levelDbfs = -20, seed = 1, sampleRate = RATE): Int16Array {
  const n = Math.round((durationMs * sampleRate) / 1000);
  const amp = 32767 * 10 ** (levelDbfs / 20);
  let s = seed >>> 0;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = Math.round((u * 2 - 1) * amp);
  }
  return out;
}

/** Concatenate PCM pieces. */
export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
