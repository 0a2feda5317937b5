import { describe, expect, it } from 'vitest';
import { ntpMiddle, parseRtcp, RTCP_RR, RTCP_SDES, RTCP_SR, toNtp, writeReceiverReport, writeSdesCname, writeSenderReport } from '../../../../src/media/rtp/rtcp.js';

const BLOCK = { ssrc: 0x11223344, fractionLost: 25, cumulativeLost: 3, extendedHighestSeq: 0x00010005, jitter: 12, lastSr: 0xaabbccdd, delaySinceLastSr: 65536 };

describe('RTCP SR/RR codec (RFC 3550 6.4)', () => {
  it('builds a sender report byte for byte (golden)', () => {
    const out = Buffer.alloc(52);
    const end = writeSenderReport(out, 0, 0x01020304, { ntpSec: 0xe0000000, ntpFrac: 0x80000000, rtpTimestamp: 1000, packetCount: 50, octetCount: 8000 }, [BLOCK]);
    expect(end).toBe(52);
    expect(out.toString('hex')).toBe(
      '81c8000c' + '01020304' + 'e0000000' + '80000000' + '000003e8' + '00000032' + '00001f40' +
        '11223344' + '19000003' + '00010005' + '0000000c' + 'aabbccdd' + '00010000',
    );
  });

  it('round-trips SR + SDES and RR through the parser', () => {
    const out = Buffer.alloc(200);
    let n = writeSenderReport(out, 0, 7, { ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 }, [BLOCK]);
    n = writeSdesCname(out, n, 7, 'recorder');
    const parsed = parseRtcp(out, n);
    expect(parsed?.types).toEqual([RTCP_SR, RTCP_SDES]);
    expect(parsed?.senderSsrc).toBe(7);
    expect(parsed?.sender).toEqual({ ntpSec: 1, ntpFrac: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 });
    expect(parsed?.reports).toEqual([BLOCK]);
    const rr = Buffer.alloc(64);
    const m = writeReceiverReport(rr, 0, 9, [{ ...BLOCK, cumulativeLost: -2 }]);
    const p2 = parseRtcp(rr, m);
    expect(p2?.types).toEqual([RTCP_RR]);
    expect(p2?.reports[0]?.cumulativeLost).toBe(-2);
  });

  it.each([
    ['too short', Buffer.from('80c8', 'hex')],
    ['bad version', Buffer.from('40c80001000000000', 'hex')],
    ['length past the end', Buffer.from('80c80006000000010000', 'hex')],
    ['report count larger than the packet', Buffer.from('81c9000100000001', 'hex')],
  ])('returns undefined for a malformed compound (%s)', (_n, buf) => {
    expect(parseRtcp(buf)).toBeUndefined();
  });

  it('converts wall time to NTP and takes the middle 32 bits for LSR', () => {
    const ntp = toNtp(Date.UTC(2025, 0, 1) + 500);
    expect(ntp.sec).toBe(((Date.UTC(2025, 0, 1) / 1000 + 2_208_988_800) >>> 0));
    expect(ntp.frac).toBe(0x80000000);
    expect(ntpMiddle(0x12345678, 0x9abcdef0)).toBe(0x56789abc);
  });
});
