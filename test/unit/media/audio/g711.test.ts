import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALAW_TO_LINEAR,
  G711_SILENCE,
  MULAW_TO_LINEAR,
  decodeG711,
  encodeG711,
  linearToAlaw,
  linearToMulaw,
  transcodeG711,
  type G711Codec,
} from '../../../../src/media/audio/g711.js';
import { sine } from '../../../support/tone-source.js';

function sha256Le(table: Int16Array): string {
  const b = Buffer.alloc(table.length * 2);
  table.forEach((v, i) => b.writeInt16LE(v, i * 2));
  return createHash('sha256').update(b).digest('hex');
}

function snrDb(ref: Int16Array, got: Int16Array): number {
  let sig = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    sig += ref[i]! ** 2;
    err += (ref[i]! - got[i]!) ** 2;
  }
  return 10 * Math.log10(sig / err);
}

const CODECS: G711Codec[] = ['PCMU', 'PCMA'];

describe('G.711 decode tables (ITU-T G.711)', () => {
  it('MUST equal an independent implementation (sox 14.4.2 decoding codes 0..255, s16le sha256)', () => {
    // Golden digests produced with: sox -t raw -e mu-law|a-law -b 8 codes(0..255) -t raw -e signed -b 16 out
    expect(sha256Le(MULAW_TO_LINEAR)).toBe('3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827');
    expect(sha256Le(ALAW_TO_LINEAR)).toBe('e04788d110e58ff8c70c93b8480190d973e3b67876b6119abbaec766cc75c174');
  });

  it('MUST decode the well-known code points', () => {
    expect(MULAW_TO_LINEAR[0xff]).toBe(0);
    expect(MULAW_TO_LINEAR[0x7f]).toBe(0);
    expect(MULAW_TO_LINEAR[0x80]).toBe(32124);
    expect(MULAW_TO_LINEAR[0x00]).toBe(-32124);
    expect(ALAW_TO_LINEAR[0xd5]).toBe(8);
    expect(ALAW_TO_LINEAR[0x55]).toBe(-8);
    expect(ALAW_TO_LINEAR[0xaa]).toBe(32256);
    expect(ALAW_TO_LINEAR[0x2a]).toBe(-32256);
  });
});

describe('G.711 encode', () => {
  it('MUST encode silence and full scale to the standard codes', () => {
    expect(linearToMulaw(0)).toBe(G711_SILENCE.PCMU);
    expect(linearToAlaw(0)).toBe(G711_SILENCE.PCMA);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(linearToAlaw(32767)).toBe(0xaa);
    expect(linearToAlaw(-32768)).toBe(0x2a);
  });

  it('MUST clamp out-of-range and round fractional input instead of wrapping', () => {
    expect(linearToMulaw(1e9)).toBe(linearToMulaw(32767));
    expect(linearToMulaw(-1e9)).toBe(linearToMulaw(-32768));
    expect(linearToAlaw(40000)).toBe(0xaa);
    expect(linearToAlaw(Number.NaN)).toBe(linearToAlaw(0));
    expect(linearToMulaw(1000.4)).toBe(linearToMulaw(1000));
  });

  it('MUST re-encode every decoded code to itself (mu-law negative zero 0x7F maps to 0xFF)', () => {
    for (let c = 0; c < 256; c++) {
      expect(linearToMulaw(MULAW_TO_LINEAR[c]!), `mu ${c}`).toBe(c === 0x7f ? 0xff : c);
      expect(linearToAlaw(ALAW_TO_LINEAR[c]!), `A ${c}`).toBe(c);
    }
  });

  it.each(CODECS)('%s: MUST be monotonic and keep every sample within its quantisation interval over the whole 16-bit range', (codec) => {
    const dec = codec === 'PCMU' ? MULAW_TO_LINEAR : ALAW_TO_LINEAR;
    const enc = codec === 'PCMU' ? linearToMulaw : linearToAlaw;
    let prev = -Infinity;
    const bad: number[] = [];
    for (let x = -32768; x <= 32767; x++) {
      const y = dec[enc(x)]!;
      if (y < prev) bad.push(x);
      prev = y;
      // segment step is at most 1/16 of the magnitude (+ the small first-segment step); clip region at the ends
      if (Math.abs(x) < 32000 && Math.abs(y - x) > Math.abs(x) / 16 + 16) bad.push(x);
    }
    expect(bad).toEqual([]);
  });

  it.each(CODECS)('%s: a 1 kHz sine at -10 dBFS MUST round-trip with SNR above 35 dB', (codec) => {
    const pcm = sine(1000, 200, -10);
    const back = decodeG711(codec, encodeG711(codec, pcm));
    expect(snrDb(pcm, back)).toBeGreaterThan(35);
  });

  it('MUST write into caller buffers without allocating a different one', () => {
    const pcm = sine(440, 20, -6);
    const out = Buffer.alloc(160);
    expect(encodeG711('PCMU', pcm, out)).toBe(out);
    const big = Buffer.alloc(400);
    expect(encodeG711('PCMA', pcm, big).length).toBe(160);
    const back = new Int16Array(160);
    expect(decodeG711('PCMU', out, back)).toBe(back);
    expect(() => encodeG711('PCMU', pcm, Buffer.alloc(10))).toThrow(RangeError);
  });

  it('MUST transcode PCMU <-> PCMA through linear', () => {
    const pcm = sine(700, 20, -12);
    const mu = encodeG711('PCMU', pcm);
    const a = transcodeG711('PCMU', 'PCMA', mu);
    expect([...a]).toEqual([...encodeG711('PCMA', decodeG711('PCMU', mu))]);
  });
});
