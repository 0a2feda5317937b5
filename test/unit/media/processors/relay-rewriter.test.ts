import { describe, expect, it } from 'vitest';
import { RewriteResult, StreamRewriter } from '../../../../src/media/processors/relay-rewriter.js';
import { rtpMarker, rtpSeq, rtpSsrc, rtpTimestamp, writeRtpHeader } from '../../../../src/media/rtp/rtp-header.js';
import { seqDelta, tsDelta } from '../../../../src/media/rtp/wrap-math.js';

function pkt(ssrc: number, seq: number, ts: number): Buffer {
  const b = Buffer.alloc(172, 0xff);
  writeRtpHeader(b, { payloadType: 0, seq, timestamp: ts, ssrc });
  return b;
}

describe('StreamRewriter: continuous outgoing streams (RFC 3550 5.1, 8.2)', () => {
  it('MUST replace the SSRC and map seq/timestamp with fixed offsets within one source', () => {
    const r = new StreamRewriter(0xabcdef01, 1000, 50_000);
    const out: Array<[number, number]> = [];
    for (let i = 0; i < 5; i++) {
      const p = pkt(7, 300 + i, 9000 + i * 160);
      expect(r.rewriteRelayed(p, i * 20, p.length)).toBe(RewriteResult.Forward);
      expect(rtpSsrc(p)).toBe(0xabcdef01);
      out.push([rtpSeq(p), rtpTimestamp(p)]);
    }
    expect(out).toEqual([0, 1, 2, 3, 4].map((i) => [1000 + i, 50_000 + i * 160]));
  });

  it('MUST keep seq and timestamps continuous across the 16/32-bit wrap of the output', () => {
    const r = new StreamRewriter(1, 65534, 0xffffff00);
    const seqs: number[] = [];
    const tss: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = pkt(7, 10 + i, i * 160);
      r.rewriteRelayed(p, i * 20, p.length);
      seqs.push(rtpSeq(p));
      tss.push(rtpTimestamp(p));
    }
    expect(seqs).toEqual([65534, 65535, 0, 1]);
    expect(tss).toEqual([0xffffff00, 0xffffffa0, 0x00000040, 0x000000e0]);
  });

  it('MUST follow an input that wraps its own seq/timestamp without a jump in the output', () => {
    const r = new StreamRewriter(1, 500, 1000);
    const seqs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = pkt(7, (65534 + i) & 0xffff, (0xffffff00 + i * 160) >>> 0);
      r.rewriteRelayed(p, i * 20, p.length);
      seqs.push(rtpSeq(p));
      if (i > 0) expect(r.epochs).toBe(1);
    }
    expect(seqs).toEqual([500, 501, 502, 503]);
  });

  it('preserves a gap from real loss and forwards reordered packets with their own numbers', () => {
    const r = new StreamRewriter(1, 100, 0);
    const order = [0, 1, 3, 2, 4];
    const seqs = order.map((i) => {
      const p = pkt(7, 50 + i, i * 160);
      r.rewriteRelayed(p, i * 20, p.length);
      return rtpSeq(p);
    });
    expect(seqs).toEqual([100, 101, 103, 102, 104]);
    expect(r.lastSeq).toBe(104);
  });

  it('MUST drop a duplicate and a packet older than the current epoch', () => {
    const r = new StreamRewriter(1, 100, 0);
    const a = pkt(7, 10, 0);
    r.rewriteRelayed(a, 0, a.length);
    const dup = pkt(7, 10, 0);
    expect(r.rewriteRelayed(dup, 1, dup.length)).toBe(RewriteResult.Duplicate);
    const old = pkt(7, 9, 0);
    expect(r.rewriteRelayed(old, 2, old.length)).toBe(RewriteResult.TooLate);
    expect(r.duplicatesDropped).toBe(1);
    expect(r.lateDropped).toBe(1);
  });

  it('MUST continue seq by one and timestamps by elapsed time when the source SSRC changes (transfer)', () => {
    const r = new StreamRewriter(1, 100, 10_000);
    for (let i = 0; i < 3; i++) {
      const p = pkt(7, 5 + i, 77_000 + i * 160);
      r.rewriteRelayed(p, i * 20, p.length);
    }
    // a new source 1 s after the last packet, with unrelated numbers
    const p = pkt(99, 40_000, 3_000_000_000);
    r.rewriteRelayed(p, 40 + 1000, p.length);
    expect(rtpSeq(p)).toBe(103);
    expect(rtpTimestamp(p)).toBe(10_000 + 2 * 160 + 8000);
    expect(rtpMarker(p)).toBe(true);
  });

  it('starts a new epoch on a jump beyond MAX_DROPOUT instead of forwarding the jump', () => {
    const r = new StreamRewriter(1, 100, 0);
    const a = pkt(7, 10, 0);
    r.rewriteRelayed(a, 0, a.length);
    const b = pkt(7, 20_000, 5_000_000);
    r.rewriteRelayed(b, 20, b.length);
    expect(rtpSeq(b)).toBe(101);
    expect(rtpTimestamp(b)).toBe(160);
  });

  it('MUST stay continuous across inserted frames: relay -> generated -> relay never jumps or repeats (R-11)', () => {
    const r = new StreamRewriter(5, 60_000, 4_000_000_000);
    const seen: Array<{ seq: number; ts: number }> = [];
    let now = 0;
    for (let i = 0; i < 3; i++, now += 20) {
      const p = pkt(7, 1 + i, i * 160);
      r.rewriteRelayed(p, now, p.length);
      seen.push({ seq: rtpSeq(p), ts: rtpTimestamp(p) });
    }
    for (let i = 0; i < 5; i++, now += 20) {
      const g = Buffer.alloc(172);
      r.stampGenerated(g, 0, 160, now, i > 0, 160);
      seen.push({ seq: rtpSeq(g), ts: rtpTimestamp(g) });
      expect(rtpMarker(g)).toBe(i === 0);
    }
    for (let i = 0; i < 3; i++, now += 20) {
      const p = pkt(7, 100 + i, 555_555 + i * 160); // the source kept running meanwhile
      r.rewriteRelayed(p, now, p.length);
      seen.push({ seq: rtpSeq(p), ts: rtpTimestamp(p) });
    }
    for (let i = 1; i < seen.length; i++) {
      expect(seqDelta(seen[i]!.seq, seen[i - 1]!.seq)).toBe(1);
      expect(tsDelta(seen[i]!.ts, seen[i - 1]!.ts)).toBe(160);
    }
  });
});
