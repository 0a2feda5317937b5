import { describe, expect, it } from 'vitest';
import { addSeq, addTs, seqDelta, seqNewer, tsDelta } from '../../../../src/media/rtp/wrap-math.js';

describe('RTP seq/timestamp wrap math (RFC 3550 A.1)', () => {
  it('adds sequence numbers modulo 2^16', () => {
    expect(addSeq(65535, 1)).toBe(0);
    expect(addSeq(0, -1)).toBe(65535);
    expect(addSeq(65000, 1000)).toBe(464);
  });

  it('measures signed sequence distance across the wrap', () => {
    expect(seqDelta(2, 65534)).toBe(4);
    expect(seqDelta(65534, 2)).toBe(-4);
    expect(seqDelta(100, 100)).toBe(0);
    expect(seqNewer(0, 65535)).toBe(true);
    expect(seqNewer(65535, 0)).toBe(false);
  });

  it('adds and compares timestamps modulo 2^32', () => {
    expect(addTs(0xffffff60, 160)).toBe(0);
    expect(addTs(0xffffffff, 2)).toBe(1);
    expect(tsDelta(80, 0xffffffb0)).toBe(160);
    expect(tsDelta(0xffffffb0, 80)).toBe(-160);
  });
});
