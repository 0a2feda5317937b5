import { describe, expect, it } from 'vitest';
import { ReceiveStats } from '../../../../src/media/rtp/receive-stats.js';

describe('receiver statistics (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts loss across a sequence wrap and reports it in a block', () => {
    const s = new ReceiveStats();
    let seq = 65530;
    for (let i = 0; i < 20; i++) {
      if (i !== 7 && i !== 8) s.update(42, seq, i * 160, 160, i * 20);
      seq = (seq + 1) & 0xffff;
    }
    expect(s.expected).toBe(20);
    expect(s.lost).toBe(2);
    expect(s.extendedHighestSeq).toBe(0x10000 + 13);
    const block = s.reportBlock(400);
    expect(block.ssrc).toBe(42);
    expect(block.cumulativeLost).toBe(2);
    expect(block.fractionLost).toBe(Math.floor((2 * 256) / 20));
  });

  it('reports zero jitter for perfectly paced packets and positive jitter for uneven arrival', () => {
    const even = new ReceiveStats();
    const uneven = new ReceiveStats();
    for (let i = 0; i < 50; i++) {
      even.update(1, i, i * 160, 160, i * 20);
      uneven.update(1, i, i * 160, 160, i * 20 + (i % 2 === 0 ? 0 : 8));
    }
    expect(even.jitter).toBe(0);
    expect(uneven.jitter).toBeGreaterThan(20);
  });
});
