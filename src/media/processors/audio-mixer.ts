/**
 * Mixing an overlay (tone, beep) into G.711 audio that is already flowing.
 *
 * The mix is done in the linear domain: decode the 8-bit code, add the overlay sample, saturate to
 * the 16-bit range (never wrap), re-encode. Samples where the overlay has ended are left untouched,
 * byte for byte, so the mixer is transparent outside the tone. Pure; never throws on frame content.
 */
import { decodeTable, encodeTable, type G711Codec } from '../audio/g711.js';

/** Saturating 16-bit add. */
export function saturatingAdd(a: number, b: number): number {
  const s = a + b;
  return s > 32767 ? 32767 : s < -32768 ? -32768 : s;
}

/**
 * Saturating mix of linear overlay samples into a G.711 frame in place (decode, add, clip, encode).
 * frame[i] is mixed with overlay[overlayOffset + i] while that index is inside the overlay; the rest
 * of the frame is left as it is. Returns the number of samples mixed (0 when the overlay is done).
 */
export function mixIntoFrame(codec: G711Codec, frame: Uint8Array, overlay: Int16Array, overlayOffset: number): number {
  const start = Math.max(0, Math.floor(overlayOffset));
  const n = Math.max(0, Math.min(frame.length, overlay.length - start));
  if (n === 0) return 0;
  const dec = decodeTable(codec);
  const enc = encodeTable(codec);
  for (let i = 0; i < n; i++) {
    let s = dec[frame[i]!]! + overlay[start + i]!;
    if (s > 32767) s = 32767;
    else if (s < -32768) s = -32768;
    frame[i] = enc[s + 32768]!;
  }
  return n;
}

/** Saturating mix of two linear buffers into `out` (default: a new buffer of a's length). */
export function mixLinear(a: Int16Array, b: Int16Array, out?: Int16Array): Int16Array {
  const dst = out ?? new Int16Array(a.length);
  const n = Math.min(a.length, dst.length);
  for (let i = 0; i < n; i++) dst[i] = saturatingAdd(a[i]!, i < b.length ? b[i]! : 0);
  return dst;
}

/**
 * A cursor over one overlay (a rendered tone): each call mixes the next samples into the next
 * frame, so a tone longer than a frame spans consecutive packets. Use one per direction when the
 * tone is heard both ways (each direction has its own frames).
 */
export class OverlayCursor {
  readonly #overlay: Int16Array;
  #offset = 0;

  constructor(overlay: Int16Array) {
    this.#overlay = overlay;
  }

  /** Samples of the overlay still to mix. */
  get remaining(): number {
    return this.#overlay.length - this.#offset;
  }

  get done(): boolean {
    return this.#offset >= this.#overlay.length;
  }

  /** Mix into this frame and advance by the frame length; returns true while overlay remains. */
  mixNext(codec: G711Codec, frame: Uint8Array): boolean {
    if (this.done) return false;
    mixIntoFrame(codec, frame, this.#overlay, this.#offset);
    this.#offset += frame.length;
    return !this.done;
  }
}
