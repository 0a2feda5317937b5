import { describe, expect, it } from 'vitest';
import {
  looksLikeRtcp,
  rtpMarker,
  rtpPayloadEnd,
  rtpPayloadOffset,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  setRtpMarker,
  setRtpPayloadType,
  setRtpSeq,
  setRtpSsrc,
  setRtpTimestamp,
  writeRtpHeader,
} from '../../../../src/media/rtp/rtp-header.js';

// RFC 3550 5.1 header: V=2, M=1, PT=0, seq=0x1234, ts=0xdeadbeef, ssrc=0x01020304, then 2 payload bytes
const GOLDEN = Buffer.from('80801234deadbeef01020304ffee', 'hex');

describe('RTP header codec (RFC 3550 5.1)', () => {
  it('reads every fixed-header field of a golden packet', () => {
    expect(rtpPayloadOffset(GOLDEN)).toBe(12);
    expect(rtpMarker(GOLDEN)).toBe(true);
    expect(rtpPayloadType(GOLDEN)).toBe(0);
    expect(rtpSeq(GOLDEN)).toBe(0x1234);
    expect(rtpTimestamp(GOLDEN)).toBe(0xdeadbeef);
    expect(rtpSsrc(GOLDEN)).toBe(0x01020304);
    expect(rtpPayloadEnd(GOLDEN)).toBe(14);
  });

  it('writes a header byte for byte equal to the golden packet', () => {
    const out = Buffer.alloc(14);
    writeRtpHeader(out, { payloadType: 0, seq: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304, marker: true });
    out[12] = 0xff;
    out[13] = 0xee;
    expect(out.equals(GOLDEN)).toBe(true);
  });

  it('rewrites seq, timestamp, SSRC, marker and PT in place without touching the payload', () => {
    const b = Buffer.from(GOLDEN);
    setRtpSeq(b, 0xffff);
    setRtpTimestamp(b, 0xffffffff);
    setRtpSsrc(b, 0xcafebabe);
    setRtpMarker(b, false);
    setRtpPayloadType(b, 8);
    expect(rtpSeq(b)).toBe(0xffff);
    expect(rtpTimestamp(b)).toBe(0xffffffff);
    expect(rtpSsrc(b)).toBe(0xcafebabe);
    expect(rtpMarker(b)).toBe(false);
    expect(rtpPayloadType(b)).toBe(8);
    expect(b.subarray(12).equals(GOLDEN.subarray(12))).toBe(true);
  });

  it('skips CSRCs and a header extension to find the payload', () => {
    // CC=1, X=1: 12 + 4 (CSRC) + 4 (ext header, length 1 word) + 4 (ext) = 24
    const b = Buffer.alloc(26);
    b[0] = 0x80 | 0x10 | 0x01;
    b[18] = 0;
    b[19] = 1;
    expect(rtpPayloadOffset(b)).toBe(24);
  });

  it('honours padding: the payload ends before the padding octets', () => {
    const b = Buffer.alloc(20);
    b[0] = 0xa0; // V=2, P=1
    b[19] = 4;
    expect(rtpPayloadOffset(b)).toBe(12);
    expect(rtpPayloadEnd(b)).toBe(16);
  });

  it.each([
    ['shorter than 12 bytes', Buffer.from('8000', 'hex')],
    ['version 1', Buffer.from('40001234deadbeef01020304', 'hex')],
    ['CSRC list past the end', Buffer.from('8f001234deadbeef01020304', 'hex')],
    ['extension past the end', Buffer.from('90001234deadbeef0102030400000009', 'hex')],
    ['padding count 0', Buffer.from('a0001234deadbeef0102030400', 'hex')],
    ['padding longer than the packet', Buffer.from('a0001234deadbeef01020304ff', 'hex')],
  ])('MUST reject a malformed packet (%s) with -1 instead of throwing', (_name, buf) => {
    expect(rtpPayloadOffset(buf)).toBe(-1);
  });

  it('tells RTCP from RTP on a muxed port (RFC 5761 section 4)', () => {
    expect(looksLikeRtcp(Buffer.from('80c80006', 'hex'))).toBe(true);
    expect(looksLikeRtcp(Buffer.from('80c90001', 'hex'))).toBe(true);
    expect(looksLikeRtcp(GOLDEN)).toBe(false);
    expect(looksLikeRtcp(Buffer.from('80e5', 'hex'))).toBe(false);
  });
});
