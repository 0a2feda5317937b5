import { describe, expect, it } from 'vitest';
import { looksLikeRtcp, readRtpHeader } from '../../../src/srs/rtp-header.js';

function packet(opts: { pt?: number; cc?: number; ext?: number; pad?: number; payload?: number } = {}): Buffer {
  const cc = opts.cc ?? 0;
  const extWords = opts.ext;
  const pad = opts.pad ?? 0;
  const payload = opts.payload ?? 160;
  const len = 12 + cc * 4 + (extWords === undefined ? 0 : 4 + extWords * 4) + payload + pad;
  const b = Buffer.alloc(len);
  b[0] = 0x80 | (pad ? 0x20 : 0) | (extWords === undefined ? 0 : 0x10) | cc;
  b[1] = 0x80 | (opts.pt ?? 0);
  b.writeUInt16BE(65535, 2);
  b.writeUInt32BE(0xfffffff0, 4);
  b.writeUInt32BE(0xdeadbeef, 8);
  if (extWords !== undefined) b.writeUInt16BE(extWords, 12 + cc * 4 + 2);
  if (pad) b[len - 1] = pad;
  return b;
}

describe('readRtpHeader (RFC 3550 section 5.1)', () => {
  it('reads the fixed header and the payload bounds', () => {
    expect(readRtpHeader(packet({ pt: 8 }))).toEqual({ payloadType: 8, marker: true, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0xdeadbeef, payloadOffset: 12, payloadLength: 160 });
  });

  it('skips CSRCs and the header extension, and strips padding', () => {
    const h = readRtpHeader(packet({ cc: 2, ext: 1, pad: 4 }))!;
    expect(h.payloadOffset).toBe(12 + 8 + 8);
    expect(h.payloadLength).toBe(160);
  });

  it('returns undefined for short, wrong-version or inconsistent packets (never throws)', () => {
    expect(readRtpHeader(Buffer.alloc(11))).toBeUndefined();
    const v1 = packet();
    v1[0] = 0x40;
    expect(readRtpHeader(v1)).toBeUndefined();
    const badCc = packet({ payload: 0 });
    badCc[0] = 0x8f;
    expect(readRtpHeader(badCc)).toBeUndefined();
    const badPad = packet({ payload: 2 });
    badPad[0]! |= 0x20;
    badPad[badPad.length - 1] = 200;
    expect(readRtpHeader(badPad)).toBeUndefined();
  });

  it('recognises RTCP packet types 200..207', () => {
    const rtcp = Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1]);
    expect(looksLikeRtcp(rtcp)).toBe(true);
    expect(looksLikeRtcp(packet())).toBe(false);
  });
});
