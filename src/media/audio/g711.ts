/**
 * ITU-T G.711 (11/88) mu-law and A-law companding, 8-bit code <-> 16-bit linear PCM.
 *
 * The algorithms are the classic segment/mantissa formulation of G.711 section 2 (mu-law, 14-bit
 * magnitude with bias 33) and section 3 (A-law, 13-bit magnitude, even-bit inversion with 0x55).
 * Linear samples are 16-bit signed; on encode the low 2 (mu-law) or 3 (A-law) bits are dropped and
 * negative values are taken as one's complement (-x - 1), as the ITU-T G.191 reference coder does,
 * so the code chosen is the quantisation interval the sample falls in. Decoding returns the interval
 * mid-point (identical to sox's tables).
 *
 * All four directions are table driven; the tables are built once when the module loads
 * (2 x 256 Int16 for decoding, 2 x 65,536 bytes for encoding, about 1 ms).
 *
 * Codes on the wire:
 *   mu-law silence (linear 0) = 0xFF, A-law silence (linear 0) = 0xD5.
 */

export type G711Codec = 'PCMU' | 'PCMA';

/** Byte that decodes to linear 0 (what to pad a short frame with). */
export const G711_SILENCE: Readonly<Record<G711Codec, number>> = { PCMU: 0xff, PCMA: 0xd5 };

const MULAW_BIAS = 0x21; // 33, in the 14-bit domain (G.711 table 2)
const MULAW_CLIP = 8159; // 14-bit magnitude clip so that magnitude + bias fits 13 bits

function mulawEncode14(sample16: number): number {
  let v = sample16 >> 2; // 14-bit signed
  let mask: number;
  if (v < 0) {
    v = ~v; // -v - 1: sign-magnitude, as the ITU-T G.191 reference coder
    mask = 0x7f;
  } else {
    mask = 0xff;
  }
  if (v > MULAW_CLIP) v = MULAW_CLIP;
  v += MULAW_BIAS;
  // segment = position of the highest set bit above bit 5 (0..7)
  let seg = 0;
  for (let t = v >> 6; t !== 0; t >>= 1) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  const mantissa = (v >> (seg + 1)) & 0x0f;
  return ((seg << 4) | mantissa) ^ mask;
}

function mulawDecode(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function alawEncode13(sample16: number): number {
  let v = sample16 >> 3; // 13-bit signed
  let mask: number;
  if (v >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    v = -v - 1;
  }
  let seg = 0;
  while (seg < 8 && v > ALAW_SEG_END[seg]!) seg++;
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return aval ^ mask;
}

function alawDecode(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

/** mu-law code (0..255) -> linear 16-bit sample. */
export const MULAW_TO_LINEAR: Int16Array = new Int16Array(256);
/** A-law code (0..255) -> linear 16-bit sample. */
export const ALAW_TO_LINEAR: Int16Array = new Int16Array(256);
/** Indexed by (sample + 32768): linear -> code. */
const LINEAR_TO_MULAW = new Uint8Array(65536);
const LINEAR_TO_ALAW = new Uint8Array(65536);

for (let c = 0; c < 256; c++) {
  MULAW_TO_LINEAR[c] = mulawDecode(c);
  ALAW_TO_LINEAR[c] = alawDecode(c);
}
for (let s = -32768; s <= 32767; s++) {
  LINEAR_TO_MULAW[s + 32768] = mulawEncode14(s);
  LINEAR_TO_ALAW[s + 32768] = alawEncode13(s);
}

function toIndex(sample: number): number {
  // Math.round for non-integers, clamp to 16 bits; NaN -> 0.
  let s = Math.round(sample);
  if (!(s >= -32768)) s = s > 0 ? 32767 : s < 0 ? -32768 : 0;
  else if (s > 32767) s = 32767;
  return s + 32768;
}

/** Linear sample (any number; rounded and clamped to 16 bits) -> mu-law code 0..255. */
export function linearToMulaw(sample: number): number {
  return LINEAR_TO_MULAW[toIndex(sample)]!;
}

/** Linear sample (any number; rounded and clamped to 16 bits) -> A-law code 0..255. */
export function linearToAlaw(sample: number): number {
  return LINEAR_TO_ALAW[toIndex(sample)]!;
}

/** The encode table for a codec, indexed by (16-bit sample + 32768). For hot loops. */
export function encodeTable(codec: G711Codec): Uint8Array {
  return codec === 'PCMU' ? LINEAR_TO_MULAW : LINEAR_TO_ALAW;
}

/** The decode table for a codec (256 entries). */
export function decodeTable(codec: G711Codec): Int16Array {
  return codec === 'PCMU' ? MULAW_TO_LINEAR : ALAW_TO_LINEAR;
}

/**
 * Encode 16-bit PCM to G.711 bytes. Writes into `out` when given (it must hold pcm.length bytes;
 * programmer error otherwise) and returns the written view, else allocates.
 */
export function encodeG711(codec: G711Codec, pcm: Int16Array, out?: Buffer): Buffer {
  const dst = out ?? Buffer.allocUnsafe(pcm.length);
  if (dst.length < pcm.length) throw new RangeError(`encodeG711: output holds ${dst.length} bytes, need ${pcm.length}`);
  const table = encodeTable(codec);
  for (let i = 0; i < pcm.length; i++) dst[i] = table[pcm[i]! + 32768]!;
  return dst.length === pcm.length ? dst : dst.subarray(0, pcm.length);
}

/**
 * Decode G.711 bytes to 16-bit PCM. Writes into `out` when given (it must hold payload.length
 * samples) and returns the written view, else allocates.
 */
export function decodeG711(codec: G711Codec, payload: Uint8Array, out?: Int16Array): Int16Array {
  const dst = out ?? new Int16Array(payload.length);
  if (dst.length < payload.length) throw new RangeError(`decodeG711: output holds ${dst.length} samples, need ${payload.length}`);
  const table = decodeTable(codec);
  for (let i = 0; i < payload.length; i++) dst[i] = table[payload[i]!]!;
  return dst.length === payload.length ? dst : dst.subarray(0, payload.length);
}

/** Re-encode a G.711 payload from one law to the other (PCMU <-> PCMA) through linear. */
export function transcodeG711(from: G711Codec, to: G711Codec, payload: Uint8Array, out?: Buffer): Buffer {
  const dst = out ?? Buffer.allocUnsafe(payload.length);
  if (dst.length < payload.length) throw new RangeError('transcodeG711: output too small');
  const dec = decodeTable(from);
  const enc = encodeTable(to);
  for (let i = 0; i < payload.length; i++) dst[i] = enc[dec[payload[i]!]! + 32768]!;
  return dst.length === payload.length ? dst : dst.subarray(0, payload.length);
}
